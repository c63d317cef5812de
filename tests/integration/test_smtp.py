"""SMTP: AUTH only over TLS on submission, uniform failures, no mail
transaction before AUTH on submission, error limits, and STARTTLS
discarding what was pipelined behind it (THREATS cases 4 and 5)."""
import base64
import imaplib
import re
import smtplib
import subprocess
import time

import pytest

import helpers

from helpers import ALICE, ALICE_PW, BOB, HOSTNAME, Line, tls_context


def plain(user, password):
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def submission(server):
    s = smtplib.SMTP("127.0.0.1", server.ports["submission"], timeout=10)
    s.ehlo("client.test")
    return s


def tls_submission(server):
    s = submission(server)
    s.starttls(context=tls_context())
    s.ehlo("client.test")
    return s


def test_plaintext_submission_ehlo_offers_starttls_not_auth(server):
    with submission(server) as s:
        assert s.has_extn("starttls")
        assert not s.has_extn("auth")


def test_auth_before_starttls_refused_530_without_checking(server):
    mark = server.mark()
    with submission(server) as s:
        t0 = time.monotonic()
        code, msg = s.docmd("AUTH", "PLAIN " + plain(ALICE, ALICE_PW))
        elapsed = time.monotonic() - t0
    assert code == 530
    assert msg.startswith(b"5.7.0 ")
    # correct credentials were refused, instantly, and never reached auth
    assert elapsed < 0.4
    assert "event=login" not in server.since(mark)


def test_auth_plain_after_starttls_succeeds_235(server):
    with tls_submission(server) as s:
        assert s.has_extn("auth")
        code, msg = s.docmd("AUTH", "PLAIN " + plain(ALICE, ALICE_PW))
        assert code == 235, msg
        # once authenticated, AUTH is no longer offered
        s.ehlo("client.test")
        assert not s.has_extn("auth")


def test_smtplib_login_after_starttls(server):
    with tls_submission(server) as s:
        code, _ = s.login(ALICE, ALICE_PW)
        assert code == 235


def test_wrong_password_535_and_unknown_user_identical(server):
    replies = []
    for user, password in ((ALICE, "wrong-password"), ("nobody@example.test", ALICE_PW)):
        with tls_submission(server) as s:
            replies.append(s.docmd("AUTH", "PLAIN " + plain(user, password)))
    assert replies[0][0] == 535
    assert replies[0][1].startswith(b"5.7.8 ")
    assert replies[0] == replies[1]


def test_auth_on_mx_port_refused_503(server):
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=10) as s:
        s.ehlo("client.test")
        assert not s.has_extn("auth")
        s.starttls(context=tls_context())
        s.ehlo("client.test")
        assert not s.has_extn("auth")
        code, _ = s.docmd("AUTH", "PLAIN " + plain(ALICE, ALICE_PW))
        assert code == 503


def test_mail_from_on_submission_needs_auth(server):
    # the foundation refused every transaction with 502; with transactions
    # in, submission still refuses MAIL until the client has authenticated
    with tls_submission(server) as s:
        code, msg = s.docmd("MAIL", "FROM:<alice@example.test>")
    assert 500 <= code <= 599
    assert re.match(rb"5\.\d\.\d [A-Z]\w* \w+", msg), msg


def test_too_many_errors_421_and_disconnect(server):
    with Line(server.ports["submission"]) as c:
        assert c.reply()[0] == 220
        c.send(b"BOGUS\r\n" * 12)
        codes = []
        while True:
            code, text = c.reply()
            codes.append(code)
            if code == 421:
                break
        assert codes[:-1] == [500] * (len(codes) - 1) and len(codes) >= 2
        assert b"Too many errors" in text[0]
        data, closed = c.read_all()
        assert closed and data == b""


def test_quit_221_closes(server):
    with Line(server.ports["submission"]) as c:
        c.reply()
        c.send(b"QUIT\r\n")
        code, text = c.reply()
        assert code == 221
        assert text[0].startswith(b"2.0.0 " + HOSTNAME.encode())
        assert c.read_all() == (b"", True)


@pytest.mark.parametrize("smuggled", [b"RSET", b"HELP", b"VRFY alice"])
def test_starttls_discards_pipelined_command(server, smuggled):
    with Line(server.ports["submission"]) as c:
        c.reply()
        c.send(b"EHLO client.test\r\n")
        c.reply()
        c.send(b"STARTTLS\r\n" + smuggled + b"\r\n")
        assert c.reply()[0] == 220
        c.starttls()
        c.send(b"NOOP\r\n")
        # the first reply under TLS is the NOOP's (HELP would give 214,
        # VRFY 252); had RSET run, its 250 would come before QUIT's 221
        assert c.reply() == (250, [b"2.0.0 OK"])
        c.send(b"QUIT\r\n")
        assert c.reply()[0] == 221


def test_swaks_authenticates_over_starttls(server):
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{server.ports['submission']}",
                        "--tls", "--auth", "PLAIN", "--auth-user", ALICE,
                        "--auth-password", ALICE_PW, "--from", ALICE, "--to", ALICE,
                        "--helo", "client.test", "--timeout", "10"],
                       capture_output=True, text=True, timeout=30, check=False)
    out = r.stdout + r.stderr
    assert re.search(r"(?m)^<~\s+235 ", out), out


def test_auth_login_mechanism_succeeds(server):
    with tls_submission(server) as s:
        code, msg = s.docmd("AUTH", "LOGIN")
        assert (code, msg) == (334, b"VXNlcm5hbWU6")
        code, msg = s.docmd(base64.b64encode(ALICE.encode()).decode())
        assert (code, msg) == (334, b"UGFzc3dvcmQ6")
        code, _ = s.docmd(base64.b64encode(ALICE_PW.encode()).decode())
        assert code == 235


def test_auth_plain_with_continuation_succeeds(server):
    with tls_submission(server) as s:
        assert s.docmd("AUTH", "PLAIN")[0] == 334
        assert s.docmd(plain(ALICE, ALICE_PW))[0] == 235


def test_auth_plain_foreign_authzid_refused(server):
    with tls_submission(server) as s:
        ir = base64.b64encode(f"{BOB}\0{ALICE}\0{ALICE_PW}".encode()).decode()
        code, msg = s.docmd("AUTH", "PLAIN " + ir)
    assert code == 535 and msg.startswith(b"5.7.8 ")


def test_starttls_forgets_ehlo(server):
    with submission(server) as s:
        s.starttls(context=tls_context())
        # RFC 3207 4.2: the session starts over; no AUTH before a new EHLO
        code, _ = s.docmd("AUTH", "PLAIN " + plain(ALICE, ALICE_PW))
        assert code == 503


def test_second_starttls_refused(server):
    with tls_submission(server) as s:
        assert s.docmd("STARTTLS")[0] == 503


def test_shell_metacharacters_in_envelope_spawn_nothing(server, tmp_path):
    marker = tmp_path / "pwned"
    with tls_submission(server) as s:
        s.login(ALICE, ALICE_PW)
        for cmd, arg in (("MAIL", f"FROM:<`touch {marker}`@example.test>"),
                         ("MAIL", f"FROM:<a@example.test> ; touch {marker}"),
                         ("RCPT", f"TO:<$(touch {marker})@example.test>"),
                         ("RCPT", f"TO:<a@example.test>|touch {marker}")):
            code, _ = s.docmd(cmd, arg)
            assert 500 <= code <= 599, (cmd, arg, code)
    time.sleep(0.2)
    assert not marker.exists()


def test_bare_postmaster_reaches_the_domains_postmaster(fresh_server):
    # RFC 5321 4.5.1: RCPT TO:<Postmaster> without a domain must work
    import smtplib
    with smtplib.SMTP("127.0.0.1", fresh_server.ports["smtp"], timeout=10) as s:
        s.ehlo("client.example.org")
        s.mail("someone@example.org")
        code, msg = s.rcpt("<Postmaster>")
        assert code == 550 and b"no postmaster" in msg, (code, msg)
    r = helpers.run("alias", "add", "--data", fresh_server.data.path,
                    "postmaster@" + helpers.DOMAIN, helpers.ALICE)
    assert r.returncode == 0, r.stderr
    with smtplib.SMTP("127.0.0.1", fresh_server.ports["smtp"], timeout=10) as s:
        s.ehlo("client.example.org")
        s.mail("someone@example.org")
        code, msg = s.rcpt("<Postmaster>")
        assert code == 250, (code, msg)
        code, msg = s.data(b"Subject: to the postmaster\r\n\r\nhello\r\n")
        assert code == 250, (code, msg)
    m = imaplib.IMAP4_SSL("127.0.0.1", fresh_server.ports["imaps"], ssl_context=tls_context(),
                          timeout=10)
    try:
        m.login(helpers.ALICE, helpers.ALICE_PW)
        for _ in range(100):
            typ, data = m.select("INBOX")
            if int(data[0]) >= 1:
                break
            time.sleep(0.1)
        typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT DELIVERED-TO)])")
        assert b"to the postmaster" in data[0][1]
    finally:
        m.logout()


def test_max_recipients_above_100_is_honoured(fresh_data):
    text = fresh_data.read_conf()
    text, n = re.subn(r"(?m)^max_recipients = .*$", "max_recipients = 150", text)
    assert n == 1
    fresh_data.write_conf(text)
    s = helpers.Server(fresh_data)
    try:
        s.wait_log(r"event=queue_link_up", timeout=20)
        with smtplib.SMTP("127.0.0.1", s.ports["smtp"], timeout=20) as c:
            c.ehlo("client.example.org")
            c.mail("someone@example.org")
            for i in range(150):
                code, msg = c.rcpt(ALICE)
                assert code == 250, (i, code, msg)
            code, msg = c.rcpt(ALICE)
            assert code == 452 and b"4.5.3" in msg, (code, msg)
            code, msg = c.data(b"Subject: many\r\n\r\nhello\r\n")
            assert code == 250, (code, msg)
    finally:
        s.stop()
