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
