"""Shared helpers for the redoubt integration tests.

Everything here drives the real binary (REDOUBT_BIN) the way an operator
or a network client would: the CLI through subprocess, the server through
sockets on 127.0.0.1. Every wait has a deadline so a hung server fails a
test instead of hanging the suite.
"""
import contextlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

# Roles confine themselves (seccomp forbids ptrace) and LeakSanitizer needs
# ptrace at exit, so a sanitizer build would exit 1 at every clean stop;
# scripts/test sets the same. Kept if the caller chose otherwise.
os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=0")

BIN = os.environ.get("REDOUBT_BIN", "/work/main/build-test/redoubt")
DOMAIN = "example.test"
HOSTNAME = "mail.example.test"
ALICE = "alice@example.test"
ALICE_PW = "alice-correct-horse"
BOB = "bob@example.test"
BOB_PW = "bob-battery-staple"
LISTENERS = ("smtp", "submission", "submissions", "imap", "imaps", "https")
FRONT_ROLES = ("smtp-in", "imap-login", "http-front")
IS_ROOT = os.geteuid() == 0
CMD_TIMEOUT = 30

AUTH_FAILED = b"NO [AUTHENTICATIONFAILED] Authentication failed."


def run(*args, stdin=None, timeout=CMD_TIMEOUT):
    """Run `redoubt ARGS...`; returns the CompletedProcess (text mode)."""
    return subprocess.run([BIN, *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout, check=False)


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (held open together while
    chosen, so they differ from each other)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def tls_context():
    """Client context for the self-signed certificate `init` makes."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class DataDir:
    """A data directory made by `redoubt init`, in a fresh /tmp directory
    every parent of which the unprivileged roles can traverse."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="redoubt-it-")
        os.chmod(self.base, 0o755)
        self.path = os.path.join(self.base, "data")
        self.conf = os.path.join(self.path, "redoubt.conf")
        self.ports = dict(zip(LISTENERS, free_ports(len(LISTENERS))))
        r = run("init", "--data", self.path, "--domain", DOMAIN)
        assert r.returncode == 0, r.stderr
        text = self.read_conf()
        for name, port in self.ports.items():
            text, n = re.subn(rf"(?m)^{name} = .*$", f"{name} = 127.0.0.1:{port}", text)
            assert n == 1, f"no {name} line in redoubt.conf"
        # the cheapest Argon2id the config accepts: tests are about protocol
        # behaviour, not hashing cost (libsodium's minimums: 1 pass, 8 KiB)
        text, n1 = re.subn(r"(?m)^argon2_opslimit = .*$", "argon2_opslimit = 1", text)
        text, n2 = re.subn(r"(?m)^argon2_memlimit_kib = .*$", "argon2_memlimit_kib = 8", text)
        assert n1 == 1 and n2 == 1
        self.write_conf(text)

    def read_conf(self):
        with open(self.conf, encoding="utf-8") as f:
            return f.read()

    def write_conf(self, text):
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(text)

    def add_user(self, address, password):
        r = run("user", "add", "--data", self.path, address, "--password-stdin",
                stdin=password + "\n")
        assert r.returncode == 0, r.stderr
        return self.store_id(address)

    def store_id(self, address):
        r = run("user", "list", "--data", self.path)
        assert r.returncode == 0, r.stderr
        for line in r.stdout.splitlines():
            addr, _, store = line.partition("\tstore=")
            if addr == address:
                return store
        raise AssertionError(f"{address} not in user list: {r.stdout!r}")

    def remove(self):
        shutil.rmtree(self.base, ignore_errors=True)


class Server:
    """`redoubt serve` in the foreground, its stderr collected line by line."""

    def __init__(self, data):
        self.data = data
        self.ports = data.ports
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen([BIN, "serve", "--data", data.path],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def _read(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def log(self):
        with self.cond:
            return "\n".join(self.lines)

    def since(self, mark):
        """Log text written after mark()."""
        with self.cond:
            return "\n".join(self.lines[mark:])

    def mark(self):
        """Position in the log; pass to wait_log(since=) to see only what follows."""
        with self.cond:
            return len(self.lines)

    def wait_log(self, pattern, timeout=10, since=0):
        """First log line at or after `since` matching the regex, or fail."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            i = since
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        return m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError(f"no log line matching {pattern!r} within {timeout}s;"
                                         f" log tail:\n" + "\n".join(self.lines[-30:]))
                self.cond.wait(min(left, 0.2))

    def role_pid(self, role, since=0):
        return int(self.wait_log(rf"event=role_started role={role} child=(\d+)", since=since)[1])

    def wait_ready(self, timeout=20):
        for role in ("auth",) + FRONT_ROLES:
            self.wait_log(rf"role={role} .*event=role_ready", timeout=timeout)
        for port in self.ports.values():
            wait_port(port, timeout)

    def running(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit status. Kills the whole
        process group if the server does not stop in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.reader.join(5)
        return self.proc.returncode


def wait_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class TLSStream:
    """A TLS client over a plain socket through memory BIOs, so a failed
    send leaves the TLS state intact and what the server said before it
    closed (or reset) the connection can still be read and decrypted.
    Offers the socket calls the tests use: sendall, recv, settimeout, close."""

    def __init__(self, sock):
        self.sock = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = tls_context().wrap_bio(self.incoming, self.outgoing)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self._fill()
        self._flush()

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if data:
            self.incoming.write(data)
        else:
            self.incoming.write_eof()

    def sendall(self, data):
        self.obj.write(data)
        self._flush()

    def recv(self, n):
        while True:
            try:
                return self.obj.read(n)
            except ssl.SSLWantReadError:
                self._fill()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    def settimeout(self, t):
        self.sock.settimeout(t)

    def close(self):
        self.sock.close()


class Line:
    """A raw line-oriented client: exact bytes out, CRLF lines in. Can
    switch to TLS in place (STARTTLS) or start with it (implicit TLS)."""

    def __init__(self, port, tls=False, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            self.sock = TLSStream(self.sock)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        """One line without its CRLF; b"" on EOF."""
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                rest, self.buf = self.buf, b""
                return rest
            self.buf += chunk
        out, self.buf = self.buf.split(b"\r\n", 1)
        return out

    def reply(self):
        """One SMTP reply: (code, [text lines])."""
        texts = []
        while True:
            ln = self.line()
            if len(ln) < 4:
                raise AssertionError(f"short SMTP reply line {ln!r}")
            texts.append(ln[4:])
            if ln[3:4] == b" ":
                return int(ln[:3]), texts

    def tagged(self, tag):
        """IMAP lines up to and including the one tagged `tag`."""
        lines = []
        while True:
            ln = self.line()
            if not ln:
                raise AssertionError(f"connection closed before {tag!r}; got {lines!r}")
            lines.append(ln)
            if ln.startswith(tag + b" "):
                return lines

    def starttls(self):
        assert self.buf == b"", f"plaintext left after STARTTLS: {self.buf!r}"
        self.sock = TLSStream(self.sock)

    def read_all(self, timeout=10):
        """Everything until the server closes (EOF or reset)."""
        deadline = time.monotonic() + timeout
        data, self.buf = self.buf, b""
        while time.monotonic() < deadline:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
                return data, True
            except socket.timeout:
                return data, False
            if not chunk:
                return data, True
            data += chunk
        return data, False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def flood(conn, total, chunk=1 << 16, timeout=20):
    """Send up to `total` octets of 'A' with no line end, until the server
    stops taking them (it closed, or its buffers stay full for 2 s), then
    collect what it answered. Returns (answer, whether the connection ended).

    A server that answers and closes leaves its answer queued ahead of the
    reset, and TLSStream can still decrypt it after a failed send."""
    sock = conn.sock
    block = b"A" * chunk
    sent = 0
    deadline = time.monotonic() + timeout
    sock.settimeout(2)
    while sent < total and time.monotonic() < deadline:
        try:
            sock.sendall(block)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            break
        sent += len(block)
    return conn.read_all(max(1.0, deadline - time.monotonic()))


@contextlib.contextmanager
def users_server(users, password):
    """A server of its own with these users (a test module's fixture);
    on leaving, it must stop cleanly with no role crashed."""
    d = DataDir()
    try:
        for u in users:
            d.add_user(u, password)
        s = Server(d)
    except BaseException:
        d.remove()
        raise
    try:
        yield s
    finally:
        rc = s.stop()
        d.remove()
    assert rc == 0, s.log()[-3000:]
    assert "role_crashed" not in s.log(), s.log()


def check_golden(case, got, server):
    """Compares a transcript with case's .ref (NAME.in -> NAME.ref); with
    REDOUBT_GOLDEN_UPDATE set, a missing .ref is written first."""
    ref = case[:-3] + ".ref"
    if not os.path.exists(ref) and os.environ.get("REDOUBT_GOLDEN_UPDATE"):
        with open(ref, "wb") as f:
            f.write(got)
    with open(ref, "rb") as f:
        want = f.read()
    assert got == want, "transcript differs:\n" + got.decode("utf-8", "replace")
    assert "role_crashed" not in server.log()
