"""IMAP SEARCH TEXT / BODY served from the store's full-text index: words
in base64 and quoted-printable bodies are found decoded (the raw message
holds only their encoded form), header words are found by TEXT but not
BODY, NOT/OR/UID SEARCH combine index sets with the other keys, FTS5
syntax in a needle is plain text, and messages added by APPEND, COPY and
MOVE or removed by EXPUNGE are searched as they are now."""
import base64
import contextlib
import imaplib
import re
import smtplib
import time

import pytest

import helpers
from helpers import DOMAIN, tls_context

USERS = [f"s{i}@{DOMAIN}" for i in range(4)]
PW = "search-test-pw"


@pytest.fixture(scope="module")
def srv():
    with helpers.users_server(USERS, PW) as s:
        yield s


@contextlib.contextmanager
def session(srv, user):
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=tls_context(),
                          timeout=15)
    m.login(user, PW)
    try:
        yield m
    finally:
        m.logout()


def ok(res):
    typ, data = res
    assert typ == "OK", data
    return data


def deliver(srv, rcpt, data):
    with smtplib.SMTP("127.0.0.1", srv.ports["smtp"], timeout=10) as s:
        s.sendmail("bob@other.test", [rcpt], data)


def wait_messages(srv, user, n, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        with session(srv, user) as m:
            got = int(re.search(rb"MESSAGES (\d+)",
                                ok(m.status("INBOX", "(MESSAGES)"))[0])[1])
        if got >= n:
            return
        assert time.monotonic() < deadline, f"only {got} of {n} messages delivered"


def msg(subject, body, headers=""):
    return (f"From: Bob Sender <bob@other.test>\r\nTo: someone@{DOMAIN}\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{abs(hash(subject))}@other.test>\r\n"
            f"Date: Mon, 02 Jan 2023 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            f"{headers}\r\n{body}").encode()


B64_TEXT = "The secret ingredient is cardamom.\r\nGrüße aus Köln!\r\n"
QP_RAW = ("Meet me at the lighthouse; bring the tele=\r\nscope and the "
          "caf=C3=A9 cr=C3=A8me.\r\n")


def corpus(srv, user):
    """1: base64 body, 2: quoted-printable body, 3: header-only word,
    4: plain text with FTS5 syntax in it."""
    b64 = base64.encodebytes(B64_TEXT.encode()).decode().replace("\n", "\r\n")
    deliver(srv, user, msg("Recipe", b64,
                           "Content-Type: text/plain; charset=utf-8\r\n"
                           "Content-Transfer-Encoding: base64\r\n"))
    deliver(srv, user, msg("Plans", QP_RAW,
                           "Content-Type: text/plain; charset=utf-8\r\n"
                           "Content-Transfer-Encoding: quoted-printable\r\n"))
    deliver(srv, user, msg("Zanzibar itinerary", "Nothing in the body about it.\r\n",
                           "X-Project: Bluefin\r\n"))
    deliver(srv, user, msg("Syntax", 'He said "hi" AND NEAR(a b) c* 100%_x\r\n'))
    wait_messages(srv, user, 4)


def search_utf8(m, key, needle):
    """SEARCH CHARSET UTF-8 key {literal}: imaplib sends m.literal last."""
    m.literal = needle.encode()
    return ok(m.search("UTF-8", key))


def test_decoded_bodies_and_header_vs_body(srv):
    user = USERS[0]
    corpus(srv, user)
    with session(srv, user) as m:
        ok(m.select("INBOX"))
        # the raw messages hold only the encoded forms
        raw1 = ok(m.fetch("1", "(BODY.PEEK[TEXT])"))[0][1]
        assert b"cardamom" not in raw1
        raw2 = ok(m.fetch("2", "(BODY.PEEK[TEXT])"))[0][1]
        assert b"telescope" not in raw2
        assert ok(m.search(None, "TEXT", "cardamom")) == [b"1"]
        assert ok(m.search(None, "BODY", "CARDAMOM")) == [b"1"]
        assert ok(m.search(None, "BODY", "ingredi")) == [b"1"]
        # soft line break and =XX octets decoded, UTF-8 case folded
        assert ok(m.search(None, "BODY", "telescope")) == [b"2"]
        assert search_utf8(m, "BODY", "CAFÉ CRÈME") == [b"2"]
        assert search_utf8(m, "TEXT", "KÖLN") == [b"1"]
        assert search_utf8(m, "TEXT", "grüße") == [b"1"]
        # header words: TEXT yes, BODY no, in any header field
        assert ok(m.search(None, "TEXT", "zanzibar")) == [b"3"]
        assert ok(m.search(None, "BODY", "zanzibar")) == [b""]
        assert ok(m.search(None, "TEXT", "bluefin")) == [b"3"]
        assert ok(m.search(None, "BODY", "bluefin")) == [b""]
        assert ok(m.search(None, "TEXT", "other.test")) == [b"1 2 3 4"]
        assert ok(m.search(None, "SUBJECT", "zanzibar")) == [b"3"]
        # FTS5 syntax is text
        assert ok(m.search(None, "TEXT", '"\\"hi\\" AND"')) == [b"4"]
        assert ok(m.search(None, "BODY", '"NEAR(a"')) == [b"4"]
        assert ok(m.search(None, "BODY", '"c* 100%_x"')) == [b"4"]
        assert ok(m.search(None, "BODY", '"cardamom AND telescope"')) == [b""]
        assert ok(m.search(None, "BODY", "%_")) == [b"4"]
        # short needles (no trigram) still work
        assert ok(m.search(None, "BODY", "ca")) == [b"1 2"]
        assert ok(m.search(None, "TEXT", '""')) == [b"1 2 3 4"]


def test_not_or_uid_and_other_keys(srv):
    user = USERS[1]
    corpus(srv, user)
    with session(srv, user) as m:
        ok(m.select("INBOX"))
        uids = ok(m.uid("SEARCH", None, "ALL"))[0].split()
        assert len(uids) == 4
        assert ok(m.uid("SEARCH", None, "NOT", "TEXT", "cardamom")) == [b" ".join(uids[1:])]
        assert ok(m.uid("SEARCH", None, "NOT", "BODY", "zanzibar")) == [b" ".join(uids)]
        assert ok(m.search(None, "OR", "BODY", "cardamom", "BODY", "telescope")) == [b"1 2"]
        assert ok(m.search(None, "NOT", "OR", "TEXT", "cardamom", "TEXT", "zanzibar")) == [b"2 4"]
        ok(m.store("2", "+FLAGS", "\\Flagged"))
        assert ok(m.search(None, "FLAGGED", "TEXT", "telescope")) == [b"2"]
        assert ok(m.search(None, "UNFLAGGED", "TEXT", "telescope")) == [b""]
        assert ok(m.search(None, "TEXT", "telescope", "HEADER", "Subject", "plans")) == [b"2"]
        assert ok(m.search(None, "TEXT", "telescope", "HEADER", "Subject", "recipe")) == [b""]
        assert ok(m.search(None, "2:4", "TEXT", "o")) == [b"2 3 4"]
        typ, data = m._simple_command("UID", "SEARCH", "RETURN", "(COUNT MIN)", "BODY", "e")
        typ, data = m._untagged_response(typ, data, "ESEARCH")
        assert typ == "OK" and re.search(rb"MIN %s COUNT 4" % uids[0], data[0]), data


def test_append_copy_move_expunge(srv):
    user = USERS[2]
    with session(srv, user) as m:
        ok(m.create("Work"))
        ok(m.append("INBOX", None, None, msg(
            "Appended", base64.encodebytes(b"quokka sighting report\r\n").decode()
            .replace("\n", "\r\n"), "Content-Transfer-Encoding: base64\r\n")))
        ok(m.append("INBOX", None, None, msg("Other", "nothing to see\r\n")))
        ok(m.select("INBOX"))
        assert ok(m.search(None, "BODY", "quokka")) == [b"1"]
        ok(m.copy("1", "Work"))
        ok(m.select("Work"))
        assert ok(m.search(None, "BODY", "sighting")) == [b"1"]
        ok(m.select("INBOX"))
        typ, _ = m._simple_command("MOVE", "1", "Work")
        assert typ == "OK"
        assert ok(m.search(None, "BODY", "quokka")) == [b""]
        ok(m.select("Work"))
        assert ok(m.search(None, "BODY", "quokka")) == [b"1 2"]
        ok(m.store("1", "+FLAGS", "\\Deleted"))
        ok(m.expunge())
        assert ok(m.search(None, "BODY", "quokka")) == [b"1"]
        assert ok(m.search(None, "TEXT", "appended")) == [b"1"]
        assert ok(m.search(None, "BODY", "appended")) == [b""]


def test_many_messages(srv):
    """A rare word in a mailbox of many: the index answers, and the
    reply holds exactly the right sequence numbers."""
    user = USERS[3]
    with session(srv, user) as m:
        for i in range(60):
            word = "xylophone" if i in (7, 41) else "marimba"
            ok(m.append("INBOX", None, None,
                        msg(f"n{i}", f"line {i} with {word} in it\r\n")))
        ok(m.select("INBOX"))
        assert ok(m.search(None, "TEXT", "xylophone")) == [b"8 42"]
        assert ok(m.search(None, "BODY", "XYLOPHONE", "NOT", "8")) == [b"42"]
        assert len(ok(m.search(None, "NOT", "BODY", "xylophone"))[0].split()) == 58
