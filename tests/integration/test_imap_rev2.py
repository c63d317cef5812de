"""IMAP4rev2 (RFC 9051) next to IMAP4rev1: both are advertised, a session
is rev1 until ENABLE IMAP4rev2, and then answers in the rev2 forms: LIST
instead of RECENT and UNSEEN in SELECT, ESEARCH for every SEARCH, UTF-8
mailbox names. A rev1 session on the same mailbox keeps the rev1 forms."""
import pytest

import helpers
from helpers import DOMAIN, Line

USER = f"rev2@{DOMAIN}"
PW = "rev2-test-pw"


@pytest.fixture(scope="module")
def srv():
    with helpers.users_server([USER], PW) as s:
        yield s


def session(srv):
    c = Line(srv.ports["imaps"], tls=True)
    greeting = c.line()
    assert b"IMAP4rev1 IMAP4rev2" in greeting, greeting
    c.send(b'a LOGIN "%s" "%s"\r\n' % (USER.encode(), PW.encode()))
    ok = c.tagged(b"a")[-1]
    assert ok.startswith(b"a OK") and b"IMAP4rev2" in ok
    return c


def test_rev2_forms_after_enable(srv):
    with session(srv) as c:
        for i in range(2):
            body = b"Subject: r%d\r\n\r\nbody\r\n" % i
            c.send(b"p%d APPEND INBOX {%d+}\r\n" % (i, len(body)) + body + b"\r\n")
            assert c.tagged(b"p%d" % i)[-1].startswith(b"p%d OK" % i)
        c.send(b"b ENABLE IMAP4rev2\r\n")
        lines = c.tagged(b"b")
        assert lines[0] == b"* ENABLED IMAP4rev2" and lines[-1].startswith(b"b OK")
        c.send(b"c SELECT INBOX\r\n")
        lines = c.tagged(b"c")
        assert b'* LIST () "/" INBOX' in lines or b'* LIST () "/" "INBOX"' in lines, lines
        assert not any(b"RECENT" in ln or b"UNSEEN" in ln for ln in lines), lines
        assert b"* 2 EXISTS" in lines
        c.send(b"d SEARCH ALL\r\n")
        lines = c.tagged(b"d")
        assert lines[0] == b'* ESEARCH (TAG "d") ALL 1:2', lines
        c.send(b"e UID SEARCH SUBJECT r1\r\n")
        lines = c.tagged(b"e")
        assert lines[0].startswith(b'* ESEARCH (TAG "e") UID ALL '), lines
        # UTF-8 names, no modified UTF-7
        c.send('f CREATE "Entwürfe"\r\n'.encode())
        assert c.tagged(b"f")[-1].startswith(b"f OK")
        c.send(b'g LIST "" "Entw*"\r\n')
        lines = c.tagged(b"g")
        assert "Entwürfe".encode() in b"\n".join(lines), lines   # quoted or a literal


def test_rev1_session_keeps_rev1_forms(srv):
    with session(srv) as c:
        c.send(b"c SELECT INBOX\r\n")
        lines = c.tagged(b"c")
        assert any(ln.endswith(b" RECENT") for ln in lines), lines
        assert not any(ln.startswith(b"* LIST") for ln in lines)
        c.send(b"d SEARCH ALL\r\n")
        assert c.tagged(b"d")[0].startswith(b"* SEARCH")
        c.send(b'g LIST "" "Entw*"\r\n')
        lines = c.tagged(b"g")
        assert any(b"Entw&APw-rfe" in ln for ln in lines), lines


def deliver(srv, subject):
    import smtplib
    with smtplib.SMTP("127.0.0.1", srv.ports["smtp"], timeout=10) as s:
        s.sendmail("x@example.org", [USER], f"Subject: {subject}\r\n\r\nbody\r\n".encode())


def wait_exists(c, n):
    for _ in range(100):
        c.send(b"w STATUS INBOX (MESSAGES)\r\n")
        lines = c.tagged(b"w")
        if any(b"MESSAGES %d" % n in ln for ln in lines):
            return
        import time
        time.sleep(0.1)
    raise AssertionError(f"never {n} messages")


def test_recent_goes_to_the_first_rev1_session(srv):
    with session(srv) as a, session(srv) as b:
        a.send(b"x SELECT INBOX\r\n")
        start = [ln for ln in a.tagged(b"x") if ln.endswith(b" EXISTS")][0]
        base = int(start.split()[1])
        deliver(srv, "recent one")
        deliver(srv, "recent two")
        wait_exists(b, base + 2)
        # STATUS counts what no session has claimed yet
        b.send(b"s STATUS INBOX (RECENT)\r\n")
        assert any(b"RECENT 2" in ln for ln in b.tagged(b"s"))
        # EXAMINE sees them recent without taking them
        b.send(b"e EXAMINE INBOX\r\n")
        assert b"* 2 RECENT" in b.tagged(b"e")
        # the selected rev1 session learns of them, as its own recent
        a.send(b"n NOOP\r\n")
        lines = a.tagged(b"n")
        assert b"* %d EXISTS" % (base + 2) in lines and b"* 2 RECENT" in lines, lines
        a.send(b"f FETCH %d:* (FLAGS)\r\n" % (base + 1))
        lines = a.tagged(b"f")
        assert sum(b"\\Recent" in ln for ln in lines) == 2, lines
        a.send(b"r SEARCH RECENT\r\n")
        assert a.tagged(b"r")[0] == b"* SEARCH %d %d" % (base + 1, base + 2)
        a.send(b"o SEARCH NEW\r\n")
        assert a.tagged(b"o")[0] == b"* SEARCH %d %d" % (base + 1, base + 2)
        # taken: a later SELECT elsewhere gets none
        b.send(b"t SELECT INBOX\r\n")
        lines = b.tagged(b"t")
        assert b"* 0 RECENT" in lines, lines
        b.send(b"g FETCH 1:* (FLAGS)\r\n")
        assert not any(b"\\Recent" in ln for ln in b.tagged(b"g"))
        b.send(b"s STATUS INBOX (RECENT)\r\n")
        assert any(b"RECENT 0" in ln for ln in b.tagged(b"s"))
