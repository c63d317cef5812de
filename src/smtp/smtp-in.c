/* smtp-in.c: the pre-authentication SMTP role (MX and submission ports).
 *
 * This is the foundation's part of SMTP: greeting, EHLO/HELO, STARTTLS
 * (plaintext behind it discarded), AUTH PLAIN/LOGIN on submission ports only
 * after TLS, NOOP/RSET/HELP/VRFY/QUIT, error counting, timeouts and a clean
 * 421 at shutdown. Mail transactions arrive with the SMTP issue; until then
 * MAIL/RCPT/DATA/BDAT are refused with a permanent 502. The role cannot open
 * files: it asks master to verify credentials and is told yes or no. */
#include "smtp/smtp-cmd.h"
#include "master/role.h"
#include "lib/log.h"
#include "limits.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <unistd.h>
#include <openssl/evp.h>

enum smtp_state { S_GREETED, S_HELO, S_AUTH_PLAIN, S_AUTH_LOGIN_USER,
		  S_AUTH_LOGIN_PASS, S_AUTH_WAIT };

struct smtp_sess {
	enum smtp_state state;
	unsigned errors;
	int authenticated;
	char login_user[RD_MAX_ADDRESS + 1];
};

static int is_submission(struct conn *c)
{
	return strcmp(conn_listener_kind(c), "mx") != 0;
}

static int smtp_open(struct conn *c)
{
	struct smtp_sess *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -1;
	conn_set_proto_data(c, s);
	conn_printf(c, "220 %s ESMTP redoubt\r\n", conn_hostname(c));
	return 0;
}

static void smtp_close(struct conn *c)
{
	struct smtp_sess *s = conn_proto_data(c);
	if (s)
		explicit_bzero(s, sizeof(*s));
	free(s);
}

static void smtp_error(struct conn *c, struct smtp_sess *s, const char *reply)
{
	conn_printf(c, "%s\r\n", reply);
	if (++s->errors >= RD_SMTP_MAX_ERRORS) {
		conn_printf(c, "421 4.7.0 %s Too many errors, closing connection\r\n",
			    conn_hostname(c));
		conn_close_after_flush(c);
	}
}

static void smtp_ehlo(struct conn *c, struct smtp_sess *s, int extended)
{
	s->state = S_HELO;
	if (!extended) {
		conn_printf(c, "250 %s\r\n", conn_hostname(c));
		return;
	}
	conn_printf(c, "250-%s\r\n", conn_hostname(c));
	conn_printf(c, "250-SIZE %u\r\n", RD_STORE_MAX_MESSAGE);
	conn_printf(c, "250-8BITMIME\r\n");
	if (!conn_is_tls(c) && conn_tls_available(c))
		conn_printf(c, "250-STARTTLS\r\n");
	if (conn_is_tls(c) && is_submission(c) && !s->authenticated)
		conn_printf(c, "250-AUTH PLAIN LOGIN\r\n");
	conn_printf(c, "250 ENHANCEDSTATUSCODES\r\n");
}

/* Decode base64 into out (NUL-terminated); -1 on bad input or overflow. */
static int b64_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen,
		      size_t *len_r)
{
	if (inlen % 4 != 0 || inlen / 4 * 3 + 1 > outlen)
		return -1;
	int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)inlen);
	if (n < 0)
		return -1;
	size_t len = (size_t)n;
	if (inlen >= 1 && in[inlen - 1] == '=')
		len--;
	if (inlen >= 2 && in[inlen - 2] == '=')
		len--;
	out[len] = '\0';
	*len_r = len;
	return 0;
}

static void smtp_auth_plain(struct conn *c, struct smtp_sess *s, const char *b64)
{
	unsigned char dec[RD_MAX_ADDRESS * 2 + RD_MAX_PASSWORD + 4];
	size_t len;
	if (strcmp(b64, "*") == 0) {
		s->state = S_HELO;
		smtp_error(c, s, "501 5.0.0 Authentication cancelled");
		return;
	}
	if (b64_decode(b64, strlen(b64), dec, sizeof(dec), &len) < 0) {
		s->state = S_HELO;
		smtp_error(c, s, "501 5.5.2 Cannot decode the AUTH response");
		return;
	}
	/* authzid NUL authcid NUL passwd (RFC 4616) */
	const char *authz = (const char *)dec;
	const char *p1 = memchr(dec, '\0', len);
	const char *p2 = p1 ? memchr(p1 + 1, '\0', len - (size_t)(p1 + 1 - authz)) : NULL;
	if (p1 == NULL || p2 == NULL) {
		s->state = S_HELO;
		explicit_bzero(dec, sizeof(dec));
		smtp_error(c, s, "501 5.5.2 Malformed PLAIN response");
		return;
	}
	const char *user = p1 + 1, *pass = p2 + 1;
	if (*authz != '\0' && strcasecmp(authz, user) != 0) {
		s->state = S_HELO;
		explicit_bzero(dec, sizeof(dec));
		smtp_error(c, s, "535 5.7.8 Authentication credentials invalid");
		return;
	}
	s->state = S_AUTH_WAIT;
	if (conn_login(c, "smtp", user, pass) < 0) {
		s->state = S_HELO;
		conn_printf(c, "454 4.7.0 Temporary authentication failure\r\n");
	}
	explicit_bzero(dec, sizeof(dec));
}

static void smtp_auth(struct conn *c, struct smtp_sess *s, const char *arg)
{
	if (!is_submission(c)) {
		smtp_error(c, s, "503 5.5.1 AUTH is offered on the submission ports only");
		return;
	}
	if (!conn_is_tls(c)) {
		/* never look at credentials sent in the clear */
		smtp_error(c, s, "530 5.7.0 Must issue a STARTTLS command first");
		return;
	}
	if (s->authenticated) {
		smtp_error(c, s, "503 5.5.1 Already authenticated");
		return;
	}
	char mech[16];
	const char *ir = NULL;
	size_t ml = strcspn(arg, " ");
	if (ml == 0 || ml >= sizeof(mech)) {
		smtp_error(c, s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	memcpy(mech, arg, ml);
	mech[ml] = '\0';
	if (arg[ml] == ' ')
		ir = arg + ml + 1;
	if (strcasecmp(mech, "PLAIN") == 0) {
		if (ir != NULL && strcmp(ir, "=") != 0) {
			smtp_auth_plain(c, s, ir);
		} else {
			s->state = S_AUTH_PLAIN;
			conn_printf(c, "334 \r\n");
		}
	} else if (strcasecmp(mech, "LOGIN") == 0) {
		s->state = S_AUTH_LOGIN_USER;
		conn_printf(c, "334 VXNlcm5hbWU6\r\n");   /* "Username:" */
	} else {
		smtp_error(c, s, "504 5.5.4 Unrecognized authentication mechanism");
	}
}

static void smtp_auth_login_step(struct conn *c, struct smtp_sess *s, const char *line)
{
	unsigned char dec[RD_MAX_PASSWORD + 4];
	size_t len;
	if (strcmp(line, "*") == 0 ||
	    b64_decode(line, strlen(line), dec, sizeof(dec), &len) < 0 ||
	    memchr(dec, '\0', len) != NULL) {
		s->state = S_HELO;
		smtp_error(c, s, "501 5.5.2 Cannot decode the AUTH response");
		return;
	}
	if (s->state == S_AUTH_LOGIN_USER) {
		if (len > RD_MAX_ADDRESS) {
			s->state = S_HELO;
			smtp_error(c, s, "501 5.5.2 User name too long");
			return;
		}
		memcpy(s->login_user, dec, len + 1);
		s->state = S_AUTH_LOGIN_PASS;
		conn_printf(c, "334 UGFzc3dvcmQ6\r\n");   /* "Password:" */
		return;
	}
	s->state = S_AUTH_WAIT;
	if (conn_login(c, "smtp", s->login_user, (const char *)dec) < 0) {
		s->state = S_HELO;
		conn_printf(c, "454 4.7.0 Temporary authentication failure\r\n");
	}
	explicit_bzero(dec, sizeof(dec));
}

static void smtp_line(struct conn *c, const char *line, size_t len)
{
	struct smtp_sess *s = conn_proto_data(c);
	struct smtp_cmd cmd;
	const char *err;
	if (s->state == S_AUTH_PLAIN) {
		smtp_auth_plain(c, s, line);
		return;
	}
	if (s->state == S_AUTH_LOGIN_USER || s->state == S_AUTH_LOGIN_PASS) {
		smtp_auth_login_step(c, s, line);
		return;
	}
	if (smtp_cmd_parse(line, len, &cmd, &err) < 0) {
		char reply[160];
		snprintf(reply, sizeof(reply), "500 5.5.2 %s", err);
		smtp_error(c, s, reply);
		return;
	}
	switch (cmd.verb) {
	case SMTP_EHLO:
	case SMTP_HELO:
		if (cmd.arg[0] == '\0') {
			smtp_error(c, s, "501 5.5.4 Syntax: EHLO hostname");
			return;
		}
		smtp_ehlo(c, s, cmd.verb == SMTP_EHLO);
		return;
	case SMTP_STARTTLS:
		if (cmd.arg[0] != '\0') {
			smtp_error(c, s, "501 5.5.4 Syntax: STARTTLS takes no argument");
		} else if (conn_is_tls(c)) {
			smtp_error(c, s, "503 5.5.1 TLS is already active");
		} else if (!conn_tls_available(c)) {
			smtp_error(c, s, "454 4.7.0 TLS not available");
		} else {
			conn_printf(c, "220 2.0.0 Ready to start TLS\r\n");
			/* RFC 3207 4.2: forget everything learned before TLS */
			s->state = S_GREETED;
			conn_starttls(c);
		}
		return;
	case SMTP_AUTH:
		if (s->state == S_GREETED) {
			smtp_error(c, s, "503 5.5.1 Send EHLO first");
			return;
		}
		smtp_auth(c, s, cmd.arg);
		return;
	case SMTP_NOOP:
		conn_printf(c, "250 2.0.0 OK\r\n");
		return;
	case SMTP_RSET:
		conn_printf(c, "250 2.0.0 OK\r\n");
		return;
	case SMTP_HELP:
		conn_printf(c, "214 2.0.0 See https://www.rfc-editor.org/rfc/rfc5321\r\n");
		return;
	case SMTP_VRFY:
		conn_printf(c, "252 2.1.5 Cannot VRFY; send mail and it will be delivered if the address exists\r\n");
		return;
	case SMTP_QUIT:
		conn_printf(c, "221 2.0.0 %s closing connection\r\n", conn_hostname(c));
		conn_close_after_flush(c);
		return;
	case SMTP_MAIL:
	case SMTP_RCPT:
	case SMTP_DATA:
	case SMTP_BDAT:
		smtp_error(c, s, "502 5.5.1 Mail transactions are not enabled in this build yet");
		return;
	default:
		smtp_error(c, s, "500 5.5.2 Command unrecognized");
	}
}

static void smtp_login(struct conn *c, int result, const char *principal, int fd)
{
	struct smtp_sess *s = conn_proto_data(c);
	if (fd >= 0)
		close(fd);   /* SMTP sessions need no worker */
	s->state = S_HELO;
	explicit_bzero(s->login_user, sizeof(s->login_user));
	if (result == 1) {
		s->authenticated = 1;
		conn_printf(c, "235 2.7.0 Authentication successful\r\n");
		log_info("smtp_auth", "principal", principal, "peer", conn_peer(c));
	} else if (result == 2) {
		conn_printf(c, "454 4.7.0 Temporary authentication failure\r\n");
	} else {
		smtp_error(c, s, "535 5.7.8 Authentication credentials invalid");
	}
}

static void smtp_too_long(struct conn *c)
{
	conn_printf(c, "500 5.5.2 Line too long\r\n");
}

static void smtp_timeout(struct conn *c)
{
	conn_printf(c, "421 4.4.2 %s Timeout, closing connection\r\n", conn_hostname(c));
}

static void smtp_shutdown(struct conn *c)
{
	conn_printf(c, "421 4.3.2 %s Service shutting down\r\n", conn_hostname(c));
}

static const struct front_proto smtp_proto = {
	.name = "smtp",
	.on_open = smtp_open,
	.on_line = smtp_line,
	.on_line_too_long = smtp_too_long,
	.on_timeout = smtp_timeout,
	.on_close = smtp_close,
	.on_shutdown = smtp_shutdown,
	.on_login = smtp_login,
};

int smtp_in_main(struct role_ctx *ctx)
{
	return front_role_run(ctx, &smtp_proto, RD_SMTP_MAX_LINE_PREAUTH - 2,
			      RD_SMTP_CMD_TIMEOUT_S);
}
