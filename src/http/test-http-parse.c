#include "http/http-parse.h"
#include "lib/test.h"

static int feed(const char *head, const char **err)
{
	struct http_head h;
	http_head_init(&h);
	const char *p = head;
	for (;;) {
		const char *e = strstr(p, "\r\n");
		if (e == NULL)
			return 0;
		int r = http_head_line(&h, p, (size_t)(e - p), err);
		if (r != 0)
			return r;
		p = e + 2;
	}
}

int main(void)
{
	const char *err = NULL;
	CHECK(feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &err) == 1, "simple GET");
	CHECK(feed("GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n", &err) == -1, "absolute-form refused");
	CHECK(feed("GET / HTTP/1.1\r\n\r\n", &err) == -1, "1.1 without Host refused");
	CHECK(feed("GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", &err) == -1, "duplicate Host");
	CHECK(feed("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, x\r\n\r\n", &err) == -1,
	      "TE refused");
	CHECK(feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n",
		   &err) == -1, "duplicate CL refused");
	CHECK(feed("GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", &err) == -1, "obs-fold refused");
	CHECK_STR(err, "obsolete line folding", "reason named");
	CHECK(feed("GET /a/%2e%2e/b HTTP/1.1\r\nHost: x\r\n\r\n", &err) == -1, "%%2e refused");
	CHECK(feed("GET /a/%2F HTTP/1.1\r\nHost: x\r\n\r\n", &err) == -1, "%%2F refused");
	CHECK(feed("GET /a/%00 HTTP/1.1\r\nHost: x\r\n\r\n", &err) == -1, "%%00 refused");
	CHECK(feed("GET /a/../b HTTP/1.1\r\nHost: x\r\n\r\n", &err) == -1, "dot segment refused");
	CHECK(feed("GET /a//b HTTP/1.1\r\nHost: x\r\n\r\n", &err) == -1, "empty segment refused");
	CHECK(feed("GET /a\\b HTTP/1.1\r\nHost: x\r\n\r\n", &err) == -1, "backslash refused");
	CHECK(feed("GET /%4 HTTP/1.1\r\nHost: x\r\n\r\n", &err) == -1, "truncated escape refused");
	CHECK(feed("GET /a%41 HTTP/1.1\r\nHost: x\r\n\r\n", &err) == 1, "ordinary escape ok");
	CHECK(feed("BREW / HTTP/1.1\r\nHost: x\r\n\r\n", &err) == -1, "unknown method");
	CHECK(feed("GET / HTTP/2.0\r\nHost: x\r\n\r\n", &err) == -1, "bad version");
	/* byte-wise: every prefix of every line either needs more or errs cleanly */
	const char *line = "GET /.well-known/caldav HTTP/1.1";
	int ok = 1;
	for (size_t i = 0; i <= strlen(line); i++) {
		struct http_head h;
		http_head_init(&h);
		int r = http_head_line(&h, line, i, &err);
		if (r != 0 && r != -1)
			ok = 0;
	}
	CHECK(ok, "every prefix of a request line handled");
	return TEST_DONE();
}
