"""IMAP after login (the worker): mail delivered over SMTP read back with
imaplib and curl, flags, search, copy/move with UIDPLUS codes, append,
mailbox management, concurrent sessions, IDLE, and hostile literals.

One server for the module; each test uses its own user so that tests do
not see each other's mail."""
import contextlib
import imaplib
import json
import os
import re
import shutil
import smtplib
import subprocess
import time

import pytest

import helpers
from helpers import DOMAIN, Line, tls_context

USERS = [f"u{i}@{DOMAIN}" for i in range(20)]
PW = "worker-test-pw"


@pytest.fixture(scope="module")
def srv():
    d = helpers.DataDir()
    try:
        for u in USERS:
            d.add_user(u, PW)
        s = helpers.Server(d)
    except BaseException:
        d.remove()
        raise
    yield s
    rc = s.stop()
    d.remove()
    assert rc == 0, s.log()[-3000:]
    assert "role_crashed" not in s.log(), s.log()


def message(i, to, subject=None, body=None):
    subject = subject or f"Test message {i}"
    body = body or f"Hello body number {i}\r\nsecond line\r\n"
    return (f"From: Bob Sender <bob@other.test>\r\nTo: {to}\r\n"
            f"Subject: {subject}\r\nMessage-ID: <m{i}@other.test>\r\n"
            f"Date: Mon, 02 Jan 2023 10:00:0{i % 10} +0000\r\n\r\n{body}").encode()


def deliver(srv, rcpt, data):
    with smtplib.SMTP("127.0.0.1", srv.ports["smtp"], timeout=10) as s:
        s.sendmail("bob@other.test", [rcpt], data)


def login(srv, user):
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=tls_context(),
                          timeout=10)
    m.login(user, PW)
    return m


@contextlib.contextmanager
def session(srv, user):
    m = login(srv, user)
    try:
        yield m
    finally:
        m.logout()


def wait_messages(srv, user, n, mailbox="INBOX", timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        with session(srv, user) as m:
            _, data = m.status(mailbox, "(MESSAGES)")
        got = int(re.search(rb"MESSAGES (\d+)", data[0])[1])
        if got >= n:
            return
        assert time.monotonic() < deadline, f"only {got} of {n} messages delivered"
        time.sleep(0.2)


def deliver3(srv, user):
    """Three messages, one after the other: the queue delivers in parallel,
    so waiting for each keeps UID order equal to sending order."""
    sent = [message(i, user) for i in range(3)]
    for i, data in enumerate(sent):
        deliver(srv, user, data)
        wait_messages(srv, user, i + 1)
    return sent


def ok(resp):
    typ, data = resp
    assert typ == "OK", resp
    return data


def test_deliver_then_fetch(srv):
    user = USERS[0]
    sent = deliver3(srv, user)
    with session(srv, user) as m:
        caps = ok(m.capability())[0].split()
        assert b"IMAP4rev1" in caps and b"LITERAL+" in caps and b"IMAP4rev2" in caps
        assert ok(m.select("INBOX")) == [b"3"]
        data = ok(m.fetch("1:*", "(FLAGS UID RFC822.SIZE ENVELOPE BODYSTRUCTURE)"))
        assert len(data) == 3
        for i, line in enumerate(data):
            assert re.match(rb"%d \(FLAGS \(\\Recent\) UID %d RFC822.SIZE \d+ ENVELOPE \(" % (i + 1, i + 1),
                            line), line
            assert b'"Test message %d"' % i in line
            assert b'(("Bob Sender" NIL "bob" "other.test"))' in line
            assert b'"<m%d@other.test>"' % i in line
            assert b'BODYSTRUCTURE ("TEXT" "PLAIN"' in line
        data = ok(m.fetch("2", "BODY.PEEK[]"))
        full = data[0][1]
        assert full.endswith(sent[1]), full
        header = full[:len(full) - len(sent[1])]
        assert header.startswith(b"Return-Path: <bob@other.test>\r\n")
        assert b"Delivered-To: " + user.encode() in header and b"Received: " in header
        size = int(re.search(rb"RFC822.SIZE (\d+)", ok(m.fetch("2", "RFC822.SIZE"))[0])[1])
        assert size == len(full)
        data = ok(m.fetch("2", "(BODY.PEEK[TEXT] BODY.PEEK[]<5.7>)"))
        assert data[0][1] == b"Hello body number 1\r\nsecond line\r\n"
        assert data[1][0].endswith(b"BODY[]<5> {7}") and data[1][1] == full[5:12]
        # PEEK left \Seen alone; BODY[TEXT] sets it and reports FLAGS
        assert b"\\Seen" not in ok(m.fetch("2", "FLAGS"))[0]
        data = ok(m.fetch("2", "BODY[TEXT]"))
        assert b"\\Seen" in data[-1]
        data = ok(m.fetch("1", "BODY.PEEK[HEADER.FIELDS (Subject)]"))
        assert data[0][1] == b"Subject: Test message 0\r\n\r\n"


def test_store_and_search(srv):
    user = USERS[1]
    deliver3(srv, user)
    deliver(srv, user, message(7, user, subject="Invoice", body="pay the zebra\r\n"))
    wait_messages(srv, user, 4)
    with session(srv, user) as m:
        ok(m.select("INBOX"))
        data = ok(m.store("1", "+FLAGS", "(\\Seen \\Flagged)"))
        # all four arrived before this rev1 session: \Recent for it
        assert data == [b"1 (FLAGS (\\Seen \\Flagged \\Recent))"]
        assert ok(m.search(None, "UNSEEN")) == [b"2 3 4"]
        assert ok(m.search(None, "NEW")) == [b"2 3 4"]
        assert ok(m.search(None, "OLD")) == [b""]
        assert ok(m.search(None, "FLAGGED")) == [b"1"]
        assert ok(m.search(None, "FROM", "bob")) == [b"1 2 3 4"]
        assert ok(m.search(None, "TEXT", "ZEBRA")) == [b"4"]
        assert ok(m.search(None, "SUBJECT", "invoice", "UNSEEN")) == [b"4"]
        assert ok(m.search(None, "OR", "SEEN", "BODY", "zebra")) == [b"1 4"]
        assert ok(m.search(None, "NOT", "(SEEN FLAGGED)", "2:3")) == [b"2 3"]
        assert ok(m.uid("SEARCH", "UID", "2:*")) == [b"2 3 4"]
        assert ok(m.search(None, "LARGER", "1", "SINCE", "1-Jan-2000")) == [b"1 2 3 4"]
        ok(m.store("1", "-FLAGS.SILENT", "(\\Flagged)"))
        ok(m.store("2", "FLAGS", "(\\Answered $Forwarded)"))
        data = ok(m.fetch("1:2", "FLAGS"))
        assert data == [b"1 (FLAGS (\\Seen \\Recent))",
                        b"2 (FLAGS (\\Answered \\Recent $Forwarded))"]
        assert ok(m.search(None, "KEYWORD", "$Forwarded")) == [b"2"]
        typ, _ = m.search(None, "CHARSET", "KOI8-R", "ALL")
        assert typ == "NO"


def test_copy_move_expunge(srv):
    user = USERS[2]
    deliver3(srv, user)
    with session(srv, user) as m:
        ok(m.select("INBOX"))
        data = ok(m.copy("1", "Archive"))
        assert re.match(rb"\[COPYUID \d+ 1 1\]", data[0]), data
        typ, data = m.uid("MOVE", "2", "Trash")
        assert typ == "OK"
        copyuid = m.response("COPYUID")[1][-1]   # [0] is COPY's
        assert re.match(rb"\d+ 2 1$", copyuid), copyuid
        assert m.response("EXPUNGE")[1] == [b"2"]
        assert ok(m.fetch("1:*", "UID")) == [b"1 (UID 1)", b"2 (UID 3)"]
        ok(m.store("1", "+FLAGS", "\\Deleted"))
        assert ok(m.expunge()) == [b"1"]
        assert ok(m.fetch("1:*", "UID")) == [b"1 (UID 3)"]
        st = ok(m.status("Archive", "(MESSAGES UIDNEXT)"))[0]
        assert b"MESSAGES 1" in st and b"UIDNEXT 2" in st
        st = ok(m.status("Trash", "(MESSAGES)"))[0]
        assert b"MESSAGES 1" in st
        ok(m.select("Trash"))
        assert b"Test message 1" in ok(m.fetch("1", "BODY.PEEK[HEADER]"))[0][1]
        typ, data = m.copy("1", "NoSuchBox")
        assert typ == "NO" and b"TRYCREATE" in data[0]
        ok(m.close())


def test_append_then_fetch(srv):
    user = USERS[3]
    with session(srv, user) as m:
        msg = b"From: me@example.test\r\nSubject: appended\r\n\r\nbody \x80 8bit\r\n"
        data = ok(m.append("Drafts", "(\\Draft \\Seen)", '"05-Mar-2024 10:11:12 +0100"', msg))
        uidvalidity, uid = re.search(rb"\[APPENDUID (\d+) (\d+)\]", data[0]).groups()
        ok(m.select("Drafts"))
        data = ok(m.uid("FETCH", uid.decode(), "(FLAGS INTERNALDATE BODY.PEEK[])"))
        assert data[0][1] == msg
        assert b"\\Draft" in data[0][0] and b"\\Seen" in data[0][0]
        assert b'INTERNALDATE "05-Mar-2024 09:11:12 +0000"' in data[0][0]
        typ, data = m.append("Nope", None, None, msg)
        assert typ == "NO" and b"TRYCREATE" in data[0]
        # EXAMINE: read-only, BODY[] sets no flag, STORE and EXPUNGE refused
        ok(m.store("1", "-FLAGS", "(\\Seen)"))
        typ, data = m.select("Drafts", readonly=True)
        assert typ == "OK" and "READ-ONLY" in m.untagged_responses
        data = ok(m.fetch("1", "BODY[]"))
        assert b"FLAGS" not in b"".join(d[0] if isinstance(d, tuple) else d for d in data)
        assert m.store("1", "+FLAGS", "(\\Flagged)")[0] == "NO"
        assert m.expunge()[0] == "NO"
        assert b"\\Seen" not in ok(m.fetch("1", "FLAGS"))[0]


def test_mailbox_management_and_status(srv):
    user = USERS[4]
    with session(srv, user) as m:
        ok(m.create("Projects/2024"))
        names = ok(m.list('""', "*"))
        assert any(n.endswith(b'"Projects/2024"') and b"\\HasNoChildren" in n for n in names)
        assert any(n.endswith(b'"Projects"') and b"\\Noselect" in n for n in names)
        assert ok(m.list('""', "%")) and not any(b"2024" in n for n in ok(m.list('""', "%")))
        assert any(b"\\Sent" in n for n in ok(m.lsub('""', "*")))
        # what clients send on seeing SPECIAL-USE (RFC 6154 3)
        typ, data = m._simple_command("LIST", "(SPECIAL-USE)", '""', "*", "RETURN", "(SUBSCRIBED)")
        assert typ == "OK"
        names = m._untagged_response(typ, data, "LIST")[1]
        assert len(names) == 5 and all(b"\\Subscribed" in n for n in names), names
        ok(m.rename("Projects/2024", '"Old 2024"'))   # imaplib does not quote
        names = ok(m.list('""', "Old*"))
        assert names == [b'(\\HasNoChildren) "/" "Old 2024"']
        ok(m.delete('"Old 2024"'))
        assert ok(m.list('""', "Old*")) == [None]
        typ, data = m.create("bad%name")
        assert typ == "NO" and b"[CANNOT]" in data[0]
        typ, data = m.create("INBOX")
        assert typ == "NO"
        typ, data = m.delete("INBOX")
        assert typ == "NO"
        st = ok(m.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT SIZE)"))[0]
        assert re.match(rb'"INBOX" \(MESSAGES 0 UIDNEXT 1 UIDVALIDITY \d+ UNSEEN 0 RECENT 0 SIZE 0\)',
                        st), st
        assert ok(m.namespace()) == [b'(("" "/")) (("Shared/" "/")) NIL']
        ok(m.subscribe("INBOX"))


def test_two_sessions_see_each_others_changes(srv):
    user = USERS[5]
    deliver3(srv, user)
    a, b = login(srv, user), login(srv, user)
    try:
        ok(a.select("INBOX"))
        ok(b.select("INBOX"))
        ok(a.store("2", "+FLAGS", "(\\Flagged)"))
        ok(b.noop())
        fetches = b.response("FETCH")[1]
        assert fetches and any(re.match(rb"2 \(UID 2 FLAGS \(\\Flagged\)\)", f) for f in fetches), \
            fetches
        ok(a.store("1", "+FLAGS", "(\\Deleted)"))
        ok(a.expunge())
        ok(b.noop())
        assert b.response("EXPUNGE")[1] == [b"1"]
        assert ok(b.fetch("1:*", "UID")) == [b"1 (UID 2)", b"2 (UID 3)"]
        deliver(srv, user, message(4, user))
        deadline = time.monotonic() + 10
        while True:
            ok(b.noop())
            exists = b.response("EXISTS")[1]
            if exists and exists[-1] == b"3":
                break
            assert time.monotonic() < deadline, "new delivery never announced"
            time.sleep(0.3)
    finally:
        a.logout()
        b.logout()


def test_idle_woken_by_delivery(srv):
    user = USERS[6]
    with Line(srv.ports["imaps"], tls=True) as c:
        c.line()
        c.send(b'a LOGIN "%s" "%s"\r\n' % (user.encode(), PW.encode()))
        assert c.tagged(b"a")[-1].startswith(b"a OK")
        c.send(b"b SELECT INBOX\r\n")
        assert c.tagged(b"b")[-1].startswith(b"b OK [READ-WRITE]")
        c.send(b"c IDLE\r\n")
        assert c.line() == b"+ idling"
        start = time.monotonic()
        deliver(srv, user, message(1, user))
        c.sock.settimeout(10)
        assert c.line() == b"* 1 EXISTS"
        assert time.monotonic() - start < 8
        c.send(b"DONE\r\n")
        assert c.tagged(b"c")[-1] == b"c OK IDLE terminated"
        c.send(b"d LOGOUT\r\n")
        lines = c.tagged(b"d")
        assert lines[0].startswith(b"* BYE") and lines[-1].startswith(b"d OK")


def test_idle_woken_by_another_sessions_change(srv):
    # the fallback poll is 30 s: within the 10 s here only the store's
    # change notification (inotify on its WAL) can wake the idler
    user = USERS[6]
    other = login(srv, user)
    with raw_session(srv, user) as c:
        c.send(b"b SELECT INBOX\r\n")
        assert c.tagged(b"b")[-1].startswith(b"b OK [READ-WRITE]")
        c.send(b"c IDLE\r\n")
        assert c.line() == b"+ idling"
        other.select("INBOX")
        other.store("1", "+FLAGS", "(\\Flagged)")
        c.sock.settimeout(10)
        line = c.line()
        assert line.startswith(b"* 1 FETCH") and b"\\Flagged" in line, line
        other.append("INBOX", None, None, b"Subject: appended\r\n\r\nx\r\n")
        assert c.line() == b"* 2 EXISTS"
        c.send(b"DONE\r\n")
        assert c.tagged(b"c")[-1] == b"c OK IDLE terminated"
    other.logout()


def raw_session(srv, user):
    c = Line(srv.ports["imaps"], tls=True)
    c.line()
    c.send(b'a LOGIN "%s" "%s"\r\n' % (user.encode(), PW.encode()))
    assert c.tagged(b"a")[-1].startswith(b"a OK")
    return c


def test_literals_and_bad_input(srv):
    user = USERS[7]
    with raw_session(srv, user) as c:
        c.send(b"b SELECT {5}\r\n")
        assert c.line().startswith(b"+ ")
        c.send(b"INBOX\r\n")
        assert c.tagged(b"b")[-1].startswith(b"b OK")
        c.send(b"c STATUS {5+}\r\nINBOX (MESSAGES)\r\n")
        lines = c.tagged(b"c")
        assert lines[0] == b'* STATUS "INBOX" (MESSAGES 0)' and lines[-1].startswith(b"c OK")
        c.send(b"d APPEND INBOX {4294967296}\r\n")
        assert c.tagged(b"d")[-1].startswith(b"d NO [TOOBIG]")
        c.send(b"e SEARCH TEXT {100000}\r\n")
        assert c.tagged(b"e")[-1].startswith(b"e NO [TOOBIG]")
        c.send(b"f FROBNICATE\r\n")
        assert c.tagged(b"f")[-1].startswith(b"f BAD ")
        c.send(b"g UNSELECT\r\ng FETCH 1 FLAGS\r\n")
        assert c.tagged(b"g")[-1] == b"g OK UNSELECT completed"
        assert c.tagged(b"g")[-1].startswith(b"g BAD ")
        # names are modified UTF-7 on the wire (raw UTF-8 is taken too)
        c.send(b"h CREATE \"caf\xc3\xa9\"\r\nh2 CREATE &ZeVnLIqe-\r\n")
        assert c.tagged(b"h")[-1].startswith(b"h OK")
        assert c.tagged(b"h2")[-1].startswith(b"h2 OK")
        c.send(b"i LIST \"\" caf*\r\n")
        lines = c.tagged(b"i")
        assert lines == [b'* LIST (\\HasNoChildren) "/" "caf&AOk-"', b"i OK LIST completed"], lines
        c.send(b"i2 STATUS &ZeVnLIqe- (MESSAGES)\r\n")
        assert c.tagged(b"i2")[0] == b'* STATUS "&ZeVnLIqe-" (MESSAGES 0)'
        c.send(b"i3 CREATE &Jjo\r\n")
        assert c.tagged(b"i3")[-1].startswith(b"i3 BAD ")
        c.send(b"j NOOP (((((((((((((((((((((((((((((((((x)))))))))))))))))))))))))))))))))\r\n")
        assert c.tagged(b"j")[-1].startswith(b"j BAD ")
    with raw_session(srv, user) as c:
        c.send(b"b APPEND INBOX {18446744073709551615+}\r\n")
        data, closed = c.read_all()
        assert b"b BAD " in data and b"* BYE" in data and closed
    with raw_session(srv, user) as c:
        # one write: what the server has not read when it closes would
        # turn its close into a reset that can eat its last replies
        c.send(b"".join(b"x%d BOGUS\r\n" % i for i in range(10)))
        data, closed = c.read_all()
        assert data.count(b" BAD ") == 10 and b"* BYE Too many invalid commands" in data
        assert closed


def test_curl_fetches_a_message(srv):
    user = USERS[8]
    data = message(3, user)
    deliver(srv, user, data)
    wait_messages(srv, user, 1)
    r = subprocess.run(["curl", "-sS", "-k", "--max-time", "20", "-u", f"{user}:{PW}",
                        f"imaps://127.0.0.1:{srv.ports['imaps']}/INBOX;UID=1"],
                       capture_output=True, timeout=30, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(data), r.stdout


def test_big_fetch_streams_through_output_cap(srv):
    """FETCH of more than the worker's pending-output cap (4 MiB) stops and
    resumes as the client reads; every octet arrives, in order."""
    user = USERS[9]
    with session(srv, user) as m:
        bodies = []
        for i in range(5):
            line = (b"%d" % i) * 75 + b"\r\n"
            body = b"Subject: big %d\r\n\r\n" % i + line * (2 * 1024 * 1024 // len(line))
            bodies.append(body)
            ok(m.append("INBOX", None, None, body))
        ok(m.select("INBOX"))
        data = ok(m.fetch("1:*", "(UID BODY.PEEK[])"))
        got = [d[1] for d in data if isinstance(d, tuple)]
        assert got == bodies
        ok(m.noop())   # the session goes on after the resumed FETCH


# ---- extensions: CONDSTORE / QRESYNC (RFC 7162), ESEARCH (4731),
# SEARCHRES (5182) ----

def raw(m, name, *args):
    """One command through imaplib's plumbing: (typ, tagged data, untagged
    responses as a dict of lists)."""
    m.untagged_responses.clear()
    try:
        typ, data = m._simple_command(name, *args)
    except m.error as e:   # imaplib raises on BAD
        assert "BAD" in str(e), e
        typ, data = "BAD", [str(e).encode()]
    got = {k: list(v) for k, v in m.untagged_responses.items()}
    m.untagged_responses.clear()
    return typ, data, got


def fetch_lines(untagged):
    return [x for x in untagged.get("FETCH", []) if x is not None]


def test_condstore_fetch_store_search_status(srv):
    user = USERS[10]
    deliver3(srv, user)
    with session(srv, user) as m:
        assert b"CONDSTORE" in ok(m.capability())[0].split()
        typ, _, u = raw(m, "ENABLE", "CONDSTORE")
        assert typ == "OK" and u["ENABLED"] == [b"CONDSTORE"], u
        typ, _, u = raw(m, "SELECT", "INBOX")
        m.state = "SELECTED"
        hms = int(u["HIGHESTMODSEQ"][0])
        typ, _, u = raw(m, "FETCH", "1:*", "(UID MODSEQ)")
        mods = {int(re.search(rb"UID (\d+)", x)[1]): int(re.search(rb"MODSEQ \((\d+)\)", x)[1])
                for x in fetch_lines(u)}
        assert len(mods) == 3 and max(mods.values()) <= hms, (mods, hms)
        typ, _, u = raw(m, "STORE", "1", "+FLAGS", "(\\Seen)")
        line = fetch_lines(u)[0]
        assert b"\\Seen" in line and b"MODSEQ (" in line, line
        new = int(re.search(rb"MODSEQ \((\d+)\)", line)[1])
        assert new > hms
        # only the changed message since the old HIGHESTMODSEQ
        typ, _, u = raw(m, "FETCH", "1:*", "(FLAGS)", f"(CHANGEDSINCE {hms})")
        lines = fetch_lines(u)
        assert typ == "OK" and len(lines) == 1 and lines[0].startswith(b"1 ("), lines
        assert b"MODSEQ (%d)" % new in lines[0]
        # message 1 changed after hms: the conditional store skips it
        typ, data, u = raw(m, "STORE", "1:3", f"(UNCHANGEDSINCE {hms})", "+FLAGS", "(\\Flagged)")
        assert typ == "OK" and data[0].startswith(b"[MODIFIED 1]"), data
        lines = fetch_lines(u)
        assert sorted(x.split()[0] for x in lines) == [b"2", b"3"], lines
        assert b"\\Flagged" not in ok(m.fetch("1", "FLAGS"))[0]
        assert b"\\Flagged" in ok(m.fetch("2", "FLAGS"))[0]
        typ, data, u = raw(m, "UID", "STORE", "3", "(UNCHANGEDSINCE 1)", "FLAGS.SILENT", "()")
        assert typ == "OK" and data[0].startswith(b"[MODIFIED 3]"), data
        typ, _, u = raw(m, "SEARCH", "MODSEQ", str(new))
        top = max(int(re.search(rb"MODSEQ \((\d+)\)", x)[1])
                  for x in fetch_lines(raw(m, "FETCH", "1:*", "(MODSEQ)")[2]))
        assert u["SEARCH"] == [b"1 2 3 (MODSEQ %d)" % top], u
        st = ok(m.status("Trash", "(HIGHESTMODSEQ MESSAGES)"))[0]
        assert re.search(rb"HIGHESTMODSEQ \d+ MESSAGES 0", st), st
        typ, _, _ = raw(m, "STORE", "1", "(UNCHANGEDSINCE x)", "FLAGS", "()")
        assert typ == "BAD"


def test_qresync_after_expunge_elsewhere(srv):
    user = USERS[11]
    deliver3(srv, user)
    with session(srv, user) as a, session(srv, user) as b:
        typ, _, u = raw(a, "ENABLE", "QRESYNC")
        assert u["ENABLED"] == [b"QRESYNC"], u
        typ, _, u = raw(a, "SELECT", "INBOX")
        a.state = "SELECTED"
        uidvalidity = int(u["UIDVALIDITY"][0])
        hms = int(u["HIGHESTMODSEQ"][0])
        # another session expunges message 2: a live QRESYNC session hears VANISHED
        ok(b.select("INBOX"))
        ok(b.store("2", "+FLAGS", "(\\Deleted)"))
        ok(b.expunge())
        typ, _, u = raw(b, "STATUS", "INBOX", "(HIGHESTMODSEQ)")
        after2 = int(re.search(rb"HIGHESTMODSEQ (\d+)", u["STATUS"][0]).group(1))
        typ, _, u = raw(a, "NOOP")
        assert u.get("VANISHED") == [b"2"] and "EXPUNGE" not in u, u
        typ, _, u = raw(a, "UID", "FETCH", "1:3", "(FLAGS)", f"(CHANGEDSINCE {hms} VANISHED)")
        assert u.get("VANISHED") == [b"(EARLIER) 2"], u
        # its own EXPUNGE: VANISHED too, and the new HIGHESTMODSEQ
        ok(a.uid("STORE", "3", "+FLAGS", "(\\Deleted)"))
        typ, data, u = raw(a, "EXPUNGE")
        assert u.get("VANISHED") == [b"3"] and data[0].startswith(b"[HIGHESTMODSEQ "), (data, u)
        # a client coming back with its old state resynchronises in SELECT
        ok(b.store("1", "+FLAGS", "(\\Answered)"))
    with session(srv, user) as c:
        raw(c, "ENABLE", "QRESYNC")
        typ, data, u = raw(c, "SELECT", "INBOX", f"(QRESYNC ({uidvalidity} {hms} 1:3))")
        assert typ == "OK", data
        assert u.get("VANISHED") == [b"(EARLIER) 2:3"], u
        lines = fetch_lines(u)
        assert len(lines) == 1 and b"UID 1 " in lines[0] and b"\\Answered" in lines[0], lines
        assert b"MODSEQ (" in lines[0]
        # nothing changed since the current HIGHESTMODSEQ: nothing to resync
        now = int(u["HIGHESTMODSEQ"][0])
        typ, _, u = raw(c, "EXAMINE", "INBOX", f"(QRESYNC ({uidvalidity} {now}))")
        assert typ == "OK" and "VANISHED" not in u and not fetch_lines(u), u
        assert u.get("OK") and any(b"[CLOSED]" in x for x in u["OK"]), u
        # known since a modseq after 2 went: only 3 is reported, from the
        # expunge log, not every gap below UIDNEXT
        c.state = "SELECTED"
        typ, _, u = raw(c, "UID", "FETCH", "1:3", "(FLAGS)", f"(CHANGEDSINCE {after2} VANISHED)")
        assert u.get("VANISHED") == [b"(EARLIER) 3"], u
    with session(srv, user) as d:
        typ, _, _ = raw(d, "SELECT", "INBOX", f"(QRESYNC ({uidvalidity} {hms}))")
        assert typ == "BAD"   # QRESYNC was not enabled


def test_esearch_and_searchres(srv):
    user = USERS[12]
    deliver3(srv, user)
    with session(srv, user) as m:
        caps = ok(m.capability())[0].split()
        assert b"ESEARCH" in caps and b"SEARCHRES" in caps
        ok(m.select("INBOX"))
        ok(m.store("2:3", "+FLAGS", "(\\Flagged)"))
        typ, _, u = raw(m, "UID", "SEARCH", "RETURN", "(MIN MAX COUNT ALL)", "ALL")
        esearch = u["ESEARCH"][0]
        assert re.fullmatch(rb'\(TAG "[A-Z0-9]+"\) UID MIN 1 MAX 3 ALL 1:3 COUNT 3', esearch), esearch
        typ, _, u = raw(m, "SEARCH", "RETURN", "()", "FLAGGED")
        assert re.fullmatch(rb'\(TAG "[A-Z0-9]+"\) ALL 2:3', u["ESEARCH"][0]), u
        typ, _, u = raw(m, "SEARCH", "RETURN", "(COUNT MIN)", "DELETED")
        assert re.fullmatch(rb'\(TAG "[A-Z0-9]+"\) COUNT 0', u["ESEARCH"][0]), u
        # SAVE alone answers nothing; "$" then stands for the result
        typ, _, u = raw(m, "SEARCH", "RETURN", "(SAVE)", "FLAGGED")
        assert typ == "OK" and "ESEARCH" not in u and "SEARCH" not in u, u
        typ, _, u = raw(m, "FETCH", "$", "(UID)")
        assert sorted(fetch_lines(u)) == [b"2 (UID 2)", b"3 (UID 3)"], u
        typ, _, u = raw(m, "UID", "SEARCH", "$", "UID", "3")
        assert u["SEARCH"] == [b"3"], u
        typ, _, u = raw(m, "SEARCH", "RETURN", "(SAVE MIN)", "FLAGGED")
        assert re.fullmatch(rb'\(TAG "[A-Z0-9]+"\) MIN 2', u["ESEARCH"][0]), u
        typ, _, u = raw(m, "UID", "FETCH", "$", "(FLAGS)")
        assert [x.split()[0] for x in fetch_lines(u)] == [b"2"], u
        typ, _, u = raw(m, "SEARCH", "RETURN", "(BOGUS)", "ALL")
        assert typ == "BAD"


def test_list_extended_and_list_status(srv):
    user = USERS[13]
    deliver3(srv, user)
    with session(srv, user) as m:
        ok(m.create("Proj/2024"))
        typ, _, u = raw(m, "LIST", '""', "*", "RETURN", "(STATUS (MESSAGES UIDNEXT))")
        assert typ == "OK", u
        assert b'"INBOX" (MESSAGES 3 UIDNEXT 4)' in u["STATUS"], u
        assert b'"Sent" (MESSAGES 0 UIDNEXT 1)' in u["STATUS"], u
        assert not any(x.startswith(b'"Proj" ') for x in u["STATUS"])   # not a mailbox
        typ, _, u = raw(m, "LIST", "(SPECIAL-USE)", '""', "*", "RETURN", "(SPECIAL-USE)")
        assert sorted(u["LIST"]) == sorted([
            b'(\\HasNoChildren \\Archive) "/" "Archive"', b'(\\HasNoChildren \\Drafts) "/" "Drafts"',
            b'(\\HasNoChildren \\Junk) "/" "Junk"', b'(\\HasNoChildren \\Sent) "/" "Sent"',
            b'(\\HasNoChildren \\Trash) "/" "Trash"']), u
        typ, _, u = raw(m, "LIST", '""', '("INBOX" "Sent")', "RETURN", "(CHILDREN SUBSCRIBED)")
        assert u["LIST"] == [b'(\\HasNoChildren \\Subscribed) "/" "INBOX"',
                             b'(\\HasNoChildren \\Subscribed \\Sent) "/" "Sent"'], u
        typ, _, u = raw(m, "LIST", "(SUBSCRIBED RECURSIVEMATCH)", '""', "P%")
        assert u["LIST"] == [b'(\\NonExistent \\HasChildren) "/" "Proj" ("CHILDINFO" ("SUBSCRIBED"))'], u
        typ, _, u = raw(m, "LIST", "(SUBSCRIBED)", '""', "Proj*")
        assert u["LIST"] == [b'(\\HasNoChildren \\Subscribed) "/" "Proj/2024"'], u
        assert raw(m, "LIST", "(RECURSIVEMATCH)", '""', "*")[0] == "BAD"
        assert raw(m, "LIST", '""', "*", "RETURN", "(STATUS (BOGUS))")[0] == "BAD"
        assert b"LIST-EXTENDED" in ok(m.capability())[0] and b"LIST-STATUS" in ok(m.capability())[0]


def test_appendlimit_and_binary(srv):
    user = USERS[14]
    with session(srv, user) as m:
        caps = ok(m.capability())[0].split()
        assert b"APPENDLIMIT" in caps and b"BINARY" in caps
        st = ok(m.status("INBOX", "(APPENDLIMIT MESSAGES)"))[0]
        limit = int(re.search(rb"APPENDLIMIT (\d+)", st)[1])
        assert limit > 1024 * 1024, st
        payload = bytes(range(256)) * 4   # with NUL octets
        import base64
        b64 = base64.encodebytes(payload).replace(b"\n", b"\r\n")
        msg = (b"From: a@x.test\r\nSubject: bin\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
               b"--XX\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
               b"caf=C3=A9 =\r\nau lait\r\n"
               b"--XX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
               + b64 + b"--XX--\r\n")
        ok(m.append("INBOX", None, None, msg))
        ok(m.select("INBOX"))
        typ, data = m.fetch("1", "(BINARY.SIZE[2] BINARY.PEEK[2] BINARY.PEEK[1])")
        assert typ == "OK", data
        head = b"".join(x[0] if isinstance(x, tuple) else x for x in data)
        assert b"BINARY.SIZE[2] 1024" in head, head
        parts = [x for x in data if isinstance(x, tuple)]
        assert parts[0][0].endswith(b"BINARY[2] ~{1024}") and parts[0][1] == payload
        assert parts[1][1] == "café au lait".encode()   # the CRLF before "--XX" is the boundary's
        typ, data = m.fetch("1", "BINARY.PEEK[2]<256.4>")
        assert data[0][1] == bytes([0, 1, 2, 3]), data
        assert b"\\Seen" not in ok(m.fetch("1", "FLAGS"))[0]
        # a literal8 in APPEND (RFC 3516 4.4) carries NUL octets
        typ, data, _ = raw(m, "APPEND", "Drafts", "~{8+}\r\nx\x00y\r\n\r\nz")
        assert typ == "OK", data
        ok(m.select("Drafts"))
        typ, data = m.fetch("1", "BINARY.PEEK[]")
        assert data[0][0].endswith(b"BINARY[] ~{8}") and data[0][1] == b"x\x00y\r\n\r\nz", data


def test_utf8_accept(srv):
    user = USERS[15]
    with session(srv, user) as m:
        ok(m.create("&AOk-t&AOk-"))   # modified UTF-7 before ENABLE
        typ, data = m.enable("UTF8=ACCEPT")
        assert typ == "OK" and m.untagged_responses.get("ENABLED", [b""])[-1] == b"UTF8=ACCEPT", data
        ok(m._simple_command("CREATE", '"Caf\u00e9/Cr\u00e8me"'))
        typ, _, u = raw(m, "LIST", '""', "*")
        flat = b" ".join(b"".join(x) if isinstance(x, tuple) else x for x in u["LIST"])
        assert "Caf\u00e9/Cr\u00e8me".encode() in flat and "\u00e9t\u00e9".encode() in flat, flat
        assert b"&AOk-" not in flat
        msg = "From: a@x.test\r\nSubject: \u00e9t\u00e9\r\n\r\nbody\r\n".encode()
        typ, data, _ = raw(m, "APPEND", '"\u00e9t\u00e9"', "UTF8",
                           "(~{%d+}\r\n" % len(msg) + msg.decode() + ")")
        assert typ == "OK" and b"APPENDUID" in data[0], data
        typ, _, u = raw(m, "STATUS", '"\u00e9t\u00e9"', "(MESSAGES)")
        assert b"MESSAGES 1" in b"".join(b"".join(x) if isinstance(x, tuple) else x
                                         for x in u["STATUS"]), u


def test_sort_and_thread(srv):
    user = USERS[16]
    subjects = ["Re: beta", "alpha", "[list] beta (fwd)", "Gamma"]
    for i, subj in enumerate(subjects):
        deliver(srv, user, message(i, user, subject=subj))
        wait_messages(srv, user, i + 1)
    with session(srv, user) as m:
        caps = ok(m.capability())[0].split()
        assert b"SORT" in caps and b"THREAD=ORDEREDSUBJECT" in caps
        ok(m.select("INBOX"))
        typ, data = m.sort("(SUBJECT)", "UTF-8", "ALL")
        assert typ == "OK" and data == [b"2 1 3 4"], data
        typ, data = m.sort("(REVERSE DATE)", "UTF-8", "ALL")   # sent dates :00 to :03
        assert data == [b"4 3 2 1"], data
        typ, data = m.uid("SORT", "(SUBJECT REVERSE DATE)", "UTF-8", "NOT", "SUBJECT", "gamma")
        assert data == [b"2 3 1"], data
        typ, data = m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
        assert typ == "OK" and data == [b"(1 3)(2)(4)"], data
        assert raw(m, "SORT", "(BOGUS)", "UTF-8", "ALL")[0] == "BAD"
        assert raw(m, "THREAD", "BOGUS", "UTF-8", "ALL")[0] == "BAD"
        typ, data, _ = raw(m, "SORT", "(SIZE)", "KOI8-R", "ALL")
        assert typ == "NO" and b"BADCHARSET" in data[0]


CLIENTS_DIR = os.environ.get("REDOUBT_CLIENTS_DIR", "/tmp/redoubt-clients")


@pytest.mark.skipif(not shutil.which("node") or
                    not os.path.isdir(os.path.join(CLIENTS_DIR, "node_modules", "imapflow")),
                    reason="imapflow not installed (run tests/clients/install.sh)")
def test_imapflow_client(srv):
    """npm's imapflow (what many Node mail apps use) against the worker:
    it turns on CONDSTORE/QRESYNC, fetches, flags, searches, downloads a
    base64 part decoded and lists with STATUS."""
    user = USERS[17]
    payload = bytes(range(256))
    import base64
    msg = (b"From: a@x.test\r\nSubject: flow\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
           b"hello\r\n--B\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n"
           + base64.encodebytes(payload).replace(b"\n", b"\r\n") + b"--B--\r\n")
    with session(srv, user) as m:
        ok(m.append("INBOX", None, None, msg))
    script = os.path.join(os.path.dirname(__file__), "..", "clients", "imapflow-check.cjs")
    res = subprocess.run(["node", script, CLIENTS_DIR, str(srv.ports["imaps"]), user, PW],
                         capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr.decode()[-3000:]
    out = json.loads(res.stdout)
    assert "CONDSTORE" in out["enabled"] or "QRESYNC" in out["enabled"], out["enabled"]
    # everything below ran over COMPRESS=DEFLATE (RFC 4978)
    assert out["compressed"] is True
    assert out["mailbox"]["exists"] == 1 and int(out["mailbox"]["highestModseq"]) > 0
    assert out["messages"][0]["subject"] == "flow" and int(out["messages"][0]["modseq"]) > 0
    assert out["flagged"] == [1]
    assert base64.b64decode(out["part2"]) == payload
    inbox = [x for x in out["list"] if x["path"] == "INBOX"][0]
    assert inbox["messages"] == 1, out["list"]
    assert {"\\Sent", "\\Trash"} <= {x["specialUse"] for x in out["list"]}


def test_expunged_blobs_are_reclaimed_while_the_worker_runs(fresh_server):
    """An always-connected client (a phone in IDLE) keeps its worker alive:
    the files of what it expunges must still leave the disk, soon."""
    s = fresh_server
    store = s.data.store_id(helpers.ALICE)
    blobs = os.path.join(s.data.path, "stores", store, "blobs")

    def count():
        return sum(len(fs) for _, _, fs in os.walk(blobs))

    m = imaplib.IMAP4_SSL("127.0.0.1", s.ports["imaps"], ssl_context=tls_context(), timeout=10)
    m.login(helpers.ALICE, helpers.ALICE_PW)
    for i in range(3):
        ok(m.append("INBOX", None, None, b"Subject: gc %d\r\n\r\nbody %d\r\n" % (i, i)))
    assert count() == 3
    m.select("INBOX")
    ok(m.store("1", "+FLAGS", "(\\Deleted)"))
    ok(m.expunge())
    s.wait_log(r"event=blobs_reclaimed principal=\S+ blobs=1", timeout=10)
    assert count() == 2, "the expunged message's blob went while the session stayed"
    # MOVE's source keeps nothing behind either, and the moved copy reads
    ok(m.uid("MOVE", "2", "Trash"))
    m.select("Trash")
    typ, data = m.fetch("1", "(BODY.PEEK[TEXT])")
    assert typ == "OK" and data[0][1] == b"body 1\r\n"
    m.select("INBOX")
    typ, data = m.fetch("1", "(BODY.PEEK[TEXT])")
    assert typ == "OK" and data[0][1] == b"body 2\r\n"
    m.logout()
    assert s.stop() == 0
    assert count() == 2
