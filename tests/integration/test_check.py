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


def test_after_mail_was_received_and_stopped_is_in_order(fresh_data):
    """A server that took mail leaves only files check knows: the queue's
    spool/spare/ pool, the store's blobs, its index."""
    import smtplib
    s = helpers.Server(fresh_data)
    try:
        s.wait_log(r"event=queue_link_up", timeout=20)
        with smtplib.SMTP("127.0.0.1", s.ports["smtp"], timeout=20) as c:
            for i in range(3):
                c.sendmail("someone@example.org", [helpers.ALICE],
                           f"Subject: n{i}\r\n\r\nhello\r\n".encode())
        s.wait_log(r"event=delivered", timeout=20)
    finally:
        s.stop()
    spare = os.path.join(fresh_data.path, "spool", "spare")
    assert os.listdir(spare), "the queue keeps finished spool files for reuse"
    r = check(fresh_data)
    assert r.returncode == 0, r.stdout
    assert "is in order" in r.stdout
