"""`redoubt import` and `redoubt mailbox` (issue 11 item 6), through the
real CLI, checked over IMAP: an mbox of 50 messages arrives byte for byte,
a Maildir++ tree keeps its flags and folders, hostile archives (links to
/etc/shadow, a `..evil` folder) are refused without touching anything
outside the store, and the mailbox verbs round-trip."""
import imaplib
import os
import re
import time

import pytest

import helpers
from helpers import ALICE, ALICE_PW, tls_context

MAX_MESSAGE = 50 * 1024 * 1024   # RD_STORE_MAX_MESSAGE


def imap(server):
    m = imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], ssl_context=tls_context(),
                          timeout=30)
    m.login(ALICE, ALICE_PW)
    return m


def import_(data, *args):
    return helpers.run("import", "--data", data.path, "--user", ALICE, *args, timeout=120)


def source_dir(data, name):
    """A directory under the data dir's parent that the data owner (the
    CLI drops to it when run as root) can read."""
    d = os.path.join(data.base, name)
    os.makedirs(d, mode=0o755, exist_ok=True)
    os.chmod(d, 0o755)
    return d


def write(path, data, mtime=None):
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def fetch_all(m, what):
    """{seq: bytes or str} for FETCH 1:* (what)."""
    typ, data = m.fetch("1:*", f"({what})")
    assert typ == "OK", data
    out = {}
    for item in data:
        if isinstance(item, tuple):
            seq = int(item[0].split()[0])
            out[seq] = item[1]
        elif item and item != b")":
            seq = int(item.split()[0])
            out[seq] = item
    return out


def select_count(m, mailbox):
    typ, data = m.select(f'"{mailbox}"')
    assert typ == "OK", data
    return int(data[0])


def message(i):
    """A message whose body has the lines mbox must quote and unquote."""
    body = (f"line one of {i}\n"
            f"From here on it is body text {i}\n"
            f">From a quoted line\n"
            f">>From twice quoted\n"
            f"From the start\n\n"
            f"end {i}\n")
    if i % 7 == 0:
        body += "x" * 2000 + "\n"
    return (f"From: Sender {i} <s{i}@example.org>\nTo: {ALICE}\nSubject: import {i}\n"
            f"Message-ID: <{i}@example.org>\n\n{body}")


def mboxrd(messages, dates):
    """Write as mboxrd does: '>' before every ^>*From line, a blank line
    after each message; the last one without it and without its final
    newline (a file cut short must still import)."""
    out = []
    for text, t in zip(messages, dates):
        lines = text.split("\n")
        quoted = [(">" + ln) if re.match(r"^>*From ", ln) else ln for ln in lines]
        stamp = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(t))
        out.append(f"From sender@example.org {stamp}\n" + "\n".join(quoted))
    return "\n".join(out).rstrip("\n")


def crlf(text):
    return text.replace("\n", "\r\n").encode()


def test_mbox_of_50_messages(fresh_server):
    data = fresh_server.data
    msgs = [message(i) for i in range(50)]
    dates = [978307200 + i * 86400 for i in range(50)]
    path = os.path.join(source_dir(data, "src"), "mail.mbox")
    write(path, mboxrd(msgs, dates).encode())
    r = import_(data, path)
    assert r.returncode == 0, r.stderr
    assert "Imported 50 messages" in r.stdout, r.stdout
    assert "Skipped" not in r.stdout
    m = imap(fresh_server)
    try:
        assert select_count(m, "INBOX") == 50
        bodies = fetch_all(m, "BODY.PEEK[]")
        for i in range(50):
            assert bodies[i + 1] == crlf(msgs[i]), f"message {i + 1} differs"
        dates_got = fetch_all(m, "INTERNALDATE")
        got = imaplib.Internaldate2tuple(dates_got[3])
        assert time.mktime(got) == dates[2], dates_got[3]
        flags = fetch_all(m, "FLAGS")
        assert b"\\Seen" not in flags[1]
    finally:
        m.logout()
    # one admin event for the whole import
    deadline = time.monotonic() + 10
    while True:
        q = helpers.run("audit", "query", "--data", data.path, "--kind", "admin")
        hits = [ln for ln in q.stdout.splitlines() if "action=import" in ln]
        if hits or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(hits) == 1 and "count=50" in hits[0] and f"object={ALICE}" in hits[0] \
        and "mail.mbox" in hits[0], q.stdout


def maildir_tree(base):
    t0 = 1262304000   # 2010-01-01 00:00:00 UTC
    files = {
        "cur/1000.M1.host:2,S": ("Subject: seen\n\nseen body\n", t0),
        "cur/1001.M2.host:2,FR": ("Subject: flagged answered\n\nfa\n", t0 + 60),
        "new/1002.M3.host": ("Subject: new\n\nnew body\n", t0 + 120),
        ".Sub.Folder/cur/1003.M4.host:2,ST": ("Subject: deleted\n\nd\n", t0 + 180),
        ".Sub.Folder/cur/1004.M5.host:2,D": ("Subject: draft\r\n\r\ncrlf already\r\n", t0 + 240),
        ".Sent/cur/1005.M6.host:2,S": ("Subject: sent\n\ns\n", t0 + 300),
    }
    for d in ("cur", "new", "tmp", ".Sub.Folder/cur", ".Sub.Folder/new", ".Sub.Folder/tmp",
              ".Sent/cur", ".Sent/new"):
        os.makedirs(os.path.join(base, d), mode=0o755, exist_ok=True)
    write(os.path.join(base, "tmp/999.M0.host"), b"Subject: still arriving\n\n")
    write(os.path.join(base, "dovecot-uidlist"), b"3 V1 N7\n")
    for rel, (text, mtime) in files.items():
        write(os.path.join(base, rel), text.encode(), mtime)
    return files, t0


def test_maildirpp_flags_and_folders(fresh_server):
    data = fresh_server.data
    base = os.path.join(source_dir(data, "src"), "Maildir")
    files, t0 = maildir_tree(base)
    r = import_(data, base)
    assert r.returncode == 0, r.stderr
    assert "Imported 6 messages" in r.stdout, r.stdout + r.stderr
    assert "created mailbox Sub/Folder" in r.stderr
    m = imap(fresh_server)
    try:
        typ, lst = m.list()
        assert typ == "OK"
        names = [ln.decode() for ln in lst]
        assert any(n.endswith('"Sub/Folder"') or n.endswith(" Sub/Folder") for n in names), names
        assert select_count(m, "INBOX") == 3
        flags = fetch_all(m, "FLAGS")
        assert b"\\Seen" in flags[1] and b"\\Flagged" not in flags[1]
        assert b"\\Flagged" in flags[2] and b"\\Answered" in flags[2] and b"\\Seen" not in flags[2]
        assert b"\\Seen" not in flags[3] and b"\\Flagged" not in flags[3]
        bodies = fetch_all(m, "BODY.PEEK[]")
        assert bodies[1] == crlf(files["cur/1000.M1.host:2,S"][0])
        assert bodies[3] == crlf(files["new/1002.M3.host"][0])
        dates = fetch_all(m, "INTERNALDATE")
        assert time.mktime(imaplib.Internaldate2tuple(dates[2])) == t0 + 60
        assert select_count(m, "Sub/Folder") == 2
        flags = fetch_all(m, "FLAGS")
        assert b"\\Deleted" in flags[1] and b"\\Seen" in flags[1]
        assert b"\\Draft" in flags[2]
        bodies = fetch_all(m, "BODY.PEEK[]")
        assert bodies[2] == b"Subject: draft\r\n\r\ncrlf already\r\n"
        assert select_count(m, "Sent") == 1
    finally:
        m.logout()


def test_hostile_maildir_refused_nothing_outside(fresh_server):
    data = fresh_server.data
    src = source_dir(data, "hostile")
    base = os.path.join(src, "Maildir")
    write(os.path.join(base, "cur/1.M1.host:2,S"), b"Subject: fine\n\nfine\n")
    os.symlink("/etc/shadow", os.path.join(base, "cur/2.M2.host:2,S"))
    os.symlink("/etc", os.path.join(base, ".Etc"))
    write(os.path.join(base, "..evil/cur/3.M3.host"), b"Subject: evil\n\nevil\n")
    write(os.path.join(base, ".a..b/cur/4.M4.host"), b"Subject: evil2\n\nevil2\n")
    os.makedirs(os.path.join(base, ".Linked"), mode=0o755)
    os.symlink("/etc", os.path.join(base, ".Linked/cur"))
    before_src = sorted(os.listdir(src))
    before_base = sorted(os.listdir(data.base))
    r = import_(data, base)
    assert r.returncode == 0, r.stderr
    assert "Imported 1 messages" in r.stdout, r.stdout
    for what in ("cur/2.M2.host:2,S", ".Etc", "..evil", ".a..b", ".Linked/cur"):
        assert f"skipped {what}:" in r.stderr, r.stderr
    assert sorted(os.listdir(src)) == before_src
    assert sorted(os.listdir(data.base)) == before_base
    lst = helpers.run("mailbox", "list", "--data", data.path, "--user", ALICE)
    assert lst.returncode == 0
    assert "evil" not in lst.stdout and "Etc" not in lst.stdout and "Linked" not in lst.stdout
    m = imap(fresh_server)
    try:
        assert select_count(m, "INBOX") == 1
        body = fetch_all(m, "BODY.PEEK[]")[1]
        assert b"root:" not in body and body == b"Subject: fine\r\n\r\nfine\r\n"
    finally:
        m.logout()


def test_oversized_and_not_mbox(fresh_data):
    src = source_dir(fresh_data, "big")
    path = os.path.join(src, "big.mbox")
    line = b"y" * 1023 + b"\n"
    with open(path, "wb") as f:
        f.write(b"From a Mon Jan  1 00:00:00 2001\nSubject: small 1\n\nbody\n\n")
        f.write(b"From a Mon Jan  1 00:00:00 2001\nSubject: huge\n\n")
        for _ in range(MAX_MESSAGE // len(line) + 10):
            f.write(line)
        f.write(b"\nFrom a Mon Jan  1 00:00:00 2001\nSubject: small 2\n\nbody\n")
    os.chmod(path, 0o644)
    r = import_(fresh_data, "--mailbox", "Old/Big", path)
    assert r.returncode == 0, r.stderr
    assert "Imported 2 messages" in r.stdout and "Skipped 1" in r.stdout, r.stdout
    assert "skipped message 2: larger than" in r.stderr
    lst = helpers.run("mailbox", "list", "--data", fresh_data.path, "--user", ALICE)
    assert re.search(r"^Old/Big\tmessages=2\tunseen=2\t", lst.stdout, re.M), lst.stdout
    plain = os.path.join(src, "plain.eml")
    write(plain, b"Subject: not an mbox\n\nhello\n")
    r = import_(fresh_data, plain)
    assert r.returncode == 1 and "not an mbox" in r.stderr, r.stderr
    r = import_(fresh_data, os.path.join(src, "missing"))
    assert r.returncode == 1


def test_mailbox_create_list_delete_round_trip(fresh_data):
    def mb(*args):
        return helpers.run("mailbox", *args[:1], "--data", fresh_data.path, "--user", ALICE,
                           *args[1:])
    r = mb("list")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^INBOX\tmessages=0\tunseen=0\tsize=0$", r.stdout, re.M), r.stdout
    assert re.search(r"^Sent\tmessages=0\tunseen=0\tsize=0\tspecial-use=\\Sent$", r.stdout, re.M)
    r = mb("create", "Projects/2024")
    assert r.returncode == 0, r.stderr
    assert "Projects/2024\tmessages=0" in mb("list").stdout
    assert mb("create", "Projects/2024").returncode == 1
    for bad in ("a//b", "../x", "/abs", "x\x01y", "a/*"):
        r = mb("create", bad)
        assert r.returncode == 1, bad
    r = mb("delete", "INBOX")
    assert r.returncode == 1 and "INBOX" in r.stderr
    assert mb("delete", "inbox").returncode == 1
    r = mb("delete", "Projects/2024")
    assert r.returncode == 0, r.stderr
    assert "Projects/2024" not in mb("list").stdout
    assert mb("delete", "Projects/2024").returncode == 1
    r = helpers.run("mailbox", "list", "--data", fresh_data.path, "--user", "nobody@example.test")
    assert r.returncode == 1 and "no such user" in r.stderr
    q = helpers.run("audit", "query", "--data", fresh_data.path, "--kind", "admin")
    assert "action=mailbox_create" in q.stdout and "action=mailbox_delete" in q.stdout, q.stdout


@pytest.mark.parametrize("argv", [
    ["import", "--bogus"],
    ["import", "--data", "/nonexistent", "--user", ALICE],
    ["import", "--data", "/nonexistent", "--user", ALICE, "a", "b"],
    ["import", "--data", "/nonexistent", "x"],
    ["mailbox"],
    ["mailbox", "list", "--bogus"],
    ["mailbox", "rename", "--data", "/nonexistent", "--user", ALICE, "a"],
    ["mailbox", "create", "--data", "/nonexistent", "--user", ALICE],
    ["mailbox", "list", "--data", "/nonexistent"],
])
def test_usage_errors_exit_2(argv):
    r = helpers.run(*argv)
    assert r.returncode == 2, (argv, r.stderr)
    assert "usage: redoubt" in r.stderr


@pytest.mark.parametrize("verb", ["import", "mailbox"])
def test_help_exits_0(verb):
    r = helpers.run(verb, "--help")
    assert r.returncode == 0 and r.stdout.startswith(f"usage: redoubt {verb}"), r.stdout


def rare_mbox(data, n, rare_at, word):
    msgs = [message(i) for i in range(n)]
    msgs[rare_at] = msgs[rare_at].replace("end ", f"the {word} turned up, end ")
    path = os.path.join(source_dir(data, "rare"), f"{word}.mbox")
    write(path, mboxrd(msgs, [978307200 + i for i in range(n)]).encode())
    return path


def search(m, *criteria):
    typ, data = m.search(None, *criteria)
    assert typ == "OK", data
    return [int(x) for x in data[0].split()]


def test_imported_text_found_before_the_background_index(fresh_server):
    """The import files the messages in packs and leaves their search text
    for later; a SEARCH straight after login must still find a word in
    one of them (the worker indexes what waits first), and the rest of the
    text is indexed by the worker in the background."""
    data = fresh_server.data
    path = rare_mbox(data, 300, 217, "quixotically")
    r = import_(data, path)
    assert r.returncode == 0, r.stderr
    assert "Imported 300 messages" in r.stdout, r.stdout
    assert "300 messages wait for their search text" in r.stdout, r.stdout
    store_dirs = os.listdir(os.path.join(data.path, "stores"))
    packs = [p for s in store_dirs
             for p in os.listdir(os.path.join(data.path, "stores", s, "packs"))
             if os.path.isdir(os.path.join(data.path, "stores", s, "packs"))]
    assert len(packs) == 1, packs         # 300 small messages: one batch, one file
    m = imap(fresh_server)
    try:
        assert select_count(m, "INBOX") == 300
        assert search(m, "TEXT", "quixotically") == [218]
        assert search(m, "BODY", "QUIXOTIC") == [218]
        assert search(m, "SUBJECT", '"import 217"') == [218]
        body = fetch_all(m, "BODY.PEEK[]")[218]
        assert b"quixotically turned up" in body
    finally:
        m.logout()
    # the operator's check knows packs/
    c = helpers.run("check", "--data", data.path)
    assert c.returncode == 0, c.stdout + c.stderr


def test_redoubt_index_builds_the_text_now(fresh_data):
    data = fresh_data
    path = rare_mbox(data, 40, 5, "zugzwang")
    assert import_(data, path).returncode == 0
    r = helpers.run("index", "--data", data.path, "--user", ALICE, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Indexed the text of 40 messages" in r.stdout, r.stdout
    again = helpers.run("index", "--data", data.path, "--user", ALICE, timeout=120)
    assert again.returncode == 0 and "Indexed the text of 0 messages" in again.stdout, \
        again.stdout
    q = helpers.run("audit", "query", "--data", data.path, "--kind", "admin")
    hits = [ln for ln in q.stdout.splitlines() if "action=index" in ln]
    assert len(hits) == 2 and "count=40" in hits[0] and f"object={ALICE}" in hits[0], q.stdout
    server = helpers.Server(data)
    try:
        m = imap(server)
        try:
            assert select_count(m, "INBOX") == 40
            assert search(m, "TEXT", "zugzwang") == [6]
            # an expunged imported message leaves no trace in SEARCH
            m.store("6", "+FLAGS", "\\Deleted")
            m.expunge()
            assert search(m, "TEXT", "zugzwang") == []
        finally:
            m.logout()
    finally:
        server.stop()


def test_worker_indexes_imported_text_in_the_background(fresh_server):
    """A session that never searches: its worker still builds the text
    index of what was imported, a turn at a time, and says so."""
    data = fresh_server.data
    path = rare_mbox(data, 200, 150, "gallimaufry")
    assert import_(data, path).returncode == 0
    mark = fresh_server.mark()
    m = imap(fresh_server)
    try:
        assert select_count(m, "INBOX") == 200
        fresh_server.wait_log(r"event=text_indexed .*messages=200", timeout=60, since=mark)
        r = helpers.run("index", "--data", data.path, "--user", ALICE, timeout=120)
        assert "Indexed the text of 0 messages" in r.stdout, r.stdout
        assert search(m, "TEXT", "gallimaufry") == [151]
    finally:
        m.logout()
