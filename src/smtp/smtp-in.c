/* smtp-in.c: the pre-authentication SMTP role (MX and submission ports).
 *
 * This is the foundation's part of SMTP: greeting, EHLO/HELO, STARTTLS
 * (plaintext behind it discarded), AUTH PLAIN/LOGIN on submission ports only
 * after TLS, NOOP/RSET/HELP/VRFY/QUIT, error counting, timeouts and a clean
 * 421 at shutdown. Mail transactions arrive with the SMTP issue; until then
 * MAIL/RCPT/DATA/BDAT are refused with a permanent 502. The role cannot open
 * files: it asks master to verify credentials and is told yes or no. */
#include "smtp/smtp-cmd.h"
#include "smtp/smtp-txn.h"
#include "master/role.h"
#include "lib/log.h"
#include "audit/audit-log.h"
#include "lib/sasl.h"
#include "limits.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <unistd.h>

enum smtp_state { S_GREETED, S_HELO, S_AUTH_PLAIN, S_AUTH_LOGIN_USER,
		  S_AUTH_LOGIN_PASS, S_AUTH_WAIT };

static int is_submission(struct conn *c)
{
	return strcmp(conn_listener_kind(c), "mx") != 0;
}

struct smtp_sess {
	enum smtp_state state;
	unsigned errors;
	int authenticated;
	char login_user[RD_MAX_ADDRESS + 1];
	char principal[RD_MAX_ADDRESS + 1];
	char helo[256];
	struct smtp_txn *txn;
};

struct smtp_txn *smtp_sess_txn(struct conn *c);
struct smtp_txn *smtp_sess_txn(struct conn *c)
{
	struct smtp_sess *s = conn_proto_data(c);
	return s ? s->txn : NULL;
}

static struct smtp_sess_info sess_info(struct conn *c, struct smtp_sess *s)
{
	struct smtp_sess_info si = {
		.helo = s->helo, .principal = s->principal, .submission = is_submission(c),
		.max_size = conn_limits(c)->max_message_size,
		.max_rcpt = conn_limits(c)->max_recipients,
	};
	return si;
}

static int smtp_open(struct conn *c)
{
	struct smtp_sess *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->txn = smtp_txn_new()) == NULL) {
		free(s);
		return -1;
	}
	conn_set_proto_data(c, s);
	conn_printf(c, "220 %s ESMTP redoubt\r\n", conn_hostname(c));
	return 0;
}

static void smtp_close(struct conn *c)
{
	struct smtp_sess *s = conn_proto_data(c);
	if (s && s->authenticated) {
		/* a submission session's end, with what it sent (rule 5) */
		uint64_t msgs = 0, bytes = 0;
		char m[24], b[24];
		if (s->txn)
			smtp_txn_counts(s->txn, &msgs, &bytes);
		snprintf(m, sizeof(m), "%llu", (unsigned long long)msgs);
		snprintf(b, sizeof(b), "%llu", (unsigned long long)bytes);
		struct audit_kv kv[] = { { AUDIT_F_PRINCIPAL, s->principal },
					 { AUDIT_F_PROTOCOL, "submission" },
					 { "sent", m }, { "sent_bytes", b } };
		conn_audit(c, "session_end", kv, 4);
	}
	if (s) {
		smtp_txn_free(c, s->txn);
		explicit_bzero(s, sizeof(*s));
	}
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

static void smtp_ehlo(struct conn *c, struct smtp_sess *s, int extended, const char *arg)
{
	s->state = S_HELO;
	smtp_txn_reset(c, s->txn);
	/* kept for the Received header: printable, bounded */
	size_t o = 0;
	for (const char *p = arg; *p && *p != ' ' && o + 1 < sizeof(s->helo); p++)
		s->helo[o++] = (*p > 0x20 && *p < 0x7f && *p != '(' && *p != ')') ? *p : '?';
	s->helo[o] = '\0';
	if (!extended) {
		conn_printf(c, "250 %s\r\n", conn_hostname(c));
		return;
	}
	conn_printf(c, "250-%s\r\n", conn_hostname(c));
	conn_printf(c, "250-PIPELINING\r\n");
	conn_printf(c, "250-SIZE %llu\r\n", (unsigned long long)conn_limits(c)->max_message_size);
	conn_printf(c, "250-8BITMIME\r\n");
	conn_printf(c, "250-SMTPUTF8\r\n");
	conn_printf(c, "250-DSN\r\n");
	conn_printf(c, "250-CHUNKING\r\n");
	if (!conn_is_tls(c) && conn_tls_available(c))
		conn_printf(c, "250-STARTTLS\r\n");
	if (conn_is_tls(c) && is_submission(c) && !s->authenticated)
		conn_printf(c, "250-AUTH PLAIN LOGIN\r\n");
	conn_printf(c, "250 ENHANCEDSTATUSCODES\r\n");
}

static void smtp_auth_plain(struct conn *c, struct smtp_sess *s, const char *b64)
{
	struct sasl_plain p;
	const char *err;
	s->state = S_HELO;
	if (strcmp(b64, "*") == 0) {
		smtp_error(c, s, "501 5.0.0 Authentication cancelled");
		return;
	}
	if (sasl_plain_decode(b64, strlen(b64), &p, &err) < 0) {
		/* a malformed response is a failed login, answered the same way */
		smtp_error(c, s, "535 5.7.8 Authentication credentials invalid");
		return;
	}
	s->state = S_AUTH_WAIT;
	if (conn_login(c, "smtp", "PLAIN", p.user, p.pass) < 0) {
		s->state = S_HELO;
		conn_printf(c, "454 4.7.0 Temporary authentication failure\r\n");
	}
	explicit_bzero(&p, sizeof(p));
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
	char dec[RD_MAX_PASSWORD + 1];
	const char *err;
	if (strcmp(line, "*") == 0 ||
	    sasl_b64_line(line, strlen(line), dec, sizeof(dec), &err) < 0) {
		s->state = S_HELO;
		smtp_error(c, s, "501 5.5.2 Cannot decode the AUTH response");
		return;
	}
	if (s->state == S_AUTH_LOGIN_USER) {
		if (strlen(dec) > RD_MAX_ADDRESS) {
			s->state = S_HELO;
			smtp_error(c, s, "535 5.7.8 Authentication credentials invalid");
			return;
		}
		memcpy(s->login_user, dec, strlen(dec) + 1);
		s->state = S_AUTH_LOGIN_PASS;
		conn_printf(c, "334 UGFzc3dvcmQ6\r\n");   /* "Password:" */
		return;
	}
	s->state = S_AUTH_WAIT;
	if (conn_login(c, "smtp", "LOGIN", s->login_user, dec) < 0) {
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
		smtp_ehlo(c, s, cmd.verb == SMTP_EHLO, cmd.arg);
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
			smtp_txn_reset(c, s->txn);
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
		smtp_txn_reset(c, s->txn);
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
	case SMTP_BDAT:
	case SMTP_DATA: {
		if (s->state == S_GREETED) {
			smtp_error(c, s, "503 5.5.1 Send EHLO first");
			return;
		}
		struct smtp_sess_info si = sess_info(c, s);
		unsigned before = s->errors;
		if (cmd.verb == SMTP_MAIL)
			smtp_txn_mail(c, s->txn, &si, cmd.arg, &s->errors);
		else if (cmd.verb == SMTP_RCPT)
			smtp_txn_rcpt(c, s->txn, &si, cmd.arg, &s->errors);
		else if (cmd.verb == SMTP_BDAT)
			smtp_txn_bdat(c, s->txn, &si, cmd.arg, &s->errors);
		else
			smtp_txn_data(c, s->txn, &si, cmd.arg, &s->errors);
		if (s->errors > before && s->errors >= RD_SMTP_MAX_ERRORS) {
			conn_printf(c, "421 4.7.0 %s Too many errors, closing connection\r\n",
				    conn_hostname(c));
			conn_close_after_flush(c);
		}
		return;
	}

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
		snprintf(s->principal, sizeof(s->principal), "%s", principal);
		conn_printf(c, "235 2.7.0 Authentication successful\r\n");
		log_info("smtp_auth", "principal", principal, "peer", conn_peer(c));
		struct audit_kv kv[] = { { AUDIT_F_PRINCIPAL, s->principal },
					 { AUDIT_F_PROTOCOL, "submission" } };
		conn_audit(c, "session_start", kv, 2);
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

static size_t smtp_raw(struct conn *c, const unsigned char *p, size_t len)
{
	struct smtp_sess *s = conn_proto_data(c);
	return smtp_txn_raw(c, s->txn, p, len);
}

static void *smtp_role_init(struct front *f, struct event_base *base)
{
	return smtp_link_new(f, base);
}

static void smtp_role_free(void *role)
{
	smtp_link_free(role);
}

static void smtp_master_frame(void *role, int type, unsigned id, void *reader, int fd)
{
	(void)id;
	(void)reader;
	smtp_link_master_frame(role, type, fd);
}

static const struct front_proto smtp_proto = {
	.on_raw = smtp_raw,
	.role_init = smtp_role_init,
	.role_free = smtp_role_free,
	.on_master_frame = smtp_master_frame,
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
			      RD_SMTP_CMD_TIMEOUT_S, 0);
}
