"""`redoubt check` as the self-check an operator runs the day an advisory
comes out: anything no role writes, anything too open, is named."""
import os

import helpers


def check(data):
    return helpers.run("check", "--data", data.path)


def test_fresh_directory_is_in_order(fresh_data):
    r = check(fresh_data)
    assert r.returncode == 0, r.stdout
    assert "is in order" in r.stdout


def test_planted_web_shell_without_run_bit_is_named(fresh_data):
    shell = os.path.join(fresh_data.path, "stores", "owa.aspx")
    with open(shell, "w") as f:
        f.write("<%@ Page Language=\"C#\" %>")
    os.chmod(shell, 0o600)
    r = check(fresh_data)
    assert r.returncode == 1
    assert f"{shell}: a file of a kind no role writes" in r.stdout


def test_credentials_opened_to_others_are_named(fresh_data):
    db = os.path.join(fresh_data.path, "auth", "accounts.db")
    os.chmod(db, 0o644)
    r = check(fresh_data)
    assert r.returncode == 1
    assert f"{db}: open to group or others" in r.stdout


def test_symlink_is_named(fresh_data):
    link = os.path.join(fresh_data.path, "spool", "x.msg")
    os.symlink("/etc/shadow", link)
    r = check(fresh_data)
    assert r.returncode == 1
    assert f"{link}: symlink in the data directory" in r.stdout


def test_sandbox_off_is_named(fresh_data):
    text = fresh_data.read_conf().replace("sandbox = on", "sandbox = off")
    fresh_data.write_conf(text)
    r = check(fresh_data)
    assert r.returncode == 1
    assert "sandbox = off" in r.stdout
