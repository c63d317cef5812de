"""The post-login roles run in redoubt-store, which maps no TLS code.

A worker (one per logged-in principal) and deliver run in the second
executable, built beside redoubt without libssl, libcrypto or
libevent_openssl: a logged-in worker must map none of them (memory per
idle connection, and nothing of TLS for a compromised worker to use),
while the TLS front still does. Mail still flows through deliver, and
`redoubt serve` refuses to start without redoubt-store beside it."""
import os
import re
import shutil
import smtplib
import subprocess
import tempfile

import pytest

import helpers
from helpers import DOMAIN, Line

USER = f"slim@{DOMAIN}"
PW = "slim-store-pw"
TLS_LIBS = ("libssl", "libcrypto", "libevent_openssl")
STORE_EXE = os.path.join(os.path.dirname(os.path.abspath(helpers.BIN)), "redoubt-store")


@pytest.fixture(scope="module")
def srv():
    with helpers.users_server([USER], PW) as s:
        yield s


def mapped_files(pid):
    """Paths of the files mapped into pid; skip if we may not read them
    (another uid's process needs root or ptrace rights)."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            lines = f.read().splitlines()
    except PermissionError:
        pytest.skip("cannot read another user's /proc/PID/maps (not root)")
    return {ln.split(None, 5)[5] for ln in lines if len(ln.split(None, 5)) == 6}


def tls_libs(paths):
    return sorted(p for p in paths if any(os.path.basename(p).startswith(n) for n in TLS_LIBS))


def imap_login(srv):
    c = Line(srv.ports["imaps"], tls=True)
    assert c.line().startswith(b"* OK")
    c.send(f"a LOGIN {USER} {PW}\r\n".encode())
    assert c.tagged(b"a")[-1].startswith(b"a OK")
    return c


def test_logged_in_worker_maps_no_tls_library(srv):
    c = imap_login(srv)
    try:
        # the session is served: the worker answers through the front
        c.send(b"b NOOP\r\n")
        assert c.tagged(b"b")[-1].startswith(b"b OK")
        worker = int(srv.wait_log(r"event=role_started role=worker child=(\d+) "
                                  rf"principal={re.escape(USER)}")[1])
        exe = os.readlink(f"/proc/{worker}/exe")
        assert os.path.basename(exe) == "redoubt-store", exe
        # and confined as before: seccomp filter on, no new privileges,
        # and not root when master is
        with open(f"/proc/{worker}/status") as f:
            status = dict(ln.split(":", 1) for ln in f.read().splitlines() if ":" in ln)
        assert status["Seccomp"].strip() == "2" and status["NoNewPrivs"].strip() == "1"
        if helpers.IS_ROOT:
            assert status["Uid"].split()[0] != "0"
        maps = mapped_files(worker)
        assert any(os.path.basename(p) == "redoubt-store" for p in maps)
        assert tls_libs(maps) == [], tls_libs(maps)
        # the check can see TLS libraries: the front that holds the
        # connection's TLS maps them
        front = int(srv.wait_log(r"event=role_started role=imap-login child=(\d+)")[1])
        assert any(os.path.basename(p).startswith("libssl") for p in mapped_files(front))
    finally:
        c.sock.close()


def test_deliver_runs_from_the_store_exe(srv):
    mark = srv.mark()
    msg = (f"From: a@other.test\r\nTo: {USER}\r\nSubject: slim\r\n"
           "Message-ID: <slim@other.test>\r\n\r\nbody\r\n").encode()
    with smtplib.SMTP("127.0.0.1", srv.ports["smtp"], timeout=10) as s:
        s.sendmail("a@other.test", [USER], msg)
    srv.wait_log(rf"role=deliver .*event=filed .*to={re.escape(USER)} mailbox=INBOX", since=mark)
    c = imap_login(srv)
    try:
        c.send(b"b SELECT INBOX\r\n")
        assert any(b"1 EXISTS" in ln for ln in c.tagged(b"b"))
    finally:
        c.sock.close()


def test_store_exe_is_for_master_only():
    r = subprocess.run([STORE_EXE], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "started by `redoubt serve` only" in r.stderr
    # it refuses the pre-auth roles: they are not linked into it
    r = subprocess.run([STORE_EXE, "role", "imap-login"], capture_output=True,
                               text=True, timeout=10)
    assert r.returncode != 0


def test_serve_refuses_to_start_without_the_store_exe():
    d = helpers.DataDir()
    lone = tempfile.mkdtemp(prefix="redoubt-lone-")
    try:
        shutil.copy2(helpers.BIN, os.path.join(lone, "redoubt"))
        r = subprocess.run([os.path.join(lone, "redoubt"), "serve", "--data", d.path],
                                   capture_output=True, text=True, timeout=30)
        assert r.returncode != 0
        assert "refusing to start" in r.stderr and "redoubt-store" in r.stderr, r.stderr
    finally:
        shutil.rmtree(lone, ignore_errors=True)
        d.remove()
