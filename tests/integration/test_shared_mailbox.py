"""Shared mailboxes (IMAP ACL, RFC 4314): alice grants bob her INBOX with
`redoubt grant`, bob sees it under Shared/ with Python imaplib, reads it
within his rights and no further, copies from it into his own store, and
every open of alice's mailbox by bob is on the audit record under alice.
The kernel side: a worker is confined to the granting owner's store only
when master hands it a grant (sandbox-probe --shared)."""
import imaplib
import os
import re
import smtplib
import time

import pytest

import helpers
from helpers import DOMAIN, run, tls_context

ALICE = f"alice@{DOMAIN}"
BOB = f"bob@{DOMAIN}"
CAROL = f"carol@{DOMAIN}"
PW = "shared-test-pw"
SHARED = f"Shared/{ALICE}/INBOX"


@pytest.fixture(scope="module")
def srv():
    with helpers.users_server((ALICE, BOB, CAROL), PW) as s:
        yield s


def deliver(srv, rcpt, subject, body="hello"):
    data = (f"From: someone@other.test\r\nTo: {rcpt}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@other.test>\r\n\r\n{body}\r\n").encode()
    with smtplib.SMTP("127.0.0.1", srv.ports["smtp"], timeout=10) as s:
        s.sendmail("someone@other.test", [rcpt], data)


def login(srv, user):
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=tls_context(),
                          timeout=10)
    m.login(user, PW)
    return m


def grant(srv, *args):
    r = run("grant", *args, "--data", srv.data.path)
    assert r.returncode == 0, r.stderr
    return r


def names(m):
    typ, data = m.list()
    assert typ == "OK"
    return [re.search(rb'"/" "?([^"]*)"?$', line).group(1).decode() for line in data]


def wait_seen_in_inbox(srv, user, n):
    m = login(srv, user)
    try:
        for _ in range(100):
            typ, data = m.select("INBOX")
            if int(data[0]) >= n:
                return
            time.sleep(0.1)
        raise AssertionError(f"{user} never got {n} messages")
    finally:
        m.logout()


def test_grant_cli_validates(srv):
    for bad in (["add", ALICE, "INBOX", "nobody@" + DOMAIN, "lr"],
                ["add", ALICE, "INBOX", BOB, "lrz"],
                ["add", ALICE, "IN%BOX", BOB, "lr"],
                ["add", ALICE, "INBOX", ALICE, "lr"],
                ["remove", ALICE, "INBOX", CAROL]):
        r = run("grant", *bad, "--data", srv.data.path)
        assert r.returncode != 0, bad
        assert r.stderr.strip(), bad
    r = run("grant", "add", ALICE, "INBOX", "--data", srv.data.path)
    assert r.returncode == 2


def test_shared_inbox_read_within_rights(srv):
    deliver(srv, ALICE, "for alice one", "the first secret")
    deliver(srv, ALICE, "for alice two", "the second secret")
    wait_seen_in_inbox(srv, ALICE, 2)
    grant(srv, "add", ALICE, "inbox", BOB, "lrs")
    assert f"{ALICE}\tINBOX\t{BOB}\tlrs" in grant(srv, "list").stdout

    m = login(srv, BOB)
    try:
        typ, data = m.namespace()
        assert typ == "OK" and b'(("Shared/" "/"))' in data[0]
        listed = names(m)
        assert SHARED in listed and "Shared" in listed
        typ, data = m.myrights(f'"{SHARED}"')
        assert typ == "OK" and data[0].endswith(b" lrs"), data
        typ, data = m.select(f'"{SHARED}"')
        assert typ == "OK" and int(data[0]) == 2
        assert m.untagged_responses.get("OK") and any(
            b"[PERMANENTFLAGS (\\Seen)]" in x for x in m.untagged_responses["OK"]), \
            m.untagged_responses
        typ, data = m.fetch("1:*", "(BODY.PEEK[TEXT])")
        bodies = b"".join(x[1] for x in data if isinstance(x, tuple))
        assert b"the first secret" in bodies and b"the second secret" in bodies
        # "s": \Seen sticks; no "w": \Flagged is left out; no "e": no expunge
        typ, data = m.store("1", "+FLAGS", r"(\Seen \Flagged)")
        assert typ == "OK"
        typ, data = m.fetch("1", "(FLAGS)")
        assert rb"\Seen" in data[0] and rb"\Flagged" not in data[0]
        typ, data = m.store("1", "FLAGS", r"(\Seen)")
        assert typ == "NO" and b"NOPERM" in data[0]
        typ, data = m.expunge()
        assert typ == "NO" and b"NOPERM" in data[0]
        # no "i": nothing goes in
        typ, data = m.append(f'"{SHARED}"', None, None, b"Subject: x\r\n\r\nplanted\r\n")
        assert typ == "NO" and b"NOPERM" in data[0]
        # GETACL needs "a"
        typ, data = m.getacl(f'"{SHARED}"')
        assert typ == "NO"
        # copying out into bob's own store: a real copy, with COPYUID
        typ, data = m.copy("1:2", "INBOX")
        assert typ == "OK" and b"COPYUID" in data[0], data
        # what bob cannot reach stays unknown
        typ, data = m.select(f'"Shared/{CAROL}/INBOX"')
        assert typ == "NO" and b"NONEXISTENT" in data[0]
        typ, data = m.create("Shared/mine")
        assert typ == "NO"
        typ, data = m.select("INBOX")
        assert typ == "OK" and int(data[0]) == 2
        typ, data = m.fetch("1:*", "(BODY.PEEK[TEXT])")
        assert b"the first secret" in b"".join(x[1] for x in data if isinstance(x, tuple))
    finally:
        m.logout()

    # alice's own view: her message is \Seen now, still there, not \Flagged
    m = login(srv, ALICE)
    try:
        typ, data = m.select("INBOX")
        assert int(data[0]) == 2
        typ, data = m.fetch("1", "(FLAGS)")
        assert rb"\Seen" in data[0] and rb"\Flagged" not in data[0]
        typ, data = m.getacl("INBOX")
        assert typ == "OK" and BOB.encode() in data[0] and b"lrs" in data[0], data
        typ, data = m.myrights("INBOX")
        assert data[0].endswith(b"lrswipkxtea")
    finally:
        m.logout()


def test_bob_reading_alice_is_audited_under_alice(srv):
    r = run("audit", "report", "--data", srv.data.path, "--user", ALICE)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if BOB in ln and "OTHER PRINCIPAL" in ln]
    assert lines, r.stdout
    assert any("opened INBOX of " + ALICE in ln and "rights lrs" in ln for ln in lines), r.stdout
    assert any("closed INBOX of " + ALICE in ln and "4 messages" in ln for ln in lines), r.stdout
    assert "1 openings by other principals" in r.stdout, r.stdout
    r = run("audit", "query", "--data", srv.data.path, "--kind", "store_access", "--user", ALICE,
            "--json")
    assert r.returncode == 0
    assert '"action":"select"' in r.stdout.replace(" ", "") or "select" in r.stdout
    assert "close" in r.stdout
    # the CLI leaves admin events for the running master, which chains them
    for _ in range(100):
        r = run("audit", "query", "--data", srv.data.path, "--kind", "admin")
        if "grant_set" in r.stdout:
            break
        time.sleep(0.1)
    assert "grant_set" in r.stdout
    assert run("audit", "verify", "--data", srv.data.path).returncode == 0


def test_status_on_a_shared_mailbox_is_audited_under_the_owner(srv):
    m = login(srv, BOB)
    try:
        typ, data = m.status(f'"{SHARED}"', "(MESSAGES UNSEEN)")
        assert typ == "OK", data
    finally:
        m.logout()
    r = run("audit", "report", "--data", srv.data.path, "--user", ALICE)
    assert r.returncode == 0, r.stderr
    assert any(BOB in ln and "OTHER PRINCIPAL asked the counts of INBOX of " + ALICE in ln
               for ln in r.stdout.splitlines()), r.stdout
    # a STATUS is not an opening
    assert "1 openings by other principals" in r.stdout, r.stdout


def test_full_rights_and_revocation(srv):
    grant(srv, "add", ALICE, "INBOX", BOB, "lrswitea")
    m = login(srv, BOB)
    try:
        typ, data = m.select(f'"{SHARED}"')
        assert typ == "OK"
        n = int(data[0])
        typ, data = m.append(f'"{SHARED}"', r"(\Flagged)", None,
                             b"Subject: note from bob\r\n\r\nput here by bob\r\n")
        assert typ == "OK" and b"APPENDUID" in data[0]
        typ, data = m.store(str(n + 1), "+FLAGS", r"(\Deleted)")
        assert typ == "OK"
        typ, data = m.expunge()
        assert typ == "OK"
        typ, data = m.getacl(f'"{SHARED}"')
        assert typ == "OK"
        # bob holds "a": he may share alice's INBOX on with carol
        typ, data = m.setacl(f'"{SHARED}"', CAROL, "lr")
        assert typ == "OK", data
        typ, data = m.deleteacl(f'"{SHARED}"', CAROL)
        assert typ == "OK", data
    finally:
        m.logout()
    r = run("grant", "remove", ALICE, "INBOX", BOB, "--data", srv.data.path)
    assert r.returncode == 0, r.stderr
    m = login(srv, BOB)
    try:
        assert not [n for n in names(m) if n.startswith("Shared")]
        typ, data = m.select(f'"{SHARED}"')
        assert typ == "NO"
    finally:
        m.logout()


def test_implicit_seen_needs_the_s_right(srv):
    deliver(srv, CAROL, "for carol", "carol's words")
    wait_seen_in_inbox(srv, CAROL, 1)
    grant(srv, "add", CAROL, "INBOX", BOB, "lrw")
    m = login(srv, BOB)
    try:
        typ, data = m.select(f'"Shared/{CAROL}/INBOX"')
        assert typ == "OK"
        typ, data = m.fetch("1", "(BODY[])")
        assert typ == "OK" and b"carol's words" in data[0][1]
        typ, data = m.fetch("1", "(FLAGS)")
        assert rb"\Seen" not in data[0], data
        # a copy within carol's store is on her record too
        typ, data = m.copy("1", f'"Shared/{CAROL}/INBOX"')
        assert typ == "NO" and b"NOPERM" in data[0]   # no "i"
    finally:
        m.logout()
    grant(srv, "remove", CAROL, "INBOX", BOB)


def test_owner_shares_with_setacl(srv):
    a = login(srv, ALICE)
    try:
        typ, data = a.setacl("INBOX", CAROL, "lrs")
        assert typ == "OK", data
        # her running worker knows at once
        typ, data = a.getacl("INBOX")
        assert typ == "OK" and CAROL.encode() in data[0] and b"lrs" in data[0], data
        typ, data = a.setacl("INBOX", CAROL, "+w")
        assert typ == "OK"
        typ, data = a.setacl("INBOX", CAROL, "-s")
        assert typ == "OK"
        typ, data = a.getacl("INBOX")
        assert re.search(rb"carol@\S+ lrw\b", data[0]), data
        for bad in (("INBOX", "nobody@" + helpers.DOMAIN, "lr"), ("INBOX", "anyone", "lr"),
                    ("INBOX", CAROL, "lrz"), ("INBOX", ALICE, "lr")):
            typ, data = a.setacl(*bad)
            assert typ == "NO", (bad, data)
        typ, data = a.setacl("Nope", CAROL, "lr")
        assert typ == "NO" and b"NONEXISTENT" in data[0]
    finally:
        a.logout()
    assert f"{ALICE}\tINBOX\t{CAROL}\tlrw" in grant(srv, "list").stdout
    c = login(srv, CAROL)
    try:
        assert SHARED in names(c)
        typ, data = c.myrights(f'"{SHARED}"')
        assert data[0].endswith(b" lrw"), data
        # carol has no "a": she cannot pass it on
        typ, data = c.setacl(f'"{SHARED}"', BOB, "lr")
        assert typ == "NO" and b"NOPERM" in data[0]
    finally:
        c.logout()
    a = login(srv, ALICE)
    try:
        typ, data = a.deleteacl("INBOX", CAROL)
        assert typ == "OK", data
    finally:
        a.logout()
    c = login(srv, CAROL)
    try:
        assert SHARED not in names(c)
    finally:
        c.logout()
    r = run("audit", "query", "--data", srv.data.path, "--kind", "admin")
    assert any("action=grant_set" in ln and f"principal={ALICE}" in ln and "role=worker" in ln
               for ln in r.stdout.splitlines()), r.stdout


def test_revocation_reaches_a_selected_session(srv):
    deliver(srv, ALICE, "for revocation")
    wait_seen_in_inbox(srv, ALICE, 1)
    grant(srv, "add", ALICE, "INBOX", BOB, "lrsw")
    b = login(srv, BOB)
    a = login(srv, ALICE)
    try:
        typ, data = b.select(f'"{SHARED}"')
        assert typ == "OK"
        typ, data = b.store("1", "+FLAGS", r"(\Flagged)")
        assert typ == "OK"
        typ, data = a.deleteacl("INBOX", BOB)
        assert typ == "OK", data
        # master told bob's worker before alice had her OK; a NOOP round
        # trip makes sure that worker has read it (two sockets, one loop)
        b.noop()
        typ, data = b.store("1", "-FLAGS", r"(\Flagged)")
        assert typ == "NO" and b"READ-ONLY" in data[0], (typ, data)
        b.untagged_responses.pop("READ-ONLY", None)   # else imaplib refuses LOGOUT
    finally:
        a.logout()
        b.logout()


def test_worker_confined_to_granted_store_only(srv):
    alice = srv.data.store_id(ALICE)
    bob = srv.data.store_id(BOB)
    carol = srv.data.store_id(CAROL)
    index = os.path.join(srv.data.path, "stores", alice, "index.db")
    r = run("sandbox-probe", "--role", "worker", "--data", srv.data.path, "--store", bob,
            "--shared", alice, "--try-open", index)
    assert r.returncode == 1 and "opened" in r.stdout, r.stdout + r.stderr
    other = os.path.join(srv.data.path, "stores", carol, "index.db")
    r = run("sandbox-probe", "--role", "worker", "--data", srv.data.path, "--store", bob,
            "--shared", alice, "--try-open", other)
    assert r.returncode == 0 and r.stdout.startswith("refused:"), r.stdout + r.stderr


def test_move_between_owners_in_batches_and_audited(srv):
    """bob MOVEs most of alice's shared Projects (70 messages, more than
    one batch, a hole in the set) into his own store: the copies keep
    octets and flags, COPYUID pairs every one, exactly the moved originals
    leave alice's mailbox, and alice's audit record shows bob removing
    them."""
    m = login(srv, ALICE)
    try:
        assert m.create("Projects")[0] == "OK"
        for i in range(1, 71):
            flags = r"(\Flagged)" if i == 3 else None
            typ, _ = m.append("Projects", flags, None,
                              f"Subject: p{i}\r\n\r\nproject note {i}\r\n".encode())
            assert typ == "OK"
    finally:
        m.logout()
    grant(srv, "add", ALICE, "Projects", BOB, "lrswitea")
    m = login(srv, BOB)
    try:
        assert m.create("FromAlice")[0] == "OK"
        typ, data = m.select(f'"Shared/{ALICE}/Projects"')
        assert typ == "OK" and int(data[0]) == 70
        typ, data = m.uid("MOVE", "2:30,32:69", "FromAlice")
        assert typ == "OK", data
        copyuid = [r for r in m.untagged_responses.get("OK", []) if b"COPYUID" in r]
        assert copyuid, m.untagged_responses
        src, dst = re.search(rb"COPYUID \d+ ([0-9:,]+) ([0-9:,]+)", copyuid[-1]).groups()
        assert src == b"2:30,32:69" and dst == b"1:67", copyuid
        typ, data = m.uid("SEARCH", None, "ALL")
        assert data[0].split() == [b"1", b"31", b"70"], data
        typ, data = m.select("FromAlice")
        assert typ == "OK" and int(data[0]) == 67
        typ, data = m.fetch("2", "(FLAGS BODY.PEEK[TEXT])")
        assert b"\\Flagged" in data[0][0] and data[0][1] == b"project note 3\r\n", data
        typ, data = m.fetch("67", "(BODY.PEEK[TEXT])")
        assert data[0][1] == b"project note 69\r\n", data
    finally:
        m.logout()
    r = run("audit", "report", "--data", srv.data.path, "--user", ALICE)
    assert r.returncode == 0, r.stderr
    assert any(BOB in ln and f"OTHER PRINCIPAL removed 67 messages from Projects of {ALICE}" in ln
               for ln in r.stdout.splitlines()), r.stdout


def test_getacl_by_an_administering_grantee_lists_every_grant(srv):
    """RFC 4314: whoever holds "a" on a mailbox sees its whole access list,
    not only their own line; without "a" GETACL is refused."""
    grant(srv, "add", ALICE, "Notes", BOB, "lra")
    grant(srv, "add", ALICE, "Notes", CAROL, "lrs")
    m = login(srv, ALICE)
    try:
        m.create("Notes")
    finally:
        m.logout()
    m = login(srv, BOB)
    try:
        typ, data = m.getacl(f'"Shared/{ALICE}/Notes"')
        assert typ == "OK", data
        line = data[0].decode()
        assert f'"{ALICE}" lrswipkxtea' in line, line
        assert f'"{BOB}" lra' in line, line
        assert f'"{CAROL}" lrs' in line, line
        # the list follows the directory at once: carol's grant goes
        typ, data = m.deleteacl(f'"Shared/{ALICE}/Notes"', CAROL)
        assert typ == "OK", data
        typ, data = m.getacl(f'"Shared/{ALICE}/Notes"')
        assert typ == "OK" and CAROL not in data[0].decode(), data
    finally:
        m.logout()
    grant(srv, "add", ALICE, "Notes", CAROL, "lrs")
    m = login(srv, CAROL)
    try:
        typ, data = m.getacl(f'"Shared/{ALICE}/Notes"')
        assert typ == "NO" and b"NOPERM" in data[0], data
    finally:
        m.logout()
