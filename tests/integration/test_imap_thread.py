"""THREAD=REFERENCES (RFC 5256 3) end to end: conversations delivered over
SMTP with Message-ID / In-Reply-To / References chains, a reply whose
parent never arrived, replies grouped by subject alone, loops and
duplicate ids, threaded with imaplib by sequence number and by UID."""
import imaplib
import re
import smtplib
import time

import pytest

import helpers
from helpers import DOMAIN, tls_context

USERS = [f"thr{i}@{DOMAIN}" for i in range(2)]
PW = "thread-test-pw"


@pytest.fixture(scope="module")
def srv():
    with helpers.users_server(USERS, PW) as s:
        yield s


def mail(to, n, subject, mid, irt=None, refs=None):
    head = (f"From: Ann <ann@other.test>\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Date: Mon, 02 Jan 2023 10:00:{n:02d} +0000\r\n")
    if mid:
        head += f"Message-ID: {mid}\r\n"
    if irt:
        head += f"In-Reply-To: {irt}\r\n"
    if refs:
        head += f"References: {refs}\r\n"
    return (head + f"\r\nbody {n}\r\n").encode()


def deliver_all(srv, user, msgs):
    for i, m in enumerate(msgs):
        with smtplib.SMTP("127.0.0.1", srv.ports["smtp"], timeout=10) as s:
            s.sendmail("ann@other.test", [user], mail(user, i, *m))
        wait_messages(srv, user, i + 1)   # keeps sequence order = list order


def login(srv, user):
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=tls_context(),
                          timeout=10)
    m.login(user, PW)
    return m


def wait_messages(srv, user, n, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        m = login(srv, user)
        try:
            _, data = m.status("INBOX", "(MESSAGES)")
        finally:
            m.logout()
        if int(re.search(rb"MESSAGES (\d+)", data[0])[1]) >= n:
            return
        assert time.monotonic() < deadline, f"message {n} not delivered"


def uid_form(m, tree):
    """tree with every sequence number replaced by its UID."""
    typ, data = m.fetch("1:*", "(UID)")
    assert typ == "OK"
    uids = {int(a): int(b) for a, b in
            (re.match(rb"(\d+) \(UID (\d+)\)", x).groups() for x in data)}
    return re.sub(r"\d+", lambda x: str(uids[int(x.group())]), tree)


CONVERSATION = [
    ("Project plan", "<p1@other.test>"),
    ("Re: Project plan", "<p2@other.test>", "<p1@other.test>", "<p1@other.test>"),
    ("Re: Project plan", "<p3@other.test>", "<p2@other.test>",
     "<p1@other.test>\r\n <p2@other.test>"),
    ("Re: Lunch", "<l2@other.test>", "<l1@gone.test>", "<l1@gone.test>"),
    ("Re: Unrelated topic", "<u1@other.test>"),
    ("Re: Project plan", "<p4@other.test>", None, "<p1@other.test>"),
    ("Re: Budget", "<b2@other.test>", None, "<b1@gone.test>"),
    ("Re: Budget", "<b3@other.test>", "<b1@gone.test> (sent Monday)"),
    ("Re: Project plan", "<p5@other.test>"),   # joins by subject alone
]
# 1 is the root, 2 -> 3 its first branch, 6 and (by subject) 9 replies;
# 4's parent is missing (its dummy is pruned); 5 alone; 7 and 8 share a
# missing parent, which stays as a dummy holding them.
CONVERSATION_TREE = "(1 (2 3)(6)(9))(4)(5)((7)(8))"


def test_thread_references(srv):
    user = USERS[0]
    deliver_all(srv, user, CONVERSATION)
    m = login(srv, user)
    try:
        typ, caps = m.capability()
        assert b"THREAD=REFERENCES" in caps[0].split()
        assert m.select("INBOX")[0] == "OK"
        typ, data = m.thread("REFERENCES", "US-ASCII", "ALL")
        assert typ == "OK" and data == [CONVERSATION_TREE.encode()], data
        typ, data = m.uid("THREAD", "REFERENCES", "UTF-8", "ALL")
        assert typ == "OK" and data == [uid_form(m, CONVERSATION_TREE).encode()], data
        typ, data = m.thread("REFERENCES", "UTF-8", "SUBJECT", "budget")
        assert data == [b"((7)(8))"], data
        typ, data = m.thread("REFERENCES", "UTF-8", "SUBJECT", "lunch")
        assert data == [b"(4)"], data
        typ, data = m.thread("REFERENCES", "UTF-8", "SUBJECT", "nothing-matches")
        assert typ == "OK" and data in ([None], [b""]), data
        # ORDEREDSUBJECT still answers, and an unknown algorithm is BAD
        typ, data = m.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
        assert typ == "OK" and data[0].startswith(b"("), data
        with pytest.raises(imaplib.IMAP4.error):
            m.thread("BOGUS", "UTF-8", "ALL")
    finally:
        m.logout()


def test_thread_loops_and_duplicates(srv):
    user = USERS[1]
    deliver_all(srv, user, [
        ("Loop A", "<la@other.test>", None, "<lb@other.test>"),
        ("Loop B", "<lb@other.test>", None, "<la@other.test>"),
        ("Dup", "<d@other.test>"),
        ("Dup copy", "<d@other.test>"),
        ("Child", "<c@other.test>", "<d@other.test>"),
        ("Self", "<s@other.test>", "<s@other.test>", "<s@other.test>"),
    ])
    m = login(srv, user)
    try:
        assert m.select("INBOX")[0] == "OK"
        typ, data = m.thread("REFERENCES", "UTF-8", "ALL")
        # A under B (B's link back would close a loop); the first "Dup"
        # owns the id; a message citing itself stands alone
        assert typ == "OK" and data == [b"(2 1)(3 5)(4)(6)"], data
        typ, data = m.uid("THREAD", "REFERENCES", "UTF-8", "ALL")
        assert data == [uid_form(m, "(2 1)(3 5)(4)(6)").encode()], data
    finally:
        m.logout()
