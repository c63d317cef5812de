#include "http/http-parse.h"
#include <string.h>
#include <strings.h>

static const struct { const char *name; enum http_method m; } methods[] = {
	{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST },
	{ "PUT", HTTP_PUT }, { "DELETE", HTTP_DELETE }, { "OPTIONS", HTTP_OPTIONS },
	{ "PROPFIND", HTTP_PROPFIND }, { "REPORT", HTTP_REPORT },
	{ "PROPPATCH", HTTP_PROPPATCH }, { "MKCOL", HTTP_MKCOL },
	{ "MKCALENDAR", HTTP_MKCALENDAR }, { "MOVE", HTTP_MOVE }, { "COPY", HTTP_COPY },
};

void http_head_init(struct http_head *h)
{
	memset(h, 0, sizeof(*h));
}

static int tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int path_ok(const char *p, size_t len, const char **error_r)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20 || c >= 0x7f || c == '\\' || c == ';') {
			*error_r = "invalid character in path";
			return 0;
		}
		if (c == '%') {
			if (i + 2 >= len) {
				*error_r = "truncated percent escape";
				return 0;
			}
			char a = (char)(p[i + 1] | 0x20), b = (char)(p[i + 2] | 0x20);
			if (!((a >= '0' && a <= '9') || (a >= 'a' && a <= 'f')) ||
			    !((b >= '0' && b <= '9') || (b >= 'a' && b <= 'f'))) {
				*error_r = "invalid percent escape";
				return 0;
			}
			/* encoded '/', '.', '\', NUL and controls are never
			 * decoded into a route: refuse them outright */
			if (a < '2' || (a == '2' && (b == 'e' || b == 'f')) ||
			    (a == '5' && b == 'c') || (a == '7' && b == 'f')) {
				*error_r = "encoded separator or control in path";
				return 0;
			}
		}
	}
	/* dot segments and empty segments */
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '/')
			continue;
		if (i + 1 < len && p[i + 1] == '/') {
			*error_r = "empty path segment";
			return 0;
		}
		if (i + 1 < len && p[i + 1] == '.' &&
		    (i + 2 == len || p[i + 2] == '/' ||
		     (p[i + 2] == '.' && (i + 3 == len || p[i + 3] == '/')))) {
			*error_r = "dot segment in path";
			return 0;
		}
	}
	return 1;
}

static int request_line(struct http_head *h, const char *line, size_t len,
			const char **error_r)
{
	const char *sp1 = memchr(line, ' ', len);
	if (sp1 == NULL) {
		*error_r = "malformed request line";
		return -1;
	}
	size_t ml = (size_t)(sp1 - line);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i].name) == ml && memcmp(line, methods[i].name, ml) == 0)
			h->method = methods[i].m;
	if (h->method == HTTP_M_NONE) {
		*error_r = "unknown method";
		return -1;
	}
	const char *target = sp1 + 1;
	size_t rest = len - ml - 1;
	const char *sp2 = memchr(target, ' ', rest);
	if (sp2 == NULL || rest - (size_t)(sp2 - target) - 1 != 8) {
		*error_r = "malformed request line";
		return -1;
	}
	const char *ver = sp2 + 1;
	if (memcmp(ver, "HTTP/1.", 7) != 0 || (ver[7] != '1' && ver[7] != '0')) {
		*error_r = "unsupported HTTP version";
		return -1;
	}
	h->minor = ver[7] - '0';
	size_t tl = (size_t)(sp2 - target);
	if (tl == 0 || target[0] != '/') {
		/* absolute-form and authority-form never choose a host here */
		*error_r = "only origin-form request targets are accepted";
		return -1;
	}
	const char *q = memchr(target, '?', tl);
	size_t pl = q ? (size_t)(q - target) : tl;
	if (pl > HTTP_MAX_PATH) {
		*error_r = "path too long";
		return -1;
	}
	if (!path_ok(target, pl, error_r))
		return -1;
	memcpy(h->path, target, pl);
	h->path[pl] = '\0';
	return 0;
}

int http_head_line(struct http_head *h, const char *line, size_t len,
		   const char **error_r)
{
	if (len > HTTP_MAX_LINE) {
		*error_r = "header line too long";
		return -1;
	}
	if (__builtin_add_overflow(h->total, len + 2, &h->total) || h->total > RD_HTTP_MAX_HEAD) {
		*error_r = "request head too large";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*error_r = "control character in request head";
			return -1;
		}
	}
	if (h->method == HTTP_M_NONE)
		return request_line(h, line, len, error_r) < 0 ? -1 : 0;
	if (len == 0) {
		if (h->minor == 1 && !h->seen_host) {
			*error_r = "missing Host header";
			return -1;
		}
		return 1;
	}
	if (++h->nheaders > HTTP_MAX_HEADERS) {
		*error_r = "too many header fields";
		return -1;
	}
	if (line[0] == ' ' || line[0] == '\t') {
		*error_r = "obsolete line folding";
		return -1;
	}
	const char *colon = memchr(line, ':', len);
	if (colon == NULL || colon == line) {
		*error_r = "malformed header field";
		return -1;
	}
	size_t nl = (size_t)(colon - line);
	for (size_t i = 0; i < nl; i++)
		if (!tchar((unsigned char)line[i])) {
			*error_r = "invalid header field name";
			return -1;
		}
	const char *v = colon + 1;
	size_t vl = len - nl - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (nl == 4 && strncasecmp(line, "Host", 4) == 0) {
		if (h->seen_host++) {
			*error_r = "duplicate Host header";
			return -1;
		}
	} else if (nl == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
		*error_r = "request bodies are not accepted here";
		return -1;
	} else if (nl == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
		if (h->seen_length++) {
			*error_r = "duplicate Content-Length";
			return -1;
		}
		if (vl != 1 || v[0] != '0') {
			*error_r = "request bodies are not accepted here";
			return -1;
		}
	}
	return 0;
}
