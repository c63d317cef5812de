/* Tests for smtp-data: a table of DATA streams with their expected result,
 * each fed whole, one byte at a time and in random splits (fixed seed);
 * the SMTP smuggling variants of THREATS.md case 1; a 10 MB line; random
 * streams checked against a simple whole-buffer model of the contract;
 * and the BDAT argument parser. */
#include "smtp/smtp-data.h"
#include "lib/test.h"
#include "limits.h"
#include <stdlib.h>

struct result {
	int ret;
	enum smtp_data_reason reason;
	size_t consumed;
	uint8_t *out;
	size_t out_len;
	int contract_ok;    /* MORE consumed everything; later calls repeat */
};

static void result_free(struct result *r)
{
	free(r->out);
	r->out = NULL;
}

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void)
{
	/* xorshift64: fixed seed, so failures reproduce */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

enum split { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM };

/* Feed in[0..len) to a fresh decoder in pieces chosen by how. */
static void run(const uint8_t *in, size_t len, size_t out_max, enum split how,
		struct result *res)
{
	struct smtp_data d;
	struct buffer out;
	smtp_data_init(&d);
	buffer_init(&out, out_max);
	memset(res, 0, sizeof(*res));
	res->contract_ok = 1;
	res->ret = SMTP_DATA_MORE;
	res->consumed = len;
	size_t off = 0;
	while (off < len) {
		size_t n = len - off;
		if (how == SPLIT_BYTES)
			n = 1;
		else if (how == SPLIT_RANDOM)
			n = 1 + (size_t)(rng() % (n < 17 ? n : 17));
		size_t c = SIZE_MAX;
		int r = smtp_data_feed(&d, in + off, n, &c, &out);
		if (r == SMTP_DATA_MORE) {
			if (c != n)
				res->contract_ok = 0;
			off += n;
			continue;
		}
		if (c == 0 || c > n)
			res->contract_ok = 0;
		res->ret = r;
		res->consumed = off + c;
		size_t again = SIZE_MAX;
		if (smtp_data_feed(&d, in, len, &again, &out) != r || again != 0)
			res->contract_ok = 0;
		break;
	}
	res->reason = d.reason;
	if (out.len > 0) {
		res->out = malloc(out.len);
		if (res->out == NULL)
			abort();
		memcpy(res->out, out.data, out.len);
	}
	res->out_len = out.len;
	buffer_free(&out);
}

/* The contract, computed over the whole buffer in the plainest way: the
 * end is the first <CRLF>.<CRLF> in "\r\n" + input; before it, the first
 * fault in byte order decides the reason. */
static void model(const uint8_t *in, size_t len, size_t out_max, struct result *res)
{
	memset(res, 0, sizeof(*res));
	res->contract_ok = 1;
	size_t end = SIZE_MAX;
	for (size_t m = 0; m + 5 <= len + 2 && end == SIZE_MAX; m++) {
		size_t k;
		for (k = 0; k < 5; k++) {
			size_t a = m + k;
			uint8_t c = a < 2 ? (uint8_t)"\r\n"[a] : in[a - 2];
			if (c != (uint8_t)"\r\n.\r\n"[k])
				break;
		}
		if (k == 5)
			end = m;
	}
	size_t region = end == SIZE_MAX ? len : end;
	res->out = malloc(region + 1);
	if (res->out == NULL)
		abort();
	enum smtp_data_reason why = SMTP_DATA_OK;
	int bol = 1, after_dot = 0;
	size_t line = 0;
	for (size_t j = 0; j < region && why == SMTP_DATA_OK; j++) {
		uint8_t c = in[j];
		int prev_cr = j > 0 && in[j - 1] == '\r';
		int emit = 1;
		if (prev_cr && c != '\n') {
			why = SMTP_DATA_BARE_CR;
			break;
		}
		if (bol && c == '.') {
			bol = 0;
			after_dot = 1;
			continue;
		}
		int was_after_dot = after_dot;
		after_dot = 0;
		bol = 0;
		if (c == '\n') {
			if (!prev_cr) {
				why = SMTP_DATA_BARE_LF;
				break;
			}
			bol = 1;
			line = 0;
		} else if (c == '\r') {
			emit = !was_after_dot;
		} else if (c == '\0') {
			why = SMTP_DATA_NUL;
		} else if (line >= RD_SMTP_MAX_DATA_LINE - 2) {
			why = SMTP_DATA_LINE_TOO_LONG;
		} else {
			line++;
		}
		if (why == SMTP_DATA_OK && emit) {
			if (res->out_len >= out_max)
				why = SMTP_DATA_TOO_BIG;
			else
				res->out[res->out_len++] = c;
		}
	}
	res->reason = why;
	res->ret = end == SIZE_MAX ? SMTP_DATA_MORE :
		why == SMTP_DATA_OK ? SMTP_DATA_DONE : SMTP_DATA_ERROR;
	res->consumed = end == SIZE_MAX ? len : end + 3;
}

static int same(const struct result *a, const struct result *b)
{
	if (a->ret != b->ret || a->reason != b->reason || a->consumed != b->consumed)
		return 0;
	/* out is specified only while nothing was refused */
	if (a->reason == SMTP_DATA_OK)
		return a->out_len == b->out_len &&
			(a->out_len == 0 || memcmp(a->out, b->out, a->out_len) == 0);
	return 1;
}

struct dcase {
	const char *name;
	const char *in;
	size_t len;             /* 0: strlen(in) */
	size_t out_max;         /* 0: 1 MiB */
	int ret;
	enum smtp_data_reason reason;
	const char *out;        /* expected message on DONE */
	const char *tail;       /* bytes left to the caller */
};

#define DONE SMTP_DATA_DONE
#define MORE SMTP_DATA_MORE
#define ERR SMTP_DATA_ERROR

static const struct dcase dcases[] = {
	{ "simple message", "Subject: x\r\n\r\nbody\r\n.\r\n", 0, 0, DONE, SMTP_DATA_OK,
	  "Subject: x\r\n\r\nbody\r\n", "" },
	{ "empty message", ".\r\n", 0, 0, DONE, SMTP_DATA_OK, "", "" },
	{ "one empty line", "\r\n.\r\n", 0, 0, DONE, SMTP_DATA_OK, "\r\n", "" },
	{ "stuffed dot line", "..\r\n.\r\n", 0, 0, DONE, SMTP_DATA_OK, ".\r\n", "" },
	{ "stuffed dots", "a\r\n..b\r\n...\r\n.\r\n", 0, 0, DONE, SMTP_DATA_OK,
	  "a\r\n.b\r\n..\r\n", "" },
	{ "unstuffed leading dot removed", ".x\r\n.\r\n", 0, 0, DONE, SMTP_DATA_OK, "x\r\n", "" },
	{ "dot inside a line", "a.b\r\n.c.\r\n.\r\n", 0, 0, DONE, SMTP_DATA_OK, "a.b\r\nc.\r\n", "" },
	{ "pipelined bytes stay", "a\r\n.\r\nQUIT\r\n", 0, 0, DONE, SMTP_DATA_OK, "a\r\n", "QUIT\r\n" },
	{ "8-bit octets", "caf\xc3\xa9\r\n\xff\x80\r\n.\r\n", 0, 0, DONE, SMTP_DATA_OK,
	  "caf\xc3\xa9\r\n\xff\x80\r\n", "" },
	{ "no end yet", "a\r\nb\r\n", 0, 0, MORE, SMTP_DATA_OK, NULL, NULL },
	{ "no end yet after dot CR", "a\r\n.\r", 0, 0, MORE, SMTP_DATA_OK, NULL, NULL },
	{ "end needs its CRLF", "a\r\n.", 0, 0, MORE, SMTP_DATA_OK, NULL, NULL },
	{ "bare LF", "a\nb\r\n.\r\n", 0, 0, ERR, SMTP_DATA_BARE_LF, NULL, "" },
	{ "bare LF first", "\n.\r\nx\r\n.\r\nQUIT\r\n", 0, 0, ERR, SMTP_DATA_BARE_LF, NULL, "QUIT\r\n" },
	{ "bare CR", "a\rb\r\n.\r\n", 0, 0, ERR, SMTP_DATA_BARE_CR, NULL, "" },
	{ "CR CR LF", "a\r\r\n.\r\nQUIT\r\n", 0, 0, ERR, SMTP_DATA_BARE_CR, NULL, "QUIT\r\n" },
	{ "dot CR CR LF then end", "a\r\n.\r\r\n.\r\n", 0, 0, ERR, SMTP_DATA_BARE_CR, NULL, "" },
	{ "NUL", "a\0b\r\n.\r\n", 8, 0, ERR, SMTP_DATA_NUL, NULL, "" },
	{ "first fault wins", "a\0b\nc\r\n.\r\n", 10, 0, ERR, SMTP_DATA_NUL, NULL, "" },
	{ "error keeps discarding", "a\nb\n.\n", 0, 0, MORE, SMTP_DATA_BARE_LF, NULL, NULL },
	{ "fits exactly", "0123456789\r\n.\r\n", 0, 12, DONE, SMTP_DATA_OK, "0123456789\r\n", "" },
	{ "one too big", "0123456789\r\n.\r\nQUIT\r\n", 0, 11, ERR, SMTP_DATA_TOO_BIG, NULL, "QUIT\r\n" },
	{ "far too big", "0123456789\r\n.\r\n", 0, 3, ERR, SMTP_DATA_TOO_BIG, NULL, "" },
	{ "cap of 1, empty message", ".\r\n", 0, 1, DONE, SMTP_DATA_OK, "", "" },
	/* THREATS.md case 1: SMTP smuggling */
	{ "smuggle LF.LF", "hi\n.\nMAIL FROM:<e@x.example>\r\nRCPT TO:<v@y.example>\r\n"
	  "DATA\r\nevil\r\n.\r\nQUIT\r\n", 0, 0, ERR, SMTP_DATA_BARE_LF, NULL, "QUIT\r\n" },
	{ "smuggle LF.CRLF", "hi\n.\r\nMAIL FROM:<e@x.example>\r\nRCPT TO:<v@y.example>\r\n"
	  "DATA\r\nevil\r\n.\r\nQUIT\r\n", 0, 0, ERR, SMTP_DATA_BARE_LF, NULL, "QUIT\r\n" },
	{ "smuggle CR.CRLF", "hi\r.\r\nMAIL FROM:<e@x.example>\r\nRCPT TO:<v@y.example>\r\n"
	  "DATA\r\nevil\r\n.\r\nQUIT\r\n", 0, 0, ERR, SMTP_DATA_BARE_CR, NULL, "QUIT\r\n" },
	{ "smuggle CRLF.LF", "hi\r\n.\nMAIL FROM:<e@x.example>\r\nRCPT TO:<v@y.example>\r\n"
	  "DATA\r\nevil\r\n.\r\nQUIT\r\n", 0, 0, ERR, SMTP_DATA_BARE_LF, NULL, "QUIT\r\n" },
	{ "smuggle CR.CR", "hi\r.\rMAIL FROM:<e@x.example>\r\n.\r\n", 0, 0, ERR,
	  SMTP_DATA_BARE_CR, NULL, "" },
	{ "smuggle CRLF.CR", "hi\r\n.\rMAIL FROM:<e@x.example>\r\n.\r\n", 0, 0, ERR,
	  SMTP_DATA_BARE_CR, NULL, "" },
	{ "smuggle LF.LF, no real end", "hi\n.\nMAIL FROM:<e@x.example>\r\n", 0, 0, MORE,
	  SMTP_DATA_BARE_LF, NULL, NULL },
	{ "smuggle at the very start", "\n.\nMAIL FROM:<e@x.example>\r\n.\r\nQUIT\r\n", 0, 0,
	  ERR, SMTP_DATA_BARE_LF, NULL, "QUIT\r\n" },
};

static size_t in_len(const struct dcase *c)
{
	return c->len ? c->len : strlen(c->in);
}

static void run_cases(void)
{
	static const char *const how_name[] = { "whole", "byte at a time", "random splits" };
	for (size_t i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		const struct dcase *c = &dcases[i];
		const uint8_t *in = (const uint8_t *)c->in;
		size_t len = in_len(c), max = c->out_max ? c->out_max : 1024 * 1024;
		struct result whole, m;
		run(in, len, max, SPLIT_WHOLE, &whole);
		int ok = whole.contract_ok && whole.ret == c->ret && whole.reason == c->reason;
		if (c->tail != NULL)
			ok = ok && strcmp(c->in + whole.consumed, c->tail) == 0;
		else
			ok = ok && whole.consumed == len;
		if (c->ret == SMTP_DATA_DONE)
			ok = ok && whole.out_len == strlen(c->out) &&
				memcmp(whole.out ? whole.out : (const uint8_t *)"", c->out,
				       whole.out_len) == 0;
		CHECK(ok, "%s", c->name);
		if (!ok)
			printf("#   ret %d reason %d consumed %zu out_len %zu\n", whole.ret,
			       whole.reason, whole.consumed, whole.out_len);
		model(in, len, max, &m);
		CHECK(same(&whole, &m), "%s: matches the model", c->name);
		result_free(&m);
		for (int how = SPLIT_BYTES; how <= SPLIT_RANDOM; how++) {
			int all = 1;
			for (int rep = 0; rep < (how == SPLIT_RANDOM ? 20 : 1); rep++) {
				struct result r;
				run(in, len, max, (enum split)how, &r);
				all = all && r.contract_ok && same(&whole, &r);
				result_free(&r);
			}
			CHECK(all, "%s: %s gives the same result", c->name, how_name[how]);
		}
		result_free(&whole);
	}
}

/* Whatever the verdict, the smuggled command must never be handed back to
 * the caller as bytes after the end of data. */
static void run_smuggling_tails(void)
{
	int ok = 1;
	for (size_t i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		const struct dcase *c = &dcases[i];
		if (strncmp(c->name, "smuggle", 7) != 0)
			continue;
		for (int how = SPLIT_WHOLE; how <= SPLIT_RANDOM; how++) {
			struct result r;
			run((const uint8_t *)c->in, in_len(c), 1024 * 1024, (enum split)how, &r);
			if (r.ret == SMTP_DATA_DONE || strstr(c->in + r.consumed, "MAIL FROM") != NULL)
				ok = 0;
			result_free(&r);
		}
	}
	CHECK(ok, "no smuggled MAIL FROM is ever left for the command reader");
}

static void test_line_lengths(void)
{
	const size_t max_text = RD_SMTP_MAX_DATA_LINE - 2;
	size_t n = max_text + 16;
	char *in = malloc(n + 8);
	if (in == NULL)
		abort();
	for (int extra = 0; extra < 2; extra++) {
		for (int dot = 0; dot < 2; dot++) {
			size_t k = 0;
			if (dot)
				in[k++] = '.';      /* a stuffing dot does not count */
			memset(in + k, 'x', max_text + (size_t)extra);
			k += max_text + (size_t)extra;
			memcpy(in + k, "\r\n.\r\n", 5);
			k += 5;
			for (int how = SPLIT_WHOLE; how <= SPLIT_RANDOM; how++) {
				struct result r;
				run((const uint8_t *)in, k, 1024 * 1024, (enum split)how, &r);
				int want_ok = extra == 0;
				CHECK(r.consumed == k && (want_ok ? r.ret == SMTP_DATA_DONE &&
				      r.out_len == max_text + 2 : r.ret == SMTP_DATA_ERROR &&
				      r.reason == SMTP_DATA_LINE_TOO_LONG),
				      "line of %zu octets%s (split %d)", max_text + (size_t)extra,
				      dot ? " after a stuffing dot" : "", how);
				result_free(&r);
			}
		}
	}
	free(in);
}

/* THREATS.md case 3: a 10 MB line, fed in 64 KiB reads, ends as "line too
 * long" at the real end of data, and the output never grows. */
static void test_huge_line(void)
{
	const size_t chunk = 64 * 1024, total = 10 * 1024 * 1024;
	uint8_t *buf = malloc(chunk);
	if (buf == NULL)
		abort();
	memset(buf, 'A', chunk);
	struct smtp_data d;
	struct buffer out;
	smtp_data_init(&d);
	buffer_init(&out, 50u * 1024 * 1024);
	int r = SMTP_DATA_MORE, more_ok = 1;
	size_t c = 0, peak = 0;
	for (size_t off = 0; off < total; off += chunk) {
		r = smtp_data_feed(&d, buf, chunk, &c, &out);
		if (r != SMTP_DATA_MORE || c != chunk)
			more_ok = 0;
		if (out.cap > peak)
			peak = out.cap;
	}
	CHECK(more_ok && d.reason == SMTP_DATA_LINE_TOO_LONG,
	      "10 MB line: keeps reading, reason LINE_TOO_LONG");
	static const char tail[] = "\r\n.\r\nQUIT\r\n";
	r = smtp_data_feed(&d, (const uint8_t *)tail, sizeof(tail) - 1, &c, &out);
	CHECK(r == SMTP_DATA_ERROR && c == 5, "10 MB line: error at the real end of data");
	CHECK(peak <= RD_SMTP_MAX_DATA_LINE, "10 MB line: output stayed at %zu octets", peak);
	buffer_free(&out);
	free(buf);
}

/* Random streams over the octets that matter, checked against the model
 * and across splits. */
static void test_random(void)
{
	static const uint8_t alphabet[] = { 'a', '.', '\r', '\n', '\0', '.', '\r', '\n' };
	uint8_t in[96];
	int ok = 1;
	unsigned done = 0, err = 0;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = (size_t)(rng() % sizeof(in));
		for (size_t i = 0; i < len; i++)
			in[i] = alphabet[rng() % sizeof(alphabet)];
		/* make well-formed streams common too */
		if (iter % 3 == 0) {
			for (size_t i = 0; i + 1 < len; i++) {
				if (in[i] == '\n' || in[i] == '\0')
					in[i] = 'a';
				if (in[i] == '\r')
					in[++i] = '\n';
			}
		}
		size_t max = iter % 5 == 0 ? (size_t)(rng() % 32) : 4096;
		struct result m, w, b, s;
		model(in, len, max, &m);
		run(in, len, max, SPLIT_WHOLE, &w);
		run(in, len, max, SPLIT_BYTES, &b);
		run(in, len, max, SPLIT_RANDOM, &s);
		if (!w.contract_ok || !b.contract_ok || !s.contract_ok ||
		    !same(&m, &w) || !same(&w, &b) || !same(&w, &s)) {
			if (ok) {
				printf("# mismatch on iteration %d, len %zu: model %d/%d/%zu whole %d/%d/%zu\n",
				       iter, len, m.ret, m.reason, m.consumed, w.ret, w.reason, w.consumed);
			}
			ok = 0;
		}
		done += w.ret == SMTP_DATA_DONE;
		err += w.ret == SMTP_DATA_ERROR;
		result_free(&m);
		result_free(&w);
		result_free(&b);
		result_free(&s);
	}
	CHECK(ok, "20000 random streams agree with the model and across splits");
	CHECK(done > 500 && err > 500, "random streams reach both ends (%u done, %u refused)",
	      done, err);
}

static void test_bdat(void)
{
	uint64_t size;
	int last;
	const char *st;
	CHECK(smtp_bdat_parse("1000", 4, &size, &last, &st) == 0 && size == 1000 && !last,
	      "BDAT 1000");
	CHECK(smtp_bdat_parse("0 LAST", 6, &size, &last, &st) == 0 && size == 0 && last,
	      "BDAT 0 LAST");
	CHECK(smtp_bdat_parse("42 last", 7, &size, &last, &st) == 0 && size == 42 && last,
	      "LAST in any case");
	CHECK(smtp_bdat_parse("18446744073709551615", 20, &size, &last, &st) == 0 &&
	      size == UINT64_MAX, "largest size");
	CHECK(smtp_bdat_parse("18446744073709551616", 20, &size, &last, &st) == -1 &&
	      strcmp(st, "501 5.5.4 BDAT chunk size too large") == 0, "size overflow");
	CHECK(smtp_bdat_parse("99999999999999999999999999", 26, &size, &last, &st) == -1,
	      "long size");
	static const char *const bad[] = {
		"", " 1", "1 ", "-1", "+1", "1x", "1 LAS", "1 LASTX", "1  LAST", "1 LAST ",
		"LAST", "1\tLAST", "0x10",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st = NULL;
		CHECK(smtp_bdat_parse(bad[i], strlen(bad[i]), &size, &last, &st) == -1 &&
		      st != NULL && strncmp(st, "501 5.5.4 ", 10) == 0, "BDAT [%s] refused", bad[i]);
	}
	CHECK(smtp_bdat_parse("12\0LAST", 7, &size, &last, &st) == -1, "NUL refused");
}

static void test_replies(void)
{
	int ok = 1;
	for (int r = SMTP_DATA_BARE_LF; r <= SMTP_DATA_NOMEM; r++) {
		const char *s = smtp_data_reply((enum smtp_data_reason)r);
		if (s == NULL || strlen(s) < 10 || (s[0] != '4' && s[0] != '5') ||
		    s[4] != s[0] || s[3] != ' ')
			ok = 0;
	}
	CHECK(ok, "every refusal has a reply with a matching enhanced code");
	CHECK(strncmp(smtp_data_reply(SMTP_DATA_TOO_BIG), "552 5.3.4 ", 10) == 0,
	      "too big is 552 5.3.4");
}

int main(void)
{
	run_cases();
	run_smuggling_tails();
	test_line_lengths();
	test_huge_line();
	test_random();
	test_bdat();
	test_replies();
	return TEST_DONE();
}
