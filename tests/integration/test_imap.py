"""IMAP: no login before TLS, login and the post-login minimum in the
worker, uniform and delayed failures, and STARTTLS discarding pipelined
commands (THREATS cases 4, 5 and 22)."""
import re
import base64
import imaplib
import subprocess
import time

import pytest

from helpers import ALICE, ALICE_PW, AUTH_FAILED, Line, flood, tls_context

SPECIAL = {"Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash",
           "Junk": "\\Junk", "Archive": "\\Archive"}


def plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode())


def starttls_client(server):
    m = imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=10)
    m.starttls(ssl_context=tls_context())
    return m


def test_login_before_starttls_privacyrequired(server):
    mark = server.mark()
    m = imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=10)
    try:
        assert "LOGINDISABLED" in m.capabilities
        with pytest.raises(imaplib.IMAP4.error, match=r"\[PRIVACYREQUIRED\]"):
            m.login(ALICE, ALICE_PW)
    finally:
        m.logout()
    assert "event=login" not in server.since(mark)


def test_authenticate_before_starttls_privacyrequired(server):
    with Line(server.ports["imap"]) as c:
        c.line()
        c.send(b"a AUTHENTICATE PLAIN " + plain(ALICE, ALICE_PW) + b"\r\n")
        assert c.tagged(b"a")[-1].startswith(b"a NO [PRIVACYREQUIRED]")


def test_starttls_login_list_select_logout(fresh_server):
    server = fresh_server
    m = starttls_client(server)
    typ, _ = m.login(ALICE, ALICE_PW)
    assert typ == "OK"
    typ, listing = m.list()
    assert typ == "OK"
    names = {}
    for entry in listing:
        flags, _, name = entry.decode().rpartition(' "/" ')
        names[name.strip('"')] = flags
    assert set(names) == {"INBOX", *SPECIAL}
    for name, use in SPECIAL.items():
        assert use in names[name].strip("()").split(), (name, names[name])
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"0"]
    _, uidvalidity = m.response("UIDVALIDITY")
    assert uidvalidity[0] and int(uidvalidity[0]) > 0
    typ, _ = m.logout()
    assert typ == "BYE"


def test_authenticate_plain_with_sasl_ir(server):
    with Line(server.ports["imaps"], tls=True) as c:
        c.line()
        c.send(b"a AUTHENTICATE PLAIN " + plain(ALICE, ALICE_PW) + b"\r\n")
        assert c.tagged(b"a")[-1].startswith(b"a OK")
        c.send(b"b NOOP\r\n")
        assert c.tagged(b"b")[-1].startswith(b"b OK")
        c.send(b"c LOGOUT\r\n")
        assert c.tagged(b"c")[-1].startswith(b"c OK")


def test_authenticate_plain_with_continuation(server):
    m = imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], ssl_context=tls_context(),
                          timeout=10)
    try:
        typ, _ = m.authenticate("PLAIN", lambda _: f"\0{ALICE}\0{ALICE_PW}".encode())
        assert typ == "OK"
    finally:
        m.logout()


def timed_failure(server, user, password):
    with Line(server.ports["imaps"], tls=True) as c:
        c.line()
        t0 = time.monotonic()
        c.send(b'a LOGIN "' + user.encode() + b'" "' + password.encode() + b'"\r\n')
        reply = c.tagged(b"a")[-1]
        return reply, time.monotonic() - t0


def test_wrong_password_and_unknown_user_identical_and_delayed(fresh_server):
    server = fresh_server
    wrong, t_wrong = timed_failure(server, ALICE, "not-the-password")
    unknown, t_unknown = timed_failure(server, "nobody@example.test", ALICE_PW)
    assert wrong == b"a " + AUTH_FAILED
    assert unknown == wrong
    # fail_delay_ms defaults to 500; loose bounds, this is not a benchmark
    assert t_wrong >= 0.4 and t_unknown >= 0.4
    assert abs(t_wrong - t_unknown) < 0.5


def test_starttls_discards_pipelined_noop(server):
    with Line(server.ports["imap"]) as c:
        c.line()
        c.send(b"a STARTTLS\r\nb NOOP\r\n")
        assert c.tagged(b"a")[-1].startswith(b"a OK")
        c.starttls()
        c.send(b"c NOOP\r\n")
        lines = c.tagged(b"c")
        c.send(b"d LOGOUT\r\n")
        lines += c.tagged(b"d")
        rest, closed = c.read_all()
        assert closed
        lines += rest.split(b"\r\n")
    assert lines[0].startswith(b"c OK")
    assert not any(ln.startswith(b"b ") for ln in lines), lines


def test_curl_imaps_lists_mailboxes(server):
    r = subprocess.run(["curl", "-sk", "--max-time", "10", "--user", f"{ALICE}:{ALICE_PW}",
                        f"imaps://127.0.0.1:{server.ports['imaps']}/"],
                       capture_output=True, text=True, timeout=20, check=False)
    assert r.returncode == 0, r.stderr
    assert '"INBOX"' in r.stdout and "\\Sent" in r.stdout


def login_line(tag, user, password):
    return b'%s LOGIN "%s" "%s"\r\n' % (tag, user.encode(), password.encode())


def test_capabilities_after_starttls_offer_login_only(server):
    m = starttls_client(server)
    try:
        caps = set(m.capabilities)
        assert "AUTH=PLAIN" in caps
        assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps
    finally:
        m.logout()


def test_commands_pipelined_behind_login_reach_the_worker(fresh_server):
    server = fresh_server
    with Line(server.ports["imaps"], tls=True) as c:
        c.line()
        c.send(login_line(b"a", ALICE, ALICE_PW) + b"b SELECT INBOX\r\nc LOGOUT\r\n")
        assert re.fullmatch(rb"a OK \[CAPABILITY IMAP4rev1 [^]]*\] Logged in", c.tagged(b"a")[-1])
        selected = c.tagged(b"b")
        assert b"* 0 EXISTS" in selected and selected[-1].startswith(b"b OK [READ-WRITE]")
        assert c.tagged(b"c")[-1].startswith(b"c OK")


def test_too_many_bad_commands_bye(server):
    with Line(server.ports["imap"]) as c:
        c.line()
        c.send(b"x FROB\r\n" * 12)
        data, closed = c.read_all()
    lines = data.split(b"\r\n")
    assert lines[:10] == [b"x BAD Command not valid before login"] * 10
    assert lines[10].startswith(b"* BYE ")
    assert closed


def test_plaintext_on_imaps_port_just_fails_handshake(server):
    with Line(server.ports["imaps"]) as c:
        c.send(login_line(b"a", ALICE, ALICE_PW))
        data, closed = c.read_all()
    assert closed
    assert b"OK" not in data


def test_mailbox_name_forms_refused_after_login(server):
    with Line(server.ports["imaps"], tls=True) as c:
        c.line()
        c.send(login_line(b"a", ALICE, ALICE_PW))
        c.tagged(b"a")
        for i, name in enumerate([b'"../INBOX"', b'"INBOX/../../x"', b'"%2e%2e"',
                                  b'"' + b"x" * 10000 + b'"', b'"/etc/passwd"']):
            tag = b"s%d" % i
            c.send(tag + b" SELECT " + name + b"\r\n")
            reply = c.tagged(tag)[-1]
            assert reply.startswith(tag + b" NO ") or reply.startswith(tag + b" BAD "), reply
        c.send(b"z SELECT INBOX\r\n")
        assert c.tagged(b"z")[-1].startswith(b"z OK")


def test_10mb_line_after_login_bye_and_closed(server):
    with Line(server.ports["imaps"], tls=True) as c:
        c.line()
        c.send(login_line(b"a", ALICE, ALICE_PW))
        c.tagged(b"a")
        got, closed = flood(c, 10 * 1024 * 1024)
    assert got.startswith(b"* BYE"), got[:200]
    assert closed
