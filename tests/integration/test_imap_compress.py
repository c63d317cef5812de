"""COMPRESS=DEFLATE (RFC 4978): after "OK DEFLATE active" both directions
are raw DEFLATE. A client written here on Python's zlib (imaplib has no
COMPRESS) logs in, compresses, and runs real commands; a decompression
bomb (a few KiB that inflate to megabytes without a line end) gets the
line cap, not the server's memory."""
import re
import socket
import ssl
import zlib

import pytest

import helpers
from helpers import ALICE, ALICE_PW, tls_context


class Z:
    """An IMAPS connection that can switch to DEFLATE."""

    def __init__(self, port):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock = tls_context().wrap_socket(raw, server_hostname="localhost")
        self.buf = b""
        self.z_out = self.z_in = None

    def send(self, data):
        if self.z_out:
            data = self.z_out.compress(data) + self.z_out.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += self.z_in.decompress(data) if self.z_in else data

    def line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def tagged(self, tag):
        lines = []
        while True:
            lines.append(self.line())
            if lines[-1].startswith(tag + b" "):
                return lines

    def compress(self):
        self.send(b"z COMPRESS DEFLATE\r\n")
        assert self.tagged(b"z")[-1] == b"z OK DEFLATE active"
        assert self.buf == b""
        self.z_out = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.z_in = zlib.decompressobj(-15)

    def close(self):
        self.sock.close()


@pytest.fixture
def conn(server):
    c = Z(server.ports["imaps"])
    c.line()
    c.send(b'a LOGIN "%s" "%s"\r\n' % (ALICE.encode(), ALICE_PW.encode()))
    assert c.tagged(b"a")[-1].startswith(b"a OK")
    yield c
    c.close()


def test_commands_work_compressed(conn):
    conn.send(b"b CAPABILITY\r\n")
    assert b"COMPRESS=DEFLATE" in conn.tagged(b"b")[0]
    conn.compress()
    conn.send(b"c SELECT INBOX\r\n")
    assert conn.tagged(b"c")[-1].startswith(b"c OK [READ-WRITE]")
    body = b"Subject: squeezed\r\n\r\n" + b"compressible line\r\n" * 2000
    conn.send(b"d APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n")
    assert b"APPENDUID" in conn.tagged(b"d")[-1]
    conn.send(b"e UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n")
    assert any(b"squeezed" in ln for ln in conn.tagged(b"e"))
    conn.send(b"f COMPRESS DEFLATE\r\n")
    assert b"COMPRESSIONACTIVE" in conn.tagged(b"f")[-1]
    conn.send(b"g LOGOUT\r\n")
    assert conn.tagged(b"g")[-1].startswith(b"g OK")


def test_decompression_bomb_meets_the_line_cap(conn):
    conn.compress()
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = bomb.compress(b"h NOOP " + b"A" * (16 << 20)) + bomb.flush(zlib.Z_SYNC_FLUSH)
    assert len(data) < 64 << 10
    conn.sock.sendall(data)
    lines = []
    try:
        while True:
            lines.append(conn.line())
    except (EOFError, OSError, zlib.error):
        pass
    assert any(ln.startswith(b"* BYE") for ln in lines), lines


def test_garbage_after_compress_closes(conn):
    conn.compress()
    conn.sock.sendall(b"\xff" * 64)   # not a DEFLATE stream
    with pytest.raises((EOFError, OSError, zlib.error)):
        for _ in range(20):
            conn.line()


def test_big_messages_stream_exactly_plain_and_compressed(conn):
    # over 256 KiB, BODY[] and RFC822 go out from the message's file
    import random
    rnd = random.Random(7)
    bodies = []
    for i in range(6):
        text = "".join(rnd.choice("abcdefghij \r\n") for _ in range(300000 + i * 1000))
        msg = (f"Subject: big {i}\r\n\r\n" + text.replace("\r", "").replace("\n", "\r\n")
               + "\r\n").encode()
        bodies.append(msg)
        conn.send(b"a%d APPEND INBOX {%d+}\r\n" % (i, len(msg)) + msg + b"\r\n")
        assert b"APPENDUID" in conn.tagged(b"a%d" % i)[-1]
    conn.send(b"s SELECT INBOX\r\n")
    lines = conn.tagged(b"s")
    total = int([ln for ln in lines if ln.endswith(b" EXISTS")][0].split()[1])
    first = total - len(bodies) + 1

    def fetch_all(tag, item, name):
        conn.send(b"%s FETCH %d:* (UID %s)\r\n" % (tag, first, item))
        got = []
        while True:
            ln = conn.line()
            if ln.startswith(tag + b" "):
                assert ln.startswith(tag + b" OK"), ln
                return got
            m = re.search(rb"%s \{(\d+)\}$" % re.escape(name), ln)
            assert m, ln
            n = int(m.group(1))
            while len(conn.buf) < n:
                conn._fill()
            got.append(conn.buf[:n])
            conn.buf = conn.buf[n:]
            assert conn.line() == b")"

    assert fetch_all(b"f", b"BODY.PEEK[]", b"BODY[]") == bodies
    conn.compress()
    assert fetch_all(b"g", b"RFC822", b"RFC822") == bodies
    conn.send(b"h FETCH %d (FLAGS)\r\n" % first)
    assert b"\\Seen" in conn.tagged(b"h")[0], "RFC822 sets \\Seen"
