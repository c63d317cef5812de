/* store-sqlite-msg.c: message operations of the SQLite backend: append
 * (crash-safe order: blob durable first, then the index transaction),
 * fetch, raw read, flags, expunge, copy and move.
 *
 * UIDs come from the mailbox's uidnext, which only ever grows (expunge
 * never lowers it), so a UID is never reused. Every change takes the
 * mailbox's HIGHESTMODSEQ + 1 as the MODSEQ of the messages it changed. */
#include "store/store-sqlite.h"
#include "store/store-fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Room for every keyword a message may carry, space-separated. */
#define KW_TEXT_MAX (RD_STORE_MAX_KEYWORDS * (RD_STORE_MAX_KEYWORD_LEN + 1) + 1)
/* Highest UID we hand out, so uidnext itself still fits in 32 bits. */
#define UID_MAX_ASSIGNABLE (UINT32_MAX - 1u)

/* ---- keyword sets: pointers into a caller's text, deduplicated
 * case-insensitively (IMAP flags are case-insensitive) ---- */

struct kw {
	const char *p;
	size_t len;
};
struct kwset {
	struct kw kw[RD_STORE_MAX_KEYWORDS];
	size_t n;
};

static bool kw_eq(const struct kw *a, const char *p, size_t len)
{
	return a->len == len && strncasecmp(a->p, p, len) == 0;
}

static int kwset_add(struct kwset *set, const char *p, size_t len,
		     const char **error_r)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (kw_eq(&set->kw[i], p, len))
			return STORE_OK;
	}
	if (set->n >= RD_STORE_MAX_KEYWORDS) {
		*error_r = "too many keywords";
		return STORE_LIMIT;
	}
	set->kw[set->n].p = p;
	set->kw[set->n].len = len;
	set->n++;
	return STORE_OK;
}

static void kwset_remove(struct kwset *set, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (kw_eq(&set->kw[i], p, len)) {
			set->kw[i] = set->kw[--set->n];
			return;
		}
	}
}

/* Parse stored text ("a b c"); it was written by kwset_format. */
static int kwset_parse(struct kwset *set, const char *text,
		       const char **error_r)
{
	set->n = 0;
	while (*text != '\0') {
		size_t len = strcspn(text, " ");
		if (len > 0 && kwset_add(set, text, len, error_r) != STORE_OK)
			return STORE_ERROR;
		text += len;
		while (*text == ' ')
			text++;
	}
	return STORE_OK;
}

/* Validate the caller's keywords into set. */
static int kwset_from_list(struct kwset *set, const char *const *kws,
			   size_t count, const char **error_r)
{
	size_t i;
	int ret;

	set->n = 0;
	if (count > 0 && kws == NULL) {
		*error_r = "keywords missing";
		return STORE_INVALID;
	}
	for (i = 0; i < count; i++) {
		if (!store_keyword_valid(kws[i], error_r))
			return STORE_INVALID;
		if ((ret = kwset_add(set, kws[i], strlen(kws[i]), error_r)) != STORE_OK)
			return ret;
	}
	return STORE_OK;
}

static int kw_cmp(const void *a, const void *b)
{
	const struct kw *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = strncasecmp(x->p, y->p, n);

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* Sorted, so equal sets give equal text and "changed?" is a strcmp. */
static void kwset_format(struct kwset *set, char out[KW_TEXT_MAX])
{
	size_t i, pos = 0;

	qsort(set->kw, set->n, sizeof(set->kw[0]), kw_cmp);
	for (i = 0; i < set->n; i++) {
		if (i > 0)
			out[pos++] = ' ';
		memcpy(out + pos, set->kw[i].p, set->kw[i].len);
		pos += set->kw[i].len;
	}
	out[pos] = '\0';
}

static int kwset_register(struct store_sqlite *s, int64_t mailbox_id,
			  const struct kwset *set, const char **error_r)
{
	size_t i;
	int ret;

	for (i = 0; i < set->n; i++) {
		ret = sq_keyword_register(s, mailbox_id, set->kw[i].p,
					  set->kw[i].len, error_r);
		if (ret != STORE_OK)
			return ret;
	}
	return STORE_OK;
}

/* ---- helpers ---- */

static int text_ok(const char *text, size_t max, const char *what,
		   const char **error_r)
{
	if (text != NULL && strnlen(text, max + 1) > max) {
		*error_r = what;
		return STORE_LIMIT;
	}
	return STORE_OK;
}

int sq_uids_push(struct store_uids *u, size_t *cap, uint32_t uid,
		     const char **error_r)
{
	if (u->count == *cap) {
		size_t ncap, bytes;
		uint32_t *n;

		if (__builtin_mul_overflow(*cap == 0 ? (size_t)64 : *cap,
					   (size_t)2, &ncap) ||
		    __builtin_mul_overflow(ncap, sizeof(uint32_t), &bytes) ||
		    (n = realloc(u->uids, bytes)) == NULL) {
			*error_r = "out of memory";
			return STORE_ERROR;
		}
		u->uids = n;
		*cap = ncap;
	}
	u->uids[u->count++] = uid;
	return STORE_OK;
}

/* The last UID that can exist in mb: bounds every range walk, so a copy
 * into the same mailbox never chases its own new messages. */
static uint32_t range_end(const struct sq_mailbox *mb, uint32_t uid_last)
{
	int64_t top = mb->uidnext - 1;

	return top < (int64_t)uid_last ? (uint32_t)(top < 0 ? 0 : top) : uid_last;
}

struct msg_row {
	int64_t id;
	uint32_t uid;
	unsigned flags;
	char keywords[KW_TEXT_MAX];
};

/* Step `st` (SQ_MSG_NEXT*) once: 1 with row filled, 0 at the end, -1. */
static int next_row(struct store_sqlite *s, sqlite3_stmt *st,
		    struct msg_row *row, const char **error_r)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		const char *kw = (const char *)sqlite3_column_text(st, 3);
		row->id = sqlite3_column_int64(st, 0);
		row->uid = (uint32_t)sqlite3_column_int64(st, 1);
		row->flags = (unsigned)sqlite3_column_int(st, 2) & STORE_FLAGS_ALL;
		if (kw == NULL || strlen(kw) >= sizeof(row->keywords)) {
			sqlite3_reset(st);
			*error_r = "stored keywords damaged";
			return -1;
		}
		memcpy(row->keywords, kw, strlen(kw) + 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	(void)sq_fail(s, "message scan", error_r);
	return -1;
}

static sqlite3_stmt *range_stmt(struct store_sqlite *s, enum sq_stmt id,
				int64_t mailbox_id, uint32_t first,
				uint32_t last, const char **error_r)
{
	sqlite3_stmt *st = sq_stmt(s, id, error_r);

	if (st != NULL) {
		sqlite3_bind_int64(st, 1, mailbox_id);
		sqlite3_bind_int64(st, 2, first);
		sqlite3_bind_int64(st, 3, last);
	}
	return st;
}

/* ---- append ---- */

static int append_check(const struct store_append *msg, struct kwset *kws,
			const char **error_r)
{
	int ret;

	if (msg->size == 0 || msg->data == NULL) {
		*error_r = "empty message";
		return STORE_INVALID;
	}
	if (msg->size > RD_STORE_MAX_MESSAGE) {
		*error_r = "message too large";
		return STORE_LIMIT;
	}
	if ((msg->flags & ~STORE_FLAGS_ALL) != 0) {
		*error_r = "unknown flag";
		return STORE_INVALID;
	}
	if ((ret = kwset_from_list(kws, msg->keywords, msg->keyword_count,
				   error_r)) != STORE_OK)
		return ret;
	if ((ret = text_ok(msg->envelope, RD_STORE_MAX_CACHE_TEXT,
			   "envelope too large", error_r)) != STORE_OK ||
	    (ret = text_ok(msg->bodystructure, RD_STORE_MAX_CACHE_TEXT,
			   "bodystructure too large", error_r)) != STORE_OK ||
	    (ret = text_ok(msg->preview, RD_STORE_MAX_CACHE_TEXT,
			   "preview too large", error_r)) != STORE_OK ||
	    (ret = text_ok(msg->fulltext, RD_STORE_MAX_MESSAGE,
			   "full text too large", error_r)) != STORE_OK)
		return ret;
	return STORE_OK;
}

static void bind_text_or_null(sqlite3_stmt *st, int col, const char *text)
{
	if (text != NULL)
		sqlite3_bind_text(st, col, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

/* Whether a delivery key is already recorded: 1 yes, 0 no, -1 error. */
static int key_known(struct store_sqlite *s, const char *key,
		     const char **error_r)
{
	sqlite3_stmt *st = sq_stmt(s, SQ_DELIVERED_GET, error_r);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sq_row_result(s, st, sqlite3_step(st), "", "delivery key",
			   error_r);
	return rc == STORE_OK ? 1 : rc == STORE_NOT_FOUND ? 0 : -1;
}

static int key_record(struct store_sqlite *s, const char *key, int64_t now,
		      const char **error_r)
{
	sqlite3_stmt *st = sq_stmt(s, SQ_DELIVERED_ADD, error_r);

	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	return sq_exec_stmt(s, st, "delivery key", error_r);
}

/* One message row (and its search text) inside the open transaction, as
 * UID mb->uidnext with MODSEQ modseq. */
static int insert_row(struct store_sqlite *s, const struct sq_mailbox *mb,
		      int64_t modseq, const struct store_append *msg,
		      struct kwset *kws, const char *blob_id, int64_t pack,
		      uint64_t pack_offset, const char **error_r)
{
	char kwtext[KW_TEXT_MAX];
	sqlite3_stmt *st;
	int ret;

	if (mb->uidnext < 1 || mb->uidnext > (int64_t)UID_MAX_ASSIGNABLE) {
		*error_r = "mailbox UID space exhausted";
		return STORE_LIMIT;
	}
	if ((ret = kwset_register(s, mb->id, kws, error_r)) != STORE_OK)
		return ret;
	kwset_format(kws, kwtext);
	if ((st = sq_stmt(s, SQ_MSG_INSERT, error_r)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, mb->id);
	sqlite3_bind_int64(st, 2, mb->uidnext);
	sqlite3_bind_int64(st, 3, modseq);
	sqlite3_bind_int(st, 4, (int)msg->flags);
	sqlite3_bind_text(st, 5, kwtext, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, msg->internal_date);
	sqlite3_bind_int64(st, 7, (int64_t)msg->size);
	sqlite3_bind_text(st, 8, blob_id, -1, SQLITE_STATIC);
	bind_text_or_null(st, 9, msg->envelope);
	bind_text_or_null(st, 10, msg->bodystructure);
	bind_text_or_null(st, 11, msg->preview);
	if (pack > 0) {
		sqlite3_bind_int64(st, 12, pack);
		sqlite3_bind_int64(st, 13, (int64_t)pack_offset);
	} else {
		sqlite3_bind_null(st, 12);
		sqlite3_bind_null(st, 13);
	}
	if (sq_exec_stmt(s, st, "message insert", error_r) != STORE_OK)
		return STORE_ERROR;
	if (msg->fulltext == NULL && msg->text_later) {
		if ((st = sq_stmt(s, SQ_TEXT_PENDING_ADD, error_r)) == NULL)
			return STORE_ERROR;
		sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(s->db));
		return sq_exec_stmt(s, st, "text pending", error_r);
	}
	if (msg->fulltext != NULL) {
		/* header text | separator | body text (store.h) */
		const char *sep = strchr(msg->fulltext,
					 STORE_FULLTEXT_SEPARATOR);
		const char *body = sep != NULL ? sep + 1 : msg->fulltext;
		size_t head_len = sep != NULL ?
			(size_t)(sep - msg->fulltext) : 0;

		if ((st = sq_stmt(s, SQ_TEXT_INSERT, error_r)) == NULL)
			return STORE_ERROR;
		sqlite3_bind_int64(st, 1, sqlite3_last_insert_rowid(s->db));
		/* text_ok() capped the whole text far below INT_MAX */
		sqlite3_bind_text(st, 2, msg->fulltext, (int)head_len,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 3, body, -1, SQLITE_STATIC);
		if (sq_exec_stmt(s, st, "full text insert", error_r) != STORE_OK)
			return STORE_ERROR;
	}
	return STORE_OK;
}

/* append_index's answer when one of the blobs is no longer there: another
 * process's store_gc collected it (its content had been removed before)
 * between the write and this transaction. Nothing was changed. */
#define SQ_BLOB_GONE 1

/* The index half of append: one transaction for all n messages, which
 * share one MODSEQ (one change). A message whose delivery key is known
 * gets UID 0 and no row. */
static int append_index(struct store_sqlite *s, int64_t mailbox_id,
			const struct store_append *msgs, struct kwset *kws,
			const struct fs_blob *blobs, int64_t pack,
			const uint64_t *offsets, size_t n, uint32_t *uids_r,
			uint64_t *modseqs_r, const char **error_r)
{
	int64_t modseq, now = (int64_t)time(NULL);
	struct sq_mailbox mb;
	bool keyed = false, filed = false;
	sqlite3_stmt *st;
	size_t i;
	int ret, known;

	if ((ret = sq_begin_change(s, mailbox_id, &mb, &modseq,
				   error_r)) != STORE_OK)
		return ret;
	/* Under the write lock store_gc cannot run: a blob present now stays
	 * until a row naming it is removed again. */
	for (i = 0; i < n && pack == 0; i++) {
		/* (a new pack is named by no removed row: nothing collects it) */
		if (!fs_blob_present(s->blobs_fd, blobs[i].id, blobs[i].size)) {
			ret = SQ_BLOB_GONE;
			goto fail;
		}
	}
	for (i = 0; i < n; i++) {
		const char *key = msgs[i].delivery_key;

		uids_r[i] = 0;
		modseqs_r[i] = 0;
		ret = STORE_ERROR;
		if (key != NULL) {
			keyed = true;
			if ((known = key_known(s, key, error_r)) < 0)
				goto fail;
			if (known)
				continue;    /* filed before: a redelivery */
			if (key_record(s, key, now, error_r) != STORE_OK)
				goto fail;
		}
		if ((ret = insert_row(s, &mb, modseq, &msgs[i], &kws[i],
				      blobs[i].id, pack, pack > 0 ? offsets[i] : 0,
				      error_r)) != STORE_OK)
			goto fail;
		uids_r[i] = (uint32_t)mb.uidnext;
		modseqs_r[i] = (uint64_t)modseq;
		mb.uidnext++;
		filed = true;
	}
	ret = STORE_ERROR;
	if (filed) {
		mb.highestmodseq = modseq;
		if (sq_mailbox_store(s, &mb, error_r) != STORE_OK)
			goto fail;
	}
	/* Keys outlive any redelivery of their message by far; then they go
	 * (the index on "at" makes this one probe when nothing is due). */
	if (keyed) {
		if ((st = sq_stmt(s, SQ_DELIVERED_PRUNE, error_r)) == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, now - (int64_t)RD_STORE_DELIVERY_KEY_KEEP_S);
		if (sq_exec_stmt(s, st, "delivery key prune", error_r) != STORE_OK)
			goto fail;
	}
	return sq_commit(s, error_r);
fail:
	sq_rollback(s);
	for (i = 0; i < n; i++)
		uids_r[i] = 0;
	return ret;
}

/* Files of a packed batch: the pack, then the rows; on a failed
 * transaction the pack (named by nothing) is removed again. */
static int append_packed(struct store_sqlite *s, int64_t mailbox_id,
			 const struct store_append *msgs, struct kwset *kws,
			 struct fs_blob *blobs, size_t n, uint32_t *uids_r,
			 uint64_t *modseqs_r, const char **error_r)
{
	uint64_t offsets[RD_STORE_MAX_PACK_BATCH];
	int64_t pack = 0;
	int ret = fs_pack_put(s->dir_fd, s->tmp_fd, blobs, n, offsets, &pack, &s->faults,
			      error_r);
	if (ret != STORE_OK)
		return ret;
	if (s->faults.before_index != NULL)
		s->faults.before_index(s->faults.before_index_arg);
	ret = append_index(s, mailbox_id, msgs, kws, blobs, pack, offsets, n, uids_r,
			   modseqs_r, error_r);
	if (ret != STORE_OK)
		(void)fs_pack_unlink(s->dir_fd, pack);
	return ret;
}

static int append_batch(struct store *store, int64_t mailbox_id,
			const struct store_append *msgs, size_t n, bool packed,
			uint32_t *uids_r, uint64_t *modseqs_r, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	struct fs_blob *blobs = NULL;
	struct kwset *kws = NULL;
	struct sq_mailbox mb;
	size_t i;
	int ret;

	if (n == 0 || n > (packed ? RD_STORE_MAX_PACK_BATCH : RD_STORE_MAX_APPEND_BATCH)) {
		*error_r = n == 0 ? "empty batch" : "batch too large";
		return n == 0 ? STORE_INVALID : STORE_LIMIT;
	}
	blobs = calloc(n, sizeof(*blobs));
	kws = calloc(n, sizeof(*kws));
	if (blobs == NULL || kws == NULL) {
		*error_r = "out of memory";
		ret = STORE_ERROR;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *key = msgs[i].delivery_key;

		if ((ret = append_check(&msgs[i], &kws[i], error_r)) != STORE_OK)
			goto out;
		if (key != NULL && (key[0] == '\0' ||
				    strlen(key) > RD_STORE_MAX_DELIVERY_KEY)) {
			*error_r = "bad delivery key";
			ret = STORE_INVALID;
			goto out;
		}
		blobs[i].data = msgs[i].data;
		blobs[i].size = msgs[i].size;
	}
	/* Cheap check first, so a bad mailbox id leaves no blob behind. */
	if ((ret = sq_mailbox_load(s, mailbox_id, &mb, error_r)) != STORE_OK)
		goto out;
	/* Durability order (ARCHITECTURE rule 7): the blobs are durable
	 * before the rows that name them, so a crash in between leaves at
	 * worst unreferenced blobs, never a row without its blob. */
	if (packed) {
		ret = append_packed(s, mailbox_id, msgs, kws, blobs, n, uids_r, modseqs_r,
				    error_r);
		goto done;
	}
	for (unsigned tries = 1;; tries++) {
		ret = fs_blob_put_many(s->blobs_fd, s->tmp_fd, blobs, n,
				       &s->faults, error_r);
		if (ret != STORE_OK)
			goto out;
		if (s->faults.before_index != NULL)
			s->faults.before_index(s->faults.before_index_arg);
		ret = append_index(s, mailbox_id, msgs, kws, blobs, 0, NULL, n, uids_r,
				   modseqs_r, error_r);
		if (ret != SQ_BLOB_GONE)
			break;
		/* the next put finds the missing blobs absent and writes them */
		if (tries >= RD_STORE_GC_RACE_TRIES) {
			*error_r = "blobs collected again and again while being filed";
			ret = STORE_ERROR;
			goto out;
		}
	}
done:
	if (ret == STORE_OK &&
	    s->faults.crash_after_step == STORE_STEP_INDEX_COMMITTED) {
		*error_r = "fault injected: crashed";
		ret = STORE_CRASHED;
	}
out:
	free(blobs);
	free(kws);
	return ret;
}

int sq_append_batch(struct store *store, int64_t mailbox_id,
		    const struct store_append *msgs, size_t n, uint32_t *uids_r,
		    uint64_t *modseqs_r, const char **error_r)
{
	return append_batch(store, mailbox_id, msgs, n, false, uids_r, modseqs_r, error_r);
}

int sq_append_packed(struct store *store, int64_t mailbox_id,
		     const struct store_append *msgs, size_t n, uint32_t *uids_r,
		     uint64_t *modseqs_r, const char **error_r)
{
	return append_batch(store, mailbox_id, msgs, n, true, uids_r, modseqs_r, error_r);
}

int sq_append(struct store *store, int64_t mailbox_id,
	      const struct store_append *msg, uint32_t *uid_r,
	      uint64_t *modseq_r, const char **error_r)
{
	return sq_append_batch(store, mailbox_id, msg, 1, uid_r, modseq_r,
			       error_r);
}

/* ---- reading ---- */

static int fetch_rows(struct store_sqlite *s, sqlite3_stmt *st,
		      store_message_cb *cb, void *ctx, const char **error_r)
{
	struct store_message m;
	int rc;

	/* SQ_MSG_STATE has the first three columns only: the rest stay
	 * 0, NULL and "" */
	bool full = sqlite3_column_count(st) > 3;

	memset(&m, 0, sizeof(m));
	m.keywords = "";
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		m.uid = (uint32_t)sqlite3_column_int64(st, 0);
		m.modseq = (uint64_t)sqlite3_column_int64(st, 1);
		m.flags = (unsigned)sqlite3_column_int(st, 2) & STORE_FLAGS_ALL;
		if (full) {
			const char *kw = (const char *)sqlite3_column_text(st, 3);
			m.keywords = kw != NULL ? kw : "";
			m.internal_date = sqlite3_column_int64(st, 4);
			m.size = (uint64_t)sqlite3_column_int64(st, 5);
			m.blob_id = (const char *)sqlite3_column_text(st, 6);
			m.envelope = (const char *)sqlite3_column_text(st, 7);
			m.bodystructure = (const char *)sqlite3_column_text(st, 8);
			m.preview = (const char *)sqlite3_column_text(st, 9);
		}
		if (cb(ctx, &m) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_fail(s, "fetch", error_r);
	return STORE_OK;
}

int sq_fetch(struct store *store, int64_t mailbox_id, uint32_t uid_first,
	     uint32_t uid_last, store_message_cb *cb, void *ctx,
	     const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	struct sq_mailbox mb;
	sqlite3_stmt *st;
	int ret;

	if ((ret = sq_mailbox_load(s, mailbox_id, &mb, error_r)) != STORE_OK)
		return ret;
	st = range_stmt(s, SQ_MSG_FETCH, mailbox_id, uid_first, uid_last,
			error_r);
	if (st == NULL)
		return STORE_ERROR;
	return fetch_rows(s, st, cb, ctx, error_r);
}

int sq_message_open(struct store *store, int64_t mailbox_id, uint32_t uid,
		    int *fd_r, uint64_t *offset_r, uint64_t *size_r, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	char blob_id[STORE_BLOB_ID_LEN + 1];
	sqlite3_stmt *st = sq_stmt(s, SQ_MSG_BLOB, error_r);
	const char *id;
	struct stat stt;
	int64_t size = 0, pack = 0, pack_off = 0;
	int rc, fd;

	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	rc = sqlite3_step(st);
	blob_id[0] = '\0';
	if (rc == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(st, 0);
		if (id != NULL && strlen(id) == STORE_BLOB_ID_LEN)
			memcpy(blob_id, id, STORE_BLOB_ID_LEN + 1);
		size = sqlite3_column_int64(st, 1);
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			pack = sqlite3_column_int64(st, 2);
			pack_off = sqlite3_column_int64(st, 3);
		}
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		*error_r = "no such message";
		return STORE_NOT_FOUND;
	}
	if (rc != SQLITE_ROW)
		return sq_fail(s, "message lookup", error_r);
	fd = pack != 0 ? fs_pack_open(s->dir_fd, pack) : fs_blob_open(s->blobs_fd, blob_id);
	if (fd < 0) {
		*error_r = errno == ENOENT ? "message blob missing" :
			"cannot open message blob";
		return STORE_ERROR;
	}
	/* Immutable: a blob whose size differs from the index, or a pack too
	 * short for the message, means damage, and the caller must not
	 * serve it. */
	if (fstat(fd, &stt) < 0 || !S_ISREG(stt.st_mode) || size < 0 || pack_off < 0 ||
	    (pack == 0 && stt.st_size != size) ||
	    (pack != 0 && (stt.st_size < pack_off || stt.st_size - pack_off < size))) {
		close(fd);
		*error_r = "message blob damaged";
		return STORE_ERROR;
	}
	*fd_r = fd;
	*offset_r = (uint64_t)pack_off;
	*size_r = (uint64_t)size;
	return STORE_OK;
}

/* ---- flags ---- */

static int apply_change(const struct store_flag_change *change,
			const struct kwset *change_kws, struct msg_row *row,
			unsigned *flags_r, char *kwtext_r, const char **error_r)
{
	struct kwset set;
	size_t i;
	int ret;

	if (change->op == STORE_FLAGS_SET) {
		*flags_r = change->flags;
		set = *change_kws;
	} else {
		if (kwset_parse(&set, row->keywords, error_r) != STORE_OK)
			return STORE_ERROR;
		for (i = 0; i < change_kws->n; i++) {
			const struct kw *k = &change_kws->kw[i];
			if (change->op == STORE_FLAGS_REMOVE) {
				kwset_remove(&set, k->p, k->len);
			} else if ((ret = kwset_add(&set, k->p, k->len,
						    error_r)) != STORE_OK) {
				return ret;
			}
		}
		*flags_r = change->op == STORE_FLAGS_ADD ?
			row->flags | change->flags : row->flags & ~change->flags;
	}
	kwset_format(&set, kwtext_r);
	return STORE_OK;
}

static int flags_walk(struct store_sqlite *s, struct sq_mailbox *mb,
		      uint32_t first, uint32_t last, int64_t modseq,
		      const struct store_flag_change *change,
		      const struct kwset *change_kws, size_t *changed_r,
		      const char **error_r)
{
	char kwtext[KW_TEXT_MAX];
	struct msg_row row;
	sqlite3_stmt *st;
	unsigned flags;
	int ret, got;

	*changed_r = 0;
	while (first <= last) {
		if ((st = range_stmt(s, SQ_MSG_NEXT, mb->id, first, last,
				     error_r)) == NULL)
			return STORE_ERROR;
		if ((got = next_row(s, st, &row, error_r)) <= 0)
			return got == 0 ? STORE_OK : STORE_ERROR;
		if ((ret = apply_change(change, change_kws, &row, &flags, kwtext,
					error_r)) != STORE_OK)
			return ret;
		if (flags != row.flags || strcmp(kwtext, row.keywords) != 0) {
			if ((st = sq_stmt(s, SQ_MSG_SET_FLAGS, error_r)) == NULL)
				return STORE_ERROR;
			sqlite3_bind_int64(st, 1, row.id);
			sqlite3_bind_int(st, 2, (int)flags);
			sqlite3_bind_text(st, 3, kwtext, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, modseq);
			if (sq_exec_stmt(s, st, "flags update", error_r) != STORE_OK)
				return STORE_ERROR;
			(*changed_r)++;
		}
		if (row.uid == UINT32_MAX)
			break;
		first = row.uid + 1;
	}
	return STORE_OK;
}

int sq_flags_update(struct store *store, int64_t mailbox_id,
		    uint32_t uid_first, uint32_t uid_last,
		    const struct store_flag_change *change,
		    store_message_cb *changed_cb, void *ctx,
		    uint64_t *modseq_r, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	struct kwset change_kws;
	struct sq_mailbox mb;
	sqlite3_stmt *st;
	int64_t modseq;
	uint32_t last;
	size_t changed = 0;
	int ret;

	if ((unsigned)change->op > STORE_FLAGS_REMOVE ||
	    (change->flags & ~STORE_FLAGS_ALL) != 0) {
		*error_r = "invalid flag change";
		return STORE_INVALID;
	}
	if ((ret = kwset_from_list(&change_kws, change->keywords,
				   change->keyword_count, error_r)) != STORE_OK)
		return ret;
	if ((ret = sq_begin_change(s, mailbox_id, &mb, &modseq,
				   error_r)) != STORE_OK)
		return ret;
	if (change->op != STORE_FLAGS_REMOVE &&
	    (ret = kwset_register(s, mailbox_id, &change_kws, error_r)) != STORE_OK)
		goto fail;
	last = range_end(&mb, uid_last);
	if ((ret = flags_walk(s, &mb, uid_first, last, modseq, change,
			      &change_kws, &changed, error_r)) != STORE_OK)
		goto fail;
	if (changed > 0) {
		mb.highestmodseq = modseq;
		if ((ret = sq_mailbox_store(s, &mb, error_r)) != STORE_OK)
			goto fail;
	}
	if ((ret = sq_commit(s, error_r)) != STORE_OK)
		return ret;
	if (modseq_r != NULL)
		*modseq_r = (uint64_t)mb.highestmodseq;
	if (changed == 0 || changed_cb == NULL)
		return STORE_OK;
	/* Report after the commit, so nothing is announced that a failed
	 * commit took back. This call's modseq marks exactly its changes. */
	if ((st = range_stmt(s, SQ_FETCH_MODSEQ, mailbox_id, uid_first, last,
			     error_r)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 4, modseq);
	return fetch_rows(s, st, changed_cb, ctx, error_r);
fail:
	sq_rollback(s);
	return ret;
}

/* ---- expunge, copy, move ---- */

static int expunged_add(struct store_sqlite *s, int64_t mailbox_id,
			uint32_t uid, int64_t modseq, const char **error_r)
{
	sqlite3_stmt *st = sq_stmt(s, SQ_EXPUNGED_ADD, error_r);

	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int64(st, 3, modseq);
	return sq_exec_stmt(s, st, "expunge log", error_r);
}

static int delete_row(struct store_sqlite *s, int64_t id, const char **error_r)
{
	sqlite3_stmt *st = sq_stmt(s, SQ_TEXT_DELETE, error_r);

	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, id);
	if (sq_exec_stmt(s, st, "full text delete", error_r) != STORE_OK ||
	    (st = sq_stmt(s, SQ_MSG_DELETE, error_r)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, id);
	return sq_exec_stmt(s, st, "expunge", error_r);
}

int sq_expunge(struct store *store, int64_t mailbox_id, uint32_t uid_first,
	       uint32_t uid_last, struct store_uids *expunged_r,
	       const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	struct sq_mailbox mb;
	struct msg_row row;
	sqlite3_stmt *st;
	int64_t modseq;
	uint32_t first = uid_first, last;
	size_t cap = 0;
	int ret, got;

	if ((ret = sq_begin_change(s, mailbox_id, &mb, &modseq,
				   error_r)) != STORE_OK)
		return ret;
	last = range_end(&mb, uid_last);
	ret = STORE_ERROR;
	/* At most RD_STORE_MAX_BATCH per call; the caller repeats for more. */
	while (first <= last && expunged_r->count < RD_STORE_MAX_BATCH) {
		if ((st = range_stmt(s, SQ_MSG_NEXT_DELETED, mailbox_id, first,
				     last, error_r)) == NULL)
			goto fail;
		sqlite3_bind_int(st, 4, STORE_FLAG_DELETED);
		if ((got = next_row(s, st, &row, error_r)) < 0)
			goto fail;
		if (got == 0)
			break;
		if (delete_row(s, row.id, error_r) != STORE_OK ||
		    expunged_add(s, mailbox_id, row.uid, modseq, error_r) != STORE_OK ||
		    sq_uids_push(expunged_r, &cap, row.uid, error_r) != STORE_OK)
			goto fail;
		if (row.uid == UINT32_MAX)
			break;
		first = row.uid + 1;
	}
	if (expunged_r->count > 0) {
		mb.highestmodseq = modseq;
		if (sq_mailbox_store(s, &mb, error_r) != STORE_OK)
			goto fail;
	}
	if ((ret = sq_commit(s, error_r)) == STORE_OK)
		return STORE_OK;
fail:
	sq_rollback(s);
	store_uids_free(expunged_r);
	return ret;
}

struct copy_state {
	struct sq_mailbox src, dst_own, *dst;
	int64_t src_modseq, dst_modseq;
	bool move;
	size_t cap_src, cap_dst;
};

static int copy_one(struct store_sqlite *s, struct copy_state *cs,
		    struct msg_row *row, struct store_copy_result *res,
		    const char **error_r)
{
	struct kwset set;
	sqlite3_stmt *st;
	int64_t new_uid = cs->dst->uidnext, old_id = row->id;
	int ret;

	if (new_uid < 1 || new_uid > (int64_t)UID_MAX_ASSIGNABLE) {
		*error_r = "mailbox UID space exhausted";
		return STORE_LIMIT;
	}
	if (res->src.count >= RD_STORE_MAX_BATCH) {
		*error_r = "too many messages for one copy";
		return STORE_LIMIT;
	}
	if ((ret = kwset_parse(&set, row->keywords, error_r)) != STORE_OK ||
	    (ret = kwset_register(s, cs->dst->id, &set, error_r)) != STORE_OK)
		return ret;
	st = sq_stmt(s, cs->move ? SQ_MSG_MOVE : SQ_MSG_COPY, error_r);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, old_id);
	sqlite3_bind_int64(st, 2, cs->dst->id);
	sqlite3_bind_int64(st, 3, new_uid);
	sqlite3_bind_int64(st, 4, cs->dst_modseq);
	if (sq_exec_stmt(s, st, "copy", error_r) != STORE_OK)
		return STORE_ERROR;
	if (cs->move) {
		/* The row moved (same id, full text stays attached); the
		 * source only needs its expunge logged. */
		if (expunged_add(s, cs->src.id, row->uid, cs->src_modseq,
				 error_r) != STORE_OK)
			return STORE_ERROR;
	} else {
		/* the copy has the text of the original, or waits with it */
		int64_t new_id = sqlite3_last_insert_rowid(s->db);
		if ((st = sq_stmt(s, SQ_TEXT_COPY, error_r)) == NULL)
			return STORE_ERROR;
		sqlite3_bind_int64(st, 1, new_id);
		sqlite3_bind_int64(st, 2, old_id);
		if (sq_exec_stmt(s, st, "full text copy", error_r) != STORE_OK ||
		    (st = sq_stmt(s, SQ_TEXT_PENDING_COPY, error_r)) == NULL)
			return STORE_ERROR;
		sqlite3_bind_int64(st, 1, new_id);
		sqlite3_bind_int64(st, 2, old_id);
		if (sq_exec_stmt(s, st, "text pending copy", error_r) != STORE_OK)
			return STORE_ERROR;
	}
	cs->dst->uidnext++;
	if (sq_uids_push(&res->src, &cs->cap_src, row->uid, error_r) != STORE_OK ||
	    sq_uids_push(&res->dst, &cs->cap_dst, (uint32_t)new_uid, error_r) != STORE_OK)
		return STORE_ERROR;
	return STORE_OK;
}

int sq_copy(struct store *store, int64_t src_mailbox_id, uint32_t uid_first,
	    uint32_t uid_last, int64_t dst_mailbox_id, bool move,
	    struct store_copy_result *res, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	struct copy_state cs = { .move = move };
	struct msg_row row;
	sqlite3_stmt *st;
	uint32_t first = uid_first, last;
	int ret, got;

	if ((ret = sq_begin_change(s, src_mailbox_id, &cs.src, &cs.src_modseq,
				   error_r)) != STORE_OK)
		return ret;
	/* Copy into the same mailbox updates one set of counters. */
	cs.dst = &cs.src;
	cs.dst_modseq = cs.src_modseq;
	if (dst_mailbox_id != src_mailbox_id) {
		cs.dst = &cs.dst_own;
		if ((ret = sq_mailbox_load(s, dst_mailbox_id, cs.dst,
					   error_r)) != STORE_OK)
			goto fail;
		if (cs.dst->highestmodseq >= INT64_MAX - 1) {
			*error_r = "modseq space exhausted";
			ret = STORE_LIMIT;
			goto fail;
		}
		cs.dst_modseq = cs.dst->highestmodseq + 1;
	}
	last = range_end(&cs.src, uid_last);
	while (first <= last) {
		ret = STORE_ERROR;
		if ((st = range_stmt(s, SQ_MSG_NEXT, src_mailbox_id, first, last,
				     error_r)) == NULL ||
		    (got = next_row(s, st, &row, error_r)) < 0)
			goto fail;
		if (got == 0)
			break;
		if ((ret = copy_one(s, &cs, &row, res, error_r)) != STORE_OK)
			goto fail;
		if (row.uid == UINT32_MAX)
			break;
		first = row.uid + 1;
	}
	ret = STORE_ERROR;
	if (res->src.count > 0) {
		cs.dst->highestmodseq = cs.dst_modseq;
		if (move)
			cs.src.highestmodseq = cs.src_modseq;
		if (sq_mailbox_store(s, cs.dst, error_r) != STORE_OK ||
		    (cs.dst != &cs.src && move &&
		     sq_mailbox_store(s, &cs.src, error_r) != STORE_OK))
			goto fail;
	}
	res->dst_uidvalidity = cs.dst->uidvalidity;
	if ((ret = sq_commit(s, error_r)) == STORE_OK)
		return STORE_OK;
fail:
	sq_rollback(s);
	store_copy_result_free(res);
	return ret;
}

int sq_fetch_state(struct store *store, int64_t mailbox_id, store_message_cb *cb,
		   void *ctx, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	sqlite3_stmt *st = sq_stmt(s, SQ_MSG_STATE, error_r);

	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, mailbox_id);
	return fetch_rows(s, st, cb, ctx, error_r);
}

int sq_fetch_changed(struct store *store, int64_t mailbox_id, uint64_t since_modseq,
		     store_message_cb *cb, void *ctx, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	sqlite3_stmt *st = sq_stmt(s, SQ_MSG_CHANGED, error_r);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, since_modseq > INT64_MAX ? INT64_MAX : (int64_t)since_modseq);
	return fetch_rows(s, st, cb, ctx, error_r);
}
