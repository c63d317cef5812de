"""Mail in, end to end: SMTP (MX and submission) -> queue -> deliver -> the
user's store, seen through IMAP. Real clients: smtplib, swaks, curl, and a
raw socket for the hostile transcripts (SMTP smuggling, bare LF, long
lines, pipelining, too many recipients)."""
import imaplib
import os
import re
import shutil
import signal
import smtplib
import subprocess
import time

import pytest

import helpers
from helpers import ALICE, ALICE_PW, BOB, BOB_PW, Line

MSG = ("From: Sender <sender@example.org>\r\nTo: alice@example.test\r\n"
       "Subject: {subject}\r\nMessage-ID: <{subject}@example.org>\r\n\r\n"
       "Hello Alice.\r\n.a line that starts with a dot\r\n")


def inbox_count(server, user=ALICE, pw=ALICE_PW):
    m = imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], ssl_context=helpers.tls_context())
    try:
        m.login(user, pw)
        typ, data = m.select("INBOX")
        assert typ == "OK"
        return int(data[0])
    finally:
        m.logout()


def wait_count(server, want, user=ALICE, pw=ALICE_PW, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        n = inbox_count(server, user, pw)
        if n >= want or time.monotonic() > deadline:
            return n
        time.sleep(0.2)


def smtp_session(server, port="smtp"):
    s = smtplib.SMTP("127.0.0.1", server.ports[port], timeout=15)
    s.ehlo("client.example.org")
    return s


def test_mx_delivery_reaches_the_inbox(fresh_server):
    s = smtp_session(fresh_server)
    assert s.sendmail("sender@example.org", [ALICE], MSG.format(subject="one")) == {}
    s.quit()
    assert wait_count(fresh_server, 1) == 1
    log = fresh_server.log()
    assert re.search(r"event=queued qid=\w+ from=sender@example.org", log)
    assert re.search(r"role=deliver .*event=filed .*to=alice@example.test mailbox=INBOX uid=1", log)


def test_ehlo_advertises_the_extensions(server):
    s = smtp_session(server)
    for ext in ("pipelining", "size", "8bitmime", "smtputf8", "enhancedstatuscodes", "starttls"):
        assert s.has_extn(ext), ext
    assert not s.has_extn("auth"), "AUTH must not be offered on the MX port"
    s.quit()


def test_unknown_recipient_refused_at_rcpt(server):
    s = smtp_session(server)
    s.mail("sender@example.org")
    code, text = s.rcpt("nobody@example.test")
    assert code == 550 and text.startswith(b"5.1.1"), (code, text)
    code, text = s.rcpt(ALICE)
    assert code == 250
    s.rset()
    s.quit()


def test_no_relaying_on_the_mx(server):
    s = smtp_session(server)
    s.mail("sender@example.org")
    code, text = s.rcpt("someone@elsewhere.example")
    assert code == 554 and text.startswith(b"5.7.1"), (code, text)
    s.quit()


def test_submission_requires_auth_and_owns_the_sender(server):
    s = smtp_session(server, "submission")
    s.starttls(context=helpers.tls_context())
    s.ehlo("client.example.org")
    code, text = s.mail(ALICE)
    assert code == 530 and text.startswith(b"5.7.0"), (code, text)
    s.login(ALICE, ALICE_PW)
    code, text = s.mail("ceo@example.test")
    assert code == 553 and text.startswith(b"5.7.1"), (code, text)
    code, _ = s.mail(ALICE)
    assert code == 250
    assert s.rcpt(BOB)[0] == 250
    code, text = s.data(b"Subject: from alice\r\n\r\nhi bob\r\n")
    assert code == 250 and b"queued as" in text
    s.quit()
    assert wait_count(server, 1, BOB, BOB_PW) >= 1


def test_received_header_and_dot_unstuffing(fresh_server):
    s = smtplib.SMTP_SSL("127.0.0.1", fresh_server.ports["submissions"],
                         context=helpers.tls_context(), timeout=15)
    s.login(ALICE, ALICE_PW)
    s.sendmail(ALICE, [ALICE], MSG.format(subject="dots"))
    s.quit()
    assert wait_count(fresh_server, 1) == 1
    # read the stored message straight from the blob (IMAP FETCH is the
    # IMAP issue's): it starts with our headers, dot-unstuffed body after
    store = fresh_server.data.stores[ALICE]
    blobs = os.path.join(fresh_server.data.path, "stores", store, "blobs")
    files = [os.path.join(dp, f) for dp, _, fs in os.walk(blobs) for f in fs]
    assert len(files) == 1
    raw = open(files[0], "rb").read()
    assert raw.startswith(b"Return-Path: <alice@example.test>\r\nDelivered-To: alice@example.test\r\n"
                          b"Received: from ")
    assert re.search(rb"with ESMTPSA\r\n\t\(TLSv1\.[23]/", raw), raw[:400]
    # smtplib sent "..a line", the stored message has the one dot back
    assert raw.endswith(b"Hello Alice.\r\n.a line that starts with a dot\r\n")


def raw_smtp(server):
    c = Line(server.ports["smtp"])
    assert c.reply()[0] == 220
    c.send(b"EHLO raw.example\r\n")
    assert c.reply()[0] == 250
    return c


@pytest.mark.parametrize("smuggle", [b"\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\n", b"\n.\r"])
def test_smtp_smuggling_is_one_message_or_a_refusal(fresh_server, smuggle):
    c = raw_smtp(fresh_server)
    mark = fresh_server.mark()
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    assert c.reply()[0] == 354
    c.send(b"Subject: x\r\n\r\nbody" + smuggle +
           b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n"
           b"Subject: smuggled\r\n\r\nsmuggled\r\n.\r\n")
    code, _ = c.reply()
    # either refused (bare CR/LF), or accepted as exactly one message
    c.send(b"QUIT\r\n")
    rest = []
    while True:
        ln = c.line()
        if not ln:
            break
        rest.append(ln)
    c.close()
    time.sleep(0.5)
    queued = re.findall(r"event=queued ", fresh_server.since(mark))
    if code == 250:
        assert len(queued) == 1
    else:
        assert 500 <= code < 600 and len(queued) == 0
    # the smuggled MAIL never ran as a command
    assert not any(r.startswith(b"250 2.1.0") for r in rest), rest


def test_bare_lf_refused_after_the_end(server):
    c = raw_smtp(server)
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    for _ in range(3):
        c.reply()
    c.send(b"Subject: x\r\n\r\nline with bare\nLF\r\n.\r\n")
    code, text = c.reply()
    assert 500 <= code < 600, (code, text)
    c.send(b"NOOP\r\n")
    assert c.reply()[0] == 250, "the session goes on after a refused message"
    c.close()


def test_long_data_line_refused(server):
    c = raw_smtp(server)
    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    for _ in range(3):
        c.reply()
    c.send(b"Subject: x\r\n\r\n" + b"x" * 1200 + b"\r\n.\r\n")
    code, text = c.reply()
    assert code == 500 and text[0].startswith(b"5.5.2"), (code, text)
    c.close()


def test_pipelined_transaction(fresh_server):
    c = raw_smtp(fresh_server)
    c.send(b"MAIL FROM:<p@example.org>\r\nRCPT TO:<alice@example.test>\r\n"
           b"RCPT TO:<nobody@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(4)] == [250, 250, 550, 354]
    c.send(b"Subject: piped\r\n\r\nhi\r\n.\r\nNOOP\r\nQUIT\r\n")
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    assert c.reply()[0] == 221
    c.close()
    assert wait_count(fresh_server, 1) == 1


def test_too_many_recipients(server):
    c = raw_smtp(server)
    c.send(b"MAIL FROM:<a@example.org>\r\n")
    assert c.reply()[0] == 250
    codes = []
    for _ in range(101):
        c.send(b"RCPT TO:<alice@example.test>\r\n")
        codes.append(c.reply()[0])
    assert codes[:100] == [250] * 100
    assert codes[100] == 452
    c.close()


def test_size_declared_too_big(server):
    c = raw_smtp(server)
    c.send(b"MAIL FROM:<a@example.org> SIZE=999999999999\r\n")
    code, text = c.reply()
    assert code == 552 and text[0].startswith(b"5.3.4"), (code, text)
    c.close()


def test_message_over_the_configured_size(fresh_data):
    text = fresh_data.read_conf()
    text = re.sub(r"(?m)^max_message_size = .*$", "max_message_size = 65536", text)
    fresh_data.write_conf(text)
    s = helpers.Server(fresh_data)
    try:
        c = Line(s.ports["smtp"])
        c.reply()
        c.send(b"EHLO x\r\n")
        _, lines = c.reply()
        assert b"SIZE 65536" in lines
        c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
        for _ in range(3):
            c.reply()
        body = (b"y" * 70 + b"\r\n") * 2000
        c.send(b"Subject: big\r\n\r\n" + body + b".\r\n")
        code, text = c.reply()
        assert code == 552 and text[0].startswith(b"5.3.4"), (code, text)
        c.send(b"NOOP\r\n")
        assert c.reply()[0] == 250
        c.close()
        assert "event=queued" not in s.log()
    finally:
        s.stop()


def test_alias_delivers_once_to_each_member(fresh_data):
    fresh_data.add_user(BOB, BOB_PW)
    for target in (ALICE, BOB):
        r = helpers.run("alias", "add", "--data", fresh_data.path, "team@example.test", target)
        assert r.returncode == 0, r.stderr
    s = helpers.Server(fresh_data)
    try:
        smtp = smtp_session(s)
        smtp.sendmail("x@example.org", ["team@example.test", ALICE], "Subject: team\r\n\r\nhi\r\n")
        smtp.quit()
        assert wait_count(s, 1) == 1, "alice listed twice still gets one copy"
        assert wait_count(s, 1, BOB, BOB_PW) == 1
    finally:
        s.stop()


def test_acknowledged_mail_survives_kill_9(fresh_data):
    s = helpers.Server(fresh_data)
    smtp = smtp_session(s)
    code, _ = smtp.mail("k@example.org")
    smtp.rcpt(ALICE)
    code, text = smtp.data(b"Subject: survive\r\n\r\nafter the 250, kill -9\r\n")
    assert code == 250
    # kill every process of the server at once, no clean stop
    os.killpg(s.proc.pid, signal.SIGKILL)
    s.proc.wait(10)
    s2 = helpers.Server(fresh_data)
    try:
        assert wait_count(s2, 1) == 1
        time.sleep(1)
        assert inbox_count(s2) == 1, "delivered exactly once"
    finally:
        s2.stop()


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks not installed")
def test_swaks_submission(server):
    r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(server.ports["submission"]),
                        "--tls", "--auth", "PLAIN", "--auth-user", BOB, "--auth-password", BOB_PW,
                        "--from", BOB, "--to", ALICE, "--header", "Subject: swaks"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "235 2.7.0" in r.stdout and "250 2.0.0 Ok: queued as" in r.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl_sends_mail(server, tmp_path):
    msg = tmp_path / "m.eml"
    msg.write_bytes(b"From: curl@example.org\r\nSubject: curl\r\n\r\nsent by curl\r\n")
    r = subprocess.run(["curl", "-sS", f"smtp://127.0.0.1:{server.ports['smtp']}",
                        "--mail-from", "curl@example.org", "--mail-rcpt", BOB,
                        "--upload-file", str(msg)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def test_bdat_chunking(fresh_server):
    c = raw_smtp(fresh_server)
    part1 = b"Subject: chunked\r\n\r\nfirst part, "
    part2 = b"second part\r\n.not stuffed\r\n"
    c.send(b"MAIL FROM:<b@example.org> BODY=8BITMIME\r\nRCPT TO:<alice@example.test>\r\n")
    assert c.reply()[0] == 250
    assert c.reply()[0] == 250
    c.send(b"BDAT %d\r\n" % len(part1) + part1)
    code, text = c.reply()
    assert code == 250 and text[0].startswith(b"2.0.0 %d octets" % len(part1)), (code, text)
    c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
    code, text = c.reply()
    assert code == 250 and b"queued as" in text[0], (code, text)
    c.send(b"BDAT 5 LAST\r\nhello")
    code, _ = c.reply()
    assert code == 503, "BDAT without a transaction is refused after its chunk is read"
    c.send(b"NOOP\r\n")
    assert c.reply()[0] == 250
    c.close()
    assert wait_count(fresh_server, 1) == 1
    store = fresh_server.data.stores[ALICE]
    blobs = os.path.join(fresh_server.data.path, "stores", store, "blobs")
    raw = [open(os.path.join(dp, f), "rb").read() for dp, _, fs in os.walk(blobs) for f in fs][0]
    assert raw.endswith(b"first part, second part\r\n.not stuffed\r\n")


@pytest.fixture
def small_disk():
    """A 16 MiB tmpfs to run out of space on (root only)."""
    if not helpers.IS_ROOT:
        pytest.skip("mounting a tmpfs needs root")
    import tempfile
    mnt = tempfile.mkdtemp(prefix="redoubt-full-")
    os.chmod(mnt, 0o755)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", mnt],
                       capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(mnt)
        pytest.skip("cannot mount tmpfs: " + r.stderr)
    yield mnt
    subprocess.run(["umount", "-l", mnt])
    os.rmdir(mnt)


def test_disk_full_is_a_temporary_failure_and_loses_nothing(small_disk, monkeypatch):
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", small_disk)
    data = helpers.DataDir()
    data.stores = {ALICE: data.add_user(ALICE, ALICE_PW)}
    s = helpers.Server(data)
    try:
        smtp = smtp_session(s)
        assert smtp.sendmail("a@example.org", [ALICE], MSG.format(subject="before")) == {}
        assert wait_count(s, 1) == 1
        # eat the rest of the disk
        filler = os.path.join(small_disk, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * (1 << 16))
        except OSError:
            pass
        finally:
            os.close(fd)
        big = "Subject: big\r\n\r\n" + ("z" * 76 + "\r\n") * 30000
        smtp.mail("a@example.org")
        smtp.rcpt(ALICE)
        code, text = smtp.data(big.encode())
        assert code == 452 and text.startswith(b"4.3.1"), (code, text)
        assert smtp.noop()[0] == 250, "the session and the server go on"
        os.unlink(filler)
        assert smtp.sendmail("a@example.org", [ALICE], MSG.format(subject="after")) == {}
        smtp.quit()
        assert wait_count(s, 2) == 2, "the message from before the disk filled is still there"
    finally:
        s.stop()
        data.remove()


def test_concurrent_senders_all_delivered_once(fresh_server):
    """Twenty sessions at once: commits share flushes (group commit), a
    busy queue pushes back instead of failing, nothing lost or doubled."""
    import threading
    errors = []
    body = "Subject: load\r\n\r\n" + ("line of load\r\n" * 400)

    def sender(n):
        try:
            s = smtp_session(fresh_server)
            for i in range(5):
                s.sendmail(f"s{n}@example.org", [ALICE], body)
            s.quit()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    assert wait_count(fresh_server, 100, timeout=60) == 100
    time.sleep(1)
    assert inbox_count(fresh_server) == 100
    assert len(re.findall(r"event=queued ", fresh_server.log())) == 100


BIG = "Subject: big\r\n\r\n" + ("q" * 76 + "\r\n") * 8000   # ~620 KiB


def nearly_full_store(data):
    """A server whose alice has a 1 MiB quota and one ~620 KiB message:
    the next big one cannot be filed."""
    text = data.read_conf()
    text, n = re.subn(r"(?m)^mailbox_quota_mib = .*$", "mailbox_quota_mib = 1", text)
    assert n == 1
    data.write_conf(text)
    s = helpers.Server(data)
    smtp = smtp_session(s)
    assert smtp.sendmail("a@example.org", [ALICE], BIG) == {}
    assert wait_count(s, 1) == 1
    return s, smtp


def test_quota_defers_and_refuses_at_rcpt(fresh_data):
    s, smtp = nearly_full_store(fresh_data)
    try:
        big = BIG
        # the second one does not fit: accepted (the store's state was not
        # known), kept in the queue, never lost
        assert smtp.sendmail("a@example.org", [ALICE], big) == {}
        s.wait_log(r"event=delivery_deferred .*reason=\"mailbox full\"", timeout=15)
        assert inbox_count(s) == 1
        # now the queue knows: RCPT gets 452 4.2.2
        smtp.mail("a@example.org")
        code, text = smtp.rcpt(ALICE)
        assert code == 452 and text.startswith(b"4.2.2"), (code, text)
        smtp.quit()
        spool = os.path.join(fresh_data.path, "spool", "q")
        assert any(f.endswith(".msg") for f in os.listdir(spool)), "the deferred message waits"
    finally:
        s.stop()


def test_queue_list_shows_waiting_mail_with_its_dsn_parameters(fresh_data):
    # a full store keeps the message queued; `redoubt queue list` shows it
    # with what RCPT said for the DSNs (RFC 3461 NOTIFY, ORCPT)
    s, smtp = nearly_full_store(fresh_data)
    try:
        mark = s.mark()
        assert smtp.sendmail("a@example.org", [ALICE], BIG, mail_options=["RET=HDRS", "ENVID=e1"],
                             rcpt_options=["NOTIFY=SUCCESS,FAILURE",
                                           "ORCPT=rfc822;Alice+2BTag@Example.test"]) == {}
        s.wait_log(r"event=delivery_deferred", since=mark, timeout=15)
        smtp.quit()
        r = helpers.run("queue", "list", "--data", fresh_data.path)
        assert r.returncode == 0, r.stderr
        assert "1 message in the queue" in r.stdout, r.stdout
        assert "from <a@example.org>" in r.stdout and "RET=HDRS" in r.stdout, r.stdout
        assert f"<{ALICE}>  pending" in r.stdout, r.stdout
        assert "NOTIFY=SUCCESS,FAILURE" in r.stdout, r.stdout
        assert "ORCPT=rfc822;Alice+Tag@Example.test" in r.stdout, r.stdout
    finally:
        s.stop()


@pytest.mark.parametrize("role", ["smtp-in", "queue"])
def test_kill_9_during_data_loses_nothing_and_shows_nothing(fresh_server, role):
    s = fresh_server
    smtp = smtp_session(s)
    assert smtp.sendmail("a@example.org", [ALICE], MSG.format(subject="before")) == {}
    assert wait_count(s, 1) == 1
    c = raw_smtp(s)
    c.send(b"MAIL FROM:<k@example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n")
    assert [c.reply()[0] for _ in range(3)] == [250, 250, 354]
    c.send(b"Subject: half\r\n\r\n" + b"half a message\r\n" * 2000)
    time.sleep(0.5)
    mark = s.mark()
    pid = int(re.findall(rf"event=role_started role={role} child=(\d+)", s.log())[-1])
    os.kill(pid, signal.SIGKILL)
    s.wait_log(rf"event=role_crashed role={role}", since=mark)
    s.wait_log(rf"role={role} .*event=role_ready", since=mark, timeout=15)
    # the client never gets a 250 for the half message
    c.sock.settimeout(3)
    try:
        c.send(b"more\r\n.\r\n")
        code = c.reply()[0]
    except (OSError, AssertionError):
        code = None
    assert code != 250, "a message cut by kill -9 must not be acknowledged"
    c.close()
    time.sleep(1.5)
    assert inbox_count(s) == 1, "nothing partial appears, nothing earlier is lost"
    tmp = os.path.join(s.data.path, "spool", "tmp")
    assert os.listdir(tmp) == [], os.listdir(tmp)
    smtp = smtp_session(s)
    assert smtp.sendmail("a@example.org", [ALICE], MSG.format(subject="after")) == {}
    smtp.quit()
    assert wait_count(s, 2) == 2


def deliver_pids(server):
    """The server's deliver processes (its own process group)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if argv[1:3] == [b"role", b"deliver"] and os.getpgid(int(d)) == server.proc.pid:
                pids.append(int(d))
        except (OSError, IndexError):
            pass
    return pids


def test_deliver_killed_mid_batch_files_each_message_once(fresh_data):
    """kill -9 of deliver while batches are being filed: what it had
    committed but not yet answered is retried by the queue and recognised
    by its delivery key, so after a restart every message is there once."""
    import threading
    s = helpers.Server(fresh_data)
    errors, done, kills = [], threading.Event(), []

    def sender(n):
        try:
            c = smtp_session(s)
            for i in range(10):
                c.sendmail(f"s{n}@example.org", [ALICE], MSG.format(subject=f"m{n}-{i}"))
            c.quit()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    def killer():
        while not done.is_set():
            for pid in deliver_pids(s):
                try:
                    os.kill(pid, signal.SIGKILL)
                    kills.append(pid)
                except OSError:
                    pass
            time.sleep(0.003)

    k = threading.Thread(target=killer)
    k.start()
    threads = [threading.Thread(target=sender, args=(n,)) for n in range(6)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        done.set()
        k.join(10)
    assert not errors, errors[:3]
    assert kills, "no deliver process was caught: the test proved nothing"
    got = inbox_count(s)
    s.stop()
    # restarted, the queue delivers what is pending at once
    s2 = helpers.Server(fresh_data)
    try:
        n2 = wait_count(s2, 60, timeout=30)
        assert n2 == 60, f"{got} filed before the restart"
        time.sleep(1)
        assert inbox_count(s2) == 60, "each message exactly once"
        m = imaplib.IMAP4_SSL("127.0.0.1", s2.ports["imaps"], ssl_context=helpers.tls_context())
        m.login(ALICE, ALICE_PW)
        m.select("INBOX")
        typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subjects = sorted(re.findall(rb"Subject: (m\d+-\d+)", b"".join(
            p[1] for p in data if isinstance(p, tuple))))
        m.logout()
        assert subjects == sorted(f"m{n}-{i}".encode() for n in range(6) for i in range(10))
    finally:
        s2.stop()
