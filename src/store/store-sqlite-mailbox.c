/* store-sqlite-mailbox.c: mailbox operations of the SQLite backend:
 * create (with a fresh UIDVALIDITY), get, list with counts, rename with
 * everything below, delete. Names are validated by store-name.c before
 * any SQL runs; SQL only ever receives them as bound values. */
#include "store/store-sqlite.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* RFC 9051 5.1: INBOX is case-insensitive; every other name is exact. */
static const char *canon_name(const char *name)
{
	return name != NULL && strcasecmp(name, "INBOX") == 0 ? "INBOX" : name;
}

static int check_name(const char *name, const char **error_r)
{
	return store_mailbox_name_valid(name, error_r) ? STORE_OK :
		STORE_INVALID;
}

/* UIDVALIDITY: the creation time, but never less than one more than any
 * value handed out before, so a mailbox deleted and re-created within the
 * same second (or after the clock stepped back) still gets a new one. */
static int uidvalidity_next(struct store_sqlite *s, uint32_t *uv_r,
			    const char **error_r)
{
	sqlite3_stmt *st = sq_stmt(s, SQ_META_GET_UIDVALIDITY, error_r);
	int64_t next, now = (int64_t)time(NULL);
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(st);
	next = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return sq_fail(s, "uidvalidity", error_r);
	if (now > next)
		next = now;
	if (next < 1 || next > (int64_t)UINT32_MAX) {
		*error_r = "uidvalidity space exhausted";
		return STORE_LIMIT;
	}
	*uv_r = (uint32_t)next;
	if ((st = sq_stmt(s, SQ_META_SET_UIDVALIDITY, error_r)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, next + 1);
	return sq_exec_stmt(s, st, "uidvalidity", error_r);
}

int sq_mailbox_create_in(struct store_sqlite *s, const char *name,
				      enum store_special_use su,
				      int64_t *id_r, const char **error_r)
{
	sqlite3_stmt *st;
	uint32_t uv = 0;
	int ret;

	name = canon_name(name);
	if ((ret = check_name(name, error_r)) != STORE_OK)
		return ret;
	if ((unsigned)su > STORE_SPECIAL_ARCHIVE) {
		*error_r = "invalid special-use";
		return STORE_INVALID;
	}
	if (sq_begin(s, error_r) < 0)
		return STORE_ERROR;
	if ((ret = uidvalidity_next(s, &uv, error_r)) != STORE_OK)
		goto fail;
	ret = STORE_ERROR;
	if ((st = sq_stmt(s, SQ_MAILBOX_INSERT, error_r)) == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, uv);
	sqlite3_bind_int(st, 3, (int)su);
	if (sqlite3_step(st) != SQLITE_DONE) {
		bool dup = sqlite3_extended_errcode(s->db) ==
			SQLITE_CONSTRAINT_UNIQUE;
		sqlite3_reset(st);
		if (dup) {
			*error_r = "mailbox exists";
			ret = STORE_EXISTS;
		} else {
			ret = sq_fail(s, "mailbox insert", error_r);
		}
		goto fail;
	}
	sqlite3_reset(st);
	*id_r = sqlite3_last_insert_rowid(s->db);
	return sq_commit(s, error_r);
fail:
	sq_rollback(s);
	return ret;
}

int sq_mailbox_create(struct store *store, const char *name,
			     enum store_special_use su, int64_t *id_r,
			     const char **error_r)
{
	return sq_mailbox_create_in((struct store_sqlite *)store, name,
					  su, id_r, error_r);
}

static void mailbox_row(sqlite3_stmt *st, struct store_mailbox_info *mb)
{
	int su = sqlite3_column_int(st, 5);

	mb->id = sqlite3_column_int64(st, 0);
	mb->name = (const char *)sqlite3_column_text(st, 1);
	mb->uidvalidity = (uint32_t)sqlite3_column_int64(st, 2);
	mb->uidnext = (uint32_t)sqlite3_column_int64(st, 3);
	mb->highestmodseq = (uint64_t)sqlite3_column_int64(st, 4);
	mb->special_use = su >= 0 && su <= STORE_SPECIAL_ARCHIVE ?
		(enum store_special_use)su : STORE_SPECIAL_NONE;
	mb->messages = (uint64_t)sqlite3_column_int64(st, 6);
	mb->unseen = (uint64_t)sqlite3_column_int64(st, 7);
	mb->total_size = (uint64_t)sqlite3_column_int64(st, 8);
	mb->recent_uid = (uint32_t)sqlite3_column_int64(st, 9);
	mb->recent = (uint64_t)sqlite3_column_int64(st, 10);
}

/* A statement looking a mailbox up by name, the name canonical (INBOX)
 * and checked, bound as ?1. */
static int by_name(struct store_sqlite *s, enum sq_stmt id, const char **name,
		   sqlite3_stmt **st_r, const char **error_r)
{
	int ret;

	*name = canon_name(*name);
	if ((ret = check_name(*name, error_r)) != STORE_OK)
		return ret;
	if ((*st_r = sq_stmt(s, id, error_r)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_text(*st_r, 1, *name, -1, SQLITE_STATIC);
	return STORE_OK;
}

int sq_mailbox_state(struct store *store, const char *name,
		     struct store_mailbox_state *st_r, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	sqlite3_stmt *st;
	int rc, ret;

	if ((ret = by_name(s, SQ_MAILBOX_STATE, &name, &st, error_r)) != STORE_OK)
		return ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		st_r->id = sqlite3_column_int64(st, 0);
		st_r->uidvalidity = (uint32_t)sqlite3_column_int64(st, 1);
		st_r->uidnext = (uint32_t)sqlite3_column_int64(st, 2);
		st_r->highestmodseq = (uint64_t)sqlite3_column_int64(st, 3);
		st_r->recent_uid = (uint32_t)sqlite3_column_int64(st, 4);
	}
	return sq_row_result(s, st, rc, "no such mailbox", "mailbox state", error_r);
}

int sq_recent_claim(struct store *store, int64_t mailbox_id, uint32_t *first_r,
		    uint32_t *last_r, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	sqlite3_stmt *st;
	int rc, ret;
	int64_t recent = 0, uidnext = 1;

	*first_r = 1;
	*last_r = 0;
	if (sq_begin(s, error_r) < 0)
		return STORE_ERROR;
	if ((st = sq_stmt(s, SQ_RECENT_GET, error_r)) == NULL) {
		sq_rollback(s);
		return STORE_ERROR;
	}
	sqlite3_bind_int64(st, 1, mailbox_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		recent = sqlite3_column_int64(st, 0);
		uidnext = sqlite3_column_int64(st, 1);
	}
	if ((ret = sq_row_result(s, st, rc, "no such mailbox", "recent", error_r)) != STORE_OK) {
		sq_rollback(s);
		return ret;
	}
	/* nothing new: no write, so a plain SELECT costs no disk sync */
	if (recent >= uidnext - 1) {
		sq_rollback(s);
		return STORE_OK;
	}
	if ((st = sq_stmt(s, SQ_RECENT_SET, error_r)) == NULL) {
		sq_rollback(s);
		return STORE_ERROR;
	}
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, uidnext - 1);
	if ((ret = sq_exec_stmt(s, st, "recent", error_r)) != STORE_OK) {
		sq_rollback(s);
		return ret;
	}
	if ((ret = sq_commit(s, error_r)) != STORE_OK)
		return ret;
	*first_r = (uint32_t)(recent + 1);
	*last_r = (uint32_t)(uidnext - 1);
	return STORE_OK;
}

int sq_mailbox_get(struct store *store, const char *name,
			  struct store_mailbox_info *info_r,
			  const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	sqlite3_stmt *st;
	int rc, ret;

	if ((ret = by_name(s, SQ_MAILBOX_BY_NAME, &name, &st, error_r)) != STORE_OK)
		return ret;
	sqlite3_bind_int(st, 9, STORE_FLAG_SEEN);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		mailbox_row(st, info_r);
		/* The column text dies with the reset; keep our own copy. */
		snprintf(s->name_buf, sizeof(s->name_buf), "%s",
			 info_r->name != NULL ? info_r->name : "");
		info_r->name = s->name_buf;
	}
	return sq_row_result(s, st, rc, "no such mailbox", "mailbox get",
			     error_r);
}

int sq_mailbox_list(struct store *store, store_mailbox_cb *cb,
			   void *ctx, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	struct store_mailbox_info mb;
	sqlite3_stmt *st = sq_stmt(s, SQ_MAILBOX_LIST, error_r);
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int(st, 9, STORE_FLAG_SEEN);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mailbox_row(st, &mb);
		if (cb(ctx, &mb) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_fail(s, "mailbox list", error_r);
	return STORE_OK;
}

/* Look a mailbox up by exact name inside a transaction: its id, or 0. */
static int mailbox_id_by_name(struct store_sqlite *s, const char *name,
			      int64_t *id_r, const char **error_r)
{
	struct store_mailbox_info mb;
	int ret = sq_mailbox_get(&s->base, name, &mb, error_r);

	*id_r = 0;
	if (ret == STORE_OK)
		*id_r = mb.id;
	return ret == STORE_NOT_FOUND ? STORE_OK : ret;
}

/* BEGIN IMMEDIATE and find the mailbox to change; on failure nothing is
 * left open. */
static int begin_with_mailbox(struct store_sqlite *s, const char *name,
			      int64_t *id_r, const char **error_r)
{
	int ret;

	if (sq_begin(s, error_r) < 0)
		return STORE_ERROR;
	if ((ret = mailbox_id_by_name(s, name, id_r, error_r)) == STORE_OK &&
	    *id_r == 0) {
		*error_r = "no such mailbox";
		ret = STORE_NOT_FOUND;
	}
	if (ret != STORE_OK)
		sq_rollback(s);
	return ret;
}

static int rename_one(struct store_sqlite *s, int64_t id, const char *new_name,
		      const char **error_r)
{
	sqlite3_stmt *st;
	int64_t existing;
	int ret;

	if ((ret = check_name(new_name, error_r)) != STORE_OK ||
	    (ret = mailbox_id_by_name(s, new_name, &existing, error_r)) != STORE_OK)
		return ret;
	if (existing != 0) {
		*error_r = "target mailbox exists";
		return STORE_EXISTS;
	}
	if ((st = sq_stmt(s, SQ_MAILBOX_SET_NAME, error_r)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, new_name, -1, SQLITE_TRANSIENT);
	return sq_exec_stmt(s, st, "mailbox rename", error_r);
}

/* Rename every mailbox under old/ to new/, one row at a time: each renamed
 * row leaves the ["old/", "old0") range, so the cursor always moves on. */
static int rename_children(struct store_sqlite *s, const char *old_name,
			   const char *new_name, const char **error_r)
{
	char lo[RD_STORE_MAX_MAILBOX_NAME + 2], hi[RD_STORE_MAX_MAILBOX_NAME + 2];
	char child[RD_STORE_MAX_MAILBOX_NAME + 1], target[RD_STORE_MAX_MAILBOX_NAME + 2];
	size_t old_len = strlen(old_name);
	sqlite3_stmt *st;
	int ret, rc;

	snprintf(lo, sizeof(lo), "%s/", old_name);
	snprintf(hi, sizeof(hi), "%s0", old_name);
	for (;;) {
		int64_t id;
		int n;

		if ((st = sq_stmt(s, SQ_MAILBOX_CHILDREN, error_r)) == NULL)
			return STORE_ERROR;
		sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			id = sqlite3_column_int64(st, 0);
			snprintf(child, sizeof(child), "%s",
				 (const char *)sqlite3_column_text(st, 1));
		}
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return STORE_OK;
		if (rc != SQLITE_ROW)
			return sq_fail(s, "mailbox children", error_r);
		n = snprintf(target, sizeof(target), "%s%s", new_name,
			     child + old_len);
		if (n < 0 || (size_t)n >= sizeof(target) - 1) {
			*error_r = "mailbox name too long after rename";
			return STORE_INVALID;
		}
		if ((ret = rename_one(s, id, target, error_r)) != STORE_OK)
			return ret;
	}
}

int sq_mailbox_rename(struct store *store, const char *old_name,
			     const char *new_name, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	size_t old_len;
	int64_t id;
	int ret;

	old_name = canon_name(old_name);
	new_name = canon_name(new_name);
	if ((ret = check_name(old_name, error_r)) != STORE_OK ||
	    (ret = check_name(new_name, error_r)) != STORE_OK)
		return ret;
	if (strcmp(old_name, "INBOX") == 0 || strcmp(new_name, "INBOX") == 0) {
		*error_r = "INBOX cannot be renamed";
		return STORE_INVALID;
	}
	old_len = strlen(old_name);
	if (strncmp(new_name, old_name, old_len) == 0 &&
	    (new_name[old_len] == '\0' || new_name[old_len] == '/')) {
		*error_r = "cannot rename a mailbox onto or under itself";
		return STORE_INVALID;
	}
	if ((ret = begin_with_mailbox(s, old_name, &id, error_r)) != STORE_OK)
		return ret;
	if ((ret = rename_one(s, id, new_name, error_r)) != STORE_OK ||
	    (ret = rename_children(s, old_name, new_name, error_r)) != STORE_OK)
		goto fail;
	return sq_commit(s, error_r);
fail:
	sq_rollback(s);
	return ret;
}

int sq_mailbox_delete(struct store *store, const char *name,
			     const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	sqlite3_stmt *st;
	int64_t id;
	int ret;

	name = canon_name(name);
	if ((ret = check_name(name, error_r)) != STORE_OK)
		return ret;
	if (strcmp(name, "INBOX") == 0) {
		*error_r = "INBOX cannot be deleted";
		return STORE_INVALID;
	}
	if ((ret = begin_with_mailbox(s, name, &id, error_r)) != STORE_OK)
		return ret;
	ret = STORE_ERROR;
	/* Full text first (it is found through the messages); then ON
	 * DELETE CASCADE removes messages, keywords and the expunge log.
	 * Blobs wait for store_gc(). */
	if ((st = sq_stmt(s, SQ_TEXT_DELETE_MAILBOX, error_r)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	if (sq_exec_stmt(s, st, "full text delete", error_r) != STORE_OK ||
	    (st = sq_stmt(s, SQ_MAILBOX_DELETE, error_r)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	if (sq_exec_stmt(s, st, "mailbox delete", error_r) != STORE_OK)
		goto fail;
	return sq_commit(s, error_r);
fail:
	sq_rollback(s);
	return ret;
}
