/* http-parse.h: pure, line-at-a-time parser of an HTTP/1.1 request head.
 *
 * Feed it each line without CRLF. Returns 0 "need more lines", 1 "head
 * complete", -1 error with a short reason. Caps: HTTP_MAX_LINE per line,
 * RD_HTTP_MAX_HEAD for the whole head, HTTP_MAX_HEADERS lines. Refuses
 * what request smuggling and routing confusion feed on: absolute-form and
 * authority-form targets, obs-fold, Transfer-Encoding, duplicate or
 * non-numeric Content-Length, a body at all (no route takes one yet),
 * %2f %2e %00 and backslashes in the path, control bytes anywhere. */
#ifndef RD_HTTP_PARSE_H
#define RD_HTTP_PARSE_H
#include <stddef.h>
#include "limits.h"

#define HTTP_MAX_LINE 8192u
#define HTTP_MAX_HEADERS 100u
#define HTTP_MAX_PATH 2048u

enum http_method { HTTP_M_NONE, HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT,
		   HTTP_DELETE, HTTP_OPTIONS, HTTP_PROPFIND, HTTP_REPORT,
		   HTTP_PROPPATCH, HTTP_MKCOL, HTTP_MKCALENDAR, HTTP_MOVE, HTTP_COPY };

struct http_head {
	enum http_method method;
	char path[HTTP_MAX_PATH + 1];
	int minor;                  /* HTTP/1.minor */
	size_t total;               /* octets seen */
	unsigned nheaders;
	int seen_host;
	int seen_length;
};

void http_head_init(struct http_head *h);
int http_head_line(struct http_head *h, const char *line, size_t len,
		   const char **error_r);
#endif
