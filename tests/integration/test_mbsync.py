"""mbsync (isync) against the server: a real client that keeps a local
Maildir in step with the IMAP mailboxes, both ways. Mail is delivered
over SMTP, mbsync runs with a config written into tmp_path, and what it
did is checked on both sides: the Maildir files (names carry the flags
after ":2,") and the server through imaplib.

One server for the module; each test uses its own user, so the mailboxes
one test creates or empties are not seen by another. Nothing is installed
here: scripts/install-deps installs isync; without it the module skips."""
import contextlib
import imaplib
import os
import shutil
import smtplib
import subprocess
import time

import pytest

import helpers
from helpers import DOMAIN, tls_context

pytestmark = pytest.mark.skipif(shutil.which("mbsync") is None,
                                reason="mbsync (isync) is not installed; see scripts/install-deps")

USERS = [f"sync{i}@{DOMAIN}" for i in range(6)]
PW = "mbsync-test-pw"
SYNC_TIMEOUT = 30


@pytest.fixture(scope="module")
def srv():
    with helpers.users_server(USERS, PW) as s:
        yield s


def message(tag, to, extra=b""):
    return (f"From: Carol Sender <carol@other.test>\r\nTo: {to}\r\n"
            f"Subject: mbsync {tag}\r\nMessage-ID: <{tag}@other.test>\r\n"
            f"Date: Tue, 03 Jan 2023 09:00:00 +0000\r\n\r\n"
            f"Body of {tag}.\r\nA second line.\r\n").encode() + extra


def big_body(tag):
    """About 300 KiB of distinct lines: several TLS records and literal
    reads on the way, and any lost or doubled chunk shows."""
    return b"".join(f"{tag} line {i:06d} ".encode() + b"x" * 40 + b"\r\n"
                    for i in range(5000))


@contextlib.contextmanager
def imap(srv, user, password=PW):
    """A logged-in imaplib session over IMAPS (test_neomutt uses it too)."""
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=tls_context(),
                          timeout=10)
    try:
        m.login(user, password)
        yield m
    finally:
        with contextlib.suppress(Exception):
            m.logout()


def deliver(srv, user, tags, extra=None):
    """Send one message per tag over SMTP and wait until all are filed;
    extra: {tag: bytes appended to that message's body}."""
    extra = extra or {}
    with smtplib.SMTP("127.0.0.1", srv.ports["smtp"], timeout=10) as s:
        for tag in tags:
            data = message(tag, user, extra.get(tag, b""))
            assert s.sendmail("carol@other.test", [user], data) == {}
    deadline = time.monotonic() + 15
    while True:
        with imap(srv, user) as m:
            typ, data = m.select("INBOX", readonly=True)
            assert typ == "OK"
            if int(data[0]) >= len(tags):
                return
        assert time.monotonic() < deadline, f"{len(tags)} messages not filed for {user}"
        time.sleep(0.1)


def server_messages(srv, user, mailbox="INBOX"):
    """{subject tag: set of flags} of a mailbox on the server."""
    with imap(srv, user) as m:
        typ, data = m.select(mailbox, readonly=True)
        assert typ == "OK", mailbox
        if int(data[0]) == 0:
            return {}  # "1:*" names no message in an empty mailbox: BAD
        typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert typ == "OK"
        out = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            flags = imaplib.ParseFlags(item[0])
            subject = item[1].decode().strip()
            assert subject.startswith("Subject: mbsync "), subject
            out[subject[len("Subject: mbsync "):]] = {f.decode() for f in flags}
        return out


def server_mailboxes(srv, user):
    with imap(srv, user) as m:
        typ, data = m.list()
        assert typ == "OK"
        return {line.decode().rsplit(' "/" ', 1)[1].strip('"') for line in data}


class Sync:
    """A Maildir under tmp_path and an mbsync config that mirrors every
    mailbox of `user` into it (Create, Expunge both ways, state inside
    each Maildir)."""

    def __init__(self, srv, user, tmp_path, starttls=False):
        self.root = tmp_path / "mail"
        self.root.mkdir()
        self.config = tmp_path / "mbsyncrc"
        self.env = dict(os.environ, HOME=str(tmp_path))
        cert = os.path.join(srv.data.path, "tls", "cert.pem")
        port = srv.ports["imap" if starttls else "imaps"]
        ssl_type = "STARTTLS" if starttls else "IMAPS"
        # The self-signed certificate is named as a host certificate:
        # trusted for exactly that server and nothing else.
        self.config.write_text(f"""\
IMAPAccount redoubt
Host 127.0.0.1
Port {port}
User {user}
Pass {PW}
SSLType {ssl_type}
SystemCertificates no
CertificateFile {cert}
Timeout 10

IMAPStore far
Account redoubt

MaildirStore near
Path {self.root}/
Inbox {self.root}/INBOX
SubFolders Verbatim

Channel all
Far :far:
Near :near:
Patterns *
Create Both
Expunge Both
CopyArrivalDate yes
SyncState *
""")

    def run(self):
        """One full sync; must exit 0 (its output is shown otherwise)."""
        p = subprocess.run(["mbsync", "-V", "-c", str(self.config), "all"], env=self.env,
                           capture_output=True, text=True, timeout=SYNC_TIMEOUT, check=False)
        assert p.returncode == 0, (f"mbsync exited {p.returncode}\n--- stdout\n{p.stdout}"
                                   f"\n--- stderr\n{p.stderr}")
        return p.stdout + p.stderr

    def folder(self, name="INBOX"):
        return self.root / name

    def files(self, name="INBOX"):
        """{path: contents} of the messages in a local Maildir folder."""
        out = {}
        for sub in ("cur", "new"):
            d = self.folder(name) / sub
            if d.is_dir():
                for f in d.iterdir():
                    out[f] = f.read_bytes()
        return out

    def find(self, tag, name="INBOX"):
        """The one local file holding the message with this tag."""
        hits = [p for p, data in self.files(name).items()
                if f"Subject: mbsync {tag}\r\n".encode() in data
                or f"Subject: mbsync {tag}\n".encode() in data]
        assert len(hits) == 1, f"{tag}: {hits} in {sorted(map(str, self.files(name)))}"
        return hits[0]


def maildir_flags(path):
    name = path.name
    return set(name.split(":2,", 1)[1]) if ":2," in name else set()


def set_maildir_flags(path, flags):
    """Rename a Maildir message to carry exactly these flags (into cur/)."""
    base = path.name.split(":2,", 1)[0]
    new = path.parent.parent / "cur" / f"{base}:2,{''.join(sorted(flags))}"
    os.rename(path, new)
    return new


def add_local_message(folder, tag, to, extra=b"", mtime=None):
    """Deliver into a local Maildir the way an MUA would: write in tmp/,
    rename into new/, under a unique Maildir name. The file's mtime is
    the arrival date mbsync gives the server (CopyArrivalDate)."""
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    name = f"{int(time.time())}.P{os.getpid()}Q{tag}.testhost"
    tmp = folder / "tmp" / name
    tmp.write_bytes(message(tag, to, extra).replace(b"\r\n", b"\n"))
    if mtime is not None:
        os.utime(tmp, (mtime, mtime))
    os.rename(tmp, folder / "new" / name)


def internaldates(srv, user, mailbox="INBOX"):
    """{subject tag: INTERNALDATE as a Unix time}."""
    with imap(srv, user) as m:
        typ, _ = m.select(mailbox, readonly=True)
        assert typ == "OK"
        typ, data = m.fetch("1:*", "(INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert typ == "OK"
        out = {}
        for item in data:
            if isinstance(item, tuple):
                tag = item[1].decode().strip().removeprefix("Subject: mbsync ")
                out[tag] = time.mktime(imaplib.Internaldate2tuple(item[0]))
        return out


def test_pull_every_message_with_its_body(srv, tmp_path):
    user = USERS[0]
    tags = ["pull-a", "pull-b", "pull-c", "pull-big"]
    deliver(srv, user, tags, {"pull-big": big_body("pull-big")})
    sync = Sync(srv, user, tmp_path)
    sync.run()
    for tag in tags:
        data = sync.find(tag).read_bytes()
        # Maildir holds LF line ends; mbsync converts from IMAP's CRLF
        assert f"Body of {tag}.\nA second line.\n".encode() in data.replace(b"\r\n", b"\n"), data
        assert b"Message-ID: <" + tag.encode() + b"@other.test>" in data
    big = sync.find("pull-big").read_bytes().replace(b"\r\n", b"\n")
    assert big.endswith(big_body("pull-big").replace(b"\r\n", b"\n")), "large message altered"
    assert len(sync.files()) == 4
    # CopyArrivalDate: each file's mtime is the server's INTERNALDATE
    for tag, when in internaldates(srv, user).items():
        assert abs(sync.find(tag).stat().st_mtime - when) < 1, tag
    # the special-use mailboxes every new user has came down too
    for name in ("Sent", "Drafts", "Trash", "Junk", "Archive"):
        assert (sync.folder(name) / "cur").is_dir(), name
    # a second sync with nothing changed is a no-op that still succeeds
    sync.run()
    assert len(sync.files()) == 4
    assert set(server_messages(srv, user)) == set(tags)


def test_push_a_local_message_over_starttls(srv, tmp_path):
    user = USERS[1]
    deliver(srv, user, ["push-first"])
    sync = Sync(srv, user, tmp_path, starttls=True)
    sync.run()
    arrived = 1620284889  # 2021-05-06 07:08:09 UTC
    add_local_message(sync.folder(), "push-local", user, mtime=arrived)
    add_local_message(sync.folder(), "push-big", user, big_body("push-big"))
    add_local_message(sync.folder(), "push-flagged", user)
    set_maildir_flags(sync.find("push-flagged"), {"F", "S"})
    sync.run()
    on_server = server_messages(srv, user)
    assert set(on_server) == {"push-first", "push-local", "push-big", "push-flagged"}
    assert on_server["push-flagged"] == {"\\Flagged", "\\Seen"}
    assert on_server["push-local"] == set()
    # APPEND carried the file's mtime as the INTERNALDATE
    assert internaldates(srv, user)["push-local"] == arrived
    with imap(srv, user) as m:
        m.select("INBOX", readonly=True)
        typ, data = m.uid("SEARCH", None, "HEADER", "Message-ID", "push-local@other.test")
        assert typ == "OK" and len(data[0].split()) == 1, data
        uid = data[0].split()[0]
        typ, data = m.uid("FETCH", uid, "(BODY.PEEK[TEXT])")
        assert typ == "OK"
        assert data[0][1] == b"Body of push-local.\r\nA second line.\r\n", data
        typ, data = m.search(None, "HEADER", "Message-ID", "push-big@other.test")
        assert typ == "OK" and len(data[0].split()) == 1, data
        typ, data = m.fetch(data[0], "(BODY.PEEK[TEXT])")
        assert typ == "OK"
        want = b"Body of push-big.\r\nA second line.\r\n" + big_body("push-big")
        assert data[0][1] == want, "large APPEND altered"
    # mbsync recorded the UID the server gave it in the file name
    assert ",U=" in sync.find("push-local").name


def test_flags_both_ways(srv, tmp_path):
    user = USERS[2]
    deliver(srv, user, ["flag-seen", "flag-both", "flag-remote"])
    sync = Sync(srv, user, tmp_path)
    sync.run()
    # near -> far: Seen, and Flagged + Seen
    set_maildir_flags(sync.find("flag-seen"), {"S"})
    set_maildir_flags(sync.find("flag-both"), {"F", "S"})
    sync.run()
    on_server = server_messages(srv, user)
    assert "\\Seen" in on_server["flag-seen"] and "\\Flagged" not in on_server["flag-seen"]
    assert {"\\Seen", "\\Flagged"} <= on_server["flag-both"]
    assert not {"\\Seen", "\\Flagged"} & on_server["flag-remote"]
    # far -> near: flagged and answered on the server
    with imap(srv, user) as m:
        m.select("INBOX")
        typ, data = m.search(None, "HEADER", "Message-ID", "flag-remote@other.test")
        assert typ == "OK" and data[0], data
        typ, _ = m.store(data[0], "+FLAGS", "(\\Flagged \\Answered)")
        assert typ == "OK"
    sync.run()
    assert maildir_flags(sync.find("flag-remote")) == {"F", "R"}
    assert maildir_flags(sync.find("flag-seen")) == {"S"}
    # and back again: unflag locally
    set_maildir_flags(sync.find("flag-both"), {"S"})
    sync.run()
    assert server_messages(srv, user)["flag-both"] & {"\\Seen", "\\Flagged"} == {"\\Seen"}


def test_deletion_both_ways(srv, tmp_path):
    user = USERS[3]
    deliver(srv, user, ["del-local", "del-remote", "del-kept"])
    sync = Sync(srv, user, tmp_path)
    sync.run()
    # removed locally -> \Deleted and expunged on the server
    os.unlink(sync.find("del-local"))
    sync.run()
    assert set(server_messages(srv, user)) == {"del-remote", "del-kept"}
    # expunged on the server -> the local file goes
    with imap(srv, user) as m:
        m.select("INBOX")
        typ, data = m.search(None, "HEADER", "Message-ID", "del-remote@other.test")
        assert typ == "OK" and data[0], data
        m.store(data[0], "+FLAGS", "(\\Deleted)")
        typ, _ = m.expunge()
        assert typ == "OK"
    sync.run()
    assert len(sync.files()) == 1
    sync.find("del-kept")
    # a message flagged \Deleted (not expunged) locally with T goes too
    set_maildir_flags(sync.find("del-kept"), {"T"})
    sync.run()
    assert server_messages(srv, user) == {}
    assert sync.files() == {}


def test_new_mailboxes_both_ways(srv, tmp_path):
    user = USERS[4]
    deliver(srv, user, ["box-inbox"])
    sync = Sync(srv, user, tmp_path)
    sync.run()
    # made locally (with a message in it) -> created on the server, and a
    # child of it (SubFolders Verbatim: Projects/2024 is a directory inside)
    add_local_message(sync.folder("Projects"), "box-local", user)
    add_local_message(sync.folder("Projects/2024"), "box-nested", user)
    # made on the server -> created locally, with a child too
    with imap(srv, user) as m:
        assert m.create("Remote")[0] == "OK"
        assert m.create("Remote/Deep")[0] == "OK"
        typ, _ = m.append("Remote", "(\\Seen)", None, message("box-remote", user))
        assert typ == "OK"
        typ, _ = m.append("Remote/Deep", "(\\Flagged)", None, message("box-deep", user))
        assert typ == "OK"
    sync.run()
    boxes = server_mailboxes(srv, user)
    assert {"INBOX", "Projects", "Projects/2024", "Remote", "Remote/Deep"} <= boxes, boxes
    assert set(server_messages(srv, user, "Projects")) == {"box-local"}
    assert set(server_messages(srv, user, "Projects/2024")) == {"box-nested"}
    assert (sync.folder("Remote") / "cur").is_dir()
    assert maildir_flags(sync.find("box-remote", "Remote")) == {"S"}
    assert maildir_flags(sync.find("box-deep", "Remote/Deep")) == {"F"}
    assert len(sync.files("INBOX")) == 1
    # and a second run finds everything paired: nothing moves
    sync.run()
    assert server_messages(srv, user, "Projects/2024") == {"box-nested": set()}
