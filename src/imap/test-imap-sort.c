/* Tests for RFC 5256 SORT/THREAD pure parts: criteria, base subject,
 * RFC 5322 dates, keys from an ENVELOPE, ordering and ORDEREDSUBJECT. */
#include "imap/imap-sort.h"
#include "lib/test.h"
#include <stdlib.h>
#include <string.h>

static const char *base(const char *subj, struct buffer *b)
{
	buffer_reset(b);
	if (imap_base_subject((const uint8_t *)subj, strlen(subj), b) < 0)
		return NULL;
	return (const char *)b->data;
}

static void test_base_subject(void)
{
	struct buffer b;
	buffer_init(&b, 4096);
	CHECK_STR(base("Hello", &b), "HELLO", "plain, upper-cased for i;ascii-casemap");
	CHECK_STR(base("Re: hello", &b), "HELLO", "Re:");
	CHECK_STR(base("RE: Fwd: re:hello (fwd) (FWD)  ", &b), "HELLO", "leaders and trailers");
	CHECK_STR(base("[list] Re: [list] hello", &b), "HELLO", "blobs before and in re");
	CHECK_STR(base("Re [x]: hello", &b), "HELLO", "blob between re and colon");
	CHECK_STR(base("[fwd: Re: hi there]", &b), "HI THERE", "[fwd: ...] unwrapped");
	CHECK_STR(base("[only a blob]", &b), "[ONLY A BLOB]", "a blob that is all is kept");
	CHECK_STR(base("a \t\r\n  b", &b), "A B", "white space collapsed");
	CHECK_STR(base("=?utf-8?q?caf=C3=A9_au?= =?UTF-8?B?bGFpdA==?=", &b), "CAF\xc3\xa9 AULAIT",
		  "encoded words decoded, space between them dropped");
	CHECK_STR(base("Re: =?iso-8859-1?q?=E9t=E9?=", &b), "\xc3\xa9T\xc3\xa9", "latin1 to UTF-8");
	CHECK_STR(base("=?utf-8?x?bad?= =?broken", &b), "=?UTF-8?X?BAD?= =?BROKEN",
		  "malformed words kept as text");
	CHECK_STR(base("Fwdx: hi", &b), "FWDX: HI", "fwdx is no leader");
	CHECK_STR(base("", &b), "", "empty");
	/* every prefix of a tricky subject, as a truncated header would give */
	const char *hard = "Re: [a] Fw [b]: =?utf-8?q?x=3?= [fwd: (fwd)]";
	bool fine = true;
	for (size_t i = 0; i <= strlen(hard); i++) {
		buffer_reset(&b);
		fine &= imap_base_subject((const uint8_t *)hard, i, &b) == 0 && b.len > 0 &&
			b.data[b.len - 1] == 0;
	}
	CHECK(fine, "every prefix of a hard subject gives a result");
	buffer_free(&b);
}

static void test_dates(void)
{
	int64_t t = 0;
	const char *d1 = "Mon, 02 Jan 2023 10:00:00 +0100";
	CHECK(imap_rfc5322_date((const uint8_t *)d1, strlen(d1), &t) == 0 && t == 1672650000,
	      "full date with zone (%lld)", (long long)t);
	const char *d2 = "2 Jan 23 04:00 EST";
	CHECK(imap_rfc5322_date((const uint8_t *)d2, strlen(d2), &t) == 0 && t == 1672650000,
	      "no day name, 2-digit year, no seconds, obsolete zone");
	const char *bad[] = { "", "Mon,", "32 Jan 2023 10:00", "2 Foo 2023 10:00", "2 Jan 2023 1000",
			      "2 Jan 2023 10:00 +99" };
	bool refused = true;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused &= imap_rfc5322_date((const uint8_t *)bad[i], strlen(bad[i]), &t) < 0;
	CHECK(refused, "malformed dates refused");
}

static int parse_keys(const char *s, struct imap_sort_key *keys, size_t *n)
{
	static char buf[256];
	struct imap_arg nodes[32];
	struct imap_cmd cmd;
	const char *err;
	snprintf(buf, sizeof(buf), "a SORT %s", s);
	if (imap_parse((uint8_t *)buf, strlen(buf), nodes, 32, 4, &cmd, &err) < 0)
		return -1;
	return imap_sort_parse(cmd.args, keys, 8, n, &err);
}

static void test_sort(void)
{
	struct imap_sort_key keys[8];
	size_t n = 0;
	CHECK(parse_keys("(REVERSE date subject)", keys, &n) == 0 && n == 2 && keys[0].reverse &&
	      keys[0].crit == SORT_DATE && !keys[1].reverse, "criteria with REVERSE");
	CHECK(parse_keys("(SUBJECT REVERSE)", keys, &n) < 0 && parse_keys("()", keys, &n) < 0 &&
	      parse_keys("(BOGUS)", keys, &n) < 0 && parse_keys("ARRIVAL", keys, &n) < 0 &&
	      parse_keys("(REVERSE REVERSE SIZE)", keys, &n) < 0, "bad criteria refused");
	const char *env[3] = {
		"(\"Tue, 03 Jan 2023 10:00:00 +0000\" \"Re: beta\" ((\"Zed\" NIL \"zed\" \"x.test\")) "
		"NIL NIL ((NIL NIL \"b\" \"y\")) NIL NIL NIL NIL)",
		"(\"Mon, 02 Jan 2023 10:00:00 +0000\" \"alpha\" ((NIL NIL \"Amy\" \"x.test\")) "
		"NIL NIL ((NIL NIL \"c\" \"y\")) ((NIL NIL \"cc\" \"y\")) NIL NIL NIL)",
		"(NIL {4}\r\nBeta NIL NIL NIL NIL NIL NIL NIL NIL)",
	};
	struct imap_sort_msg m[3];
	bool filled = true;
	for (uint32_t i = 0; i < 3; i++) {
		m[i] = (struct imap_sort_msg){ .seq = i + 1, .uid = 10 + i, .arrival = 100 - i,
					       .size = 50 + i };
		filled &= imap_sort_msg_fill(&m[i], env[i]) == 0;
	}
	CHECK(filled, "keys from envelopes");
	CHECK_STR(m[0].subject, "BETA", "subject key");
	CHECK_STR(m[1].from, "AMY", "from key is the mailbox");
	CHECK_STR(m[2].to, "", "no To: empty key");
	CHECK(m[2].date == m[2].arrival && m[0].date == 1672740000, "date, or arrival without one");
	struct imap_sort_key by_subj_rev_date[2] = { { SORT_SUBJECT, false }, { SORT_DATE, true } };
	imap_sort(m, 3, by_subj_rev_date, 2);
	CHECK(m[0].seq == 2 && m[1].seq == 1 && m[2].seq == 3,
	      "SUBJECT then REVERSE DATE (%u %u %u)", m[0].seq, m[1].seq, m[2].seq);
	struct imap_sort_key by_from[1] = { { SORT_FROM, false } };
	imap_sort(m, 3, by_from, 1);
	CHECK(m[0].seq == 3 && m[1].seq == 2 && m[2].seq == 1, "FROM: empty first, then A, Z");
	struct buffer out;
	buffer_init(&out, 1024);
	const char *s = NULL;
	CHECK(imap_thread_orderedsubject(m, 3, false, &out) == 0 && buffer_cstr(&out, &s) == 0,
	      "thread");
	CHECK_STR(s, "(3 1)(2)", "ORDEREDSUBJECT: beta grouped (3 has no date: arrival, 1970), threads by first date");
	buffer_reset(&out);
	CHECK(imap_thread_orderedsubject(m, 3, true, &out) == 0 && buffer_cstr(&out, &s) == 0 &&
	      strcmp(s, "(12 10)(11)") == 0, "by UID");
	buffer_free(&out);
	for (size_t i = 0; i < 3; i++)
		imap_sort_msg_free(&m[i]);
	struct imap_sort_msg bad = { .arrival = 7 };
	CHECK(imap_sort_msg_fill(&bad, "(garbage") == 0 && bad.date == 7 && bad.subject[0] == '\0',
	      "malformed envelope: empty keys");
	imap_sort_msg_free(&bad);
}

int main(void)
{
	test_base_subject();
	test_dates();
	test_sort();
	return TEST_DONE();
}
