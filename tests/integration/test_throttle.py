"""Login throttling (issue 10): a guessing loop slows down, the owner's
known address keeps working. The attacker connects from 127.0.0.2 and
alice from 127.0.0.1, both loopback, so the server sees two addresses."""
import socket
import time

import helpers
from helpers import ALICE, ALICE_PW, Line, tls_context


def imaps_from(server, source):
    s = socket.create_connection(("127.0.0.1", server.ports["imaps"]), timeout=60,
                                 source_address=(source, 0))
    c = Line.__new__(Line)
    c.sock = tls_context().wrap_socket(s)
    c.buf = b""
    c.line()
    return c


def login(c, user, pw, tag=b"a"):
    c.send(tag + b' LOGIN "' + user.encode() + b'" "' + pw.encode() + b'"\r\n')
    return c.tagged(tag)[-1]


def test_guessing_slows_down_and_alice_keeps_working(fresh_server):
    # alice logs in once from her usual address: it becomes known good
    c = imaps_from(fresh_server, "127.0.0.1")
    assert b"OK" in login(c, ALICE, ALICE_PW)
    c.close()
    # a guesser from another address: each refusal waits longer
    times = []
    t_end = time.monotonic() + 12
    while time.monotonic() < t_end:
        g = imaps_from(fresh_server, "127.0.0.2")
        t0 = time.monotonic()
        reply = login(g, ALICE, f"guess{len(times)}")
        times.append(time.monotonic() - t0)
        g.close()
        assert reply == b"a " + helpers.AUTH_FAILED, "the same words whatever the delay"
    # a flat 0.5 s delay would allow ~24 guesses in 12 s; doubling allows ~5
    assert len(times) <= 6, times
    assert times[-1] > 2 * times[0], times
    assert "event=login_delayed" in fresh_server.log()
    # alice, from her known address, is let in at once
    c = imaps_from(fresh_server, "127.0.0.1")
    t0 = time.monotonic()
    assert b"OK" in login(c, ALICE, ALICE_PW)
    assert time.monotonic() - t0 < 2
    c.close()
