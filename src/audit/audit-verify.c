/* audit-verify.c: walking the audit log read-only: verify (chain, seq,
 * segments, checkpoint signatures, torn tails) and query. */
#include "audit/audit-log.h"
#include "audit/audit-file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sodium.h>


int audit_read_pubkey(const char *path, uint8_t pk[32], const char **error_r)
{
	char buf[80];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = "cannot open the public key file";
		return -1;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		*error_r = "cannot read the public key file";
		return -1;
	}
	size_t l = (size_t)n;
	while (l > 0 && (buf[l - 1] == '\n' || buf[l - 1] == '\r' || buf[l - 1] == ' '))
		l--;
	if (audit_unhex(buf, l, pk, 32) < 0) {
		*error_r = "the public key file does not hold 64 hex digits";
		return -1;
	}
	return 0;
}

static void place_set(struct audit_place *p, const char *seg, unsigned long line,
		      uint64_t offset, uint64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void place_set(struct audit_place *p, const char *seg, unsigned long line,
		      uint64_t offset, uint64_t seq, const char *fmt, ...)
{
	va_list ap;
	snprintf(p->segment, sizeof(p->segment), "%s", seg);
	p->line = line;
	p->offset = offset;
	p->seq = seq;
	va_start(ap, fmt);
	vsnprintf(p->what, sizeof(p->what), fmt, ap);
	va_end(ap);
}

/* State of one verify walk. */
struct vstate {
	struct audit_verify_result *res;
	uint8_t pk[32];
	uint8_t head[32];
	uint64_t expect;
	struct audit_place torn[AUDIT_MAX_TORN];   /* partials not yet acknowledged */
	size_t ntorn;
	audit_note_cb *note;
	void *ctx;
	struct audit_record rec;
};

static enum audit_status bad(struct vstate *v, const char *seg, unsigned long line,
			     uint64_t off, uint64_t seq, const char *what)
{
	place_set(&v->res->first_bad, seg, line, off, seq, "%s", what);
	return v->res->status = AUDIT_TAMPERED;
}

static int check_checkpoint(struct vstate *v, const char *line, char *why, size_t whylen)
{
	const struct audit_record *r = &v->rec;
	const char *head = audit_record_get(r, "head");
	const char *key = audit_record_get(r, "key");
	const char *sig = audit_record_get(r, "sig");
	uint8_t sigb[crypto_sign_BYTES], kb[32];
	if (r->nfields != 3 || head == NULL || key == NULL || sig == NULL || r->signed_len == 0 ||
	    audit_unhex(sig, strlen(sig), sigb, sizeof(sigb)) < 0 ||
	    audit_unhex(key, strlen(key), kb, sizeof(kb)) < 0) {
		snprintf(why, whylen, "checkpoint malformed (needs head, key, sig)");
		return -1;
	}
	if (strcmp(head, r->prev) != 0) {
		snprintf(why, whylen, "checkpoint head is not the chain head before it");
		return -1;
	}
	if (memcmp(kb, v->pk, 32) != 0) {
		snprintf(why, whylen, "checkpoint signed by another key (%.16s...), not the "
			 "public key given", key);
		return -1;
	}
	if (crypto_sign_verify_detached(sigb, (const unsigned char *)line, r->signed_len, v->pk) != 0) {
		if (v->res->last_signed_seq == 0)
			snprintf(why, whylen, "checkpoint signature does not verify: records "
				 "before it were rewritten");
		else
			snprintf(why, whylen, "checkpoint signature does not verify: records "
				 "after the checkpoint at seq %llu were rewritten",
				 (unsigned long long)v->res->last_signed_seq);
		return -1;
	}
	return 0;
}

/* One complete line. Returns AUDIT_INTACT to go on. */
static enum audit_status check_line(struct vstate *v, const char *seg, unsigned long lineno,
				    uint64_t off, const char *line, size_t len)
{
	const char *err;
	char why[256];
	uint8_t want[32], got[32];
	if (audit_record_parse(line, len, &v->rec, &err) < 0) {
		snprintf(why, sizeof(why), "record unreadable (%s): edited or not written by redoubt", err);
		return bad(v, seg, lineno, off, 0, why);
	}
	const struct audit_record *r = &v->rec;
	(void)audit_unhex(r->hash, AUDIT_HASH_HEX, want, 32);
	audit_hash(line, r->hashed_len, got);
	if (memcmp(want, got, 32) != 0)
		return bad(v, seg, lineno, off, r->seq, "record edited: its hash does not match its contents");
	if (v->ntorn > 0) {
		const struct audit_place *t = &v->torn[0];
		const char *ts = audit_record_get(r, "segment"), *to = audit_record_get(r, "offset");
		char offs[24];
		snprintf(offs, sizeof(offs), "%llu", (unsigned long long)t->offset);
		if (strcmp(r->kind, "torn_tail") != 0 || ts == NULL || to == NULL ||
		    strcmp(ts, t->segment) != 0 || strcmp(to, offs) != 0) {
			place_set(&v->res->first_bad, t->segment, t->line, t->offset, 0,
				  "partial record in the middle of the log, not recorded by the "
				  "writer as a torn tail: the segment was cut");
			return v->res->status = AUDIT_TAMPERED;
		}
	}
	if (r->seq != v->expect) {
		if (r->seq > v->expect)
			snprintf(why, sizeof(why), "seq %llu where %llu was expected: record %llu%s "
				 "removed or moved", (unsigned long long)r->seq,
				 (unsigned long long)v->expect, (unsigned long long)v->expect,
				 r->seq > v->expect + 1 ? " and following" : "");
		else
			snprintf(why, sizeof(why), "seq %llu where %llu was expected: records "
				 "reordered or repeated", (unsigned long long)r->seq,
				 (unsigned long long)v->expect);
		return bad(v, seg, lineno, off, r->seq, why);
	}
	(void)audit_unhex(r->prev, AUDIT_HASH_HEX, want, 32);
	if (memcmp(want, v->head, 32) != 0)
		return bad(v, seg, lineno, off, r->seq, "prev does not match the record before it: "
			   "a record before it was edited, removed or reordered");
	if (strcmp(r->kind, "checkpoint") == 0) {
		if (check_checkpoint(v, line, why, sizeof(why)) < 0)
			return bad(v, seg, lineno, off, r->seq, why);
		v->res->checkpoints++;
		v->res->last_signed_seq = r->seq;
	}
	if (v->ntorn > 0) {
		struct audit_place note = v->torn[0];
		snprintf(note.what, sizeof(note.what), "torn tail (a crash cut this record); "
			 "recovered by the writer at seq %llu", (unsigned long long)r->seq);
		v->res->recovered_torn++;
		if (v->note)
			v->note(v->ctx, &note);
		memmove(&v->torn[0], &v->torn[1], (v->ntorn - 1) * sizeof(v->torn[0]));
		v->ntorn--;
	}
	memcpy(v->head, got, 32);
	v->expect++;
	v->res->records++;
	v->res->last_seq = r->seq;
	return AUDIT_INTACT;
}

static enum audit_status verify_segment(struct vstate *v, int dirfd, uint32_t segno)
{
	char seg[AUDIT_SEG_NAME_MAX];
	struct audit_lines lr;
	enum audit_status st = AUDIT_INTACT;
	if (audit_lines_open(&lr, dirfd, segno, seg) < 0) {
		place_set(&v->res->first_bad, seg, 0, 0, 0, "cannot read: %s", strerror(errno));
		return v->res->status = AUDIT_ERROR;
	}
	while (st == AUDIT_INTACT) {
		const char *line;
		size_t len;
		uint64_t off, total;
		enum audit_line_kind k = audit_lines_next(&lr, &line, &len, &off, &total);
		if (k == AUDIT_LINE_EOF)
			break;
		if (k == AUDIT_LINE_ERROR) {
			place_set(&v->res->first_bad, seg, lr.lineno, lr.pos, 0, "read error: %s",
				  strerror(errno));
			st = v->res->status = AUDIT_ERROR;
		} else if (k == AUDIT_LINE_LONG) {
			st = bad(v, seg, lr.lineno, off, 0, "line longer than any record redoubt writes");
		} else if (k == AUDIT_LINE_PARTIAL) {
			if (v->ntorn == AUDIT_MAX_TORN) {
				st = bad(v, seg, lr.lineno, off, 0, "too many partial records");
				break;
			}
			place_set(&v->torn[v->ntorn++], seg, lr.lineno, off, 0,
				  "torn tail: %llu octets of an incomplete record after seq %llu "
				  "(a crash, or the file was cut)", (unsigned long long)total,
				  (unsigned long long)v->res->last_seq);
		} else {
			st = check_line(v, seg, lr.lineno, off, line, len);
		}
	}
	audit_lines_close(&lr);
	return st;
}

enum audit_status audit_verify(const char *dir, const uint8_t *pubkey,
			       audit_note_cb *note, void *ctx,
			       struct audit_verify_result *res)
{
	struct vstate *v = NULL;
	uint32_t *nums = NULL;
	size_t n = 0;
	const char *err;
	char path[4096];
	memset(res, 0, sizeof(*res));
	res->status = AUDIT_ERROR;
	int dirfd = -1;
	if (sodium_init() < 0 || (v = calloc(1, sizeof(*v))) == NULL) {
		place_set(&res->first_bad, "", 0, 0, 0, "out of memory");
		goto out;
	}
	v->res = res;
	v->note = note;
	v->ctx = ctx;
	v->expect = 1;
	if (pubkey != NULL) {
		memcpy(v->pk, pubkey, 32);
	} else {
		snprintf(path, sizeof(path), "%s/signing.pub", dir);
		if (audit_read_pubkey(path, v->pk, &err) < 0) {
			place_set(&res->first_bad, "signing.pub", 0, 0, 0, "%s", err);
			goto out;
		}
	}
	audit_hex(v->pk, 32, res->pubkey_hex);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || audit_seg_list(dirfd, &nums, &n, &err) < 0) {
		place_set(&res->first_bad, "", 0, 0, 0, "cannot list %s: %s", dir, strerror(errno));
		goto out;
	}
	res->status = AUDIT_INTACT;
	res->segments = (uint32_t)n;
	for (size_t i = 0; i < n && res->status == AUDIT_INTACT; i++) {
		uint32_t want = i == 0 ? 1 : nums[i - 1] + 1;
		if (nums[i] != want) {
			char seg[AUDIT_SEG_NAME_MAX];
			audit_seg_name(want, seg);
			place_set(&res->first_bad, seg, 0, 0, v->expect,
				  "segment missing (removed): the log jumps to seg-%06u.log", nums[i]);
			res->status = AUDIT_TAMPERED;
			break;
		}
		verify_segment(v, dirfd, nums[i]);
	}
	if (res->status == AUDIT_INTACT && v->ntorn > 0) {
		res->first_bad = v->torn[0];
		res->status = AUDIT_TORN_TAIL;
	}
	audit_hex(v->head, 32, res->head_hex);
	if (res->status == AUDIT_INTACT && res->records > res->checkpoints && note != NULL &&
	    res->last_signed_seq < res->last_seq) {
		struct audit_place p = { 0 };
		place_set(&p, "", 0, 0, res->last_seq, "%llu records after the last checkpoint "
			  "(seq %llu) are chained but not signed yet: the server is running "
			  "or did not stop cleanly",
			  (unsigned long long)(res->last_seq - res->last_signed_seq),
			  (unsigned long long)res->last_signed_seq);
		note(ctx, &p);
	}
out:
	if (dirfd >= 0)
		close(dirfd);
	free(nums);
	free(v);
	return res->status;
}

int audit_filter_match(const struct audit_filter *f, const struct audit_record *rec)
{
	if (f->kind && strcmp(f->kind, rec->kind) != 0)
		return 0;
	if (f->since_ms && rec->ts_ms < f->since_ms)
		return 0;
	if (f->until_ms && rec->ts_ms > f->until_ms)
		return 0;
	if (f->address) {
		const char *a = audit_record_get(rec, AUDIT_F_ADDRESS);
		if (a == NULL || strcasecmp(a, f->address) != 0)
			return 0;
	}
	if (f->user) {
		static const char *const keys[] = { AUDIT_F_PRINCIPAL, AUDIT_F_USER, AUDIT_F_OWNER };
		int hit = 0;
		for (size_t i = 0; i < 3 && !hit; i++) {
			const char *u = audit_record_get(rec, keys[i]);
			hit = u != NULL && strcasecmp(u, f->user) == 0;
		}
		if (!hit)
			return 0;
	}
	return 1;
}

int audit_query(const char *dir, const struct audit_filter *f,
		audit_record_cb *cb, void *ctx, uint64_t *skipped_r,
		const char **error_r)
{
	uint32_t *nums = NULL;
	size_t n = 0;
	int rc = -1, stop = 0;
	struct audit_record *rec = malloc(sizeof(*rec));
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*skipped_r = 0;
	if (rec == NULL || dirfd < 0) {
		*error_r = rec == NULL ? "out of memory" : "cannot open the audit directory";
		goto out;
	}
	if (audit_seg_list(dirfd, &nums, &n, error_r) < 0)
		goto out;
	for (size_t i = 0; i < n && !stop; i++) {
		char seg[AUDIT_SEG_NAME_MAX];
		struct audit_lines lr;
		const char *line, *err;
		size_t len;
		uint64_t off, total;
		enum audit_line_kind k = AUDIT_LINE_EOF;
		if (audit_lines_open(&lr, dirfd, nums[i], seg) < 0) {
			*error_r = "cannot read an audit segment";
			goto out;
		}
		while (!stop && (k = audit_lines_next(&lr, &line, &len, &off, &total)) != AUDIT_LINE_EOF) {
			if (k == AUDIT_LINE_ERROR)
				break;
			if (k != AUDIT_LINE_OK || audit_record_parse(line, len, rec, &err) < 0)
				(*skipped_r)++;
			else if (audit_filter_match(f, rec))
				stop = cb(ctx, rec, line, len, seg, lr.lineno) != 0;
		}
		audit_lines_close(&lr);
		if (k == AUDIT_LINE_ERROR) {
			*error_r = "cannot read an audit segment";
			goto out;
		}
	}
	rc = 0;
out:
	if (dirfd >= 0)
		close(dirfd);
	free(nums);
	free(rec);
	return rc;
}
