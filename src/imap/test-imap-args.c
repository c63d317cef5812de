/* Tests for the post-login IMAP parsers: framing fed one byte at a time,
 * hostile literals, nesting caps, sequence sets, LIST patterns and search
 * evaluation. */
#include "imap/imap-args.h"
#include "imap/imap-search.h"
#include "imap/imap-fetch.h"
#include "imap/imap-binary.h"
#include "lib/test.h"
#include <stdlib.h>

static const struct imap_frame_limits lim = { 65536, 50u * 1024u * 1024u };

/* Feeds s one byte at a time; returns the first non-MORE result (answering
 * LITERAL like a server would, i.e. going on), with *pos_r its position. */
static enum imap_frame_ret frame_bytewise(const char *s, size_t len, size_t *pos_r,
					  int *literals_r)
{
	struct imap_frame f;
	const char *err;
	imap_frame_init(&f);
	*literals_r = 0;
	for (size_t i = 1; i <= len; i++) {
		enum imap_frame_ret r;
		while ((r = imap_frame(&f, (const uint8_t *)s, i, &lim, &err)) == IMAP_FRAME_LITERAL)
			(*literals_r)++;
		if (r != IMAP_FRAME_MORE) {
			*pos_r = f.pos;
			return r;
		}
	}
	*pos_r = f.pos;
	return IMAP_FRAME_MORE;
}

static int parse(const char *s, struct imap_cmd *cmd, struct imap_arg *nodes, size_t max,
		 char *copy, const char **err)
{
	size_t n = strlen(s);
	memcpy(copy, s, n + 1);
	return imap_parse((uint8_t *)copy, n, nodes, max, 8, cmd, err);
}

static void test_frame(void)
{
	size_t pos;
	int lits;
	const char *c1 = "a1 NOOP\r\nb2 NOOP\r\n";
	CHECK(frame_bytewise(c1, strlen(c1), &pos, &lits) == IMAP_FRAME_DONE && pos == 9,
	      "first of two pipelined commands ends at its CRLF");
	const char *c2 = "a LOGIN {5}\r\nalice {3+}\r\nx}\n\r\n";
	CHECK(frame_bytewise(c2, strlen(c2), &pos, &lits) == IMAP_FRAME_DONE &&
	      pos == strlen(c2) && lits == 1, "sync + non-sync literals framed, '}' and LF inside a literal");
	const char *c3 = "a SELECT \"x {5}\"\r\n";
	CHECK(frame_bytewise(c3, strlen(c3), &pos, &lits) == IMAP_FRAME_DONE && lits == 0,
	      "literal syntax inside a quoted string is not a literal");
	const char *c4 = "a SEARCH TEXT {4294967296}\r\n";
	CHECK(frame_bytewise(c4, strlen(c4), &pos, &lits) == IMAP_FRAME_TOOBIG, "{4294967296} refused");
	const char *c5 = "a SEARCH TEXT {18446744073709551615+}\r\n";
	struct imap_frame f;
	const char *err;
	imap_frame_init(&f);
	CHECK(imap_frame(&f, (const uint8_t *)c5, strlen(c5), &lim, &err) == IMAP_FRAME_TOOBIG &&
	      !f.lit_sync, "{2^64-1+} refused as non-synchronizing");
	const char *c6 = "a SEARCH TEXT {99999999999999999999999}\r\n";
	CHECK(frame_bytewise(c6, strlen(c6), &pos, &lits) == IMAP_FRAME_TOOBIG, "overflowing size refused");
	const char *c7 = "a APPEND INBOX {1000000}\r\n";
	imap_frame_init(&f);
	CHECK(imap_frame(&f, (const uint8_t *)c7, strlen(c7), &lim, &err) == IMAP_FRAME_LITERAL &&
	      f.lit_size == 1000000, "APPEND may carry a message-sized literal");
	const char *c8 = "a SEARCH TEXT {1000000}\r\n";
	imap_frame_init(&f);
	CHECK(imap_frame(&f, (const uint8_t *)c8, strlen(c8), &lim, &err) == IMAP_FRAME_TOOBIG,
	      "other commands may not");
	const char *c9 = "a APPEND INBOX {52428801}\r\n";
	imap_frame_init(&f);
	CHECK(imap_frame(&f, (const uint8_t *)c9, strlen(c9), &lim, &err) == IMAP_FRAME_TOOBIG &&
	      f.lit_sync, "APPEND over the message cap refused before reading");
	char *big = malloc(70000);
	memset(big, 'a', 70000);
	imap_frame_init(&f);
	CHECK(imap_frame(&f, (const uint8_t *)big, 70000, &lim, &err) == IMAP_FRAME_ERROR,
	      "line without end over the cap is an error");
	free(big);
}

static void test_parse(void)
{
	struct imap_arg nodes[64];
	struct imap_cmd cmd;
	char buf[512];
	const char *err;
	CHECK(parse("a1 uid fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)\r\n",
		    &cmd, nodes, 64, buf, &err) == 0, "UID FETCH parses");
	CHECK_STR(cmd.tag, "a1", "tag");
	CHECK_STR(cmd.name, "UID", "name upper-cased");
	CHECK(cmd.nargs == 3 && imap_arg_is(cmd.args, "fetch"), "three args, FETCH");
	const struct imap_arg *l = cmd.args->next->next;
	CHECK(l->type == IMAP_ARG_LIST && l->count == 2, "item list of two");
	CHECK(l->child->next->len == strlen("BODY.PEEK[HEADER.FIELDS (From To)]<0.100>"),
	      "section with spaces and parens is one token");
	CHECK(parse("t APPEND INBOX (\\Seen) \"01-Jan-2020 10:00:00 +0000\" {3}\r\nabc",
		    &cmd, nodes, 64, buf, &err) == 0 && cmd.nargs == 4, "APPEND with literal");
	const struct imap_arg *lit = cmd.args->next->next->next;
	CHECK(lit->type == IMAP_ARG_LITERAL && lit->len == 3 && memcmp(lit->data, "abc", 3) == 0,
	      "literal points at its bytes");
	size_t lpos;
	int lits;
	const char *l8 = "t APPEND INBOX ~{3}\r\nx\0y\r\n";
	CHECK(frame_bytewise(l8, 26, &lpos, &lits) == IMAP_FRAME_DONE && lpos == 26 && lits == 1,
	      "literal8 framed byte at a time");
	char l8buf[32];
	memcpy(l8buf, l8, 26);
	CHECK(imap_parse((uint8_t *)l8buf, 26, nodes, 64, 8, &cmd, &err) == 0 &&
	      cmd.args->next->type == IMAP_ARG_LITERAL && cmd.args->next->len == 3 &&
	      cmd.args->next->data[1] == '\0', "literal8 parses, NUL kept");
	CHECK(parse("t X ~abc", &cmd, nodes, 64, buf, &err) == 0 && imap_arg_is(cmd.args, "~abc"),
	      "'~' alone is an atom character");
	CHECK(parse("t SELECT \"a\\\"b\\\\c\"", &cmd, nodes, 64, buf, &err) == 0 &&
	      cmd.args->type == IMAP_ARG_QUOTED && cmd.args->len == 5 &&
	      memcmp(cmd.args->data, "a\"b\\c", 5) == 0, "quoted unescaped");
	CHECK(parse("t X NIL 42 18446744073709551616", &cmd, nodes, 64, buf, &err) == 0 &&
	      cmd.args->type == IMAP_ARG_NIL && cmd.args->next->type == IMAP_ARG_NUMBER &&
	      cmd.args->next->num == 42 && cmd.args->next->next->type == IMAP_ARG_ATOM,
	      "NIL, number, overflowing number stays an atom");
	CHECK(parse("t X ((((((((((a))))))))))", &cmd, nodes, 64, buf, &err) == -1, "deep nesting refused");
	CHECK(parse("t X ((((a))))", &cmd, nodes, 64, buf, &err) == 0, "shallow nesting ok");
	CHECK(parse("t X (a b", &cmd, nodes, 64, buf, &err) == -1, "unterminated list");
	CHECK(parse("t X a  b", &cmd, nodes, 64, buf, &err) == -1, "double space");
	CHECK(parse("t X {5}\r\nab", &cmd, nodes, 64, buf, &err) == -1, "short literal");
	CHECK(parse("t X {18446744073709551616}\r\n", &cmd, nodes, 64, buf, &err) == -1,
	      "overflowing literal size");
	CHECK(parse("t X \"a\rb\"", &cmd, nodes, 64, buf, &err) == -1, "CR in quoted");
	CHECK(parse("t X a b c d e f g h", &cmd, nodes, 4, buf, &err) == -1, "node cap");
	CHECK(parse("NOOP", &cmd, nodes, 64, buf, &err) == -1, "no tag");
	CHECK(parse("* NOOP", &cmd, nodes, 64, buf, &err) == -1, "bad tag");
	CHECK(parse("t NOOP", &cmd, nodes, 64, buf, &err) == 0 && cmd.nargs == 0, "no args");
	char name[8];
	memcpy(buf, "t X {3}\r\na\0b", 12);
	CHECK(imap_parse((uint8_t *)buf, 12, nodes, 64, 8, &cmd, &err) == 0 &&
	      imap_arg_copy(cmd.args, name, sizeof(name)) == -1, "NUL refused by imap_arg_copy");
	/* every prefix parses or fails cleanly */
	const char *full = "a SEARCH OR (FROM \"x\" SEEN) NOT UID 1:5,7 {2}\r\nab";
	int ok = 1;
	for (size_t i = 0; i <= strlen(full); i++) {
		memcpy(buf, full, i);
		int r = imap_parse((uint8_t *)buf, i, nodes, 64, 8, &cmd, &err);
		if (r != 0 && r != -1)
			ok = 0;
	}
	CHECK(ok, "prefixes parse or fail cleanly");
}

static void test_seqset(void)
{
	struct imap_range r[4];
	const char *err;
#define SS(s, star) imap_seqset_parse((const uint8_t *)(s), strlen(s), star, r, 4, &err)
	CHECK(SS("1:*", 10) == 1 && r[0].lo == 1 && r[0].hi == 10, "1:*");
	CHECK(SS("3,5:7", 10) == 2 && imap_seqset_has(r, 2, 6) && !imap_seqset_has(r, 2, 4), "3,5:7");
	CHECK(SS("7:5", 10) == 1 && r[0].lo == 5 && r[0].hi == 7, "reversed range");
	CHECK(SS("*:4", 2) == 1 && r[0].lo == 2 && r[0].hi == 4, "* below range");
	CHECK(SS("4294967295", 1) == 1, "max u32");
	CHECK(SS("4294967296", 1) == -1, "over u32");
	CHECK(SS("99999999999999999999999", 1) == -1, "overflow");
	CHECK(SS("0", 1) == -1, "zero");
	CHECK(SS("1,", 1) == -1 && SS(",1", 1) == -1 && SS("1::2", 1) == -1 && SS("", 1) == -1,
	      "syntax errors");
	CHECK(SS("1,2,3,4,5", 9) == -1, "range cap");
#undef SS
}

static void test_list_match(void)
{
	CHECK(imap_list_match("*", "a/b/c"), "* matches all");
	CHECK(imap_list_match("%", "INBOX") && !imap_list_match("%", "a/b"), "%% stops at /");
	CHECK(imap_list_match("a/%", "a/b") && !imap_list_match("a/%", "a/b/c"), "a/%%");
	CHECK(imap_list_match("a*c", "abbbc") && !imap_list_match("a*c", "abbbd"), "a*c");
	CHECK(imap_list_match("INBOX", "INBOX") && !imap_list_match("INBOX", "INBOXx"), "literal");
	CHECK(imap_list_match("%/%", "Archive/2020"), "%%/%%");
	CHECK(!imap_list_match("*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	      "pathological pattern answers (no exponential time)");
}

static void test_search(void)
{
	struct imap_arg nodes[64];
	struct imap_cmd cmd;
	struct imap_search_key keys[32];
	struct imap_range ranges[16];
	struct imap_search se;
	char buf[512];
	const char *err;
	const char *raw = "From: Alice <alice@example.test>\r\nSubject: Hello There\r\n"
			  "To: bob@example.test\r\n\r\nThe body text.\r\n";
	struct imap_search_msg m = { .seq = 2, .uid = 7, .flags = IMAP_SEARCH_SEEN,
				     .keywords = "$Forwarded", .internal_date = 1577836800,
				     .size = 100, .modseq = 50,
				     .raw = (const uint8_t *)raw, .raw_len = strlen(raw) };
	struct imap_search_ctx sc = { .keys = keys, .max_keys = 32, .ranges = ranges,
				      .max_ranges = 16, .max_depth = 8, .max_seq = 3, .max_uid = 9 };
#define S(q) (parse(q, &cmd, nodes, 64, buf, &err) == 0 && \
	      imap_search_compile(&sc, cmd.args, &se, &err) == 0)
	CHECK(S("a SEARCH ALL") && imap_search_match(&se, &m), "ALL");
	CHECK(S("a SEARCH UNSEEN") && !imap_search_match(&se, &m), "UNSEEN");
	CHECK(S("a SEARCH SEEN UNFLAGGED") && imap_search_match(&se, &m), "SEEN UNFLAGGED (AND)");
	CHECK(S("a SEARCH FROM alice") && imap_search_match(&se, &m) && se.needs_text, "FROM");
	CHECK(S("a SEARCH FROM bob") && !imap_search_match(&se, &m), "FROM not To");
	CHECK(S("a SEARCH SUBJECT \"hello there\"") && imap_search_match(&se, &m), "SUBJECT case-insensitive");
	CHECK(S("a SEARCH BODY BODY") && imap_search_match(&se, &m), "BODY");
	CHECK(S("a SEARCH BODY Subject") && !imap_search_match(&se, &m), "BODY is not header");
	CHECK(S("a SEARCH TEXT subject") && imap_search_match(&se, &m), "TEXT covers header");
	CHECK(S("a SEARCH OR FLAGGED UID 7") && imap_search_match(&se, &m), "OR");
	CHECK(S("a SEARCH NOT (SEEN LARGER 10)") && !imap_search_match(&se, &m), "NOT (group)");
	CHECK(S("a SEARCH 2:*") && imap_search_match(&se, &m), "sequence set");
	CHECK(S("a SEARCH UID 8:*") && !imap_search_match(&se, &m), "UID set");
	CHECK(S("a SEARCH SINCE 1-Jan-2020 BEFORE 2-Jan-2020 ON 1-Jan-2020") &&
	      imap_search_match(&se, &m), "dates");
	CHECK(S("a SEARCH KEYWORD $Forwarded UNKEYWORD $Junk") && imap_search_match(&se, &m), "keywords");
	CHECK(S("a SEARCH NEW") && !imap_search_match(&se, &m), "NEW never (no \\Recent)");
	CHECK(S("a SEARCH HEADER To bob") && imap_search_match(&se, &m), "HEADER");
	CHECK(!S("a SEARCH BOGUS"), "unknown key refused");
	CHECK(S("a SEARCH MODSEQ 50") && imap_search_match(&se, &m) && se.has_modseq, "MODSEQ >=");
	CHECK(S("a SEARCH MODSEQ 51") && !imap_search_match(&se, &m), "MODSEQ above");
	CHECK(S("a SEARCH MODSEQ \"/flags/\\\\draft\" all 20 SEEN") && imap_search_match(&se, &m),
	      "MODSEQ with an entry name");
	CHECK(!S("a SEARCH MODSEQ") && !S("a SEARCH MODSEQ x"), "MODSEQ without a number refused");
	CHECK(S("a SEARCH $") && !imap_search_match(&se, &m), "$ with nothing saved matches nothing");
	struct imap_range saved = { 5, 8 };
	sc.saved = &saved;
	sc.nsaved = 1;
	CHECK(S("a SEARCH $ SEEN") && imap_search_match(&se, &m) && !se.has_modseq, "$ is the saved UIDs");
	saved.lo = 8;
	CHECK(S("a SEARCH NOT $") && imap_search_match(&se, &m), "NOT $");
	sc.saved = NULL;
	sc.nsaved = 0;
	CHECK(!S("a SEARCH SINCE 32-Jan-2020"), "bad date refused");
	CHECK(!S("a SEARCH SINCE 29-Feb-2023") && S("a SEARCH SINCE 29-Feb-2024"), "leap days");
	int64_t d1 = 9, d2 = 9, d3 = 9;
	CHECK(imap_date_days((const uint8_t *)"1-Jan-1970", 10, &d1) == 0 && d1 == 0 &&
	      imap_date_days((const uint8_t *)"31-Dec-1969", 11, &d2) == 0 && d2 == -1 &&
	      imap_date_days((const uint8_t *)"02-Jan-1970", 11, &d3) == 0 && d3 == 1,
	      "day numbers around the epoch");
	CHECK(!S("a SEARCH NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT ALL"), "nesting cap");
	CHECK(!S("a SEARCH OR ALL"), "OR needs two");
#undef S
}

static const char *fetch_str(const char *items, const char *raw, struct buffer *out)
{
	static struct imap_arg nodes[64];
	static struct imap_cmd cmd;
	static char buf[512];
	static struct imap_fetch f;
	struct imap_fetch_simple simple;
	const char *err;
	snprintf(buf, sizeof(buf), "a FETCH 1 %s", items);
	if (imap_parse((uint8_t *)buf, strlen(buf), nodes, 64, 8, &cmd, &err) < 0 ||
	    imap_fetch_parse(cmd.args->next, &f, &err) < 0)
		return NULL;
	size_t len = strlen(raw);
	if (imap_fetch_simple((const uint8_t *)raw, len, &simple) < 0)
		return NULL;
	struct imap_fetch_msg m = { .seq = 1, .uid = 5, .flags = 1, .keywords = "$Label1",
				    .internal_date = 0, .size = len,
				    .envelope = (const char *)simple.envelope.data,
				    .bodystructure = (const char *)simple.bodystructure.data,
				    .body = (const char *)simple.body.data,
				    .parts = simple.parts, .nparts = 2,
				    .raw = (const uint8_t *)raw, .raw_len = len };
	buffer_reset(out);
	const char *s = NULL;
	int r = imap_fetch_write(&f, &m, out, &err);
	imap_fetch_simple_free(&simple);
	if (r < 0 || buffer_cstr(out, &s) < 0)
		return NULL;
	return s;
}

static void test_fetch(void)
{
	struct buffer out;
	buffer_init(&out, 1 << 20);
	const char *raw = "From: \"A, B\" <a@x.test>\r\nTo: c@y.test, d\r\nSubject: Hi \"q\"\r\n"
			  "Content-Type: text/plain; charset=utf-8\r\n\r\nline1\r\nline2\r\n";
	CHECK_STR(fetch_str("(UID FLAGS RFC822.SIZE INTERNALDATE)", raw, &out),
		  "* 1 FETCH (UID 5 FLAGS (\\Seen $Label1) RFC822.SIZE 116 "
		  "INTERNALDATE \"01-Jan-1970 00:00:00 +0000\")\r\n", "metadata items");
	CHECK_STR(fetch_str("ENVELOPE", raw, &out),
		  "* 1 FETCH (ENVELOPE (NIL \"Hi \\\"q\\\"\" ((\"A, B\" NIL \"a\" \"x.test\")) "
		  "((\"A, B\" NIL \"a\" \"x.test\")) ((\"A, B\" NIL \"a\" \"x.test\")) "
		  "((NIL NIL \"c\" \"y.test\")(NIL NIL \"d\" \"MISSING_DOMAIN\")) NIL NIL NIL NIL))\r\n",
		  "fallback envelope");
	CHECK_STR(fetch_str("BODYSTRUCTURE", raw, &out),
		  "* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL "
		  "\"7BIT\" 14 2))\r\n", "fallback bodystructure");
	CHECK_STR(fetch_str("BODY.PEEK[TEXT]", raw, &out),
		  "* 1 FETCH (BODY[TEXT] {14}\r\nline1\r\nline2\r\n)\r\n", "BODY[TEXT]");
	CHECK_STR(fetch_str("BODY[]<2.3>", raw, &out),
		  "* 1 FETCH (BODY[]<2> {3}\r\nom:)\r\n", "partial");
	CHECK_STR(fetch_str("BODY[1]<200.3>", raw, &out),
		  "* 1 FETCH (BODY[1]<200> {0}\r\n)\r\n", "partial past the end");
	CHECK_STR(fetch_str("BODY.PEEK[HEADER.FIELDS (to SUBJECT)]", raw, &out),
		  "* 1 FETCH (BODY[HEADER.FIELDS (to SUBJECT)] {36}\r\n"
		  "To: c@y.test, d\r\nSubject: Hi \"q\"\r\n\r\n)\r\n", "HEADER.FIELDS");
	CHECK_STR(fetch_str("BODY.PEEK[HEADER.FIELDS.NOT (From Content-Type To)]", raw, &out),
		  "* 1 FETCH (BODY[HEADER.FIELDS.NOT (From Content-Type To)] {19}\r\n"
		  "Subject: Hi \"q\"\r\n\r\n)\r\n", "HEADER.FIELDS.NOT");
	CHECK_STR(fetch_str("BODY[2]", raw, &out), "* 1 FETCH (BODY[2] NIL)\r\n", "missing part");
	CHECK(fetch_str("BODY[0]", raw, &out) == NULL, "part 0 refused");
	CHECK(fetch_str("BODY[1.MIME", raw, &out) == NULL, "unterminated section refused");
	CHECK(fetch_str("BODY[]<1.0>", raw, &out) == NULL, "zero-length partial refused");
	CHECK(fetch_str("BOGUS", raw, &out) == NULL, "unknown item refused");
	const char *b64 = "Content-Transfer-Encoding: Base64\r\n\r\naGVsbG8A\r\nd29ybGQ=\r\n";
	struct buffer o2;
	buffer_init(&o2, 1 << 16);
	const char *got = fetch_str("(BINARY.PEEK[1] BINARY.SIZE[1])", b64, &out);
	CHECK(got != NULL && memcmp(got, "* 1 FETCH (BINARY[1] ~{11}\r\nhello\0world BINARY.SIZE[1] 11)\r\n",
				    out.len) == 0 && out.len == 60, "BINARY decodes base64, literal8 for NUL");
	CHECK_STR(fetch_str("BINARY[1]<6.3>", b64, &o2), "* 1 FETCH (BINARY[1]<6> {3}\r\nwor)\r\n",
		  "BINARY partial counts decoded octets");
	const char *qp = "Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =\r\nx  \r\n";
	CHECK_STR(fetch_str("BINARY.PEEK[1]", qp, &o2), "* 1 FETCH (BINARY[1] {9}\r\ncaf\xc3\xa9 x\r\n)\r\n",
		  "BINARY decodes quoted-printable (soft break, trailing space)");
	const char *xx = "Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n";
	CHECK(fetch_str("BINARY[1]", xx, &o2) == NULL, "unknown encoding refused (UNKNOWN-CTE)");
	CHECK(fetch_str("BINARY[1.TEXT]", raw, &o2) == NULL && fetch_str("BINARY.SIZE[1]<0.5>", raw, &o2) == NULL,
	      "BINARY sections are part numbers only, BINARY.SIZE takes no partial");
	CHECK_STR(fetch_str("BINARY.SIZE[1]", raw, &o2), "* 1 FETCH (BINARY.SIZE[1] 14)\r\n",
		  "identity encoding: the body as it is");
	buffer_free(&o2);
	struct buffer d;
	buffer_init(&d, 64);
	CHECK(imap_base64_decode((const uint8_t *)"YW\r\nJj ZA==trailing", 20, &d) == 0 && d.len == 4 &&
	      memcmp(d.data, "abcd", 4) == 0, "base64 across line breaks, stops at padding");
	buffer_reset(&d);
	CHECK(imap_qp_decode((const uint8_t *)"a=3D=zz=4", 9, &d) == 0 && d.len == 7 &&
	      memcmp(d.data, "a==zz=4", 7) == 0, "quoted-printable keeps malformed escapes");
	buffer_reset(&d);
	for (size_t i = 0; i < 64; i++)   /* capped output: refused, never overrun */
		(void)buffer_append_u8(&d, 'x');
	CHECK(imap_base64_decode((const uint8_t *)"QUJD", 4, &d) == -1, "decoder stops at the cap");
	buffer_free(&d);
	CHECK(imap_cte_parse(NULL, 0) == CTE_IDENTITY && imap_cte_parse((const uint8_t *)"8BIT", 4) == CTE_IDENTITY &&
	      imap_cte_parse((const uint8_t *)"x-foo", 5) == CTE_UNKNOWN, "encoding names");
	struct imap_fetch f;
	struct imap_arg a = { .type = IMAP_ARG_ATOM, .data = (const uint8_t *)"BODY[]<10.5>", .len = 12 };
	const char *err;
	uint64_t off = 0, len = 0;
	CHECK(imap_fetch_parse(&a, &f, &err) == 0 &&
	      imap_fetch_plan(&f, 1000, false, &off, &len) == FETCH_NEED_WINDOW && off == 10 && len == 5,
	      "a partial of the whole message reads only its window");
	CHECK(f.sets_seen, "BODY[] sets \\Seen");
	buffer_reset(&out);
	const char *s;
	CHECK(imap_write_string(&out, (const uint8_t *)"a\rb", 3) == 0 && buffer_cstr(&out, &s) == 0 &&
	      strcmp(s, "{3}\r\na\rb") == 0, "CR goes out as a literal");
	buffer_free(&out);
}

static void test_mutf7(void)
{
	char buf[128], back[128];
	CHECK(imap_mutf7_encode("caf\xc3\xa9", buf, sizeof(buf)) == 0, "encode");
	CHECK_STR(buf, "caf&AOk-", "caf\u00e9");
	CHECK(imap_mutf7_encode("A&B \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/x", buf, sizeof(buf)) == 0,
	      "encode mixed");
	CHECK_STR(buf, "A&-B &ZeVnLIqe-/x", "RFC 3501 example shape");
	CHECK(imap_mutf7_decode(buf, back, sizeof(back)) == 0, "decode");
	CHECK_STR(back, "A&B \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/x", "round trip");
	CHECK(imap_mutf7_encode("\xf0\x9f\x93\xa7", buf, sizeof(buf)) == 0 &&
	      imap_mutf7_decode(buf, back, sizeof(back)) == 0 && strcmp(back, "\xf0\x9f\x93\xa7") == 0,
	      "surrogate pair round trip (%s)", buf);
	CHECK(imap_mutf7_decode("&AOk", back, sizeof(back)) == -1, "unterminated run");
	CHECK(imap_mutf7_decode("&-&AEE-", back, sizeof(back)) == -1, "ASCII inside base64 refused");
	CHECK(imap_mutf7_decode("&2D0-", back, sizeof(back)) == -1, "lone surrogate refused");
	CHECK(imap_mutf7_decode("&AOk-", back, 2) == -1, "output cap");
	CHECK(imap_mutf7_encode("\xc3", buf, sizeof(buf)) == -1, "bad UTF-8 refused");
}

int main(void)
{
	test_mutf7();
	test_fetch();
	test_frame();
	test_parse();
	test_seqset();
	test_list_match();
	test_search();
	return TEST_DONE();
}
