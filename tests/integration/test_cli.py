"""The admin CLI: usage and exit codes, refusals that protect data, config
errors named by file:line:key, and `check` finding planted executables."""
import imaplib
import os
import re

import pytest

from helpers import ALICE, ALICE_PW, BOB, BOB_PW, DOMAIN, run, tls_context

VERBS = ["init", "domain", "user", "alias", "check", "serve", "sandbox-probe"]


@pytest.mark.parametrize("verb", VERBS)
def test_verb_help_exits_0_with_usage(verb):
    r = run(verb, "--help")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: redoubt " + verb)


def test_main_help_lists_verbs():
    r = run("--help")
    assert r.returncode == 0
    for verb in VERBS[:-1]:
        assert re.search(rf"(?m)^  {verb} ", r.stdout), verb


@pytest.mark.parametrize("argv", [
    ["init", "--bogus"], ["check", "--bogus"], ["serve", "--bogus"],
    ["user", "list", "--bogus"], ["domain", "list", "--bogus"], ["alias", "list", "--bogus"],
])
def test_unknown_flag_exits_2_with_usage_on_stderr(argv):
    r = run(*argv)
    assert r.returncode == 2
    assert "--bogus" in r.stderr
    assert "usage: redoubt " + argv[0] in r.stderr
    assert r.stdout == ""


def test_unknown_verb_exits_2():
    r = run("frobnicate")
    assert r.returncode == 2
    assert "usage: redoubt VERB" in r.stderr


def test_init_refuses_existing_directory(fresh_data):
    before = fresh_data.read_conf()
    r = run("init", "--data", fresh_data.path, "--domain", DOMAIN)
    assert r.returncode != 0
    assert fresh_data.path in r.stderr
    assert fresh_data.read_conf() == before


def test_password_never_taken_from_argv(fresh_data):
    r = run("user", "add", "--data", fresh_data.path, BOB, "--password", BOB_PW)
    assert r.returncode == 2
    assert "--password" in r.stderr
    assert BOB not in run("user", "list", "--data", fresh_data.path).stdout


def test_check_fresh_data_dir_is_in_order(fresh_data):
    r = run("check", "--data", fresh_data.path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "in order" in r.stdout


def test_check_finds_planted_executable(fresh_data):
    planted = os.path.join(fresh_data.path, "stores", "update.sh")
    with open(planted, "w", encoding="utf-8") as f:
        f.write("#!/bin/sh\n")
    os.chmod(planted, 0o755)
    r = run("check", "--data", fresh_data.path)
    assert r.returncode == 1
    assert re.search(rf"(?m)^{re.escape(planted)}: executable file", r.stdout), r.stdout


def break_conf(data, pattern, replacement):
    """Rewrite one line; returns its 1-based number."""
    lines = data.read_conf().split("\n")
    for i, line in enumerate(lines):
        if re.fullmatch(pattern, line):
            lines[i] = replacement
            data.write_conf("\n".join(lines))
            return i + 1
    raise AssertionError(f"no line matching {pattern!r}")


@pytest.mark.parametrize("pattern,replacement,key", [
    (r"imap = .*", "imap = 127.0.0.1:99999", "imap"),
    (r"fail_delay_ms = .*", "fail_delay_ms = 500ms", "fail_delay_ms"),
    (r"log_level = .*", "log_levle = info", "log_levle"),
    (r"sandbox = .*", "sandbox = maybe", "sandbox"),
])
def test_config_error_named_by_check_and_serve(fresh_data, pattern, replacement, key):
    line = break_conf(fresh_data, pattern, replacement)
    where = f"redoubt.conf:{line}:"
    r = run("check", "--data", fresh_data.path)
    assert r.returncode != 0
    assert where in r.stdout + r.stderr and key in r.stdout + r.stderr, r.stdout + r.stderr
    r = run("serve", "--data", fresh_data.path, timeout=20)
    assert r.returncode != 0
    assert where in r.stderr and key in r.stderr, r.stderr


def test_user_add_twice_refused(fresh_data):
    r = run("user", "add", "--data", fresh_data.path, ALICE, "--password-stdin",
            stdin="another-password\n")
    assert r.returncode != 0
    assert "already exists" in r.stderr
    assert run("user", "list", "--data", fresh_data.path).stdout.count(ALICE) == 1


def test_user_add_refuses_unknown_domain(fresh_data):
    r = run("user", "add", "--data", fresh_data.path, "eve@elsewhere.test", "--password-stdin",
            stdin="pw-pw-pw-pw\n")
    assert r.returncode != 0
    assert "eve@elsewhere.test" not in run("user", "list", "--data", fresh_data.path).stdout


def imap_login(server, user, password):
    m = imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], ssl_context=tls_context(),
                          timeout=10)
    try:
        return m.login(user, password)[0]
    except imaplib.IMAP4.error:
        return "NO"
    finally:
        m.logout()


def test_user_passwd_changes_imap_login(fresh_server):
    data = fresh_server.data
    assert imap_login(fresh_server, ALICE, ALICE_PW) == "OK"
    r = run("user", "passwd", "--data", data.path, ALICE, "--password-stdin",
            stdin="a-brand-new-password\n")
    assert r.returncode == 0, r.stderr
    assert imap_login(fresh_server, ALICE, "a-brand-new-password") == "OK"
    assert imap_login(fresh_server, ALICE, ALICE_PW) == "NO"


def test_user_passwd_unknown_user_refused(fresh_data):
    r = run("user", "passwd", "--data", fresh_data.path, BOB, "--password-stdin", stdin="x\n")
    assert r.returncode != 0
    assert "no such user" in r.stderr


def test_domain_remove_refused_while_users_exist(fresh_data):
    r = run("domain", "remove", "--data", fresh_data.path, DOMAIN)
    assert r.returncode != 0
    assert DOMAIN in run("domain", "list", "--data", fresh_data.path).stdout.split()


def test_domain_add_list_remove(fresh_data):
    assert run("domain", "add", "--data", fresh_data.path, "other.test").returncode == 0
    assert "other.test" in run("domain", "list", "--data", fresh_data.path).stdout.split()
    assert run("domain", "remove", "--data", fresh_data.path, "other.test").returncode == 0
    assert "other.test" not in run("domain", "list", "--data", fresh_data.path).stdout.split()


def test_alias_add_list_remove_round_trip(fresh_data):
    alias = "postmaster@" + DOMAIN
    r = run("alias", "add", "--data", fresh_data.path, alias, ALICE)
    assert r.returncode == 0, r.stderr
    listing = run("alias", "list", "--data", fresh_data.path).stdout
    assert f"{alias}\t-> {ALICE}" in listing.splitlines()
    r = run("alias", "remove", "--data", fresh_data.path, alias)
    assert r.returncode == 0, r.stderr
    assert alias not in run("alias", "list", "--data", fresh_data.path).stdout


def test_user_remove_keeps_store(fresh_data):
    store = fresh_data.stores[ALICE]
    r = run("user", "remove", "--data", fresh_data.path, ALICE)
    assert r.returncode == 0, r.stderr
    assert ALICE not in run("user", "list", "--data", fresh_data.path).stdout
    assert os.path.isdir(os.path.join(fresh_data.path, "stores", store))
