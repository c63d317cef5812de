/* Tests for imap-thread: the msg-id lexer, reply detection and
 * THREAD=REFERENCES (RFC 5256 3) step by step, plus hostile shapes. */
#include "imap/imap-thread.h"
#include "lib/test.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One message as a test writes it; uid is seq * 10. */
struct tm_ {
	uint32_t seq;
	int64_t date;
	const char *subject, *mid, *irt, *refs;
};

static const uint8_t key[IMAP_THREAD_KEY_SIZE] = { 1, 2, 3 };

static const uint8_t *u(const char *s)
{
	return (const uint8_t *)s;
}

static size_t slen(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

/* The thread list for t[0..n) in a static buffer ("ERROR" on -1). */
static const char *thread_cap(const struct tm_ *t, size_t n, bool uid, size_t cap)
{
	static char *last;
	struct imap_thread_msg *v = calloc(n + 1, sizeof(*v));
	struct buffer *subj = calloc(n + 1, sizeof(*subj));
	struct buffer out;
	buffer_init(&out, cap);
	int r = v != NULL && subj != NULL ? 0 : -1;
	for (size_t i = 0; i < n && r == 0; i++) {
		buffer_init(&subj[i], 4096);
		const char *s = t[i].subject != NULL ? t[i].subject : "";
		r = imap_thread_subject(u(s), strlen(s), &subj[i], &v[i].reply);
		v[i].subject = (const char *)subj[i].data;
		v[i].seq = t[i].seq;
		v[i].uid = t[i].seq * 10;
		v[i].date = t[i].date;
		v[i].message_id = u(t[i].mid);
		v[i].message_id_len = slen(t[i].mid);
		v[i].in_reply_to = u(t[i].irt);
		v[i].in_reply_to_len = slen(t[i].irt);
		v[i].references = u(t[i].refs);
		v[i].references_len = slen(t[i].refs);
	}
	if (r == 0)
		r = imap_thread_references(v, n, uid, key, &out);
	free(last);
	if (r == 0 && buffer_append_u8(&out, 0) == 0)
		last = strdup((const char *)(out.data != NULL ? out.data : u("")));
	else
		last = strdup("ERROR");
	buffer_free(&out);
	for (size_t i = 0; i < n && subj != NULL; i++)
		buffer_free(&subj[i]);
	free(subj);
	free(v);
	return last;
}

static const char *thread(const struct tm_ *t, size_t n)
{
	return thread_cap(t, n, false, 1u << 20);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_msgid(void)
{
	struct buffer b;
	buffer_init(&b, 1024);
	char got[256];
	const char *in = " <a@b> (comment <x@y>) junk <c@d>\r\n\t<e@f>";
	size_t pos = 0, o = 0;
	got[0] = '\0';
	while (imap_msgid_next(u(in), strlen(in), &pos, &b) == 1) {
		o += (size_t)snprintf(got + o, sizeof(got) - o, "[%.*s]", (int)b.len, b.data);
	}
	CHECK_STR(got, "[a@b][c@d][e@f]", "ids, a comment skipped");
	static const struct { const char *in, *want; } one[] = {
		{ "<\"01KF8JCEOCBS0045PS\"@xxx.yyy.com>", "01KF8JCEOCBS0045PS@xxx.yyy.com" },
		{ "<01KF8JCEOCBS0045PS@xxx.yyy.com>", "01KF8JCEOCBS0045PS@xxx.yyy.com" },
		{ "<a\r\n @b.c>", "a@b.c" },
		{ "<\"a\\\"q>\"@b>", "a\"q>@b" },
		{ "<<a@b>", "a@b" },
		{ "<ab> <@b> <a@> <a@b>", "a@b" },
		{ "Your message of Mon, 1 Jan <x@y> (sic)", "x@y" },
		{ "<a (c) @b>", "a@b" },
	};
	for (size_t i = 0; i < N(one); i++) {
		pos = 0;
		int r = imap_msgid_next(u(one[i].in), strlen(one[i].in), &pos, &b);
		snprintf(got, sizeof(got), "%d %.*s", r, (int)b.len, b.data);
		char want[256];
		snprintf(want, sizeof(want), "1 %s", one[i].want);
		CHECK_STR(got, want, "msg-id case %zu", i);
	}
	static const char *const none[] = { "", "<a@b", "no ids", "<ab>", "(<a@b>)", "<@>" };
	for (size_t i = 0; i < N(none); i++) {
		pos = 0;
		CHECK(imap_msgid_next(u(none[i]), strlen(none[i]), &pos, &b) == 0 &&
		      pos == strlen(none[i]), "no msg-id in \"%s\"", none[i]);
	}
	buffer_free(&b);
}

static void test_subject(void)
{
	static const struct { const char *in, *base; bool reply; } t[] = {
		{ "Re: hello", "HELLO", true },
		{ "hello", "HELLO", false },
		{ "[list] hello", "HELLO", false },
		{ "[list] Re: hello", "HELLO", true },
		{ "RE [2]: hello", "HELLO", true },
		{ "Fwd: hello", "HELLO", true },
		{ "Fw: hello", "HELLO", true },
		{ "hello (fwd)", "HELLO", true },
		{ "[fwd: hello]", "HELLO", true },
		{ "[list]", "[LIST]", false },
		{ "Reply: hello", "REPLY: HELLO", false },
		{ "=?utf-8?q?Re:_hi?=", "HI", true },
		{ "  hello   world  ", "HELLO WORLD", false },
		{ "", "", false },
	};
	for (size_t i = 0; i < N(t); i++) {
		struct buffer b;
		bool reply = !t[i].reply;
		buffer_init(&b, 1024);
		int r = imap_thread_subject(u(t[i].in), strlen(t[i].in), &b, &reply);
		CHECK(r == 0 && reply == t[i].reply, "\"%s\" reply=%d", t[i].in, t[i].reply);
		CHECK_STR(r == 0 ? (const char *)b.data : "", t[i].base, "base of \"%s\"", t[i].in);
		buffer_free(&b);
	}
}

/* RFC 5256's examples: "(2)(3 6 (4 23)(44 7 96))" and a dummy "((3)(5))". */
static void test_rfc_examples(void)
{
	const struct tm_ a[] = {
		{ 2, 100, "two", "<2@x>", NULL, NULL },
		{ 3, 200, "three", "<3@x>", NULL, NULL },
		{ 4, 400, "Re: three", "<4@x>", NULL, "<3@x> <6@x>" },
		{ 6, 300, "Re: three", "<6@x>", "<3@x>", NULL },
		{ 7, 700, "Re: three", "<7@x>", NULL, "<3@x> <6@x> <44@x>" },
		{ 23, 500, "Re: three", "<23@x>", "<4@x>", NULL },
		{ 44, 600, "Re: three", "<44@x>", NULL, "<3@x> <6@x>" },
		{ 96, 800, "Re: three", "<96@x>", NULL, "<3@x> <6@x> <44@x> <7@x>" },
	};
	CHECK_STR(thread(a, N(a)), "(2)(3 6 (4 23)(44 7 96))", "RFC 5256 example");
	CHECK_STR(thread_cap(a, N(a), true, 1024), "(20)(30 60 (40 230)(440 70 960))",
		  "UIDs");
	const struct tm_ b[] = {
		{ 3, 100, "one", "<3@x>", "<gone@x>", NULL },
		{ 5, 200, "two", "<5@x>", NULL, "<gone@x>" },
	};
	CHECK_STR(thread(b, N(b)), "((3)(5))", "dummy parent of two kept");
	const struct tm_ c[] = {
		{ 1, 100, "one", "<1@x>", NULL, "<gone@x>" },
		{ 2, 50, "two", "<2@x>", NULL, "<gone2@x> <gone3@x>" },
	};
	CHECK_STR(thread(c, N(c)), "(2)(1)", "dummy parent of one pruned, top sorted by date");
	const struct tm_ d[] = {
		{ 1, 100, "one", "<1@x>", NULL, NULL },
		{ 2, 200, "two", "<2@x>", NULL, "<1@x> <gone@x>" },
		{ 3, 300, "three", "<3@x>", NULL, "<1@x> <gone@x>" },
	};
	CHECK_STR(thread(d, N(d)), "(1 (2)(3))", "inner dummy promoted (children spliced)");
	CHECK_STR(thread(NULL, 0), "", "no messages");
}

static void test_links(void)
{
	const struct tm_ loop[] = {
		{ 1, 100, "a", "<a@x>", NULL, "<b@x>" },
		{ 2, 200, "b", "<b@x>", NULL, "<a@x>" },
	};
	CHECK_STR(thread(loop, N(loop)), "(2 1)", "A refs B, B refs A: no loop");
	const struct tm_ self[] = {
		{ 1, 100, "a", "<a@x>", "<a@x>", "<a@x>" },
		{ 2, 200, "b", "<b@x>", NULL, "<a@x> <b@x>" },
	};
	CHECK_STR(thread(self, N(self)), "(1 2)", "self references ignored");
	const struct tm_ dup[] = {
		{ 1, 100, "a", "<d@x>", NULL, NULL },
		{ 2, 200, "b", "<d@x>", NULL, NULL },
		{ 3, 300, "c", "<c@x>", "<d@x>", NULL },
		{ 4, 400, "e", "<d@x>", NULL, "<c@x>" },
	};
	CHECK_STR(thread(dup, N(dup)), "(1 3 4)(2)", "duplicate ids: first one owns it");
	const struct tm_ noid[] = {
		{ 1, 300, "a", NULL, NULL, NULL },
		{ 2, 200, "b", "garbage", "<nope>", "also garbage" },
		{ 3, 100, "c", NULL, NULL, NULL },
		{ 4, 200, "d", NULL, NULL, NULL },
	};
	CHECK_STR(thread(noid, N(noid)), "(3)(2)(4)(1)", "no ids: by date, ties by seq");
	const struct tm_ keep[] = {
		{ 1, 100, "a", "<a@x>", NULL, NULL },
		{ 2, 200, "b", "<b@x>", NULL, "<x@x>" },
		{ 3, 300, "c", "<c@x>", NULL, "<a@x> <b@x>" },
	};
	CHECK_STR(thread(keep, N(keep)), "(1)(2 3)", "1A keeps an existing parent");
	const struct tm_ brk[] = {
		{ 1, 100, "a", "<a@x>", NULL, NULL },
		{ 2, 200, "b", "<b@x>", NULL, "<a@x> <c@x>" },
		{ 3, 300, "c", "<c@x>", NULL, "<b@x>" },
	};
	CHECK_STR(thread(brk, N(brk)), "(1)(3 2)", "1B breaks the old link, refuses a loop");
	const struct tm_ irt[] = {
		{ 1, 100, "a", "<a@x>", NULL, NULL },
		{ 2, 200, "b", "<b@x>", NULL, NULL },
		{ 3, 300, "c", "<c@x>", "<b@x> <a@x>", "junk <bad>" },
		{ 4, 400, "d", "<d@x>", "<b@x>", "<a@x>" },
	};
	CHECK_STR(thread(irt, N(irt)), "(1 4)(2 3)",
		  "In-Reply-To's first id when References has none; References wins");
	const struct tm_ order[] = {
		{ 3, 300, "c", "<c@x>", "<b@x>", NULL },
		{ 1, 100, "a", "<a@x>", NULL, NULL },
		{ 2, 200, "b", "<b@x>", "<a@x>", NULL },
	};
	CHECK_STR(thread(order, N(order)), "(1 2 3)", "input order does not matter");
	const struct tm_ quoted[] = {
		{ 1, 100, "a", "<\"q.1\"@x>", NULL, NULL },
		{ 2, 200, "b", "<b@x>", "<q.1@x>", NULL },
	};
	CHECK_STR(thread(quoted, N(quoted)), "(1 2)", "quoted msg-ids normalised");
	const struct tm_ kids[] = {
		{ 1, 100, "a", "<a@x>", NULL, NULL },
		{ 2, 400, "b", "<b@x>", "<a@x>", NULL },
		{ 3, 300, "c", "<c@x>", "<a@x>", NULL },
		{ 4, 300, "d", "<d@x>", "<a@x>", NULL },
	};
	CHECK_STR(thread(kids, N(kids)), "(1 (3)(4)(2))", "siblings by date then seq");
}

/* Messages without ids, subjects split at '|', sent in sequence order. */
static const char *by_subject(const char *subjects)
{
	struct tm_ t[8];
	char copy[256];
	size_t n = 0;
	snprintf(copy, sizeof(copy), "%s", subjects);
	for (char *save = NULL, *p = strtok_r(copy, "|", &save); p != NULL && n < 8;
	     p = strtok_r(NULL, "|", &save), n++)
		t[n] = (struct tm_){ (uint32_t)n + 1, 100 * ((int64_t)n + 1), *p == '-' ? "" : p,
				     NULL, NULL, NULL };
	return thread(t, n);
}

static void test_subjects(void)
{
	static const struct { const char *subjects, *want, *what; } t[] = {
		{ "hello|Re: hello|other", "(1 2)(3)", "a Re: joins the original" },
		{ "Re: hello|hello", "(2 1)", "the non-reply is preferred" },
		{ "hello|Hello|Re: hello", "((1)(2)(3))", "two originals: a dummy holds them" },
		{ "Re: hello|RE: hello", "((1)(2))", "two replies: a dummy" },
		{ "-|Re:", "(1)(2)", "empty subjects never group" },
		{ "[list] news|news (fwd)|[fwd: news]", "(1 (2)(3))",
		  "forwards join, a blob is no reply" },
	};
	for (size_t i = 0; i < N(t); i++)
		CHECK_STR(by_subject(t[i].subjects), t[i].want, "%s", t[i].what);
	const struct tm_ dummies[] = {
		{ 1, 100, "topic", "<1@x>", NULL, "<p@x>" },
		{ 2, 200, "Re: topic", "<2@x>", NULL, "<p@x>" },
		{ 3, 300, "Re: topic", "<3@x>", NULL, "<q@x>" },
		{ 4, 400, "Re: topic", "<4@x>", NULL, "<q@x>" },
		{ 5, 500, "Re: topic", NULL, NULL, NULL },
		{ 6, 50, "topic", NULL, NULL, NULL },
	};
	CHECK_STR(thread(dummies, N(dummies)), "((6)(1)(2)(3)(4)(5))",
		  "dummies merge, a message joins a dummy");
	const struct tm_ sub[] = {
		{ 1, 100, "topic", "<1@x>", NULL, NULL },
		{ 2, 200, "Re: topic", "<2@x>", "<1@x>", NULL },
		{ 3, 300, "Re: topic", "<3@x>", NULL, NULL },
		{ 4, 400, "Re: topic", "<4@x>", "<3@x>", NULL },
	};
	CHECK_STR(thread(sub, N(sub)), "(1 (2)(3 4))", "a reply thread joins with its subtree");
}

/* "(from ... to)" counting up or down, NUL-terminated, into want. */
static const char *chain_str(struct buffer *want, size_t from, size_t to)
{
	buffer_reset(want);
	int r = buffer_printf(want, "(%zu", from);
	for (size_t i = from; i != to && r == 0;) {
		i = from < to ? i + 1 : i - 1;
		r = buffer_printf(want, " %zu", i);
	}
	return r == 0 && buffer_append_str(want, ")") == 0 &&
	       buffer_append_u8(want, 0) == 0 ? (const char *)want->data : "?";
}

/* Long and hostile shapes. */
static void test_deep(void)
{
	enum { DEEP = 100000 };
	struct tm_ *t = calloc(DEEP, sizeof(*t));
	char (*ids)[24] = calloc(DEEP + 1, sizeof(*ids));
	struct buffer want;
	buffer_init(&want, (size_t)DEEP * 16 + 16);
	if (t == NULL || ids == NULL) {
		CHECK(0, "memory");
		return;
	}
	for (size_t i = 0; i <= DEEP; i++)
		snprintf(ids[i], sizeof(ids[i]), "<%zu@deep>", i);
	/* a chain by In-Reply-To, in sequence order */
	for (size_t i = 0; i < DEEP; i++)
		t[i] = (struct tm_){ (uint32_t)i + 1, (int64_t)i, "deep", ids[i + 1],
				     i > 0 ? ids[i] : NULL, NULL };
	CHECK(strcmp(thread_cap(t, DEEP, false, 1u << 24), chain_str(&want, 1, DEEP)) == 0,
	      "100,000-deep chain");
	/* the same chain linked backwards: each message's parent comes later */
	for (size_t i = 0; i < DEEP; i++)
		t[i] = (struct tm_){ (uint32_t)i + 1, (int64_t)i, "deep", ids[i + 1],
				     i + 1 < DEEP ? ids[i + 2] : NULL, NULL };
	CHECK(strcmp(thread_cap(t, DEEP, false, 1u << 24), chain_str(&want, DEEP, 1)) == 0,
	      "100,000-deep chain, parents after children");
	/* a comb: odd messages chain, each with an even leaf beside the next
	 * odd one, so the parentheses nest 50,000 deep */
	for (size_t i = 0; i < DEEP; i++) {
		size_t seq = i + 1, parent = seq % 2 == 0 ? seq - 1 : seq - 2;
		t[i] = (struct tm_){ (uint32_t)seq, (int64_t)seq, "comb", ids[seq],
				     seq > 1 ? ids[parent] : NULL, NULL };
	}
	buffer_reset(&want);
	int r = buffer_append_str(&want, "(1");
	size_t open = 0;
	for (size_t s = 2; s <= DEEP; s += 2) {
		if (s + 1 <= DEEP) {
			r |= buffer_printf(&want, " (%zu)(%zu", s, s + 1);
			open++;
		} else {
			r |= buffer_printf(&want, " %zu", s);
		}
	}
	for (size_t i = 0; i < open; i++)
		r |= buffer_append_u8(&want, ')');
	r |= buffer_append_str(&want, ")");
	r |= buffer_append_u8(&want, 0);
	CHECK(r == 0 && strcmp(thread_cap(t, DEEP, false, 1u << 24), (char *)want.data) == 0,
	      "50,000-deep nested parentheses");
	/* every message References all earlier ones: capped, still a chain */
	enum { LONG = 400 };
	struct buffer refs[LONG];
	for (size_t i = 0; i < LONG; i++) {
		buffer_init(&refs[i], 1u << 16);
		for (size_t k = 1; k <= i; k++)
			(void)buffer_append_str(&refs[i], ids[k]);
		(void)buffer_append_u8(&refs[i], 0);
		t[i] = (struct tm_){ (uint32_t)i + 1, (int64_t)i, "long", ids[i + 1], NULL,
				     (const char *)refs[i].data };
	}
	CHECK(strcmp(thread(t, LONG), chain_str(&want, 1, LONG)) == 0,
	      "References past the cap keep the nearest ids");
	for (size_t i = 0; i < LONG; i++)
		buffer_free(&refs[i]);
	/* one message whose References name many absent ids */
	struct buffer many;
	buffer_init(&many, 1u << 22);
	for (size_t k = 1; k <= DEEP; k++)
		(void)buffer_append_str(&many, ids[k]);
	(void)buffer_append_u8(&many, 0);
	const struct tm_ hostile[] = {
		{ 1, 1, "h", "<h@x>", NULL, (const char *)many.data },
		{ 2, 2, "g", "<g@x>", NULL, (const char *)many.data },
	};
	CHECK_STR(thread(hostile, N(hostile)), "((1)(2))", "100,000 absent references");
	buffer_free(&many);
	buffer_free(&want);
	free(ids);
	free(t);
}

static void test_output_cap(void)
{
	const struct tm_ a[] = {
		{ 1, 100, "a", "<a@x>", NULL, NULL },
		{ 2, 200, "b", "<b@x>", "<a@x>", NULL },
	};
	CHECK_STR(thread_cap(a, N(a), false, 4), "ERROR", "a full output buffer fails");
	CHECK_STR(thread_cap(a, N(a), false, 6), "(1 2)", "exactly enough");
}

int main(void)
{
	test_msgid();
	test_subject();
	test_rfc_examples();
	test_links();
	test_subjects();
	test_deep();
	test_output_cap();
	return TEST_DONE();
}
