"""The audit record (issue 10), through the real server and CLI: failed and
successful logins, sessions with counts, admin changes, tampering named by
`audit verify`, and logins that fail closed when the log cannot be written."""
import imaplib
import os
import re
import subprocess
import tempfile
import time

import pytest

import helpers
from helpers import ALICE, ALICE_PW, Line, tls_context


def audit(data, *args):
    return helpers.run("audit", *args, "--data", data.path)


def imap_login(server, user, pw):
    m = imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], ssl_context=tls_context())
    try:
        m.login(user, pw)
        m.select("INBOX")
        m.logout()
        return True
    except imaplib.IMAP4.error:
        return False


def wait_records(data, want, *filters, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        r = audit(data, "query", *filters)
        lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
        if len(lines) >= want or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def test_five_failed_logins_are_five_records(fresh_server):
    for i in range(5):
        assert not imap_login(fresh_server, ALICE, f"wrong{i}")
    lines = wait_records(fresh_server.data, 5, "--user", ALICE, "--kind", "login_failed")
    assert len(lines) == 5, lines
    assert all("address=127.0.0.1" in ln and "protocol=imap" in ln and "mechanism=LOGIN" in ln
               for ln in lines)


def test_client_id_and_mechanism_recorded(fresh_server):
    with Line(fresh_server.ports["imaps"], tls=True) as c:
        c.line()
        c.send(b'i ID ("name" "Thunderbird" "version" "128.0")\r\n')
        c.tagged(b"i")
        import base64
        ir = base64.b64encode(b"\0" + ALICE.encode() + b"\0" + ALICE_PW.encode())
        c.send(b"a AUTHENTICATE PLAIN " + ir + b"\r\n")
        assert c.tagged(b"a")[-1].startswith(b"a OK")
    lines = wait_records(fresh_server.data, 1, "--user", ALICE, "--kind", "login")
    assert "client_id=Thunderbird/128.0" in lines[0] and "mechanism=PLAIN" in lines[0], lines


def test_login_and_session_recorded_with_counts(fresh_server):
    assert imap_login(fresh_server, ALICE, ALICE_PW)
    lines = wait_records(fresh_server.data, 1, "--user", ALICE, "--kind", "session_end")
    assert lines and "messages=0" in lines[0] and "role=worker" in lines[0]
    assert f"principal={ALICE}" in lines[0]
    r = audit(fresh_server.data, "report", "--user", ALICE)
    assert r.returncode == 0, r.stderr
    assert "logged in (imap" in r.stdout and "session ended" in r.stdout


def test_json_query(fresh_server):
    assert imap_login(fresh_server, ALICE, ALICE_PW)
    wait_records(fresh_server.data, 1, "--kind", "login")
    r = audit(fresh_server.data, "query", "--kind", "login", "--json")
    assert r.returncode == 0
    import json
    recs = [json.loads(ln) for ln in r.stdout.splitlines() if ln.strip()]
    assert recs and recs[0]["kind"] == "login" and recs[0]["fields"]["principal"] == ALICE


def test_admin_change_while_serving_is_recorded(fresh_server):
    r = helpers.run("user", "passwd", "--data", fresh_server.data.path, ALICE,
                    "--password-stdin", stdin="a-new-password-1\n")
    assert r.returncode == 0 and "not audited" not in r.stderr, r.stderr
    # user_add (before the server) and user_passwd (through pending/)
    lines = wait_records(fresh_server.data, 2, "--kind", "admin")
    assert any("action=user_passwd" in ln and f"object={ALICE}" in ln for ln in lines), lines


def test_hostile_user_name_cannot_forge_a_record(fresh_server):
    with Line(fresh_server.ports["imaps"], tls=True) as c:
        c.line()
        c.send(b'a LOGIN "x\\" kind=admin action=grant" "pw"\r\n')
        c.tagged(b"a")
    time.sleep(1.5)
    r = audit(fresh_server.data, "query", "--kind", "admin")
    assert "grant" not in r.stdout
    v = audit(fresh_server.data, "verify")
    assert v.returncode == 0, v.stdout + v.stderr


def test_verify_names_the_edited_record(fresh_data):
    s = helpers.Server(fresh_data)
    try:
        for i in range(3):
            imap_login(s, ALICE, f"bad{i}")
    finally:
        s.stop()
    assert audit(fresh_data, "verify").returncode == 0
    seg = os.path.join(fresh_data.path, "audit", "seg-000001.log")
    with open(seg, "rb") as f:
        lines = f.read().split(b"\n")
    target = next(i for i, ln in enumerate(lines) if b"kind=login_failed" in ln)
    lines[target] = lines[target].replace(b"address=127.0.0.1", b"address=127.0.0.9")
    with open(seg, "wb") as f:
        f.write(b"\n".join(lines))
    r = audit(fresh_data, "verify")
    assert r.returncode == 1, r.stdout
    assert re.search(rf"TAMPERED: seg-000001\.log line {target + 1} ", r.stdout), r.stdout


@pytest.fixture
def tiny_audit_disk(fresh_data):
    if not helpers.IS_ROOT:
        pytest.skip("mounting a tmpfs needs root")
    audit_dir = os.path.join(fresh_data.path, "audit")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", audit_dir],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount tmpfs: " + r.stderr)
    yield audit_dir
    subprocess.run(["umount", "-l", audit_dir])


def test_logins_fail_closed_when_the_log_cannot_be_written(fresh_data, tiny_audit_disk):
    s = helpers.Server(fresh_data)
    try:
        assert imap_login(s, ALICE, ALICE_PW), "the log works at first"
        # fill the audit file system
        fd = os.open(os.path.join(tiny_audit_disk, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        # the segment's last page may still hold a record or two; then
        # every login must be refused, never let in unrecorded
        replies = []
        for _ in range(40):
            with Line(s.ports["imaps"], tls=True) as c:
                c.line()
                c.send(b'a LOGIN "' + ALICE.encode() + b'" "' + ALICE_PW.encode() + b'"\r\n')
                replies.append(c.tagged(b"a")[-1])
            if replies[-1].startswith(b"a NO [UNAVAILABLE]"):
                break
        assert replies[-1].startswith(b"a NO [UNAVAILABLE]"), replies
        assert "login_refused" in s.log() and "audit" in s.log()
        # mail already accepted keeps flowing
        import smtplib
        smtp = smtplib.SMTP("127.0.0.1", s.ports["smtp"], timeout=15)
        assert smtp.sendmail("x@example.org", [ALICE], "Subject: still\r\n\r\nyes\r\n") == {}
        smtp.quit()
        os.unlink(os.path.join(tiny_audit_disk, "filler"))
    finally:
        s.stop()


def test_submission_session_is_recorded_with_what_it_sent(fresh_server):
    import smtplib
    with smtplib.SMTP("127.0.0.1", fresh_server.ports["submission"], timeout=10) as s:
        s.starttls(context=tls_context())
        s.login(ALICE, ALICE_PW)
        for i in range(2):
            s.sendmail(ALICE, [ALICE], f"From: {ALICE}\r\nSubject: s{i}\r\n\r\nbody\r\n".encode())
    lines = wait_records(fresh_server.data, 1, "--user", ALICE, "--kind", "session_end")
    sub = [ln for ln in lines if "protocol=submission" in ln]
    assert sub and "sent=2" in sub[0] and "role=smtp-in" in sub[0], lines
    starts = wait_records(fresh_server.data, 1, "--user", ALICE, "--kind", "session_start")
    assert any("protocol=submission" in ln and "address=127.0.0.1" in ln for ln in starts), starts
    r = audit(fresh_server.data, "report", "--user", ALICE)
    assert "session ended (submission): 2 messages sent" in r.stdout, r.stdout
