/* store-sqlite.c: the embedded store backend: lifecycle (create, open with
 * migrations and crash recovery, close), mailboxes and blob GC.
 *
 * Layout of one store, all reached through directory fds:
 *   <root>/<id>/index.db   SQLite, WAL, synchronous=FULL
 *   <root>/<id>/blobs/xx/  immutable messages named by sha256 hex
 *   <root>/<id>/tmp/       blobs being written
 *   <root>/<id>/lock       flock: shared while open, exclusive for recovery
 *
 * Why the lock file: a worker and a deliver child may have the same store
 * open. A tmp file or an unreferenced blob may belong to the other's
 * append in flight, so recovery (tmp cleanup) and GC run only when flock
 * LOCK_EX|LOCK_NB succeeds, i.e. nobody else has the store open. An
 * unreferenced blob costs disk space but is never visible, so it is left
 * for store_gc() rather than scanned for on every open (deliver opens a
 * store per message; a full blob scan there would be O(mailbox)). */
#include "store/store-sqlite.h"
#include "store/store-fs.h"
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>  /* PATH_MAX; <limits.h> is src/limits.h here */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MB_COLUMNS \
	"SELECT b.id, b.name, b.uidvalidity, b.uidnext, b.highestmodseq, " \
	"b.special_use, COUNT(m.id), COALESCE(SUM((m.flags & ?9) = 0), 0), " \
	"COALESCE(SUM(m.size), 0), b.recent_uid, " \
	"COALESCE(SUM(m.uid > b.recent_uid), 0) FROM mailboxes b " \
	"LEFT JOIN messages m ON m.mailbox_id = b.id "
#define MSG_COLUMNS \
	"SELECT uid, modseq, flags, keywords, internal_date, size, blob, " \
	"envelope, bodystructure, preview FROM messages "

static const char *const sq_sql[SQ_STMT_COUNT] = {
	[SQ_MAILBOX_BY_NAME] = MB_COLUMNS "WHERE b.name = ?1 GROUP BY b.id",
	[SQ_MAILBOX_LIST] = MB_COLUMNS "GROUP BY b.id ORDER BY b.name",
	[SQ_MAILBOX_BY_ID] = "SELECT id, uidvalidity, uidnext, highestmodseq "
		"FROM mailboxes WHERE id = ?1",
	[SQ_MAILBOX_INSERT] = "INSERT INTO mailboxes(name, uidvalidity, "
		"uidnext, highestmodseq, special_use) VALUES(?1, ?2, 1, 1, ?3)",
	/* Names under "a/" are exactly those in ["a/", "a0"): '0' follows
	 * '/' in byte order, and the range can use the name index. */
	[SQ_MAILBOX_CHILDREN] = "SELECT id, name FROM mailboxes "
		"WHERE name > ?1 AND name < ?2 ORDER BY name LIMIT 1",
	[SQ_MAILBOX_SET_NAME] = "UPDATE mailboxes SET name = ?2 WHERE id = ?1",
	[SQ_MAILBOX_DELETE] = "DELETE FROM mailboxes WHERE id = ?1",
	[SQ_MAILBOX_SET_COUNTERS] = "UPDATE mailboxes SET uidnext = ?2, "
		"highestmodseq = ?3 WHERE id = ?1",
	[SQ_META_GET_UIDVALIDITY] = "SELECT next_uidvalidity FROM store_meta "
		"WHERE id = 1",
	[SQ_META_SET_UIDVALIDITY] = "UPDATE store_meta SET next_uidvalidity "
		"= ?1 WHERE id = 1",
	[SQ_KEYWORD_ADD] = "INSERT OR IGNORE INTO mailbox_keywords(mailbox_id, "
		"name) VALUES(?1, ?2)",
	[SQ_KEYWORD_COUNT] = "SELECT COUNT(*) FROM mailbox_keywords "
		"WHERE mailbox_id = ?1",
	[SQ_MSG_INSERT] = "INSERT INTO messages(mailbox_id, uid, modseq, flags, "
		"keywords, internal_date, size, blob, envelope, bodystructure, "
		"preview, pack, pack_offset) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
		"?9, ?10, ?11, ?12, ?13)",
	/* text_index rows: message id * 2 its header text, * 2 + 1 its body */
	[SQ_TEXT_INSERT] = "INSERT INTO text_index(rowid, t) "
		"VALUES(?1 * 2, ?2), (?1 * 2 + 1, ?3)",
	[SQ_TEXT_COPY] = "INSERT INTO text_index(rowid, t) "
		"SELECT ?1 * 2 + (rowid & 1), t FROM text_index "
		"WHERE rowid IN (?2 * 2, ?2 * 2 + 1)",
	[SQ_MSG_FETCH] = MSG_COLUMNS "WHERE mailbox_id = ?1 AND uid "
		"BETWEEN ?2 AND ?3 ORDER BY uid",
	[SQ_FETCH_MODSEQ] = MSG_COLUMNS "WHERE mailbox_id = ?1 AND uid "
		"BETWEEN ?2 AND ?3 AND modseq = ?4 ORDER BY uid",
	[SQ_MSG_BLOB] = "SELECT blob, size, pack, pack_offset FROM messages "
		"WHERE mailbox_id = ?1 AND uid = ?2",
	/* Writers walk a range one row at a time (uid > last done), so no
	 * SELECT is ever open over rows the same loop is changing. */
	[SQ_MSG_NEXT] = "SELECT id, uid, flags, keywords FROM messages "
		"WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 "
		"ORDER BY uid LIMIT 1",
	[SQ_MSG_NEXT_DELETED] = "SELECT id, uid, flags, keywords FROM messages "
		"WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 "
		"AND (flags & ?4) != 0 ORDER BY uid LIMIT 1",
	[SQ_MSG_SET_FLAGS] = "UPDATE messages SET flags = ?2, keywords = ?3, "
		"modseq = ?4 WHERE id = ?1",
	[SQ_MSG_DELETE] = "DELETE FROM messages WHERE id = ?1",
	[SQ_TEXT_DELETE] = "DELETE FROM text_index WHERE rowid IN (?1 * 2, ?1 * 2 + 1)",
	[SQ_TEXT_DELETE_MAILBOX] = "DELETE FROM text_index WHERE rowid IN "
		"(SELECT id * 2 FROM messages WHERE mailbox_id = ?1 UNION ALL "
		"SELECT id * 2 + 1 FROM messages WHERE mailbox_id = ?1)",
	[SQ_MSG_COPY] = "INSERT INTO messages(mailbox_id, uid, modseq, flags, "
		"keywords, internal_date, size, blob, envelope, bodystructure, "
		"preview, pack, pack_offset) SELECT ?2, ?3, ?4, flags, keywords, "
		"internal_date, size, blob, envelope, bodystructure, preview, "
		"pack, pack_offset FROM messages WHERE id = ?1",
	[SQ_MSG_MOVE] = "UPDATE messages SET mailbox_id = ?2, uid = ?3, "
		"modseq = ?4 WHERE id = ?1",
	[SQ_EXPUNGED_ADD] = "INSERT OR REPLACE INTO expunged(mailbox_id, uid, "
		"modseq) VALUES(?1, ?2, ?3)",
	/* a file in blobs/ is named by rows without a pack only */
	[SQ_BLOB_REFERENCED] = "SELECT 1 FROM messages WHERE blob = ?1 "
		"AND pack IS NULL LIMIT 1",
	/* CROSS JOIN keeps the FTS lookup as the outer loop: the index
	 * yields the few matching rows of the whole store, each then
	 * checked for the mailbox by primary key. Driving from the mailbox
	 * instead would run the MATCH once per message. */
	/* ?2 the needle's trigrams ANDed, ?3 (NULL: none) the LIKE that
	 * checks the needle is really there in one piece, ?4 1 for BODY */
	[SQ_SEARCH_MATCH] = "SELECT DISTINCT m.uid FROM text_index "
		"CROSS JOIN messages m ON m.id = text_index.rowid >> 1 "
		"WHERE text_index MATCH ?2 AND m.mailbox_id = ?1 "
		"AND (?3 IS NULL OR text_index.t LIKE ?3 ESCAPE '\\') "
		"AND (?4 = 0 OR (text_index.rowid & 1) = 1) ORDER BY m.uid",
	/* Needles under three characters have no trigram: every text of
	 * the mailbox is read, by rowid, and matched with LIKE. */
	[SQ_SEARCH_LIKE_ALL] = "SELECT DISTINCT m.uid FROM messages m "
		"CROSS JOIN text_index t ON t.rowid IN (m.id * 2, m.id * 2 + 1) "
		"WHERE m.mailbox_id = ?1 AND t.t LIKE ?2 ESCAPE '\\' ORDER BY m.uid",
	[SQ_SEARCH_LIKE_BODY] = "SELECT m.uid FROM messages m "
		"CROSS JOIN text_index t ON t.rowid = m.id * 2 + 1 "
		"WHERE m.mailbox_id = ?1 AND t.t LIKE ?2 ESCAPE '\\' "
		"ORDER BY m.uid",
	[SQ_VERSION_GET] = "SELECT COALESCE(MAX(version), 0) FROM schema_version",
	[SQ_VERSION_SET] = "INSERT INTO schema_version(version) VALUES(?1)",
	/* the mailbox row alone: what a session checks before each reply */
	[SQ_MAILBOX_STATE] = "SELECT id, uidvalidity, uidnext, highestmodseq, "
		"recent_uid FROM mailboxes WHERE name = ?1",
	/* through the (mailbox_id, modseq) index: what changed since */
	[SQ_MSG_CHANGED] = MSG_COLUMNS "WHERE mailbox_id = ?1 AND modseq > ?2 "
		"ORDER BY uid",
	[SQ_RECENT_GET] = "SELECT recent_uid, uidnext FROM mailboxes WHERE id = ?1",
	[SQ_RECENT_SET] = "UPDATE mailboxes SET recent_uid = ?2 WHERE id = ?1",
	[SQ_DELIVERED_GET] = "SELECT 1 FROM delivered WHERE key = ?1",
	[SQ_DELIVERED_ADD] = "INSERT INTO delivered(key, at) VALUES(?1, ?2)",
	[SQ_DELIVERED_PRUNE] = "DELETE FROM delivered WHERE at < ?1",
	/* from the messages_state index alone (schema step 6) */
	[SQ_MSG_STATE] = "SELECT uid, modseq, flags FROM messages "
		"INDEXED BY messages_state WHERE mailbox_id = ?1 ORDER BY uid",
	[SQ_EXPUNGED_SINCE] = "SELECT uid FROM expunged WHERE mailbox_id = ?1 "
		"AND modseq > ?2 AND uid BETWEEN ?3 AND ?4 ORDER BY uid",
	/* blobs of removed messages (schema step 7) */
	[SQ_UNREF_ANY] = "SELECT 1 FROM blob_unref LIMIT 1",
	[SQ_UNREF_DEAD] = "SELECT blob FROM blob_unref u WHERE NOT EXISTS "
		"(SELECT 1 FROM messages m WHERE m.blob = u.blob AND m.pack IS NULL)",
	[SQ_UNREF_CLEAR] = "DELETE FROM blob_unref",
	/* messages whose search text comes later (schema step 8) */
	[SQ_TEXT_PENDING_ADD] = "INSERT OR IGNORE INTO text_pending(id) VALUES(?1)",
	[SQ_TEXT_PENDING_COPY] = "INSERT INTO text_pending(id) "
		"SELECT ?1 FROM text_pending WHERE id = ?2",
	[SQ_TEXT_PENDING_LIST] = "SELECT p.id, m.mailbox_id, m.uid "
		"FROM text_pending p CROSS JOIN messages m ON m.id = p.id "
		"ORDER BY p.id LIMIT ?1",
	[SQ_TEXT_PENDING_LIST_MAILBOX] = "SELECT p.id, m.mailbox_id, m.uid "
		"FROM text_pending p CROSS JOIN messages m ON m.id = p.id "
		"WHERE m.mailbox_id = ?2 ORDER BY p.id LIMIT ?1",
	[SQ_TEXT_PENDING_DEL] = "DELETE FROM text_pending WHERE id = ?1",
	/* packs (schema step 8) */
	[SQ_PACK_UNREF_ANY] = "SELECT 1 FROM pack_unref LIMIT 1",
	[SQ_PACK_UNREF_DEAD] = "SELECT pack FROM pack_unref u WHERE NOT EXISTS "
		"(SELECT 1 FROM messages m WHERE m.pack = u.pack)",
	[SQ_PACK_UNREF_CLEAR] = "DELETE FROM pack_unref",
	[SQ_PACK_REFERENCED] = "SELECT 1 FROM messages WHERE pack = ?1 LIMIT 1",
	/* Driven from text_pending (CROSS JOIN): a plain join let the
	 * planner scan every message of the store, at each change check. A
	 * listed message always has its row (the trigger), so the store's
	 * count is the list's. */
	[SQ_TEXT_PENDING_COUNT] = "SELECT COUNT(*) FROM text_pending p "
		"CROSS JOIN messages m ON m.id = p.id WHERE m.mailbox_id = ?1",
	[SQ_TEXT_PENDING_COUNT_ALL] = "SELECT COUNT(*) FROM text_pending",
};

/* Schema migrations, applied in order, each in its own transaction with
 * the version row it reaches. Never edit a shipped step; add a new one.
 * DDL has no parameters, so sqlite3_exec on these constants is safe. */
static const char *const migrations[] = {
	/* 1: mailboxes, messages, keywords, expunge log (for QRESYNC), FTS. */
	"CREATE TABLE store_meta(id INTEGER PRIMARY KEY CHECK (id = 1),"
	" next_uidvalidity INTEGER NOT NULL);"
	"INSERT INTO store_meta(id, next_uidvalidity) VALUES(1, 1);"
	"CREATE TABLE mailboxes(id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE, uidvalidity INTEGER NOT NULL,"
	" uidnext INTEGER NOT NULL, highestmodseq INTEGER NOT NULL,"
	" special_use INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE messages(id INTEGER PRIMARY KEY,"
	" mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,"
	" uid INTEGER NOT NULL, modseq INTEGER NOT NULL, flags INTEGER NOT NULL,"
	" keywords TEXT NOT NULL, internal_date INTEGER NOT NULL,"
	" size INTEGER NOT NULL, blob TEXT NOT NULL, envelope TEXT,"
	" bodystructure TEXT, preview TEXT, UNIQUE(mailbox_id, uid));"
	"CREATE INDEX messages_blob ON messages(blob);"
	"CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);"
	"CREATE TABLE mailbox_keywords(mailbox_id INTEGER NOT NULL"
	" REFERENCES mailboxes(id) ON DELETE CASCADE, name TEXT NOT NULL,"
	" PRIMARY KEY(mailbox_id, name)) WITHOUT ROWID;"
	"CREATE TABLE expunged(mailbox_id INTEGER NOT NULL"
	" REFERENCES mailboxes(id) ON DELETE CASCADE, uid INTEGER NOT NULL,"
	" modseq INTEGER NOT NULL, PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID;"
	/* rowid = messages.id. Kept in step by the C code, not a trigger:
	 * with trusted_schema off a trigger may not touch a virtual table. */
	"CREATE VIRTUAL TABLE message_text USING fts5(body);",
	/* 2: substring search (IMAP SEARCH TEXT/BODY are substring matches,
	 * RFC 9051 6.4.4): a trigram index, case-insensitive, with the
	 * message's own header apart so BODY can leave it out. The old
	 * table did not mark where the header text ended, so its rows move
	 * whole into body: for messages indexed before this step BODY also
	 * matches their Subject/From/To/Cc, TEXT is unchanged. */
	"CREATE VIRTUAL TABLE message_search USING fts5(head, body,"
	" tokenize = 'trigram');"
	"INSERT INTO message_search(rowid, head, body)"
	" SELECT rowid, '', body FROM message_text;"
	"DROP TABLE message_text;",
	/* 3: \Recent (IMAP4rev1): the highest UID some session has been
	 * told about as recent. Existing mail is not recent. */
	"ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 0;"
	"UPDATE mailboxes SET recent_uid = uidnext - 1;",
	/* 4: exactly-once delivery: the keys (queue id / recipient) of
	 * messages filed by deliver, written in the transaction that files
	 * them, so a redelivery after a crash is recognised. */
	"CREATE TABLE delivered(key TEXT PRIMARY KEY, at INTEGER NOT NULL)"
	" WITHOUT ROWID;"
	"CREATE INDEX delivered_at ON delivered(at);",
	/* 5: a smaller, faster text index: the trigram index keeps no
	 * positions (detail=none: about half the size, cheaper to fill), a
	 * message's header and body are two rows (id * 2, id * 2 + 1), and
	 * a search ANDs the needle's trigrams, then checks with LIKE that
	 * the needle is there in one piece. Also: the expunge log indexed
	 * by MODSEQ. */
	"CREATE VIRTUAL TABLE text_index USING fts5(t, tokenize = 'trigram',"
	" detail = 'none');"
	"INSERT INTO text_index(rowid, t)"
	" SELECT rowid * 2, head FROM message_search UNION ALL"
	" SELECT rowid * 2 + 1, body FROM message_search;"
	"DROP TABLE message_search;"
	/* and the expunge log read by MODSEQ at every change check */
	"CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);",
	/* 6: what SELECT and STATUS read of every message (UID, MODSEQ,
	 * flags, size) in an index of their own, so listing or counting a
	 * mailbox reads a few narrow index pages instead of every row with
	 * its cached envelope and bodystructure: SELECT of 10,000 messages
	 * read ~20 MiB of table before. */
	"CREATE INDEX messages_state ON messages(mailbox_id, uid, modseq, flags,"
	" size);",
	/* 7: the blob of every removed message row is noted (whichever path
	 * removed it: EXPUNGE, MOVE, a deleted mailbox's cascade), so its
	 * file can be collected while the store is in use, by a look at
	 * these names instead of a walk of blobs/. A name still used by
	 * another row (a copy) is kept. Existing stores start empty here:
	 * what they removed before is found by the walk at a worker's exit. */
	"CREATE TABLE blob_unref(blob TEXT PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TRIGGER messages_unref AFTER DELETE ON messages BEGIN"
	" INSERT OR IGNORE INTO blob_unref(blob) VALUES(old.blob); END;",
	/* 8: text indexed after the append: a bulk import files messages
	 * without their search text and lists them here; an indexer (the
	 * worker in the background, or before a SEARCH that needs them;
	 * `redoubt index`) adds the text and takes them off. A removed
	 * message leaves the list with its row. */
	"CREATE TABLE text_pending(id INTEGER PRIMARY KEY);"
	"CREATE TRIGGER messages_text_pending AFTER DELETE ON messages BEGIN"
	" DELETE FROM text_pending WHERE id = old.id; END;"
	/* and packs: a bulk import writes a batch of messages into one file
	 * (packs/<hex id>) instead of a file each; the row names the pack and
	 * the offset (NULL for a message in blobs/). A pack goes when no row
	 * names it: removed rows note their pack as blob_unref notes blobs. */
	"ALTER TABLE messages ADD COLUMN pack INTEGER;"
	"ALTER TABLE messages ADD COLUMN pack_offset INTEGER;"
	"CREATE INDEX messages_pack ON messages(pack) WHERE pack IS NOT NULL;"
	"CREATE TABLE pack_unref(pack INTEGER PRIMARY KEY);"
	"CREATE TRIGGER messages_unref_pack AFTER DELETE ON messages"
	" WHEN old.pack IS NOT NULL BEGIN"
	" INSERT OR IGNORE INTO pack_unref(pack) VALUES(old.pack); END;",
};
#define MIGRATION_COUNT (sizeof(migrations) / sizeof(migrations[0]))

static const struct {
	const char *name;
	enum store_special_use su;
} default_mailboxes[] = {
	{ "INBOX", STORE_SPECIAL_NONE },
	{ "Sent", STORE_SPECIAL_SENT },
	{ "Drafts", STORE_SPECIAL_DRAFTS },
	{ "Trash", STORE_SPECIAL_TRASH },
	{ "Junk", STORE_SPECIAL_JUNK },
	{ "Archive", STORE_SPECIAL_ARCHIVE },
};

/* ---- statement helpers ---- */

int sq_fail(struct store_sqlite *s, const char *what, const char **error_r)
{
	int code = sqlite3_errcode(s->db);

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		snprintf(s->errbuf, sizeof(s->errbuf), "%s: store busy", what);
	else
		snprintf(s->errbuf, sizeof(s->errbuf), "%s: %s", what,
			 sqlite3_errmsg(s->db));
	*error_r = s->errbuf;
	return STORE_ERROR;
}

sqlite3_stmt *sq_stmt(struct store_sqlite *s, enum sq_stmt id,
		      const char **error_r)
{
	sqlite3_stmt *st = s->stmts[id];

	if (st == NULL) {
		if (sqlite3_prepare_v3(s->db, sq_sql[id], -1,
				       SQLITE_PREPARE_PERSISTENT, &st,
				       NULL) != SQLITE_OK) {
			(void)sq_fail(s, "prepare", error_r);
			return NULL;
		}
		s->stmts[id] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

int sq_exec_stmt(struct store_sqlite *s, sqlite3_stmt *st, const char *what,
		 const char **error_r)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_fail(s, what, error_r);
	return STORE_OK;
}

static int sq_exec(struct store_sqlite *s, const char *sql, const char *what,
		   const char **error_r)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(s, what, error_r);
	return STORE_OK;
}

int sq_begin(struct store_sqlite *s, const char **error_r)
{
	return sq_exec(s, "BEGIN IMMEDIATE", "begin", error_r);
}

int sq_commit(struct store_sqlite *s, const char **error_r)
{
	int ret = sq_exec(s, "COMMIT", "commit", error_r);

	if (ret != STORE_OK)
		sq_rollback(s);
	return ret;
}

void sq_rollback(struct store_sqlite *s)
{
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int sq_row_result(struct store_sqlite *s, sqlite3_stmt *st, int rc,
		  const char *not_found, const char *what, const char **error_r)
{
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE) {
		*error_r = not_found;
		return STORE_NOT_FOUND;
	}
	return sq_fail(s, what, error_r);
}

/* ---- mailbox counters ---- */

int sq_mailbox_load(struct store_sqlite *s, int64_t id, struct sq_mailbox *mb,
		    const char **error_r)
{
	sqlite3_stmt *st = sq_stmt(s, SQ_MAILBOX_BY_ID, error_r);
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		mb->id = sqlite3_column_int64(st, 0);
		mb->uidvalidity = (uint32_t)sqlite3_column_int64(st, 1);
		mb->uidnext = sqlite3_column_int64(st, 2);
		mb->highestmodseq = sqlite3_column_int64(st, 3);
	}
	return sq_row_result(s, st, rc, "no such mailbox", "mailbox lookup",
			     error_r);
}

int sq_begin_change(struct store_sqlite *s, int64_t mailbox_id,
		    struct sq_mailbox *mb, int64_t *modseq_r,
		    const char **error_r)
{
	int ret;

	if (sq_begin(s, error_r) < 0)
		return STORE_ERROR;
	if ((ret = sq_mailbox_load(s, mailbox_id, mb, error_r)) != STORE_OK)
		goto fail;
	if (mb->highestmodseq >= INT64_MAX - 1) {
		*error_r = "modseq space exhausted";
		ret = STORE_LIMIT;
		goto fail;
	}
	*modseq_r = mb->highestmodseq + 1;
	return STORE_OK;
fail:
	sq_rollback(s);
	return ret;
}

int sq_mailbox_store(struct store_sqlite *s, const struct sq_mailbox *mb,
		     const char **error_r)
{
	sqlite3_stmt *st = sq_stmt(s, SQ_MAILBOX_SET_COUNTERS, error_r);

	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, mb->id);
	sqlite3_bind_int64(st, 2, mb->uidnext);
	sqlite3_bind_int64(st, 3, mb->highestmodseq);
	return sq_exec_stmt(s, st, "mailbox update", error_r);
}

int sq_keyword_register(struct store_sqlite *s, int64_t mailbox_id,
			const char *kw, size_t len, const char **error_r)
{
	sqlite3_stmt *st = sq_stmt(s, SQ_KEYWORD_ADD, error_r);
	int64_t count;
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_text(st, 2, kw, (int)len, SQLITE_STATIC);
	if (sq_exec_stmt(s, st, "keyword insert", error_r) != STORE_OK)
		return STORE_ERROR;
	if (sqlite3_changes(s->db) == 0)
		return STORE_OK;
	if ((st = sq_stmt(s, SQ_KEYWORD_COUNT, error_r)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, mailbox_id);
	rc = sqlite3_step(st);
	count = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return sq_fail(s, "keyword count", error_r);
	if (count > (int64_t)RD_STORE_MAX_KEYWORDS) {
		*error_r = "too many keywords in mailbox";
		return STORE_LIMIT;
	}
	return STORE_OK;
}

/* ---- open / create / close ---- */

static void sq_free(struct store_sqlite *s)
{
	size_t i;

	for (i = 0; i < SQ_STMT_COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	if (s->db != NULL)
		sqlite3_close(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->tmp_fd >= 0)
		close(s->tmp_fd);
	if (s->blobs_fd >= 0)
		close(s->blobs_fd);
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s);
}

static struct store_sqlite *sq_alloc(const struct store_params *params)
{
	struct store_sqlite *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->base.ops = &store_sqlite_ops;
	s->faults = params->faults;
	s->root_fd = s->dir_fd = s->blobs_fd = s->tmp_fd = s->lock_fd = -1;
	return s;
}

static int migrate(struct store_sqlite *s, const char **error_r)
{
	sqlite3_stmt *st;
	int64_t version;
	int rc;

	if (sq_exec(s, "CREATE TABLE IF NOT EXISTS schema_version("
		    "version INTEGER NOT NULL)", "schema_version", error_r) < 0)
		return STORE_ERROR;
	for (;;) {
		if (sq_begin(s, error_r) < 0)
			return STORE_ERROR;
		/* Read inside the write transaction: another process may have
		 * migrated between our check and our BEGIN. */
		if ((st = sq_stmt(s, SQ_VERSION_GET, error_r)) == NULL)
			goto fail;
		rc = sqlite3_step(st);
		version = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW) {
			(void)sq_fail(s, "schema version", error_r);
			goto fail;
		}
		if (version < 0 || (uint64_t)version > MIGRATION_COUNT) {
			*error_r = "store written by a newer version";
			sq_rollback(s);
			return STORE_ERROR;
		}
		if ((uint64_t)version == MIGRATION_COUNT) {
			sq_rollback(s);
			return STORE_OK;
		}
		if (sq_exec(s, migrations[version], "migration", error_r) < 0 ||
		    (st = sq_stmt(s, SQ_VERSION_SET, error_r)) == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, version + 1);
		if (sq_exec_stmt(s, st, "schema version", error_r) < 0 ||
		    sq_commit(s, error_r) < 0)
			goto fail;
		{
			char num[24];
			snprintf(num, sizeof(num), "%lld", (long long)version + 1);
			log_info("store_migrated", "version", num);
		}
	}
fail:
	sq_rollback(s);
	return STORE_ERROR;
}

/* Open index.db by path (SQLite cannot open relative to an fd). The path is
 * built only from the trusted root and a validated id, SQLITE_OPEN_NOFOLLOW
 * refuses a symlinked file, and the dev/ino check afterwards proves SQLite
 * opened the file inside the directory we hold open. */
static int sq_db_open(struct store_sqlite *s, const char *root,
		      const char *dirname, bool create, const char **error_r)
{
	char path[PATH_MAX];
	struct stat st_fd, st_path;
	sqlite3_stmt *st = NULL;
	int n, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
		SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	bool wal;

	n = snprintf(path, sizeof(path), "%s/%s/index.db", root, dirname);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		*error_r = "store path too long";
		return STORE_ERROR;
	}
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK)
		return sq_fail(s, "open index", error_r);
	if (fstatat(s->dir_fd, "index.db", &st_fd, AT_SYMLINK_NOFOLLOW) < 0 ||
	    stat(path, &st_path) < 0 || !S_ISREG(st_fd.st_mode) ||
	    st_fd.st_dev != st_path.st_dev || st_fd.st_ino != st_path.st_ino) {
		*error_r = "index.db is not the store's own file";
		return STORE_ERROR;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, (int)RD_STORE_BUSY_TIMEOUT_MS);
	/* DEFENSIVE: no writable_schema or other ways to corrupt the file
	 * from SQL; trusted_schema off: schema objects cannot call
	 * functions with side effects. */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	/* 16 KiB pages for a new store (a page size is fixed once the file
	 * is in WAL mode): the text index's pages are written between the
	 * messages table's as mail arrives, so reading every ENVELOPE of a
	 * mailbox from a cold cache is a walk over scattered pages. Four
	 * times bigger pages made that walk 2x faster (10,000 messages:
	 * 128 -> 64 ms, the same octets read) for 7% fewer APPENDs/s;
	 * 64 KiB pages: 45 ms cold but 18% fewer APPENDs/s. Existing stores
	 * keep their page size. */
	if (create && sq_exec(s, "PRAGMA page_size=16384", "pragma", error_r) < 0)
		return STORE_ERROR;
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st,
			       NULL) != SQLITE_OK)
		return sq_fail(s, "journal mode", error_r);
	wal = sqlite3_step(st) == SQLITE_ROW &&
		sqlite3_column_text(st, 0) != NULL &&
		strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (!wal) {
		*error_r = "cannot switch index to WAL";
		return STORE_ERROR;
	}
	/* synchronous=FULL, not NORMAL: in WAL mode NORMAL syncs only at
	 * checkpoints, so a committed append could vanish on power loss
	 * after we answered 250 (ARCHITECTURE rule 7). FULL syncs the WAL
	 * on every commit; one fsync per transaction is the price. */
	if (sq_exec(s, "PRAGMA synchronous=FULL", "pragma", error_r) < 0 ||
	    sq_exec(s, "PRAGMA temp_store=MEMORY", "pragma", error_r) < 0 ||
	    sq_exec(s, "PRAGMA foreign_keys=ON", "pragma", error_r) < 0)
		return STORE_ERROR;
	return migrate(s, error_r);
}

/* The stores root is opened O_PATH: a worker's Landlock domain grants only
 * its own store beneath it, and an O_PATH descriptor needs no access right
 * on the root itself while openat() beneath it is still checked. */
static int open_dirs(struct store_sqlite *s, const struct store_params *params,
		     const char *dirname, const char **error_r)
{
	s->root_fd = open(params->stores_root, O_PATH | O_DIRECTORY |
			  O_CLOEXEC);
	if (s->root_fd < 0) {
		*error_r = "cannot open stores root";
		return STORE_ERROR;
	}
	s->dir_fd = fs_open_beneath(s->root_fd, dirname,
				    O_RDONLY | O_DIRECTORY, 0);
	if (s->dir_fd < 0) {
		*error_r = errno == ENOENT ? "no such store" :
			"cannot open store directory";
		return errno == ENOENT ? STORE_NOT_FOUND : STORE_ERROR;
	}
	s->blobs_fd = fs_open_beneath(s->dir_fd, "blobs",
				      O_RDONLY | O_DIRECTORY, 0);
	s->tmp_fd = fs_open_beneath(s->dir_fd, "tmp", O_RDONLY | O_DIRECTORY, 0);
	s->lock_fd = fs_open_beneath(s->dir_fd, "lock", O_RDWR, 0);
	if (s->blobs_fd < 0 || s->tmp_fd < 0 || s->lock_fd < 0) {
		*error_r = "store directory incomplete";
		return STORE_ERROR;
	}
	return STORE_OK;
}

/* Take the lock shared; if we got it exclusively first, nobody else has
 * the store open and leftovers from a crash can be cleared. flock
 * conversion is not atomic, which is harmless here: we do nothing to the
 * store until we hold a lock. */
static int lock_and_recover(struct store_sqlite *s, const char *store_id,
			    const char **error_r)
{
	unsigned removed = 0;

	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0) {
		if (fs_tmp_clean(s->tmp_fd, &removed, error_r) < 0)
			return STORE_ERROR;
		if (removed > 0) {
			char num[16];
			snprintf(num, sizeof(num), "%u", removed);
			log_info("store_recovered", "store", store_id,
				 "tmp_removed", num);
		}
	} else if (errno != EWOULDBLOCK) {
		*error_r = "cannot lock store";
		return STORE_ERROR;
	}
	if (flock(s->lock_fd, LOCK_SH) < 0) {
		*error_r = "cannot lock store";
		return STORE_ERROR;
	}
	return STORE_OK;
}

static int sq_open(const struct store_params *params, const char *store_id,
		   struct store **store_r, const char **error_r)
{
	struct store_sqlite *s = sq_alloc(params);
	int ret;

	if (s == NULL) {
		*error_r = "out of memory";
		return STORE_ERROR;
	}
	if ((ret = open_dirs(s, params, store_id, error_r)) != STORE_OK ||
	    (ret = lock_and_recover(s, store_id, error_r)) != STORE_OK ||
	    (ret = sq_db_open(s, params->stores_root, store_id, false,
			      error_r)) != STORE_OK) {
		/* error_r may point into s->errbuf, which dies with s: log
		 * the detail and hand back a static string. */
		if (*error_r == s->errbuf) {
			log_warn("store_open_failed", "store", store_id,
				 "error", s->errbuf);
			*error_r = "cannot open store index";
		}
		sq_free(s);
		return ret;
	}
	*store_r = &s->base;
	return STORE_OK;
}

static void sq_release_memory(struct store *store)
{
	sqlite3_db_release_memory(((struct store_sqlite *)store)->db);
}

static void sq_close(struct store **store)
{
	if (*store != NULL)
		sq_free((struct store_sqlite *)*store);
	*store = NULL;
}

/* Build the store under a dot-name (never a valid id, so never opened)
 * and rename it into place: a crash leaves either no store or a whole
 * one, never a half-made directory under the real id. */
static int sq_create(const struct store_params *params, const char *store_id,
		     const char **error_r)
{
	struct store_sqlite *s = sq_alloc(params);
	char tmpname[RD_MAX_STORE_ID + 32];
	unsigned char rnd[8];
	struct stat st;
	const char *err2;
	size_t i;
	int fd, ret = STORE_ERROR;

	if (s == NULL) {
		*error_r = "out of memory";
		return STORE_ERROR;
	}
	s->root_fd = open(params->stores_root, O_RDONLY | O_DIRECTORY |
			  O_CLOEXEC);
	if (s->root_fd < 0) {
		*error_r = "cannot open stores root";
		goto out_free;
	}
	if (fstatat(s->root_fd, store_id, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		*error_r = "store exists";
		ret = STORE_EXISTS;
		goto out_free;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		*error_r = "no randomness";
		goto out_free;
	}
	snprintf(tmpname, sizeof(tmpname), ".create-%s-%02x%02x%02x%02x%02x%02x%02x%02x",
		 store_id, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
		 rnd[6], rnd[7]);
	if (mkdirat(s->root_fd, tmpname, 0700) < 0) {
		*error_r = "cannot create store directory";
		goto out_free;
	}
	s->dir_fd = fs_open_beneath(s->root_fd, tmpname, O_RDONLY | O_DIRECTORY, 0);
	if (s->dir_fd < 0 || mkdirat(s->dir_fd, "blobs", 0700) < 0 ||
	    mkdirat(s->dir_fd, "tmp", 0700) < 0) {
		*error_r = "cannot create store directories";
		goto out_remove;
	}
	fd = fs_open_beneath(s->dir_fd, "lock", O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		*error_r = "cannot create lock file";
		goto out_remove;
	}
	close(fd);
	s->blobs_fd = fs_open_beneath(s->dir_fd, "blobs", O_RDONLY | O_DIRECTORY, 0);
	if (s->blobs_fd < 0 || fs_blob_dirs_create(s->blobs_fd, error_r) < 0)
		goto out_remove;
	/* The empty index.db first, so the dev/ino check has a file. */
	fd = fs_open_beneath(s->dir_fd, "index.db", O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		*error_r = "cannot create index";
		goto out_remove;
	}
	close(fd);
	if (sq_db_open(s, params->stores_root, tmpname, true, error_r) < 0)
		goto out_remove;
	for (i = 0; i < sizeof(default_mailboxes) / sizeof(default_mailboxes[0]); i++) {
		int64_t id;
		if (sq_mailbox_create_in(s, default_mailboxes[i].name,
					       default_mailboxes[i].su, &id,
					       error_r) != STORE_OK)
			goto out_remove;
	}
	/* Closing the last connection checkpoints and removes the WAL, so
	 * the renamed directory holds a self-contained index.db. */
	for (i = 0; i < SQ_STMT_COUNT; i++) {
		sqlite3_finalize(s->stmts[i]);
		s->stmts[i] = NULL;
	}
	if (sqlite3_close(s->db) != SQLITE_OK) {
		*error_r = "cannot close new index";
		goto out_remove;
	}
	s->db = NULL;
	if (fs_fsync_dir(s->dir_fd, error_r) < 0)
		goto out_remove;
	if (renameat2(s->root_fd, tmpname, s->root_fd, store_id,
		      RENAME_NOREPLACE) < 0) {
		ret = errno == EEXIST ? STORE_EXISTS : STORE_ERROR;
		*error_r = errno == EEXIST ? "store exists" :
			"cannot rename store into place";
		goto out_remove;
	}
	if (fs_fsync_dir(s->root_fd, error_r) < 0)
		goto out_free;
	log_info("store_created", "store", store_id);
	ret = STORE_OK;
	goto out_free;

out_remove:
	if (*error_r == s->errbuf)
		*error_r = "cannot create store index";
	if (fs_remove_tree(s->root_fd, tmpname, 3, &err2) < 0)
		log_warn("store_create_cleanup_failed", "dir", tmpname,
			 "error", err2);
out_free:
	if (ret != STORE_OK && *error_r == s->errbuf)
		*error_r = "cannot create store";
	sq_free(s);
	return ret;
}

/* ---- garbage collection ---- */

/* A bound "SELECT 1 ... LIMIT 1": 1 a row, 0 none, -1 error. */
static int row_exists(struct store_sqlite *s, sqlite3_stmt *st, const char *what,
		      const char **error_r)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return sq_fail(s, what, error_r);
}

static int blob_referenced(void *ctx, const char *id, const char **error_r)
{
	struct store_sqlite *s = ctx;
	sqlite3_stmt *st = sq_stmt(s, SQ_BLOB_REFERENCED, error_r);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return row_exists(s, st, "blob lookup", error_r);
}

/* What one kind of noted name (blob_unref: files in blobs/; pack_unref:
 * packs) needs for its collection: the three statements and how to
 * remove the file a row of the "dead" statement names. */
/* The directories a collection removed entries from: blobs/xx by xx, and
 * packs/. Synced before the notes are cleared. */
struct gc_dirs {
	uint8_t xx[256 / 8];
	bool packs;
};

struct gc_kind {
	enum sq_stmt any, dead, clear;
	const char *what;
	/* 0 removed (or not ours: passed over, *counted false), -1 failed */
	int (*drop)(struct store_sqlite *s, sqlite3_stmt *row, bool *counted,
		    struct gc_dirs *dirs);
};

static int drop_blob(struct store_sqlite *s, sqlite3_stmt *row, bool *counted,
		     struct gc_dirs *dirs)
{
	const char *id = (const char *)sqlite3_column_text(row, 0);
	/* a name that is not a blob id was never written by us */
	*counted = id != NULL && fs_blob_id_valid(id);
	if (!*counted)
		return 0;
	unsigned xx = fs_blob_fanout(id);
	dirs->xx[xx / 8] |= (uint8_t)(1u << (xx % 8));
	return fs_blob_unlink(s->blobs_fd, id);
}

static int drop_pack(struct store_sqlite *s, sqlite3_stmt *row, bool *counted,
		     struct gc_dirs *dirs)
{
	int64_t pack = sqlite3_column_int64(row, 0);
	*counted = pack > 0;      /* no pack we wrote has another id */
	dirs->packs |= *counted;
	return *counted ? fs_pack_unlink(s->dir_fd, pack) : 0;
}

/* The removals made durable: without this a power loss could bring an
 * unlinked file back as an orphan (harmless, but only the walk at a
 * lonely worker's exit would take it again). */
static int gc_sync_dirs(struct store_sqlite *s, const struct gc_dirs *dirs,
			const char **error_r)
{
	char name[8];
	for (unsigned xx = 0; xx < 256; xx++) {
		if ((dirs->xx[xx / 8] & (1u << (xx % 8))) == 0)
			continue;
		snprintf(name, sizeof(name), "%02x", xx);
		if (fs_sync_subdir(s->blobs_fd, name, error_r) < 0)
			return -1;
	}
	return dirs->packs ? fs_sync_subdir(s->dir_fd, FS_PACKS_DIR, error_r) : 0;
}

static const struct gc_kind gc_blobs = { SQ_UNREF_ANY, SQ_UNREF_DEAD, SQ_UNREF_CLEAR,
					 "blob_unref", drop_blob };
static const struct gc_kind gc_packs = { SQ_PACK_UNREF_ANY, SQ_PACK_UNREF_DEAD,
					 SQ_PACK_UNREF_CLEAR, "pack_unref", drop_pack };

/* The files of removed messages that no row names any more, under the
 * write lock: no append can commit a row naming one of them meanwhile,
 * and one that wrote (or found) such a blob before finds it gone in its
 * own transaction and writes it again (append_index). A pack is only
 * ever named by the rows of the append that wrote it. */
static int gc_unref(struct store_sqlite *s, const struct gc_kind *k, unsigned *removed_r,
		    const char **error_r)
{
	sqlite3_stmt *st = sq_stmt(s, k->any, error_r);
	struct gc_dirs dirs = { .packs = false };
	bool counted;
	int rc;

	if (st == NULL)
		return STORE_ERROR;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return STORE_OK;     /* nothing noted: no write lock taken */
	if (rc != SQLITE_ROW)
		return sq_fail(s, k->what, error_r);
	if (sq_begin(s, error_r) < 0)
		return STORE_ERROR;
	if ((st = sq_stmt(s, k->dead, error_r)) == NULL)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k->drop(s, st, &counted, &dirs) < 0) {
			sqlite3_reset(st);
			*error_r = "cannot remove the file of a removed message";
			goto fail;
		}
		*removed_r += counted;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		(void)sq_fail(s, k->what, error_r);
		goto fail;
	}
	/* a crash before this commit leaves the names: unlinking one again
	 * finds it gone, which is fine */
	if (gc_sync_dirs(s, &dirs, error_r) < 0 ||
	    (st = sq_stmt(s, k->clear, error_r)) == NULL ||
	    sq_exec_stmt(s, st, k->what, error_r) != STORE_OK)
		goto fail;
	return sq_commit(s, error_r);
fail:
	sq_rollback(s);
	return STORE_ERROR;
}

static int pack_referenced(void *ctx, int64_t pack, const char **error_r)
{
	struct store_sqlite *s = ctx;
	sqlite3_stmt *st = sq_stmt(s, SQ_PACK_REFERENCED, error_r);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, pack);
	return row_exists(s, st, "pack lookup", error_r);
}

static int sq_gc_removed(struct store *store, unsigned *removed_r, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	*removed_r = 0;
	if (gc_unref(s, &gc_blobs, removed_r, error_r) != STORE_OK)
		return STORE_ERROR;
	return gc_unref(s, &gc_packs, removed_r, error_r);
}

static int sq_gc(struct store *store, unsigned *removed_r, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	int ret;

	*removed_r = 0;
	if ((ret = sq_gc_removed(store, removed_r, error_r)) != STORE_OK)
		return ret;
	/* The walk of blobs/ only with the store to ourselves: another
	 * opener may have renamed a blob whose index row it has not
	 * committed yet. A failed conversion drops our shared lock (Linux
	 * flock), so retake it. */
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0) {
		unsigned walked = 0;
		if (fs_blob_gc(s->blobs_fd, blob_referenced, s, &walked,
			       error_r) < 0)
			ret = STORE_ERROR;
		*removed_r += walked;
		walked = 0;
		if (ret == STORE_OK &&
		    fs_pack_gc(s->dir_fd, pack_referenced, s, &walked, error_r) < 0)
			ret = STORE_ERROR;
		*removed_r += walked;
	} else if (errno != EWOULDBLOCK) {
		*error_r = "cannot lock store";
		return STORE_ERROR;
	}
	if (flock(s->lock_fd, LOCK_SH) < 0) {
		*error_r = "cannot lock store";
		return STORE_ERROR;
	}
	return ret;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.create = sq_create,
	.open = sq_open,
	.close = sq_close,
	.release_memory = sq_release_memory,
	.mailbox_create = sq_mailbox_create,
	.mailbox_rename = sq_mailbox_rename,
	.mailbox_delete = sq_mailbox_delete,
	.mailbox_list = sq_mailbox_list,
	.mailbox_get = sq_mailbox_get,
	.append = sq_append,
	.append_batch = sq_append_batch,
	.append_packed = sq_append_packed,
	.fetch = sq_fetch,
	.message_open = sq_message_open,
	.flags_update = sq_flags_update,
	.expunge = sq_expunge,
	.copy = sq_copy,
	.search_text = sq_search_text,
	.text_pending = sq_text_pending,
	.text_add = sq_text_add,
	.text_pending_count = sq_text_pending_count,
	.expunged_since = sq_expunged_since,
	.recent_claim = sq_recent_claim,
	.mailbox_state = sq_mailbox_state,
	.fetch_changed = sq_fetch_changed,
	.fetch_state = sq_fetch_state,
	.gc = sq_gc,
	.gc_removed = sq_gc_removed,
};
