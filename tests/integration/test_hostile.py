"""Hostile input (THREATS cases 2, 3, 10, 13, 15, 21): each gets a clean
protocol refusal, only the offending connection ends, and no role
crashes."""
import os
import time

import pytest

from helpers import HOSTNAME, Line, flood

TEN_MB = 10 * 1024 * 1024


@pytest.fixture
def no_crash(server):
    """Fails the test if any role crashed while it ran, and checks every
    front still answers a fresh connection afterwards."""
    mark = server.mark()
    yield server
    assert "role_crashed" not in server.since(mark), server.since(mark)
    with Line(server.ports["submission"]) as c:
        assert c.reply()[0] == 220
    with Line(server.ports["imap"]) as c:
        assert c.line().startswith(b"* OK")
    status, _, body = https_exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (status, body) == (200, b"redoubt\n")


def https_exchange(server, request):
    """Send exact bytes over TLS; returns (status, headers dict, body)."""
    with Line(server.ports["https"], tls=True) as c:
        c.send(request)
        data, closed = c.read_all()
    assert closed, "server kept the connection open after answering"
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ")[1])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def get(server, target=b"/", extra=b""):
    return https_exchange(server, b"GET " + target + b" HTTP/1.1\r\nHost: " +
                          HOSTNAME.encode() + b"\r\n" + extra + b"\r\n")


# -- 10 MB lines with no line end (case 3) --------------------------------

def test_smtp_10mb_line_refused_and_closed(no_crash):
    with Line(no_crash.ports["smtp"]) as c:
        assert c.reply()[0] == 220
        got, closed = flood(c, TEN_MB)
    assert got.startswith(b"500 5.5.2 Line too long\r\n"), got[:200]
    assert closed


def test_imap_10mb_line_bye_and_closed(no_crash):
    with Line(no_crash.ports["imap"]) as c:
        c.line()
        got, closed = flood(c, TEN_MB)
    assert got.startswith(b"* BYE"), got[:200]
    assert closed


def test_https_10mb_line_431_or_closed(no_crash):
    with Line(no_crash.ports["https"], tls=True) as c:
        got, closed = flood(c, TEN_MB)
    assert closed
    if got:
        assert got.startswith(b"HTTP/1.1 431 "), got[:200]


# -- IMAP literals before login (case 10) ---------------------------------

def test_imap_huge_sync_literal_refused_session_continues(no_crash):
    with Line(no_crash.ports["imap"]) as c:
        c.line()
        c.send(b"a LOGIN {4294967296}\r\n")
        assert c.tagged(b"a")[-1].startswith(b"a BAD ")
        c.send(b"b NOOP\r\n")
        assert c.tagged(b"b")[-1].startswith(b"b OK")


def test_imap_huge_nonsync_literal_refused_and_closed(no_crash):
    with Line(no_crash.ports["imap"]) as c:
        c.line()
        c.send(b"a LOGIN {18446744073709551615+}\r\n")
        data, closed = c.read_all()
    lines = data.split(b"\r\n")
    assert lines[0].startswith(b"a BAD ")
    assert lines[1].startswith(b"* BYE ")
    assert closed


def test_imap_nonsync_literal_over_4096_before_login_closed(no_crash):
    with Line(no_crash.ports["imap"]) as c:
        c.line()
        c.send(b"a LOGIN {5000+}\r\n" + b"x" * 5000 + b" pw\r\n")
        data, closed = c.read_all()
    assert data.startswith(b"a BAD ")
    assert b"* BYE " in data
    assert closed


# -- HTTP routing and identity headers (cases 13, 15) ---------------------

def test_http_absolute_form_target_400(no_crash):
    port = no_crash.ports["https"]
    status, headers, _ = get(no_crash, b"http://127.0.0.1:%d/" % port)
    assert status == 400
    assert headers[b"connection"] == b"close"


@pytest.mark.parametrize("header", [
    b"X-BEResource: localhost~1942062522",
    b"X-AnonResource-Backend: localhost/ecp/default.flt?~3",
    b"X-Forwarded-Host: 127.0.0.1:2143",
    b"X-Remote-User: bob@example.test",
    b"Cookie: X-BEResource=localhost/EWS/Exchange.asmx?a=~1942062522",
])
def test_http_routing_and_identity_headers_ignored(no_crash, header):
    plain = get(no_crash)
    assert plain[0] == 200
    assert get(no_crash, extra=header + b"\r\n") == plain


@pytest.mark.parametrize("target", [b"/..", b"/%2e%2e/etc/passwd", b"/a%2fb", b"/a%2Fb",
                                    b"/%2E%2E/", b"/a%5cb", b"/a%00", b"//etc/passwd",
                                    b"/a\\b"])
def test_http_path_traversal_forms_400(no_crash, target):
    assert get(no_crash, target)[0] == 400


# -- HTTP smuggling (case 21) ---------------------------------------------

@pytest.mark.parametrize("framing", [
    b"Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
    b"Content-Length: 0\r\nContent-Length: 0\r\n",
    b"Content-Length: 0\r\nContent-Length: 5\r\n",
    b"Transfer-Encoding: chunked, x\r\n",
    b"X-Folded: a\r\n b\r\n",
    b"X-Folded: a\r\n\tb\r\n",
])
def test_http_smuggling_framing_400(no_crash, framing):
    status, headers, _ = get(no_crash, extra=framing)
    assert status == 400
    assert headers[b"connection"] == b"close"


def test_http_duplicate_host_400(no_crash):
    assert get(no_crash, extra=b"Host: 127.0.0.1\r\n")[0] == 400


# -- SMTP before the greeting and pipelined junk (case 2) -----------------

def test_smtp_commands_before_greeting_no_crash(no_crash):
    with Line(no_crash.ports["smtp"]) as c:
        c.send(b"EHLO early.test\r\nMAIL FROM:<a@example.test>\r\nQUIT\r\n")
        data, closed = c.read_all()
    lines = data.split(b"\r\n")
    assert lines[0].startswith(b"220 "), "the greeting must come first"
    assert closed


def test_smtp_pipelined_binary_junk_no_crash(no_crash):
    junk = os.urandom(4000).replace(b"\n", b"") + b"\r\n"
    with Line(no_crash.ports["submission"]) as c:
        c.reply()
        c.send(b"\x00\x01\x02 NOOP\r\n" + b"\xff\xfe\r\n" + b"NO\rOP\r\n" + junk * 3 +
               b"NOOP\r\n")
        data, _ = c.read_all(timeout=3)
    replies = [ln for ln in data.split(b"\r\n") if ln]
    assert replies, "no reply at all"
    assert all(r[:1] in (b"2", b"4", b"5") for r in replies), replies
    assert not any(r.startswith(b"250") for r in replies[:3])


# -- other HTTP refusals and the head deadline (cases 14, 20) --------------

def test_http_head_and_unknown_path(no_crash):
    status, headers, body = https_exchange(
        no_crash, b"HEAD / HTTP/1.1\r\nHost: " + HOSTNAME.encode() + b"\r\n\r\n")
    assert status == 200 and body == b""
    assert get(no_crash, b"/.well-known/caldav")[0] == 404


@pytest.mark.parametrize("request_bytes", [
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
    b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nBad Name: x\r\nHost: x\r\n\r\n",
])
def test_http_malformed_requests_400(no_crash, request_bytes):
    assert https_exchange(no_crash, request_bytes)[0] == 400


def test_http_head_trickle_cut_off_at_head_deadline(no_crash):
    with Line(no_crash.ports["https"], tls=True) as c:
        c.send(b"GET / HTTP/1.1\r\nX-Slow: ")
        t0 = time.monotonic()
        closed = False
        while not closed and time.monotonic() - t0 < 14:
            try:
                c.send(b"a")
                time.sleep(1)
            except OSError:
                closed = True
    assert closed, "still open 14 s into a trickled head"
