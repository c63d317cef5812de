"""Golden SMTP transcripts: tests/golden/smtp/NAME.in is sent to the MX
port in one write (pipelining abuse included), the whole answer until the
server closes is compared with NAME.ref. Queue ids are replaced by QID and
dates in replies never appear. Run with REDOUBT_GOLDEN_UPDATE=1 to write
missing .ref files (then read them before committing)."""
import glob
import os
import re
import socket
import time

import pytest

import helpers

GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden", "smtp")
CASES = sorted(glob.glob(os.path.join(GOLDEN, "*.in")))


def normalise(data):
    return re.sub(rb"queued as [0-9a-f]{16}", b"queued as QID", data)


def transcript(port, data, timeout=15):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = b""
    deadline = time.monotonic() + timeout
    # wait for the greeting first: sending before it is its own test
    while b"\r\n" not in got:
        got += s.recv(4096)
    s.sendall(data)
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        got += chunk
    s.close()
    return normalise(got)


@pytest.mark.parametrize("case", CASES, ids=[os.path.basename(c)[:-3] for c in CASES])
def test_golden_transcript(fresh_server, case):
    with open(case, "rb") as f:
        data = f.read()
    got = transcript(fresh_server.ports["smtp"], data)
    helpers.check_golden(case, got, fresh_server)
