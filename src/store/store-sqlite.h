/* store-sqlite.h: internals shared by the two halves of the SQLite backend
 * (store-sqlite.c: lifecycle, schema, mailboxes; store-sqlite-msg.c:
 * messages). Not for use outside src/store/.
 *
 * Every SQL statement is a constant in one table, prepared once per handle
 * and only ever given values through sqlite3_bind_*; nothing is ever built
 * into SQL text. Functions return enum store_ret unless noted. */
#ifndef RD_STORE_SQLITE_H
#define RD_STORE_SQLITE_H
#include <sqlite3.h>
#include "limits.h"
#include "store/store.h"

enum sq_stmt {
	SQ_MAILBOX_BY_NAME,
	SQ_MAILBOX_BY_ID,
	SQ_MAILBOX_LIST,
	SQ_MAILBOX_INSERT,
	SQ_MAILBOX_CHILDREN,
	SQ_MAILBOX_SET_NAME,
	SQ_MAILBOX_DELETE,
	SQ_MAILBOX_SET_COUNTERS,
	SQ_META_GET_UIDVALIDITY,
	SQ_META_SET_UIDVALIDITY,
	SQ_KEYWORD_ADD,
	SQ_KEYWORD_COUNT,
	SQ_MSG_INSERT,
	SQ_TEXT_INSERT,
	SQ_TEXT_COPY,
	SQ_MSG_FETCH,
	SQ_MSG_BLOB,
	SQ_MSG_NEXT,
	SQ_MSG_NEXT_DELETED,
	SQ_MSG_SET_FLAGS,
	SQ_MSG_DELETE,
	SQ_TEXT_DELETE,
	SQ_TEXT_DELETE_MAILBOX,
	SQ_MSG_COPY,
	SQ_MSG_MOVE,
	SQ_EXPUNGED_ADD,
	SQ_FETCH_MODSEQ,
	SQ_BLOB_REFERENCED,
	SQ_SEARCH_MATCH,
	SQ_SEARCH_LIKE_ALL,
	SQ_SEARCH_LIKE_BODY,
	SQ_VERSION_GET,
	SQ_VERSION_SET,
	SQ_EXPUNGED_SINCE,
	SQ_UNREF_ANY,
	SQ_UNREF_DEAD,
	SQ_UNREF_CLEAR,
	SQ_RECENT_GET,
	SQ_RECENT_SET,
	SQ_MAILBOX_STATE,
	SQ_MSG_CHANGED,
	SQ_DELIVERED_GET,
	SQ_DELIVERED_ADD,
	SQ_DELIVERED_PRUNE,
	SQ_MSG_STATE,
	SQ_TEXT_PENDING_ADD,
	SQ_TEXT_PENDING_COPY,
	SQ_TEXT_PENDING_LIST,
	SQ_TEXT_PENDING_LIST_MAILBOX,
	SQ_TEXT_PENDING_DEL,
	SQ_TEXT_PENDING_COUNT,
	SQ_TEXT_PENDING_COUNT_ALL,
	SQ_PACK_UNREF_ANY,
	SQ_PACK_UNREF_DEAD,
	SQ_PACK_UNREF_CLEAR,
	SQ_PACK_REFERENCED,
	SQ_STMT_COUNT
};

struct store_sqlite {
	struct store base;
	struct store_faults faults;
	int root_fd, dir_fd, blobs_fd, tmp_fd, lock_fd;
	sqlite3 *db;
	sqlite3_stmt *stmts[SQ_STMT_COUNT];
	char name_buf[RD_STORE_MAX_MAILBOX_NAME + 1];
	char errbuf[256];
};

/* The prepared statement, reset and with bindings cleared; NULL with
 * *error_r on failure. */
sqlite3_stmt *sq_stmt(struct store_sqlite *s, enum sq_stmt id,
		      const char **error_r);
/* Fill errbuf with what and SQLite's message; returns STORE_ERROR. */
int sq_fail(struct store_sqlite *s, const char *what, const char **error_r);
/* BEGIN IMMEDIATE: take the write lock up front, so two processes never
 * deadlock upgrading a read transaction. */
int sq_begin(struct store_sqlite *s, const char **error_r);
int sq_commit(struct store_sqlite *s, const char **error_r);
void sq_rollback(struct store_sqlite *s);
/* Step a statement that returns no rows. */
int sq_exec_stmt(struct store_sqlite *s, sqlite3_stmt *st, const char *what,
		 const char **error_r);

/* After sqlite3_step(st) gave rc for a one-row lookup: reset st and map
 * ROW to STORE_OK, DONE to STORE_NOT_FOUND (with not_found as error). */
int sq_row_result(struct store_sqlite *s, sqlite3_stmt *st, int rc,
		  const char *not_found, const char *what, const char **error_r);

/* A mailbox's counters, read inside a write transaction. */
struct sq_mailbox {
	int64_t id;
	uint32_t uidvalidity;
	int64_t uidnext;
	int64_t highestmodseq;
};
int sq_mailbox_load(struct store_sqlite *s, int64_t id, struct sq_mailbox *mb,
		    const char **error_r);
/* BEGIN IMMEDIATE, load the mailbox and pick the MODSEQ this change will
 * use; on failure nothing is left open. */
int sq_begin_change(struct store_sqlite *s, int64_t mailbox_id,
		    struct sq_mailbox *mb, int64_t *modseq_r,
		    const char **error_r);
int sq_mailbox_store(struct store_sqlite *s, const struct sq_mailbox *mb,
		     const char **error_r);
/* Record kw as used in the mailbox; STORE_LIMIT past RD_STORE_MAX_KEYWORDS. */
int sq_keyword_register(struct store_sqlite *s, int64_t mailbox_id,
			const char *kw, size_t len, const char **error_r);

/* Append uid to u (capacity *cap), growing it; STORE_ERROR on no memory. */
int sq_uids_push(struct store_uids *u, size_t *cap, uint32_t uid,
		 const char **error_r);

/* store-sqlite-mailbox.c; _in takes the backend struct directly so
 * store creation can make the default mailboxes. */
int sq_mailbox_create_in(struct store_sqlite *s, const char *name,
			 enum store_special_use su, int64_t *id_r,
			 const char **error_r);
int sq_mailbox_create(struct store *s, const char *name,
		      enum store_special_use su, int64_t *id_r,
		      const char **error_r);
int sq_mailbox_rename(struct store *s, const char *old_name,
		      const char *new_name, const char **error_r);
int sq_mailbox_delete(struct store *s, const char *name, const char **error_r);
int sq_mailbox_list(struct store *s, store_mailbox_cb *cb, void *ctx,
		    const char **error_r);
int sq_mailbox_get(struct store *s, const char *name,
		   struct store_mailbox_info *info_r, const char **error_r);

/* store-sqlite-msg.c */
int sq_append(struct store *s, int64_t mailbox_id,
	      const struct store_append *msg, uint32_t *uid_r,
	      uint64_t *modseq_r, const char **error_r);
int sq_append_batch(struct store *s, int64_t mailbox_id,
		    const struct store_append *msgs, size_t n, uint32_t *uids_r,
		    uint64_t *modseqs_r, const char **error_r);
int sq_append_packed(struct store *s, int64_t mailbox_id,
		     const struct store_append *msgs, size_t n, uint32_t *uids_r,
		     uint64_t *modseqs_r, const char **error_r);
int sq_fetch(struct store *s, int64_t mailbox_id, uint32_t uid_first,
	     uint32_t uid_last, store_message_cb *cb, void *ctx,
	     const char **error_r);
int sq_message_open(struct store *s, int64_t mailbox_id, uint32_t uid,
		    int *fd_r, uint64_t *offset_r, uint64_t *size_r, const char **error_r);
int sq_flags_update(struct store *s, int64_t mailbox_id, uint32_t uid_first,
		    uint32_t uid_last, const struct store_flag_change *change,
		    store_message_cb *changed_cb, void *ctx,
		    uint64_t *modseq_r, const char **error_r);
int sq_expunge(struct store *s, int64_t mailbox_id, uint32_t uid_first,
	       uint32_t uid_last, struct store_uids *expunged_r,
	       const char **error_r);
/* store-sqlite-search.c */
int sq_mailbox_state(struct store *s, const char *name, struct store_mailbox_state *st_r,
		     const char **error_r);
int sq_fetch_state(struct store *s, int64_t mailbox_id, store_message_cb *cb,
		  void *ctx, const char **error_r);
int sq_fetch_changed(struct store *s, int64_t mailbox_id, uint64_t since_modseq,
		     store_message_cb *cb, void *ctx, const char **error_r);
int sq_recent_claim(struct store *s, int64_t mailbox_id, uint32_t *first_r,
		    uint32_t *last_r, const char **error_r);
int sq_expunged_since(struct store *s, int64_t mailbox_id, uint64_t modseq,
		      uint32_t uid_first, uint32_t uid_last, struct store_uids *uids_r,
		      const char **error_r);
int sq_search_text(struct store *s, int64_t mailbox_id,
		   enum store_text_part part, const char *needle,
		   size_t needle_len, struct store_uids *uids_r,
		   const char **error_r);
int sq_text_pending(struct store *s, int64_t mailbox_id, size_t max,
		    struct store_text_pending *items_r, size_t *n_r, const char **error_r);
int sq_text_add(struct store *s, const struct store_text_add *items, size_t n,
		const char **error_r);
int sq_text_pending_count(struct store *s, int64_t mailbox_id, uint64_t *count_r,
			  const char **error_r);
int sq_copy(struct store *s, int64_t src_mailbox_id, uint32_t uid_first,
	    uint32_t uid_last, int64_t dst_mailbox_id, bool move,
	    struct store_copy_result *result_r, const char **error_r);

#endif
