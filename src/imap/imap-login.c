/* imap-login.c: the pre-authentication IMAP role.
 *
 * Greeting, CAPABILITY, NOOP, LOGOUT, STARTTLS (plaintext behind it
 * discarded), ID, LOGIN and AUTHENTICATE PLAIN (with SASL-IR), both refused
 * before TLS without looking at the credentials. On success master hands us
 * a channel to the principal's worker and from then on we only relay
 * decrypted bytes; we never tell the worker who the user is - master did,
 * when it created the channel. This process cannot open any file. */
#include "imap/imap-preauth.h"
#include "imap/imap-caps.h"
#include "master/role.h"
#include "lib/log.h"
#include "lib/sasl.h"
#include "limits.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct imap_sess {
	unsigned bad;
	int sasl_wait;                   /* AUTHENTICATE PLAIN awaiting response */
	char tag[IMAP_TAG_MAX + 1];      /* of the command waiting on master */
};

static void capability_line(struct conn *c, char *out, size_t outlen)
{
	/* both revisions: a client picks IMAP4rev2 with ENABLE after login */
	if (conn_is_tls(c))
		snprintf(out, outlen, "IMAP4rev1 IMAP4rev2 AUTH=PLAIN SASL-IR ID ENABLE");
	else if (conn_tls_available(c))
		snprintf(out, outlen, "IMAP4rev1 IMAP4rev2 STARTTLS LOGINDISABLED SASL-IR ID ENABLE");
	else
		snprintf(out, outlen, "IMAP4rev1 IMAP4rev2 LOGINDISABLED ID ENABLE");
}

static int imap_open(struct conn *c)
{
	struct imap_sess *s = calloc(1, sizeof(*s));
	char caps[160];
	if (s == NULL)
		return -1;
	conn_set_proto_data(c, s);
	capability_line(c, caps, sizeof(caps));
	conn_printf(c, "* OK [CAPABILITY %s] %s redoubt ready\r\n", caps, conn_hostname(c));
	return 0;
}

static void imap_close(struct conn *c)
{
	struct imap_sess *s = conn_proto_data(c);
	free(s);
}

static void imap_bad(struct conn *c, struct imap_sess *s, const char *tag, const char *why)
{
	conn_printf(c, "%s BAD %s\r\n", tag[0] ? tag : "*", why);
	if (++s->bad >= RD_IMAP_MAX_BAD) {
		conn_printf(c, "* BYE Too many invalid commands\r\n");
		conn_close_after_flush(c);
	}
}

static void sasl_plain(struct conn *c, struct imap_sess *s, const char *b64)
{
	struct sasl_plain p;
	const char *err;
	if (strcmp(b64, "*") == 0) {
		conn_printf(c, "%s BAD Authentication cancelled\r\n", s->tag);
		return;
	}
	if (sasl_plain_decode(b64, strlen(b64), &p, &err) < 0) {
		conn_printf(c, "%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", s->tag);
		return;
	}
	if (conn_login(c, "imap", "PLAIN", p.user, p.pass) < 0)
		conn_printf(c, "%s NO [UNAVAILABLE] Authentication service unavailable\r\n", s->tag);
	explicit_bzero(&p, sizeof(p));
}

/* RFC 2971: keep the client's "name" (and "version") for the audit
 * record. Only printable characters survive; the record escapes the rest. */
static void client_id(struct conn *c, const char *line, size_t len)
{
	char out[64];
	size_t o = 0;
	for (int want = 0; want < 2; want++) {
		const char *key = want == 0 ? "\"name\"" : "\"version\"";
		size_t kl = strlen(key);
		for (size_t i = 0; i + kl < len; i++) {
			if (strncasecmp(line + i, key, kl) != 0)
				continue;
			size_t j = i + kl;
			while (j < len && line[j] == ' ')
				j++;
			if (j >= len || line[j] != '"')
				break;
			if (o > 0 && o + 1 < sizeof(out))
				out[o++] = '/';
			for (j++; j < len && line[j] != '"' && o + 1 < sizeof(out); j++)
				out[o++] = (line[j] > 0x20 && line[j] < 0x7f) ? line[j] : '_';
			break;
		}
	}
	out[o] = '\0';
	if (o > 0)
		conn_set_client_id(c, out);
}

static void imap_line(struct conn *c, const char *line, size_t len)
{
	struct imap_sess *s = conn_proto_data(c);
	struct imap_pre p;
	const char *err;
	char caps[160];
	if (s->sasl_wait) {
		s->sasl_wait = 0;
		sasl_plain(c, s, line);
		return;
	}
	if (imap_pre_parse(line, len, &p, &err) < 0) {
		if (p.literal) {
			/* never read a literal before login (RFC 7888 allows a
			 * server to refuse); close if it was non-synchronizing,
			 * since its octets would follow unasked */
			conn_printf(c, "%s BAD %s\r\n", p.tag[0] ? p.tag : "*", err);
			if (memchr(line, '+', len) != NULL) {
				conn_printf(c, "* BYE Non-synchronizing literal before login\r\n");
				conn_close_after_flush(c);
			}
			return;
		}
		imap_bad(c, s, p.tag, err);
		return;
	}
	switch (p.cmd) {
	case IMAP_PRE_CAPABILITY:
		capability_line(c, caps, sizeof(caps));
		conn_printf(c, "* CAPABILITY %s\r\n%s OK CAPABILITY completed\r\n", caps, p.tag);
		return;
	case IMAP_PRE_NOOP:
		conn_printf(c, "%s OK NOOP completed\r\n", p.tag);
		return;
	case IMAP_PRE_LOGOUT:
		conn_printf(c, "* BYE redoubt logging out\r\n%s OK LOGOUT completed\r\n", p.tag);
		conn_close_after_flush(c);
		return;
	case IMAP_PRE_ID:
		client_id(c, line, len);
		conn_printf(c, "* ID (\"name\" \"redoubt\")\r\n%s OK ID completed\r\n", p.tag);
		return;
	case IMAP_PRE_ENABLE:
		conn_printf(c, "%s NO ENABLE is valid only after login\r\n", p.tag);
		return;
	case IMAP_PRE_STARTTLS:
		if (conn_is_tls(c)) {
			imap_bad(c, s, p.tag, "TLS is already active");
		} else if (!conn_tls_available(c)) {
			conn_printf(c, "%s NO TLS is not available\r\n", p.tag);
		} else {
			conn_printf(c, "%s OK Begin TLS negotiation now\r\n", p.tag);
			conn_starttls(c);
		}
		return;
	case IMAP_PRE_LOGIN:
	case IMAP_PRE_AUTHENTICATE:
		if (!conn_is_tls(c)) {
			/* RFC 9051 6.2.3: refuse without checking anything */
			conn_printf(c, "%s NO [PRIVACYREQUIRED] Use STARTTLS or port 993 first\r\n",
				    p.tag);
			return;
		}
		snprintf(s->tag, sizeof(s->tag), "%s", p.tag);
		if (p.cmd == IMAP_PRE_LOGIN) {
			if (conn_login(c, "imap", "LOGIN", p.arg[0], p.arg[1]) < 0)
				conn_printf(c, "%s NO [UNAVAILABLE] Authentication service unavailable\r\n",
					    p.tag);
		} else if (strcasecmp(p.arg[0], "PLAIN") != 0) {
			conn_printf(c, "%s NO [CANNOT] Unsupported mechanism\r\n", p.tag);
		} else if (p.nargs == 2) {
			sasl_plain(c, s, strcmp(p.arg[1], "=") == 0 ? "" : p.arg[1]);
		} else {
			s->sasl_wait = 1;
			conn_printf(c, "+ \r\n");
		}
		explicit_bzero(&p, sizeof(p));
		return;
	case IMAP_PRE_OTHER:
		imap_bad(c, s, p.tag, "Command not valid before login");
		return;
	default:
		imap_bad(c, s, p.tag, "Unknown command");
	}
}

static void imap_login_result(struct conn *c, int result, const char *principal, int fd)
{
	struct imap_sess *s = conn_proto_data(c);
	if (result == 1 && fd >= 0) {
		/* RFC 3501 7.1: the capabilities after login, so clients need
		 * not ask again; the worker answers CAPABILITY the same way */
		conn_printf(c, "%s OK [CAPABILITY %s] Logged in\r\n", s->tag, IMAP_POST_AUTH_CAPS);
		log_info("imap_login", "principal", principal, "peer", conn_peer(c));
		if (conn_proxy(c, fd) < 0)
			conn_close_after_flush(c);
		return;
	}
	if (result == 2 || result == 1)
		conn_printf(c, "%s NO [UNAVAILABLE] Temporary failure, try again later\r\n", s->tag);
	else
		conn_printf(c, "%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", s->tag);
}

static void imap_too_long(struct conn *c)
{
	conn_printf(c, "* BYE Line too long\r\n");
}

static void imap_timeout(struct conn *c)
{
	conn_printf(c, "* BYE Autologout; idle for too long\r\n");
}

static void imap_shutdown(struct conn *c)
{
	conn_printf(c, "* BYE Server shutting down\r\n");
}

static const struct front_proto imap_proto = {
	.name = "imap",
	.on_open = imap_open,
	.on_line = imap_line,
	.on_line_too_long = imap_too_long,
	.on_timeout = imap_timeout,
	.on_close = imap_close,
	.on_shutdown = imap_shutdown,
	.on_login = imap_login_result,
};

int imap_login_main(struct role_ctx *ctx)
{
	return front_role_run(ctx, &imap_proto, RD_IMAP_MAX_LINE_PREAUTH,
			      RD_IMAP_PREAUTH_TIMEOUT_S, 0);
}
