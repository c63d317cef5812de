/* test-mbox.c: the mbox splitter, fed whole, in random chunks and one byte
 * at a time (all must agree). */
#include "import/mbox.h"
#include "lib/test.h"
#include <stdlib.h>
#include <string.h>

#define MAX_MSGS 64

struct collected {
	size_t n;
	int64_t date[MAX_MSGS];
	char *data[MAX_MSGS];
	size_t len[MAX_MSGS];
	size_t cap[MAX_MSGS];
	int ends;
	int stop_at_begin;   /* return non-zero from the Nth begin (1-based) */
};

static int c_begin(void *ctx, int64_t date)
{
	struct collected *c = ctx;
	if (c->stop_at_begin && (int)c->n + 1 == c->stop_at_begin)
		return 1;
	if (c->n == MAX_MSGS)
		return 1;
	c->date[c->n] = date;
	c->data[c->n] = NULL;
	c->len[c->n] = c->cap[c->n] = 0;
	c->n++;
	return 0;
}

static int c_data(void *ctx, const uint8_t *p, size_t n)
{
	struct collected *c = ctx;
	size_t i = c->n - 1;
	if (c->len[i] + n + 1 > c->cap[i]) {
		size_t nc = (c->len[i] + n + 1) * 2;
		char *nd = realloc(c->data[i], nc);
		if (nd == NULL)
			return 1;
		c->data[i] = nd;
		c->cap[i] = nc;
	}
	memcpy(c->data[i] + c->len[i], p, n);
	c->len[i] += n;
	c->data[i][c->len[i]] = '\0';
	return 0;
}

static int c_end(void *ctx)
{
	((struct collected *)ctx)->ends++;
	return 0;
}

static void c_free(struct collected *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->data[i]);
	memset(c, 0, sizeof(*c));
}

static const char *msg(const struct collected *c, size_t i)
{
	if (i >= c->n)
		return "(missing)";
	return c->data[i] ? c->data[i] : "";
}

static struct mbox_splitter sp;   /* big (holds a From_ line): not on the stack */

/* Splits in[0..n) in chunks of `chunk` octets (0: random sizes). */
static int split(const char *in, size_t n, size_t chunk, struct collected *c, uint64_t *pre)
{
	struct mbox_sink sink = { c_begin, c_data, c_end, c };
	size_t i = 0;
	int r = 0;
	mbox_init(&sp, &sink);
	while (i < n && r == 0) {
		size_t k = chunk ? chunk : (size_t)(rand() % 17) + 1;
		if (k > n - i)
			k = n - i;
		r = mbox_feed(&sp, (const uint8_t *)in + i, k);
		i += k;
	}
	if (r == 0)
		r = mbox_finish(&sp);
	if (pre)
		*pre = sp.preamble_bytes;
	return r;
}

static int same(const struct collected *a, const struct collected *b)
{
	if (a->n != b->n || a->ends != b->ends)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->date[i] != b->date[i] || a->len[i] != b->len[i] ||
		    (a->len[i] && memcmp(a->data[i], b->data[i], a->len[i]) != 0))
			return 0;
	return 1;
}

/* Whole, byte at a time and random chunks must give the same messages;
 * returns the whole-buffer result in *c. */
static void split_all_ways(const char *what, const char *in, size_t n, struct collected *c)
{
	struct collected b, r;
	uint64_t p1, p2, p3;
	memset(c, 0, sizeof(*c));
	memset(&b, 0, sizeof(b));
	memset(&r, 0, sizeof(r));
	CHECK(split(in, n, n ? n : 1, c, &p1) == 0, "%s: whole", what);
	CHECK(split(in, n, 1, &b, &p2) == 0, "%s: byte at a time", what);
	CHECK(split(in, n, 0, &r, &p3) == 0, "%s: random chunks", what);
	CHECK(same(c, &b) && same(c, &r) && p1 == p2 && p1 == p3,
	      "%s: every chunking agrees", what);
	c_free(&b);
	c_free(&r);
}

#define S(x) x, sizeof(x) - 1
#define D2001 978307200   /* Mon Jan  1 00:00:00 2001 UTC */

static void test_basic(void)
{
	struct collected c;
	split_all_ways("two messages", S("From a@b Mon Jan  1 00:00:00 2001\nSubject: x\n\nbody\n\n"
					 "From b@c Tue Jan  2 00:00:00 2001\nSubject: y\n\nline\n"), &c);
	CHECK(c.n == 2 && c.ends == 2, "two messages, two ends (%zu)", c.n);
	CHECK_STR(msg(&c, 0), "Subject: x\r\n\r\nbody\r\n", "first message, separator blank dropped");
	CHECK_STR(msg(&c, 1), "Subject: y\r\n\r\nline\r\n", "second message");
	CHECK(c.date[0] == D2001 && c.date[1] == D2001 + 86400, "From_ dates");
	c_free(&c);
}

static void test_quoting(void)
{
	struct collected c;
	split_all_ways("quoted", S("From a Mon Jan  1 00:00:00 2001\nA: b\n\n>From me\n>>From x\n"
				   "From here on\n>Fro\n>>>\n> From\n>From\nFrom\n>>>>From y\n\n"), &c);
	CHECK(c.n == 1, "one message (From without date is text)");
	CHECK_STR(msg(&c, 0), "A: b\r\n\r\nFrom me\r\n>From x\r\nFrom here on\r\n>Fro\r\n>>>\r\n"
		  "> From\r\n>From\r\nFrom\r\n>>>From y\r\n", "one '>' removed from >+From lines only");
	c_free(&c);
}

static void test_crlf(void)
{
	struct collected a, b;
	split_all_ways("lf", S("From a Mon Jan  1 00:00:00 2001\nA: b\n\nx\ny\n\n"), &a);
	split_all_ways("crlf", S("From a Mon Jan  1 00:00:00 2001\r\nA: b\r\n\r\nx\r\ny\r\n\r\n"), &b);
	CHECK(same(&a, &b), "LF and CRLF files give the same message");
	CHECK_STR(msg(&b, 0), "A: b\r\n\r\nx\r\ny\r\n", "CRLF message");
	c_free(&a);
	c_free(&b);
	split_all_ways("bare cr", S("From a Mon Jan  1 00:00:00 2001\na\rb\n\r\rc\n"), &a);
	CHECK_STR(msg(&a, 0), "a\rb\r\n\r\rc\r\n", "bare CR kept");
	c_free(&a);
	split_all_ways("cr at eof", S("From a Mon Jan  1 00:00:00 2001\nA: b\r\n\r\nlast\r"), &a);
	CHECK_STR(msg(&a, 0), "A: b\r\n\r\nlast\r\n", "a CR ending the file ends the line");
	c_free(&a);
}

static void test_edges(void)
{
	struct collected c;
	uint64_t pre;
	split_all_ways("empty", "", 0, &c);
	CHECK(c.n == 0 && c.ends == 0 && sp.preamble_bytes == 0, "empty file: nothing");
	c_free(&c);
	split_all_ways("no final newline", S("From x Mon Jan  1 00:00:00 2001\nA: b\n\nlast"), &c);
	CHECK_STR(msg(&c, 0), "A: b\r\n\r\nlast\r\n", "missing final newline added");
	c_free(&c);
	split_all_ways("blank lines", S("From x Mon Jan  1 00:00:00 2001\nA: b\n\nbody\n\n\n\n"
					"From y Mon Jan  1 00:00:00 2001\nB: c\n"), &c);
	CHECK_STR(msg(&c, 0), "A: b\r\n\r\nbody\r\n\r\n\r\n", "only one blank line dropped");
	CHECK_STR(msg(&c, 1), "B: c\r\n", "last message without blank line");
	c_free(&c);
	split_all_ways("no blank before From_", S("From x Mon Jan  1 00:00:00 2001\nA: b\n\nbody\n"
						  "From y Mon Jan  1 00:00:00 2001\nB: c\n"), &c);
	CHECK(c.n == 2, "a dated From_ line separates even without a blank line");
	CHECK_STR(msg(&c, 0), "A: b\r\n\r\nbody\r\n", "body kept whole");
	c_free(&c);
	memset(&c, 0, sizeof(c));
	CHECK(split(S("junk\n\n\nFrom x Mon Jan  1 00:00:00 2001\nA: b\n"), 1, &c, &pre) == 0 &&
	      pre == 6 && c.n == 1, "text before the first From_ counted, blank lines not (%llu)",
	      (unsigned long long)pre);
	c_free(&c);
	memset(&c, 0, sizeof(c));
	CHECK(split(S("Subject: not an mbox\n\nhello\n"), 1, &c, &pre) == 0 && c.n == 0 && pre > 0,
	      "a plain message is no mbox");
	c_free(&c);
	split_all_ways("empty message", S("From x Mon Jan  1 00:00:00 2001\n"
					  "From y Mon Jan  1 00:00:00 2001\nA: b\n"), &c);
	CHECK(c.n == 2 && c.len[0] == 0, "back-to-back separators: an empty message");
	c_free(&c);
	memset(&c, 0, sizeof(c));
	c.stop_at_begin = 2;
	CHECK(split(S("From x Mon Jan  1 00:00:00 2001\nA\n\nFrom y Mon Jan  1 00:00:00 2001\nB\n"),
		    1, &c, NULL) == -1 && c.n == 1, "a sink stop stops the splitter");
	CHECK(mbox_feed(&sp, (const uint8_t *)"x", 1) == -1 && mbox_finish(&sp) == -1,
	      "and it stays stopped");
	c_free(&c);
}

static void test_long_lines(void)
{
	size_t big = 10u * 1024u * 1024u;
	const char *head = "From x Mon Jan  1 00:00:00 2001\nA: b\n\n";
	size_t hl = strlen(head);
	char *in = malloc(hl + big + 2);
	struct collected c;
	if (in == NULL)
		return;
	memcpy(in, head, hl);
	memset(in + hl, 'x', big);
	in[hl + big] = '\n';
	split_all_ways("10 MB line", in, hl + big + 1, &c);
	CHECK(c.n == 1 && c.len[0] == 10 + big && c.data[0][8 + big] == '\r',
	      "a 10 MB line streams through");
	c_free(&c);
	/* a 10 MB "From " line: longer than any From_ line, so text */
	memcpy(in + hl, "From ", 5);
	split_all_ways("10 MB From line", in, hl + big + 1, &c);
	CHECK(c.n == 1 && c.len[0] == 10 + big && memcmp(c.data[0] + 6, "\r\nFrom xx", 9) == 0,
	      "a 10 MB \"From \" line is text");
	c_free(&c);
	/* a From_ line just under and just over the cap */
	char line[RD_IMPORT_MAX_FROM_LINE + 64];
	memset(line, 0, sizeof(line));
	strcpy(line, "From x Mon Jan  1 00:00:00 2001 ");
	size_t l = strlen(line);
	memset(line + l, 'z', RD_IMPORT_MAX_FROM_LINE - l);
	line[RD_IMPORT_MAX_FROM_LINE] = '\n';
	split_all_ways("cap", line, RD_IMPORT_MAX_FROM_LINE + 1, &c);
	CHECK(c.n == 1, "a From_ line of exactly the cap separates");
	c_free(&c);
	line[RD_IMPORT_MAX_FROM_LINE] = 'z';
	line[RD_IMPORT_MAX_FROM_LINE + 1] = '\n';
	split_all_ways("over cap", line, RD_IMPORT_MAX_FROM_LINE + 2, &c);
	CHECK(c.n == 0 && sp.preamble_bytes == RD_IMPORT_MAX_FROM_LINE + 3,
	      "one octet longer: text");
	c_free(&c);
	free(in);
}

static void test_dates(void)
{
	static const struct { const char *line; int ok; int64_t t; } cases[] = {
		{ "a@b Mon Jan  1 00:00:00 2001", 1, D2001 },
		{ "MAILER-DAEMON Fri Jul  8 12:08:34 2011", 1, 1310126914 },
		{ "a@b Mon Jan 1 01:00:00 2001 +0100", 1, D2001 },
		{ "a@b Mon Jan 1 01:00:00 +0100 2001", 1, D2001 },
		{ "a@b Mon Jan 1 00:00:00 UTC 2001", 1, D2001 },
		{ "a@b mon JAN 1 00:00 2001", 1, D2001 },
		{ " Mon Jan  1 00:00:00 2001", 1, D2001 },
		{ "a@b Mon Jan  1 00:00:00 2001 remote from x", 1, D2001 },
		{ "here on", 0, 0 },
		{ "a@b Mon Jan 32 00:00:00 2001", 0, 0 },
		{ "a@b Mon Jan 1 24:00:00 2001", 0, 0 },
		{ "a@b Mon Foo 1 00:00:00 2001", 0, 0 },
		{ "a@b Mon Jan 1 00:00:00", 0, 0 },
		{ "a@b Mon Jan 1 00:00:00 20011", 0, 0 },
		{ "", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t t = -1;
		bool ok = mbox_from_date((const uint8_t *)cases[i].line, strlen(cases[i].line), &t);
		CHECK(ok == (bool)cases[i].ok && (!ok || t == cases[i].t), "date \"%s\" (%lld)",
		      cases[i].line, (long long)t);
	}
}

/* Random mboxes over an alphabet full of the interesting bytes. */
static void test_random(void)
{
	static const char *const pieces[] = {
		"From a Mon Jan  1 00:00:00 2001\n", "From ", ">", "F", "rom", "\n", "\r", "\r\n",
		"x", " ", ">From ", "From b Tue Jan  2 00:00:00 2001\r\n", "\n\n",
	};
	char in[4096];
	int agree = 1;
	srand(7);
	for (int round = 0; round < 300; round++) {
		size_t n = 0;
		while (n < sizeof(in) - 64) {
			const char *p = pieces[rand() % (int)(sizeof(pieces) / sizeof(pieces[0]))];
			size_t l = strlen(p);
			memcpy(in + n, p, l);
			n += l;
			if (rand() % 50 == 0)
				break;
		}
		struct collected a, b, r;
		uint64_t pa, pb, pr;
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		memset(&r, 0, sizeof(r));
		split(in, n, n, &a, &pa);
		split(in, n, 1, &b, &pb);
		split(in, n, 0, &r, &pr);
		if (!same(&a, &b) || !same(&a, &r) || pa != pb || pa != pr)
			agree = 0;
		for (size_t i = 0; i < a.n; i++)
			for (size_t j = 0; j < a.len[i]; j++)
				if (a.data[i][j] == '\n' && (j == 0 || a.data[i][j - 1] != '\r'))
					agree = 0;
		c_free(&a);
		c_free(&b);
		c_free(&r);
	}
	CHECK(agree, "300 random mboxes: every chunking agrees, no bare LF out");
}

int main(void)
{
	test_basic();
	test_quoting();
	test_crlf();
	test_edges();
	test_long_lines();
	test_dates();
	test_random();
	return TEST_DONE();
}
