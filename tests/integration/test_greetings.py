"""Every listener answers with its protocol's greeting, over plaintext,
STARTTLS or implicit TLS as configured (checked with stock clients)."""
import imaplib
import smtplib
import subprocess

from helpers import HOSTNAME, Line, tls_context


def s_client_starttls(proto, port, script):
    """Talk through `openssl s_client -starttls PROTO`; returns its stdout,
    which holds only what the server said after the TLS handshake."""
    r = subprocess.run(["openssl", "s_client", "-quiet", "-crlf", "-ign_eof",
                        "-starttls", proto, "-connect", f"127.0.0.1:{port}"],
                       input=script, capture_output=True, text=True, timeout=20, check=False)
    return r.stdout


def test_smtp_port_greets_with_220(server):
    with Line(server.ports["smtp"]) as c:
        code, text = c.reply()
    assert code == 220
    assert text[0].startswith(HOSTNAME.encode() + b" ESMTP")


def test_submission_starttls_then_ehlo_gets_250(server):
    out = s_client_starttls("smtp", server.ports["submission"], "EHLO client.test\nQUIT\n")
    assert f"250-{HOSTNAME}" in out
    assert "250 ENHANCEDSTATUSCODES" in out
    assert "221 " in out


def test_imap_starttls_then_noop_ok(server):
    out = s_client_starttls("imap", server.ports["imap"], "a NOOP\nb LOGOUT\n")
    assert "a OK" in out
    assert "* BYE" in out and "b OK" in out


def test_submissions_implicit_tls_greets(server):
    with smtplib.SMTP_SSL("127.0.0.1", server.ports["submissions"], timeout=10,
                          context=tls_context()) as s:
        code, _ = s.ehlo("client.test")
        assert code == 250
        assert s.has_extn("auth")
        assert not s.has_extn("starttls")


def test_imaps_implicit_tls_greets(server):
    m = imaplib.IMAP4_SSL("127.0.0.1", server.ports["imaps"], ssl_context=tls_context(),
                          timeout=10)
    try:
        assert m.welcome.startswith(b"* OK")
        assert "AUTH=PLAIN" in m.capabilities
        assert "STARTTLS" not in m.capabilities
    finally:
        m.logout()


def test_https_root_answers_200_redoubt(server):
    r = subprocess.run(["curl", "-sk", "--max-time", "10", "-w", "\n%{http_code}",
                        f"https://127.0.0.1:{server.ports['https']}/"],
                       capture_output=True, text=True, timeout=20, check=False)
    body, _, status = r.stdout.rpartition("\n")
    assert status == "200"
    assert body.strip() == "redoubt"
