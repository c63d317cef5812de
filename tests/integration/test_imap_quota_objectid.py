"""QUOTA (RFC 9208), OBJECTID (RFC 8474) and the STATUS items that come
with them (DELETED, DELETED-STORAGE, MAILBOXID), with Python imaplib
against a server whose config sets limits.mailbox_quota_mib."""
import imaplib
import re

import pytest

import helpers
from helpers import ALICE, ALICE_PW, tls_context


@pytest.fixture
def srv(fresh_data):
    text = fresh_data.read_conf()
    text, n = re.subn(r"(?m)^mailbox_quota_mib = .*$", "mailbox_quota_mib = 2", text)
    assert n == 1
    fresh_data.write_conf(text)
    s = helpers.Server(fresh_data)
    yield s
    s.stop()


def login(srv):
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=tls_context(),
                          timeout=10)
    m.login(ALICE, ALICE_PW)
    return m


def ok(r):
    typ, data = r
    assert typ == "OK", data
    return data


def test_quota_usage_and_roots(srv):
    m = login(srv)
    try:
        body = b"Subject: q\r\n\r\n" + b"x" * 3000 + b"\r\n"
        ok(m.append("INBOX", None, None, body))
        ok(m.append("Sent", None, None, body))
        roots, quotas = ok(m.getquotaroot("INBOX"))   # imaplib splits the two replies
        assert roots == [b'"INBOX" ""'], roots
        used = re.fullmatch(rb'"" \(STORAGE (\d+) 2048\)', quotas[0])
        assert used and int(used.group(1)) >= 6, quotas
        data = ok(m.getquota('""'))
        assert re.search(rb'"" \(STORAGE \d+ 2048\)', data[0]), data
        typ, data = m.getquota('"nope"')
        assert typ == "NO"
        typ, data = m.setquota('""', "(STORAGE 10)")
        assert typ == "NO" and b"NOPERM" in data[0]
    finally:
        m.logout()


def test_objectids_and_deleted_status(srv):
    m = login(srv)
    try:
        data = ok(m.create("Projects"))
        created = re.search(rb"MAILBOXID \((M[0-9a-f]{24})\)", data[0])
        assert created, data
        ok(m.append("Projects", None, None, b"Subject: one\r\n\r\nsame body\r\n"))
        ok(m.append("Projects", r"(\Deleted)", None, b"Subject: two\r\n\r\nother\r\n"))
        typ, data = m._simple_command("STATUS", "Projects", "(MAILBOXID DELETED DELETED-STORAGE MESSAGES)")
        st = m._untagged_response(typ, data, "STATUS")[1][0]
        assert b"MAILBOXID (" + created.group(1) + b")" in st, st
        assert b"DELETED 1" in st and b"DELETED-STORAGE 1" in st and b"MESSAGES 2" in st, st
        ok(m.rename("Projects", "Archive/Projects"))
        typ, data = m._simple_command("STATUS", '"Archive/Projects"', "(MAILBOXID)")
        st = m._untagged_response(typ, data, "STATUS")[1][0]
        assert created.group(1) in st, "MAILBOXID survives RENAME"
        typ, data = m.select('"Archive/Projects"')
        assert any(created.group(1) in x for x in m.untagged_responses.get("OK", [])), \
            m.untagged_responses
        data = ok(m.fetch("1:2", "(EMAILID THREADID)"))
        ids = [re.search(rb"EMAILID \((E[0-9a-f]{24})\)", d).group(1) for d in data]
        assert len(set(ids)) == 2 and all(b"THREADID NIL" in d for d in data), data
        # a copy keeps its EMAILID (RFC 8474 5.1)
        ok(m.copy("1", "INBOX"))
        m.select("INBOX")
        data = ok(m.fetch("*", "(EMAILID)"))
        assert ids[0] in data[0], data
    finally:
        m.logout()


def test_create_special_use(srv):
    m = login(srv)
    try:
        typ, data = m._simple_command("CREATE", "Outbox", "(USE (\\Sent))")
        assert typ == "OK", data
        typ, data = m._simple_command("LIST", "(SPECIAL-USE)", '""', "*")
        names = m._untagged_response(typ, data, "LIST")[1]
        assert any(b"Outbox" in n and b"\\Sent" in n for n in names), names
        typ, data = m._simple_command("CREATE", "Odd", "(USE (\\Important))")
        assert typ == "NO" and b"USEATTR" in data[0], data
        with pytest.raises(imaplib.IMAP4.error, match="BAD"):
            m._simple_command("CREATE", "Bad", "(FOO)")
        typ, data = m.capability()
        assert b"CREATE-SPECIAL-USE" in data[0]
    finally:
        m.logout()
