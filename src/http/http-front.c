/* http-front.c: the pre-authentication HTTPS role.
 *
 * The foundation's part: TLS, a bounded request head (line cap, head cap,
 * head timeout), one canonical check of the request line, and an answer.
 * Requests that carry a body, absolute-form targets, obs-fold, duplicate
 * framing headers and malformed lines get 400 and the connection closes.
 * CalDAV/CardDAV/JMAP arrive with their issues; no route reaches a store
 * yet, and no header, cookie or path selects a back end here or later. */
#include "http/http-parse.h"
#include "master/role.h"
#include "lib/log.h"
#include "limits.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct http_sess {
	struct http_head head;
	int in_head;
};

static int http_open(struct conn *c)
{
	struct http_sess *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -1;
	http_head_init(&s->head);
	conn_set_proto_data(c, s);
	return 0;
}

static void http_close(struct conn *c)
{
	free(conn_proto_data(c));
}

static void respond_head(struct conn *c, int status, const char *reason, const char *body,
			 int head_only)
{
	conn_printf(c, "HTTP/1.1 %d %s\r\n"
		    "Content-Type: text/plain; charset=utf-8\r\n"
		    "Content-Length: %zu\r\n"
		    "Connection: close\r\n"
		    "X-Content-Type-Options: nosniff\r\n"
		    "Cache-Control: no-store\r\n"
		    "\r\n%s", status, reason, strlen(body), head_only ? "" : body);
	conn_close_after_flush(c);
}

static void respond(struct conn *c, int status, const char *reason, const char *body)
{
	respond_head(c, status, reason, body, 0);
}

static void http_line(struct conn *c, const char *line, size_t len)
{
	struct http_sess *s = conn_proto_data(c);
	const char *err;
	int r = http_head_line(&s->head, line, len, &err);
	if (r < 0) {
		char body[200];
		snprintf(body, sizeof(body), "Bad request: %s\n", err);
		respond(c, 400, "Bad Request", body);
		return;
	}
	if (r == 0)
		return;   /* need more lines */
	/* head complete */
	if (strcmp(s->head.path, "/") == 0 && (s->head.method == HTTP_GET ||
					       s->head.method == HTTP_HEAD)) {
		respond_head(c, 200, "OK", "redoubt\n", s->head.method == HTTP_HEAD);
		return;
	}
	respond(c, 404, "Not Found", "Not found\n");
}

static void http_too_long(struct conn *c)
{
	respond(c, 431, "Request Header Fields Too Large", "Header line too long\n");
}

static void http_timeout(struct conn *c)
{
	(void)c;   /* slow clients get no answer; the connection just closes */
}

static void http_login(struct conn *c, int result, const char *principal, int fd)
{
	(void)c; (void)result; (void)principal;
	if (fd >= 0)
		close(fd);
}

static const struct front_proto http_proto = {
	.name = "http",
	.on_open = http_open,
	.on_line = http_line,
	.on_line_too_long = http_too_long,
	.on_timeout = http_timeout,
	.on_close = http_close,
	.on_login = http_login,
};

int http_front_main(struct role_ctx *ctx)
{
	return front_role_run(ctx, &http_proto, HTTP_MAX_LINE, RD_HTTP_HEAD_TIMEOUT_S,
			      RD_HTTP_HEAD_TIMEOUT_S);
}
