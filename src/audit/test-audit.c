/* test-audit.c: the audit record format, the writer, verify's verdicts on
 * edited, removed, reordered and cut logs, torn-tail recovery, checkpoint
 * signatures, hostile values and query filters. */
#include "audit/audit-log.h"
#include "audit/audit-event.h"
#include "audit/audit-file.h"
#include "lib/test.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small file helpers ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	if (b) {
		b[n] = '\0';
		*len = (size_t)n;
	}
	return b;
}

static void spit(const char *path, const char *b, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(b, 1, len, f) != len)
		abort();
	fclose(f);
}

/* Offset of the start of 1-based line n in b. */
static size_t line_start(const char *b, size_t len, unsigned n)
{
	size_t o = 0;
	for (unsigned i = 1; i < n && o < len; i++)
		o = (size_t)((const char *)memchr(b + o, '\n', len - o) - b) + 1;
	return o;
}

static size_t line_len(const char *b, size_t len, size_t start)
{
	return (size_t)((const char *)memchr(b + start, '\n', len - start) - (b + start)) + 1;
}

static void rm_rf(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		abort();
}

static void copy_dir(const char *from, const char *to)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
	if (system(cmd) != 0)
		abort();
}

static void make_tmp(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/test-audit-XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
}

/* A log of nrec login records then a clean close (so a checkpoint last). */
static void write_log(const char *dir, unsigned nrec)
{
	struct audit_writer *w;
	const char *err = NULL;
	if (audit_open(dir, &w, &err) < 0) {
		printf("# open: %s\n", err);
		abort();
	}
	for (unsigned i = 0; i < nrec; i++) {
		char n[16];
		snprintf(n, sizeof(n), "%u", i);
		struct audit_kv kv[] = { { "principal", i % 2 ? "alice@example.org" : "bob@example.org" },
					 { "address", "192.0.2.7" }, { "protocol", "imap" }, { "n", n } };
		if (audit_append(w, "login", kv, 4, &err) < 0)
			abort();
	}
	if (audit_close(&w, &err) < 0)
		abort();
}

static enum audit_status verify(const char *dir, struct audit_verify_result *res)
{
	char audit[300];
	snprintf(audit, sizeof(audit), "%s", dir);
	enum audit_status st = audit_verify(audit, NULL, NULL, NULL, res);
	if (st != AUDIT_INTACT)
		printf("#   verify: %s line %lu seq %llu: %s\n", res->first_bad.segment,
		       res->first_bad.line, (unsigned long long)res->first_bad.seq,
		       res->first_bad.what);
	return st;
}

/* ---- pure record tests ---- */

#define Z16 "0000000000000000"
#define Z64 Z16 Z16 Z16 Z16

static void test_escape(void)
{
	char out[200], line[600];
	const char *err = NULL;
	struct audit_record *r = malloc(sizeof(*r));
	CHECK(audit_escape(out, sizeof(out), "alice@example.org", 17) == 17 &&
	      strcmp(out, "alice@example.org") == 0, "plain value stays bare");
	CHECK(audit_escape(out, sizeof(out), "", 0) == 2 && strcmp(out, "\"\"") == 0,
	      "empty value is quoted");
	audit_escape(out, sizeof(out), "a b\"c\\d\n\x7f\xc3\xa9", 11);
	CHECK_STR(out, "\"a b\\\"c\\\\d\\x0a\\x7f\\xc3\\xa9\"", "specials escaped, output ASCII");
	CHECK(audit_escape(out, 5, "a b c", 5) == -1, "escape refuses a short buffer");
	const char *hostile = "alice\n seq=9 ts=2026-01-01T00:00:00.000Z kind=admin prev=0 hash=0";
	char esc[300];
	audit_escape(esc, sizeof(esc), hostile, strlen(hostile));
	snprintf(line, sizeof(line), "seq=1 ts=2026-11-28T04:00:00.000Z kind=login user=%s "
		 "prev=%064d hash=%064d", esc, 0, 0);
	CHECK(strchr(line, '\n') == NULL, "escaped hostile value holds no newline");
	CHECK(audit_record_parse(line, strlen(line), r, &err) == 0, "record with hostile value parses");
	CHECK(r->nfields == 1 && strcmp(r->kind, "login") == 0, "one field, kind stays login");
	CHECK_STR(audit_record_get(r, "user"), hostile, "hostile value round-trips");
	CHECK(r->seq == 1 && r->ts_ms == 1795838400000LL, "seq and ts parsed");
	CHECK(r->hashed_len == strlen(line) - 70, "hash covers the line before \" hash=\"");

	static const char *const badlines[] = {
		"ts=2026-11-28T04:00:00.000Z seq=1 kind=x prev=" Z64 " hash=" Z64 "",
		"seq=1 ts=2026-11-28T04:00:00.000Z kind=x prev=" Z64 " hash=" Z64 " ",
		"seq=1 ts=2026-11-28T04:00:00.000Z kind=x a=\"\x01\" prev=" Z64 " hash=" Z64 "",
		"seq=1 ts=2026-11-28T04:00:00.000Z kind=x a=\"\\x00\" prev=" Z64 " hash=" Z64 "",
		"seq=1 ts=2026-11-28T04:00:00Z kind=x prev=" Z64 " hash=" Z64 "",
		"seq=01 ts=2026-11-28T04:00:00.000Z kind=x prev=" Z64 " hash=" Z64 "",
		"seq=1 ts=2026-11-28T04:00:00.000Z kind=x hash=" Z64 " prev=" Z64 "",
		"seq=1 ts=2026-11-28T04:00:00.000Z kind=x prev=" Z64 " hash=" Z64 " x=1",
		"seq=1 ts=2026-11-28T04:00:00.000Z kind=x a=\"b prev=" Z64 " hash=" Z64 "",
		"seq=1 ts=2026-11-28T04:00:00.000Z kind=x a=b\"c prev=" Z64 " hash=" Z64 "",
		"seq=1 ts=2026-11-28T04:00:00.000Z kind=x kind=y prev=" Z64 " hash=" Z64 "",
		"seq=1 ts=2026-11-28T04:00:00.000Z kind=X prev=" Z64 " hash=" Z64 "",
		"seq=1 ts=2026-02-30T04:00:00.000Z kind=x prev=" Z64 " hash=" Z64 "",
	};
	for (size_t i = 0; i < sizeof(badlines) / sizeof(badlines[0]); i++) {
		snprintf(line, sizeof(line), "%s", badlines[i]);
		CHECK(audit_record_parse(line, strlen(line), r, &err) < 0,
		      "bad line %zu refused (%s)", i, err);
	}
	/* too many fields */
	size_t o = (size_t)snprintf(line, sizeof(line), "seq=1 ts=2026-11-28T04:00:00.000Z kind=x");
	for (unsigned i = 0; i <= RD_AUDIT_MAX_FIELDS; i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, " f%u=1", i);
	snprintf(line + o, sizeof(line) - o, " prev=%064d hash=%064d", 0, 0);
	CHECK(audit_record_parse(line, strlen(line), r, &err) < 0, "field cap enforced");
	char *longl = malloc(RD_AUDIT_MAX_LINE + 10);
	memset(longl, 'a', RD_AUDIT_MAX_LINE + 9);
	CHECK(audit_record_parse(longl, RD_AUDIT_MAX_LINE + 9, r, &err) < 0, "line cap enforced");
	free(longl);
	free(r);
}

static void test_time(void)
{
	char ts[32];
	int64_t ms;
	const char *err;
	audit_format_time(1795838400123LL, ts, sizeof(ts));
	CHECK_STR(ts, "2026-11-28T04:00:00.123Z", "format time");
	CHECK(audit_parse_record_time(ts, &ms) == 0 && ms == 1795838400123LL, "record time round trip");
	audit_format_time(951782400000LL, ts, sizeof(ts));
	CHECK_STR(ts, "2000-02-29T00:00:00.000Z", "leap day");
	CHECK(audit_parse_user_time("2026-11-28T04:00:00Z", 0, &ms, &err) == 0 &&
	      ms == 1795838400000LL, "user time, seconds");
	CHECK(audit_parse_user_time("2026-11-28T04:00:00Z", 1, &ms, &err) == 0 &&
	      ms == 1795838400999LL, "until with seconds covers the second");
	CHECK(audit_parse_user_time("2026-11-28", 0, &ms, &err) == 0 &&
	      ms == 1795824000000LL, "date");
	CHECK(audit_parse_user_time("2026-11-28", 1, &ms, &err) == 0 &&
	      ms == 1795910399999LL, "until a date covers the day");
	CHECK(audit_parse_user_time("2026-11-28T04:00Z", 0, &ms, &err) == 0, "minutes");
	CHECK(audit_parse_user_time("2026-11-28 04:00:00", 0, &ms, &err) < 0, "no Z refused");
	CHECK(audit_parse_user_time("yesterday", 0, &ms, &err) < 0, "words refused");
}

/* ---- writer and verify ---- */

static void test_basic(const char *dir)
{
	struct audit_verify_result res;
	char path[400];
	struct stat st;
	write_log(dir, 10);
	snprintf(path, sizeof(path), "%s/signing.key", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "signing.key is 0600");
	snprintf(path, sizeof(path), "%s/signing.pub", dir);
	CHECK(stat(path, &st) == 0, "signing.pub exists");
	CHECK(verify(dir, &res) == AUDIT_INTACT, "fresh log verifies");
	CHECK(res.records == 11 && res.checkpoints == 1 && res.last_signed_seq == 11,
	      "10 records and the closing checkpoint (%llu, %llu)",
	      (unsigned long long)res.records, (unsigned long long)res.checkpoints);
	/* a second open continues the chain in the same segment */
	struct audit_writer *w, *w2;
	const char *err;
	CHECK(audit_open(dir, &w, &err) == 0 && audit_next_seq(w) == 12 && audit_segment(w) == 1,
	      "reopen continues at seq 12 in segment 1");
	CHECK(audit_open(dir, &w2, &err) < 0, "a second writer is refused (%s)", err);
	struct audit_kv kv[] = { { "principal", "alice@example.org" } };
	CHECK(audit_append(w, "checkpoint", kv, 1, &err) < 0, "callers cannot write checkpoints");
	struct audit_kv bad[] = { { "prev", "x" } };
	CHECK(audit_append(w, "login", bad, 1, &err) < 0, "reserved key refused");
	CHECK(audit_append_sync(w, "server_start", NULL, 0, &err) == 0, "append_sync");
	CHECK(audit_close(&w, &err) == 0 && w == NULL, "close sets NULL");
	CHECK(verify(dir, &res) == AUDIT_INTACT && res.records == 13 && res.checkpoints == 2,
	      "reopened log verifies");
}

static void test_flip(const char *dir, const char *work)
{
	char seg[400], wseg[400];
	size_t len, wl;
	struct audit_verify_result res;
	snprintf(seg, sizeof(seg), "%s/seg-000001.log", dir);
	snprintf(wseg, sizeof(wseg), "%s/seg-000001.log", work);
	char *orig = slurp(seg, &len);
	size_t s5 = line_start(orig, len, 5), l5 = line_len(orig, len, s5);
	int all = 1, tamper = 1;
	copy_dir(dir, work);
	for (size_t i = 0; i + 1 < l5; i++) {
		char *b = slurp(wseg, &wl);
		b[s5 + i] ^= 0x01;
		spit(wseg, b, wl);
		enum audit_status st = audit_verify(work, NULL, NULL, NULL, &res);
		if (st != AUDIT_TAMPERED)
			tamper = 0;
		if (res.first_bad.line != 5) {
			all = 0;
			printf("# flip at %zu: line %lu: %s\n", i, res.first_bad.line, res.first_bad.what);
		}
		b[s5 + i] ^= 0x01;
		spit(wseg, b, wl);
		free(b);
	}
	CHECK(tamper, "flipping any byte of record 5 is tampering");
	CHECK(all, "flipping any byte of record 5 names line 5");
	CHECK(verify(work, &res) == AUDIT_INTACT, "restored log verifies");

	/* delete record 5 */
	char *b = malloc(len);
	memcpy(b, orig, s5);
	memcpy(b + s5, orig + s5 + l5, len - s5 - l5);
	spit(wseg, b, len - l5);
	CHECK(verify(work, &res) == AUDIT_TAMPERED && res.first_bad.line == 5 &&
	      res.first_bad.seq == 6 && strstr(res.first_bad.what, "record 5 removed"),
	      "deleted record 5 named at line 5");
	/* swap records 4 and 5 */
	size_t s4 = line_start(orig, len, 4), l4 = line_len(orig, len, s4);
	memcpy(b, orig, len);
	memcpy(b + s4, orig + s5, l5);
	memcpy(b + s4 + l5, orig + s4, l4);
	spit(wseg, b, len);
	CHECK(verify(work, &res) == AUDIT_TAMPERED && res.first_bad.line == 4 &&
	      res.first_bad.seq == 5, "swapped records 4 and 5 named at line 4");
	/* duplicate record 5 */
	memcpy(b, orig, s5 + l5);
	spit(wseg, b, s5 + l5);
	FILE *f = fopen(wseg, "ab");
	fwrite(orig + s5, 1, len - s5, f);
	fclose(f);
	CHECK(verify(work, &res) == AUDIT_TAMPERED && res.first_bad.line == 6,
	      "repeated record named");
	/* wrong public key */
	spit(wseg, orig, len);
	uint8_t other[32] = { 1, 2, 3 };
	CHECK(audit_verify(work, other, NULL, NULL, &res) == AUDIT_TAMPERED &&
	      res.first_bad.line == 11 && strstr(res.first_bad.what, "another key"),
	      "checkpoint checked against an operator's key: %s", res.first_bad.what);
	free(b);
	free(orig);
}

/* An attacker without the key edits record 3 and re-chains every record
 * after it: only the checkpoint signature can tell. */
static void test_rechain(const char *dir, const char *work)
{
	char wseg[400];
	size_t len;
	struct audit_verify_result res;
	struct audit_record *r = malloc(sizeof(*r));
	const char *err;
	copy_dir(dir, work);
	snprintf(wseg, sizeof(wseg), "%s/seg-000001.log", work);
	char *b = slurp(wseg, &len);
	char *p = strstr(b + line_start(b, len, 3), "192.0.2.7");
	p[8] = '9';   /* 192.0.2.9: an address changed */
	uint8_t head[32] = { 0 }, h[32];
	char hex[65];
	for (size_t o = 0; o < len;) {
		size_t l = line_len(b, len, o);
		if (audit_record_parse(b + o, l - 1, r, &err) < 0)
			abort();
		audit_hex(head, 32, hex);
		memcpy(b + o + r->hashed_len - 64, hex, 64);
		char *hd = strstr(b + o, " head=");
		if (hd != NULL && hd < b + o + l)
			memcpy(hd + 6, hex, 64);
		audit_hash(b + o, r->hashed_len, h);
		audit_hex(h, 32, hex);
		memcpy(b + o + r->hashed_len + 6, hex, 64);
		memcpy(head, h, 32);
		o += l;
	}
	spit(wseg, b, len);
	CHECK(verify(work, &res) == AUDIT_TAMPERED && res.first_bad.line == 11 &&
	      strstr(res.first_bad.what, "signature does not verify"),
	      "re-chained log caught by the checkpoint signature");
	free(b);
	free(r);
}

static void test_torn(const char *dir, const char *work, const char *work2)
{
	char seg[400], wseg[400];
	size_t len;
	struct audit_verify_result res;
	const char *err;
	snprintf(seg, sizeof(seg), "%s/seg-000001.log", dir);
	char *orig = slurp(seg, &len);
	unsigned last = 0;
	for (size_t i = 0; i < len; i++)
		last += orig[i] == '\n';
	size_t sl = line_start(orig, len, last), ll = len - sl;
	int torn_ok = 1, line_ok = 1, reopen_ok = 1, newseg_ok = 1;
	copy_dir(dir, work);
	snprintf(wseg, sizeof(wseg), "%s/seg-000001.log", work);
	for (size_t cut = 1; cut < ll; cut++) {
		spit(wseg, orig, sl + cut);
		if (audit_verify(work, NULL, NULL, NULL, &res) != AUDIT_TORN_TAIL) {
			torn_ok = 0;
			printf("# cut %zu: status %d: %s\n", cut, res.status, res.first_bad.what);
		}
		if (res.first_bad.line != last || res.first_bad.offset != sl)
			line_ok = 0;
		/* the writer recovers: new segment, torn_tail record, verifies */
		copy_dir(work, work2);
		struct audit_writer *w;
		if (audit_open(work2, &w, &err) < 0) {
			reopen_ok = 0;
			continue;
		}
		if (audit_segment(w) != 2 || audit_next_seq(w) != last + 1)
			newseg_ok = 0;
		audit_close(&w, &err);
		if (audit_verify(work2, NULL, NULL, NULL, &res) != AUDIT_INTACT ||
		    res.recovered_torn != 1) {
			reopen_ok = 0;
			printf("# cut %zu reopened: %s\n", cut, res.first_bad.what);
		}
	}
	CHECK(torn_ok, "cutting the last record at every offset is a torn tail, not tampering");
	CHECK(line_ok, "the torn tail is named at its line and offset");
	CHECK(newseg_ok, "the writer starts a new segment after a torn tail");
	CHECK(reopen_ok, "after recovery the whole log verifies, the torn tail noted");
	spit(wseg, orig, sl);
	CHECK(verify(work, &res) == AUDIT_INTACT && res.last_signed_seq < res.last_seq,
	      "a cut at a record boundary reads as unsigned records after the last checkpoint");

	/* the recovered log: now cut segment 1 further back. The torn_tail
	 * record names the old offset, so this is a cut, not a crash */
	spit(wseg, orig, sl + 5);
	copy_dir(work, work2);
	struct audit_writer *w;
	CHECK(audit_open(work2, &w, &err) == 0, "reopen after torn tail");
	audit_close(&w, &err);
	snprintf(wseg, sizeof(wseg), "%s/seg-000001.log", work2);
	spit(wseg, orig, sl - 3);
	CHECK(verify(work2, &res) == AUDIT_TAMPERED, "a segment cut behind the writer's back is tampering");
	/* segment 1 removed */
	unlink(wseg);
	CHECK(verify(work2, &res) == AUDIT_TAMPERED && strstr(res.first_bad.what, "segment missing"),
	      "a removed segment is named");

	/* a complete but edited last line: the writer will not chain onto it,
	 * and verify still calls it tampering */
	copy_dir(dir, work);
	snprintf(wseg, sizeof(wseg), "%s/seg-000001.log", work);
	char *b = slurp(wseg, &len);
	b[sl + 10] ^= 1;
	spit(wseg, b, len);
	CHECK(audit_open(work, &w, &err) == 0 && audit_segment(w) == 2, "writer skips a damaged last line");
	audit_close(&w, &err);
	CHECK(verify(work, &res) == AUDIT_TAMPERED && res.first_bad.line == last,
	      "the damaged line is still reported as tampering");
	free(b);
	free(orig);
}

struct qctx { unsigned n; char last_user[400]; };

static int qcb(void *ctx, const struct audit_record *rec, const char *line, size_t len,
	       const char *segment, unsigned long lineno)
{
	struct qctx *q = ctx;
	const char *u = audit_record_get(rec, "user");
	q->n++;
	snprintf(q->last_user, sizeof(q->last_user), "%s", u ? u : "");
	return 0;
}

static unsigned query(const char *dir, const struct audit_filter *f, struct qctx *q)
{
	uint64_t skipped;
	const char *err;
	memset(q, 0, sizeof(*q));
	if (audit_query(dir, f, qcb, q, &skipped, &err) < 0)
		return 9999;
	return q->n;
}

static void test_query(const char *dir)
{
	struct audit_writer *w;
	const char *err;
	struct qctx q;
	struct audit_verify_result res;
	const char *hostile = "mallory\n seq=99 kind=admin principal=alice\"";
	CHECK(audit_open(dir, &w, &err) == 0, "open for query test");
	audit_set_clock(w, 1795838400000LL);   /* 2026-11-28T04:00:00Z */
	for (int i = 0; i < 5; i++) {
		struct audit_kv kv[] = { { "user", "alice@example.org" }, { "address", "198.51.100.9" },
					 { "protocol", "imap" }, { "reason", "bad password" } };
		audit_append(w, "login_failed", kv, 4, &err);
	}
	audit_set_clock(w, 1795842000000LL);   /* 05:00 */
	struct audit_kv a[] = { { "principal", "bob@example.org" }, { "owner", "alice@example.org" },
				{ "address", "192.0.2.8" }, { "mailbox", "Shared/Team" },
				{ "messages", "12" }, { "bytes", "34567" } };
	audit_append(w, "store_access", a, 6, &err);
	struct audit_kv h[] = { { "user", hostile }, { "address", "203.0.113.1" } };
	CHECK(audit_append_sync(w, "login_failed", h, 2, &err) == 0, "hostile user name written");
	char big[1000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct audit_kv t[] = { { "client_id", big } };
	audit_append(w, "login", t, 1, &err);
	audit_close(&w, &err);

	struct audit_filter f = { 0 };
	CHECK(query(dir, &f, &q) == 9, "all records (8 + checkpoint)");
	f.user = "alice@example.org";
	CHECK(query(dir, &f, &q) == 6, "--user alice: 5 failures and bob's access to her store");
	f.kind = "login_failed";
	CHECK(query(dir, &f, &q) == 5, "--user alice --kind login_failed");
	f = (struct audit_filter){ .address = "192.0.2.8" };
	CHECK(query(dir, &f, &q) == 1, "--address");
	f = (struct audit_filter){ .since_ms = 1795840000000LL };
	CHECK(query(dir, &f, &q) == 4, "--since");
	f = (struct audit_filter){ .until_ms = 1795840000000LL };
	CHECK(query(dir, &f, &q) == 5, "--until");
	f = (struct audit_filter){ .kind = "admin" };
	CHECK(query(dir, &f, &q) == 0, "the hostile name forged no admin record");
	f = (struct audit_filter){ .user = hostile };
	CHECK(query(dir, &f, &q) == 1 && strcmp(q.last_user, hostile) == 0,
	      "the hostile name is one record and reads back exactly");
	f = (struct audit_filter){ .user = "alice\"" };
	CHECK(query(dir, &f, &q) == 0, "no record for the name smuggled inside it");
	CHECK(verify(dir, &res) == AUDIT_INTACT && res.records == 9, "log with hostile value verifies");
	char seg[400];
	size_t len;
	snprintf(seg, sizeof(seg), "%s/seg-000001.log", dir);
	char *b = slurp(seg, &len);
	unsigned lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += b[i] == '\n';
	CHECK(lines == 9, "one line per record on disk");
	CHECK(strstr(b, "truncated=yes") != NULL, "an over-long value is cut and marked");
	free(b);
}

static void test_checkpoint_every(const char *dir)
{
	struct audit_writer *w;
	struct audit_verify_result res;
	const char *err;
	CHECK(audit_open(dir, &w, &err) == 0, "open for checkpoint test");
	for (unsigned i = 0; i < RD_AUDIT_CHECKPOINT_EVERY; i++)
		audit_append(w, "delay", NULL, 0, &err);
	audit_abort(&w);   /* a crash: no closing checkpoint */
	CHECK(verify(dir, &res) == AUDIT_INTACT && res.checkpoints == 1 &&
	      res.last_signed_seq == RD_AUDIT_CHECKPOINT_EVERY + 1,
	      "a checkpoint after every %u records", RD_AUDIT_CHECKPOINT_EVERY);
}

static void test_ipc(void)
{
	struct ipc_msg m;
	struct audit_event *ev = malloc(sizeof(*ev));
	const char *err;
	char big[600];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct audit_kv kv[] = { { "principal", "alice@example.org" }, { "client_id", big } };
	ipc_msg_init(&m, IPC_NONE, 0);
	CHECK(audit_event_put(&m, "login", kv, 2, &err) == 0, "event into a frame");
	struct ipc_reader r = { m.payload.data, m.payload.len, 0 };
	CHECK(audit_event_get(&r, ev, &err) == 0 && ev->n == 2 && strcmp(ev->kind, "login") == 0 &&
	      strcmp(ev->kv[0].value, "alice@example.org") == 0 &&
	      strlen(ev->kv[1].value) == RD_AUDIT_MAX_VALUE + 1, "event out of the frame, long value cut");
	struct ipc_reader r2 = { m.payload.data, m.payload.len - 1, 0 };
	CHECK(audit_event_get(&r2, ev, &err) < 0, "short payload refused");
	ipc_msg_free(&m);
	ipc_msg_init(&m, IPC_NONE, 0);
	ipc_put_str(&m, "login");
	ipc_put_u32(&m, 1000);
	struct ipc_reader r3 = { m.payload.data, m.payload.len, 0 };
	CHECK(audit_event_get(&r3, ev, &err) < 0, "field count from the peer capped");
	ipc_msg_free(&m);
	free(ev);
}

int main(void)
{
	char d1[64], d2[64], d3[64], d4[64], d5[64];
	test_escape();
	test_time();
	make_tmp(d1, sizeof(d1));
	make_tmp(d2, sizeof(d2));
	make_tmp(d3, sizeof(d3));
	make_tmp(d4, sizeof(d4));
	make_tmp(d5, sizeof(d5));
	char a1[80], a4[80], a5[80];
	snprintf(a1, sizeof(a1), "%s/audit", d1);
	snprintf(a4, sizeof(a4), "%s/audit", d4);
	snprintf(a5, sizeof(a5), "%s/audit", d5);
	test_basic(a1);
	test_flip(a1, d2);
	test_rechain(a1, d2);
	test_torn(a1, d2, d3);
	test_query(a4);
	test_checkpoint_every(a5);
	test_ipc();
	rm_rf(d1);
	rm_rf(d2);
	rm_rf(d3);
	rm_rf(d4);
	rm_rf(d5);
	return TEST_DONE();
}
