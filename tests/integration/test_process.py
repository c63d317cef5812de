"""Process model: master restarts a crashed role, stops cleanly on SIGTERM
telling open sessions goodbye, and reloads (or refuses to reload) its
configuration on SIGHUP. Each test runs its own server."""
import imaplib
import os
import re
import signal
import time

from helpers import ALICE, ALICE_PW, Line, tls_context


def smtp_greets(port, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with Line(port, timeout=3) as c:
                if c.reply()[0] == 220:
                    return True
        except (OSError, AssertionError):
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def test_killed_smtp_in_is_restarted(fresh_server):
    s = fresh_server
    old = s.role_pid("smtp-in")
    mark = s.mark()
    os.kill(old, signal.SIGKILL)
    s.wait_log(rf"event=role_crashed role=smtp-in child={old} status=\"signal 9", since=mark)
    new = int(s.wait_log(r"event=role_started role=smtp-in child=(\d+)", since=mark,
                         timeout=10)[1])
    assert new != old
    s.wait_log(r"role=smtp-in .*event=role_ready", since=mark, timeout=10)
    assert smtp_greets(s.ports["smtp"])
    assert smtp_greets(s.ports["submission"])
    # the other roles were not disturbed
    assert "role=imap-login" not in s.since(mark)
    assert s.running()


def test_sigterm_says_bye_to_logged_in_imap_session(fresh_server):
    s = fresh_server
    m = imaplib.IMAP4_SSL("127.0.0.1", s.ports["imaps"], ssl_context=tls_context(), timeout=10)
    try:
        m.login(ALICE, ALICE_PW)
        m.select("INBOX")
        t0 = time.monotonic()
        s.signal(signal.SIGTERM)
        line = m.readline()
        assert line.startswith(b"* BYE"), line
        rc = s.proc.wait(15)
        assert time.monotonic() - t0 < 12
    finally:
        m.shutdown()
    assert rc == 0
    s.wait_log(r"event=stopped")
    assert "role_crashed" not in s.log()
    assert "shutdown_forced" not in s.log()


def test_sigterm_with_idle_preauth_sessions_exits_0(fresh_server):
    s = fresh_server
    with Line(s.ports["submission"]) as smtp, Line(s.ports["imap"]) as imap:
        smtp.reply()
        imap.line()
        s.signal(signal.SIGTERM)
        assert smtp.reply()[0] == 421
        assert imap.line().startswith(b"* BYE")
    assert s.proc.wait(15) == 0
    s.wait_log(r"event=stopped")


def test_sighup_valid_config_reloads(fresh_server):
    s = fresh_server
    mark = s.mark()
    s.signal(signal.SIGHUP)
    s.wait_log(r"event=config_reloaded", since=mark)
    assert smtp_greets(s.ports["smtp"])


def test_sighup_broken_config_keeps_serving(fresh_server):
    s = fresh_server
    text = s.data.read_conf()
    lines = text.splitlines()
    at = lines.index("[limits]") + 2          # 1-based number of the new line
    lines.insert(at - 1, "no_such_key = 1")
    s.data.write_conf("\n".join(lines) + "\n")
    mark = s.mark()
    s.signal(signal.SIGHUP)
    m = s.wait_log(r"event=reload_failed .*", since=mark)
    assert f"redoubt.conf:{at}:" in m[0]
    assert "no_such_key" in m[0]
    assert "config_reloaded" not in s.since(mark)
    assert smtp_greets(s.ports["smtp"])
    m = imaplib.IMAP4_SSL("127.0.0.1", s.ports["imaps"], ssl_context=tls_context(), timeout=10)
    try:
        assert m.login(ALICE, ALICE_PW)[0] == "OK"
    finally:
        m.logout()
    assert s.running()


def login_line(user, password):
    return b'a LOGIN "%s" "%s"\r\n' % (user.encode(), password.encode())


def test_login_in_flight_when_auth_dies_gets_tempfail(fresh_server):
    s = fresh_server
    auth = s.role_pid("auth")
    os.kill(auth, signal.SIGSTOP)            # hold the request inside auth
    try:
        with Line(s.ports["imaps"], tls=True, timeout=8) as c:
            c.line()
            c.send(login_line(ALICE, ALICE_PW))
            time.sleep(0.3)
            mark = s.mark()
            os.kill(auth, signal.SIGKILL)
            s.wait_log(rf"event=role_crashed role=auth child={auth}", since=mark)
            t0 = time.monotonic()
            reply = c.line()
            assert reply.startswith(b"a NO [UNAVAILABLE]"), reply
            assert time.monotonic() - t0 < 3
    finally:
        try:
            os.kill(auth, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # the restarted auth serves logins again
    s.wait_log(r"role=auth .*event=role_ready", since=mark, timeout=10)
    with Line(s.ports["imaps"], tls=True) as c:
        c.line()
        c.send(login_line(ALICE, ALICE_PW))
        assert re.fullmatch(rb"a OK \[CAPABILITY IMAP4rev1 [^]]*\] Logged in", c.line())


def test_killed_worker_ends_its_sessions_only(fresh_server):
    s = fresh_server
    with Line(s.ports["imaps"], tls=True) as c:
        c.line()
        c.send(login_line(ALICE, ALICE_PW))
        assert re.fullmatch(rb"a OK \[CAPABILITY IMAP4rev1 [^]]*\] Logged in", c.line())
        worker = int(s.wait_log(r"event=role_started role=worker child=(\d+) "
                                rf"principal={ALICE}")[1])
        mark = s.mark()
        os.kill(worker, signal.SIGKILL)
        s.wait_log(rf"event=role_crashed role=worker child={worker}", since=mark)
        data, closed = c.read_all(timeout=5)
        assert closed
    assert s.running()
    with Line(s.ports["imaps"], tls=True) as c:
        c.line()
        c.send(login_line(ALICE, ALICE_PW) + b"b SELECT INBOX\r\n")
        assert c.tagged(b"b")[-1].startswith(b"b OK")
    s.wait_log(rf"event=role_started role=worker child=(?!{worker})\d+ principal={ALICE}",
               since=mark)


def test_one_worker_per_principal(fresh_server):
    s = fresh_server
    s.data.add_user("carol@example.test", "carol-password")
    sessions = []
    try:
        for user, password in ((ALICE, ALICE_PW), (ALICE, ALICE_PW),
                               ("carol@example.test", "carol-password")):
            c = Line(s.ports["imaps"], tls=True)
            sessions.append(c)
            c.line()
            c.send(login_line(user, password))
            assert re.fullmatch(rb"a OK \[CAPABILITY IMAP4rev1 [^]]*\] Logged in", c.line())
        for c in sessions:
            c.send(b"b NOOP\r\n")
            assert c.tagged(b"b")[-1].startswith(b"b OK")
    finally:
        for c in sessions:
            c.close()
    started = re.findall(r"event=role_started role=worker child=\d+ principal=(\S+)", s.log())
    assert sorted(started) == sorted([ALICE, "carol@example.test"])


def test_connections_per_address_capped_then_recover(fresh_server):
    s = fresh_server
    port = s.ports["submission"]
    held = []
    try:
        for _ in range(50):                  # RD_MAX_CONN_PER_ADDR
            c = Line(port)
            held.append(c)
            assert c.reply()[0] == 220
        with Line(port) as extra:
            data, closed = extra.read_all(timeout=5)
            assert closed and data == b""
        s.wait_log(r"event=connection_refused .*too many connections")
    finally:
        for c in held:
            c.close()
    assert smtp_greets(port)


def test_sighup_applies_new_fail_delay(fresh_server):
    s = fresh_server
    s.data.write_conf(re.sub(r"(?m)^fail_delay_ms = .*$", "fail_delay_ms = 1500",
                             s.data.read_conf()))
    mark = s.mark()
    s.signal(signal.SIGHUP)
    s.wait_log(r"event=config_reloaded", since=mark)
    with Line(s.ports["imaps"], tls=True) as c:
        c.line()
        t0 = time.monotonic()
        c.send(login_line(ALICE, "wrong"))
        assert c.line().startswith(b"a NO [AUTHENTICATIONFAILED]")
        assert time.monotonic() - t0 >= 1.4


def test_roles_are_named_in_ps(fresh_server):
    """ps and top show what each process is (rd-<role>), not 'exe'."""
    s = fresh_server
    for role in ("smtp-in", "imap-login", "queue", "auth"):
        with open(f"/proc/{s.role_pid(role)}/comm") as f:
            assert f.read().strip() == f"rd-{role}"[:15]
