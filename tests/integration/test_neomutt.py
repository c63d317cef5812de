"""neomutt against the server over IMAPS, driven like a person would: in a
tmux session of fixed size, keys sent with `send-keys`, the screen read
back with `capture-pane -p`. Every wait polls the screen (or the server,
through imaplib) against a deadline; the tmux server is private to the
test and always killed.

neomutt runs with `-n -F muttrc`: no system config, a generated one in
tmp_path that trusts exactly the server's self-signed certificate and
keeps no header or body cache (but in the test of restarts with one), so
what the screen shows came over IMAP just now. Nothing is installed here: scripts/install-deps installs
neomutt and tmux; without them the module skips."""
import contextlib
import os
import shutil
import smtplib
import subprocess
import time

import pytest

import helpers
import test_mbsync
from helpers import DOMAIN

pytestmark = pytest.mark.skipif(
    shutil.which("neomutt") is None or shutil.which("tmux") is None,
    reason="neomutt or tmux is not installed; see scripts/install-deps")

USERS = [f"mutt{i}@{DOMAIN}" for i in range(5)]
PW = "neomutt-test-pw"
WAIT = 15
COLS, ROWS = 132, 40


@pytest.fixture(scope="module")
def srv():
    with helpers.users_server(USERS, PW) as s:
        yield s


def message(tag, to):
    return (f"From: Dave Sender <dave@other.test>\r\nTo: {to}\r\n"
            f"Subject: neomutt {tag}\r\nMessage-ID: <{tag}@other.test>\r\n"
            f"Date: Wed, 04 Jan 2023 08:00:00 +0000\r\n\r\n"
            f"Body text of {tag}, read over IMAP.\r\n").encode()


def imap(srv, user):
    return test_mbsync.imap(srv, user, PW)


def subjects(srv, user, mailbox="INBOX"):
    with imap(srv, user) as m:
        typ, data = m.select(mailbox, readonly=True)
        assert typ == "OK"
        if int(data[0]) == 0:
            return set()
        typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert typ == "OK"
        return {item[1].decode().strip().removeprefix("Subject: ")
                for item in data if isinstance(item, tuple)}


def deliver(srv, user, tags):
    with smtplib.SMTP("127.0.0.1", srv.ports["smtp"], timeout=10) as s:
        for tag in tags:
            assert s.sendmail("dave@other.test", [user], message(tag, user)) == {}
    deadline = time.monotonic() + WAIT
    while len(subjects(srv, user)) < len(tags):
        assert time.monotonic() < deadline, f"{len(tags)} messages not filed for {user}"
        time.sleep(0.1)


class Mutt:
    """neomutt in a detached tmux session on a tmux server of its own."""

    def __init__(self, srv, user, tmp_path, extra="", run=1):
        # a socket path of its own: tmux leaves the file behind at kill-server
        self.socket = str(tmp_path / f"tmux-{run}.sock")
        # neomutt appends a digit to the name it is given (log rotation)
        self.log = tmp_path / f"neomutt-{run}.log0"
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        cert = os.path.join(srv.data.path, "tls", "cert.pem")
        muttrc = tmp_path / f"muttrc-{run}"
        muttrc.write_text(f"""\
set folder="imaps://127.0.0.1:{srv.ports['imaps']}/"
set spoolfile="+INBOX"
set record="+Sent"
set postponed="+Drafts"
set imap_user="{user}"
set imap_pass="{PW}"
set certificate_file="{cert}"
set ssl_verify_host=no
set ssl_force_tls=yes
set header_cache=""
set message_cachedir=""
set mailcap_path="/dev/null"
set imap_check_subscribed=no
set imap_keepalive=30
set mail_check=60
set timeout=5
set sleep_time=0
set delete=yes
set move=no
set quit=yes
set confirmappend=no
set mark_old=no
set wait_key=no
set help=yes
""" + extra)
        # keep the pane when neomutt dies, so a crash leaves its screen;
        # set from the server's own config so it holds from the start
        tmux_conf = tmp_path / f"tmux-{run}.conf"
        tmux_conf.write_text("set-option -g remain-on-exit on\n")
        self.env = {k: v for k, v in os.environ.items() if k != "TMUX"}
        try:
            self.tmux("-f", str(tmux_conf), "new-session", "-d", "-s", "mutt",
                      "-x", str(COLS), "-y", str(ROWS),
                      "env", f"HOME={home}", "TERM=xterm", "LC_ALL=C.UTF-8",
                      "neomutt", "-n", "-F", str(muttrc), "-d", "5",
                      "-l", str(self.log)[:-1])
        except BaseException:
            self.close()
            raise

    def tmux(self, *args):
        p = subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True,
                           text=True, timeout=10, env=self.env, check=False)
        assert p.returncode == 0, f"tmux {args}: {p.stderr}"
        return p.stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "mutt")

    def keys(self, *keys):
        """Named keys (Enter, C-u, ...) as tmux knows them."""
        self.tmux("send-keys", "-t", "mutt", *keys)

    def type(self, text):
        self.tmux("send-keys", "-t", "mutt", "-l", text)

    def wait(self, *texts, absent=(), timeout=WAIT):
        """Poll the screen until it shows every text and none of `absent`."""
        deadline = time.monotonic() + timeout
        while True:
            scr = self.screen()
            if all(t in scr for t in texts) and not any(t in scr for t in absent):
                return scr
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never showed {texts} without {absent};"
                                     f" screen:\n{scr}\n--- neomutt log tail:\n{self.log_tail()}")
            time.sleep(0.1)

    def exited(self, timeout=WAIT):
        """Wait until neomutt has quit (the pane stays, remain-on-exit)."""
        deadline = time.monotonic() + timeout
        while self.tmux("display-message", "-p", "-t", "mutt", "#{pane_dead}").strip() != "1":
            assert time.monotonic() < deadline, "neomutt did not quit:\n" + self.screen()
            time.sleep(0.1)

    def log_tail(self, n=60):
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        # the log holds the password; it is a throwaway test password
        return "\n".join(lines[-n:])

    def close(self):
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True,
                       timeout=10, env=self.env, check=False)


@contextlib.contextmanager
def mutt(srv, user, tmp_path, extra="", run=1):
    m = Mutt(srv, user, tmp_path, extra, run)
    try:
        yield m
    finally:
        m.close()


def test_index_open_and_delete(srv, tmp_path):
    user = USERS[0]
    tags = ["alpha", "beta", "gamma"]
    deliver(srv, user, tags)
    with mutt(srv, user, tmp_path) as m:
        # the index lists every delivered message
        m.wait(*(f"neomutt {t}" for t in tags), "Msgs:3")
        # find beta and open it: the pager shows its body
        m.keys("/")
        m.wait("Search for:")
        m.type("beta")
        m.keys("Enter")
        m.keys("Enter")
        scr = m.wait("Body text of beta, read over IMAP.")
        assert "Subject: neomutt beta" in scr
        # back to the index, delete it and sync ($): expunged on the server
        m.keys("q")
        m.wait("Msgs:3", absent=("Body text of beta",))
        m.keys("d")
        m.keys("$")
        deadline = time.monotonic() + WAIT
        while "neomutt beta" in subjects(srv, user):
            assert time.monotonic() < deadline, "beta not expunged:\n" + m.screen()
            time.sleep(0.1)
        assert subjects(srv, user) == {"neomutt alpha", "neomutt gamma"}
        m.wait("neomutt alpha", "neomutt gamma", "Msgs:2", absent=("neomutt beta",))
        # only beta was read (and it is gone): the others are still unread
        with imap(srv, user) as c:
            c.select("INBOX", readonly=True)
            typ, data = c.search(None, "UNSEEN")
            assert typ == "OK" and len(data[0].split()) == 2, data


def test_change_folder_to_sent(srv, tmp_path):
    user = USERS[1]
    deliver(srv, user, ["inbox-only"])
    with imap(srv, user) as c:
        typ, _ = c.append("Sent", "(\\Seen)", None, message("sent-copy", user))
        assert typ == "OK"
    with mutt(srv, user, tmp_path) as m:
        m.wait("neomutt inbox-only", "Msgs:1")
        m.keys("c")
        m.wait("Open mailbox")
        m.keys("C-u")
        m.type("=Sent")
        m.keys("Enter")
        scr = m.wait("neomutt sent-copy", absent=("neomutt inbox-only",))
        assert "Sent" in scr
        # and back to the inbox
        m.keys("c")
        m.wait("Open mailbox")
        m.keys("C-u")
        m.type("=INBOX")
        m.keys("Enter")
        m.wait("neomutt inbox-only", absent=("neomutt sent-copy",))


def index_line(screen, subject):
    lines = [ln for ln in screen.splitlines() if ln.endswith(subject)]
    assert len(lines) == 1, f"{subject!r} not once in:\n{screen}"
    return lines[0]


def server_lines(log):
    """What the server sent, from neomutt's level-5 debug log."""
    return [ln.split("< ", 1)[1] for ln in log.splitlines() if "mutt_socket_readln_d()" in ln]


def client_lines(log):
    return [ln.split("> ", 1)[1] for ln in log.splitlines() if "mutt_socket_write_d()" in ln]


def test_header_cache_resync_with_qresync(srv, tmp_path):
    """Restarts with a header cache resynchronise through CONDSTORE and
    QRESYNC (ENABLE QRESYNC, then UID FETCH ... (CHANGEDSINCE m VANISHED)):
    a flag set meanwhile on the server arrives without the headers being
    fetched again, and a message expunged meanwhile is reported by
    VANISHED (EARLIER) and is gone from the index."""
    user = USERS[2]
    tags = ["keep", "flag-me", "expunge-me"]
    deliver(srv, user, tags)
    extra = (f'set header_cache="{tmp_path}/hcache"\n'
             "set imap_condstore=yes\nset imap_qresync=yes\n")

    def server_store(msgid, flag, expunge=False):
        with imap(srv, user) as c:
            c.select("INBOX")
            typ, data = c.search(None, "HEADER", "Message-ID", msgid)
            assert typ == "OK" and len(data[0].split()) == 1, data
            assert c.store(data[0], "+FLAGS", flag)[0] == "OK"
            if expunge:
                assert c.expunge()[0] == "OK"

    with mutt(srv, user, tmp_path, extra, run=1) as m:
        m.wait(*(f"neomutt {t}" for t in tags), "Msgs:3")
        m.keys("q")
        m.exited()
        assert "* ENABLED QRESYNC" in server_lines(m.log.read_text(errors="replace"))

    server_store("flag-me@other.test", "(\\Flagged)")
    with mutt(srv, user, tmp_path, extra, run=2) as m:
        scr = m.wait(*(f"neomutt {t}" for t in tags), "Msgs:3")
        assert "!" in index_line(scr, "neomutt flag-me")[:12], scr
        assert "!" not in index_line(scr, "neomutt keep")[:12], scr
        log = m.log.read_text(errors="replace")
        sent = client_lines(log)
        assert any("UID FETCH 1:3 (FLAGS) (CHANGEDSINCE " in ln and ln.endswith(" VANISHED)")
                   for ln in sent), sent
        assert not any("BODY.PEEK[HEADER.FIELDS" in ln for ln in sent), \
            "headers fetched again despite the cache:\n" + "\n".join(sent)
        assert "QRESYNC failed" not in log, m.log_tail()
        m.keys("q")
        m.exited()

    server_store("expunge-me@other.test", "(\\Deleted)", expunge=True)
    with mutt(srv, user, tmp_path, extra, run=3) as m:
        m.wait("neomutt keep", "neomutt flag-me", "Msgs:2", absent=("neomutt expunge-me",))
        got = server_lines(m.log.read_text(errors="replace"))
        # UIDs are given in delivery order: expunge-me is 3. (neomutt
        # 20220429 then trips over its own sanity check and reloads the
        # mailbox in full, "QRESYNC failed. Reopening mailbox." - a client
        # quirk: the answer is RFC 7162's, so that is not asserted on.)
        assert "* VANISHED (EARLIER) 3" in got, got


def test_save_moves_to_another_folder(srv, tmp_path):
    """`s` (save) to =Archive and `$`: the message is in Archive and gone
    from INBOX on the server (neomutt 20220429 does UID COPY, UID STORE
    +FLAGS.SILENT (\\Deleted), EXPUNGE)."""
    user = USERS[3]
    deliver(srv, user, ["stay", "archive-me"])
    with mutt(srv, user, tmp_path) as m:
        m.wait("neomutt stay", "neomutt archive-me", "Msgs:2")
        m.keys("/")
        m.wait("Search for:")
        m.type("archive-me")
        m.keys("Enter")
        m.keys("s")
        m.wait("Save to mailbox")
        m.keys("C-u")
        m.type("=Archive")
        m.keys("Enter")
        m.keys("$")
        deadline = time.monotonic() + WAIT
        while subjects(srv, user) != {"neomutt stay"}:
            assert time.monotonic() < deadline, "not moved:\n" + m.screen() + m.log_tail()
            time.sleep(0.1)
        assert subjects(srv, user, "Archive") == {"neomutt archive-me"}
        m.wait("neomutt stay", "Msgs:1", absent=("neomutt archive-me",))


def test_compose_and_send_over_submission(srv, tmp_path):
    """`m` composes (the editor is a script that writes the body), `y`
    sends over SMTPS submission with AUTH; the copy goes to =Sent with
    APPEND, and the message is delivered to the recipient's INBOX."""
    user, rcpt = USERS[4], USERS[0]
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nprintf "Composed in neomutt, sent by redoubt.\\n" >> "$1"\n')
    editor.chmod(0o755)
    extra = (f'set editor="{editor}"\nset edit_headers=no\nset askcc=no\n'
             f'set from="{user}"\nset use_from=yes\nset realname="Mutt Tester"\n'
             f'set smtp_url="smtps://{user}@127.0.0.1:{srv.ports["submissions"]}/"\n'
             f'set smtp_pass="{PW}"\nset copy=yes\nset fcc_before_send=no\n')
    with mutt(srv, user, tmp_path, extra) as m:
        m.wait("Msgs:0")
        m.keys("m")
        m.wait("To:")
        m.type(rcpt)
        m.keys("Enter")
        m.wait("Subject:")
        m.type("neomutt composed")
        m.keys("Enter")
        m.wait("y:Send")
        m.keys("y")
        deadline = time.monotonic() + WAIT
        while "neomutt composed" not in subjects(srv, rcpt):
            assert time.monotonic() < deadline, "not delivered:\n" + m.screen() + m.log_tail()
            time.sleep(0.1)
        while subjects(srv, user, "Sent") != {"neomutt composed"}:
            assert time.monotonic() < deadline, "no copy in Sent:\n" + m.screen() + m.log_tail()
            time.sleep(0.1)
    with imap(srv, rcpt) as c:
        c.select("INBOX", readonly=True)
        typ, data = c.search(None, "SUBJECT", "\"neomutt composed\"")
        assert typ == "OK" and len(data[0].split()) == 1, data
        typ, data = c.fetch(data[0], "(BODY.PEEK[])")
        assert typ == "OK"
        raw = data[0][1]
        assert f"From: Mutt Tester <{user}>".encode() in raw, raw
        assert b"Composed in neomutt, sent by redoubt." in raw, raw
