/* test-store-search.c: store_search_text() (IMAP SEARCH TEXT / BODY from
 * the trigram FTS5 index) on a real store in a mkdtemp directory:
 * substrings inside words, case folding (ASCII and beyond), header text
 * vs body text, FTS5 syntax in needles taken literally, short needles,
 * expunge, copy and move, other mailboxes, long needles, and the
 * migration of a store whose index predates the trigram table. */
#include "store/store.h"
#include "store/store-fs.h"
#include "limits.h"
#include "lib/test.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[64];

static struct store *open_store(const char *id)
{
	struct store_params p = { NULL, root, { STORE_STEP_NONE } };
	struct store *s = NULL;
	const char *err = NULL;

	CHECK(store_open(&p, id, &s, &err) == STORE_OK, "open %s (%s)", id,
	      err != NULL ? err : "ok");
	return s;
}

static int64_t mailbox_id(struct store *s, const char *name)
{
	struct store_mailbox_info mb;
	const char *err;

	return store_mailbox_get(s, name, &mb, &err) == STORE_OK ? mb.id : -1;
}

/* head and body as mime lays them out: header text, RS, body text. */
static uint32_t add(struct store *s, int64_t mb, const char *head,
		    const char *body, unsigned flags)
{
	char text[4096];
	struct store_append a = { 0 };
	const char *err = NULL;
	uint32_t uid = 0;
	uint64_t modseq;

	snprintf(text, sizeof(text), "%s%c%s", head, STORE_FULLTEXT_SEPARATOR,
		 body);
	a.data = text;
	a.size = strlen(text);
	a.flags = flags;
	a.internal_date = 1700000000;
	a.fulltext = text;
	if (store_append(s, mb, &a, &uid, &modseq, &err) != STORE_OK)
		printf("# append: %s\n", err);
	return uid;
}

/* The UIDs found, as "1 3 4" ("" for none, "ERR" on failure). */
static const char *found_n(struct store *s, int64_t mb,
			   enum store_text_part part, const char *needle,
			   size_t len)
{
	static char out[256];
	struct store_uids u;
	const char *err;
	size_t o = 0;

	out[0] = '\0';
	if (store_search_text(s, mb, part, needle, len, &u, &err) != STORE_OK) {
		printf("# search %s: %s\n", needle, err);
		return "ERR";
	}
	for (size_t i = 0; i < u.count && o + 12 < sizeof(out); i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%u",
				      i > 0 ? " " : "", u.uids[i]);
	store_uids_free(&u);
	return out;
}

static const char *found(struct store *s, int64_t mb, enum store_text_part part,
			 const char *needle)
{
	return found_n(s, mb, part, needle, strlen(needle));
}

static void test_basic(void)
{
	const char *err;
	struct store *s;
	int64_t inbox;

	CHECK(store_create(&(struct store_params){ NULL, root, { 0 } }, "fts",
			   &err) == STORE_OK, "create store");
	s = open_store("fts");
	if (s == NULL)
		return;
	inbox = mailbox_id(s, "INBOX");
	add(s, inbox, "Subject: Quarterly report\nFrom: Alice <alice@example.org>",
	    "The numbers are in the attached spreadsheet.\nRegards", 0);
	add(s, inbox, "Subject: Lunch\nFrom: Bob <bob@example.org>",
	    "Grüße aus KÖLN, see you at noon. Quarterly? no.", 0);
	add(s, inbox, "Subject: odd \"quoted\" AND NEAR( stuff*",
	    "body with a \"quote\" and c* AND d and NEAR(x y) and 100% _ \\", 0);

	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "spreadsheet"), "1",
		  "whole word");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "readshe"), "1",
		  "substring inside a word");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "SPREADsheet"), "1",
		  "ASCII case folded");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "köln"), "2",
		  "non-ASCII case folded (KÖLN)");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "GRÜSSE"), "",
		  "no full case folding (ß is not ss)");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "grüße"), "2",
		  "non-ASCII substring");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "quarterly"), "1 2",
		  "TEXT: header of 1, body of 2");
	CHECK_STR(found(s, inbox, STORE_TEXT_BODY, "quarterly"), "2",
		  "BODY leaves the header out");
	CHECK_STR(found(s, inbox, STORE_TEXT_BODY, "alice@example"), "",
		  "BODY: From is header text");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "alice@example"), "1",
		  "TEXT: From found");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "in the attached"), "1",
		  "phrase with spaces");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "in the detached"), "",
		  "phrase not there");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "nothingsuch"), "",
		  "no match");

	/* FTS5 query syntax in a needle is text */
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "\"quote\""), "3",
		  "double quotes literal");
	CHECK_STR(found(s, inbox, STORE_TEXT_BODY, "a \"quote"), "3",
		  "one double quote");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "\""), "3",
		  "lone double quote (short)");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "c* AND d"), "3",
		  "* and AND literal");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "numbers AND regards"), "",
		  "AND is no operator");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "NEAR(x"), "3",
		  "NEAR( literal");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "NEAR(numbers regards)"), "",
		  "NEAR is no operator");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "body : with"), "",
		  "column filter is no operator");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "^body"), "", "^ literal");
	CHECK_STR(found(s, inbox, STORE_TEXT_BODY, "100% _ \\"), "3",
		  "percent, underscore, backslash literal");

	/* under three characters: no trigram, LIKE over the texts */
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "Lu"), "2",
		  "two characters in header");
	CHECK_STR(found(s, inbox, STORE_TEXT_BODY, "Lu"), "",
		  "two characters, BODY leaves the header out");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "%"), "3", "percent alone literal");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "_"), "3", "_ alone literal");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "o_"), "",
		  "_ is no wildcard (odd)");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "\\"), "3",
		  "backslash alone literal");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "öl"), "",
		  "short needle folds ASCII only (KÖLN has Öl)");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "ÖL"), "2",
		  "short non-ASCII needle, exact case");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "kÖ"), "2",
		  "short needle, ASCII folded, rest exact");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, ""), "1 2 3",
		  "empty needle matches all");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "ü"), "2",
		  "one two-octet character");
	CHECK_STR(found_n(s, inbox, STORE_TEXT_ALL, "nu\0mbers", 8), "",
		  "NUL in needle matches nothing");

	{
		size_t n = RD_STORE_MAX_SEARCH_NEEDLE + 1;
		char *big = malloc(n);
		struct store_uids u;

		if (big != NULL) {
			memset(big, 'a', n);
			CHECK(store_search_text(s, inbox, STORE_TEXT_ALL, big, n,
						&u, &err) == STORE_LIMIT &&
			      u.count == 0, "needle over the cap: STORE_LIMIT");
			CHECK_STR(found_n(s, inbox, STORE_TEXT_ALL, big, n - 1),
				  "", "needle at the cap works");
			free(big);
		}
	}
	store_close(&s);
}

static void test_changes(void)
{
	struct store_copy_result res;
	struct store_flag_change del = { STORE_FLAGS_ADD, STORE_FLAG_DELETED,
					 NULL, 0 };
	struct store_uids ex;
	const char *err;
	struct store *s = open_store("fts");
	int64_t inbox, archive, trash;
	struct store_append plain = { 0 };
	uint32_t uid;
	uint64_t modseq;

	if (s == NULL)
		return;
	inbox = mailbox_id(s, "INBOX");
	archive = mailbox_id(s, "Archive");
	trash = mailbox_id(s, "Trash");
	add(s, archive, "Subject: elsewhere", "spreadsheet in the archive", 0);
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "spreadsheet"), "1",
		  "other mailboxes' texts not found");
	CHECK_STR(found(s, archive, STORE_TEXT_ALL, "spreadsheet"), "1",
		  "found in its own mailbox");

	CHECK(store_copy(s, inbox, 1, 1, trash, false, &res, &err) == STORE_OK,
	      "copy");
	store_copy_result_free(&res);
	CHECK_STR(found(s, trash, STORE_TEXT_BODY, "attached"), "1",
		  "copy has its text");
	CHECK_STR(found(s, trash, STORE_TEXT_BODY, "Alice"), "",
		  "copy keeps header text apart");
	CHECK(store_copy(s, inbox, 2, 2, trash, true, &res, &err) == STORE_OK,
	      "move");
	store_copy_result_free(&res);
	CHECK_STR(found(s, trash, STORE_TEXT_ALL, "köln"), "2",
		  "moved text found in the target");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "köln"), "",
		  "and no longer in the source");

	CHECK(store_flags_update(s, inbox, 1, 1, &del, NULL, NULL, NULL,
				 &err) == STORE_OK &&
	      store_expunge(s, inbox, 1, UINT32_MAX, &ex, &err) == STORE_OK &&
	      ex.count == 1, "expunge 1");
	store_uids_free(&ex);
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "spreadsheet"), "",
		  "expunged text gone");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "sp"), "", "short: gone too");
	CHECK_STR(found(s, trash, STORE_TEXT_ALL, "spreadsheet"), "1",
		  "its copy still found");

	/* the expunge log (QRESYNC): UID 2 left by MOVE, then UID 1 by
	 * EXPUNGE at a later modseq */
	struct store_mailbox_info info;
	CHECK(store_mailbox_get(s, "INBOX", &info, &err) == STORE_OK, "inbox info");
	CHECK(store_expunged_since(s, inbox, 0, 1, UINT32_MAX, &ex, &err) == STORE_OK &&
	      ex.count == 2 && ex.uids[0] == 1 && ex.uids[1] == 2,
	      "expunge log: both since modseq 0");
	store_uids_free(&ex);
	CHECK(store_expunged_since(s, inbox, info.highestmodseq - 1, 1, UINT32_MAX, &ex,
				   &err) == STORE_OK && ex.count == 1 && ex.uids[0] == 1,
	      "expunge log: only the later one since the modseq before it");
	store_uids_free(&ex);
	CHECK(store_expunged_since(s, inbox, 0, 2, 2, &ex, &err) == STORE_OK &&
	      ex.count == 1 && ex.uids[0] == 2, "expunge log: UID range respected");
	store_uids_free(&ex);
	CHECK(store_expunged_since(s, inbox, info.highestmodseq, 1, UINT32_MAX, &ex,
				   &err) == STORE_OK && ex.count == 0,
	      "expunge log: nothing since the current modseq");
	store_uids_free(&ex);

	/* no separator: all of it is body text */
	plain.data = plain.fulltext = "Subject: flat\nflat body words";
	plain.size = strlen(plain.data);
	plain.internal_date = 1700000000;
	CHECK(store_append(s, inbox, &plain, &uid, &modseq, &err) == STORE_OK,
	      "append without separator");
	CHECK_STR(found(s, inbox, STORE_TEXT_BODY, "flat\nflat"), "4",
		  "text without separator is body text");
	plain.fulltext = NULL;
	CHECK(store_append(s, inbox, &plain, &uid, &modseq, &err) == STORE_OK,
	      "append without text");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "flat"), "4",
		  "message without text never matches");

	CHECK(store_mailbox_delete(s, "Trash", &err) == STORE_OK,
	      "delete mailbox");
	CHECK(store_mailbox_create(s, "Trash", STORE_SPECIAL_TRASH, &trash,
				   &err) == STORE_OK, "recreate it");
	CHECK_STR(found(s, trash, STORE_TEXT_ALL, "spreadsheet"), "",
		  "deleted mailbox's texts gone");
	CHECK_STR(found(s, 999999, STORE_TEXT_ALL, "spreadsheet"), "",
		  "no such mailbox: nothing");
	store_close(&s);
}

/* A store whose schema stopped at version 1 (message_text(body)) is
 * migrated: its texts move into body, so TEXT and BODY still find them. */
static void test_migration(void)
{
	char path[128];
	const char *err;
	struct store *s;
	sqlite3 *db = NULL;
	int64_t inbox;

	CHECK(store_create(&(struct store_params){ NULL, root, { 0 } }, "old",
			   &err) == STORE_OK, "create store to downgrade");
	s = open_store("old");
	if (s == NULL)
		return;
	inbox = mailbox_id(s, "INBOX");
	add(s, inbox, "Subject: pre-migration", "legacy body text", 0);
	store_close(&s);

	snprintf(path, sizeof(path), "%s/old/index.db", root);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK &&
	      sqlite3_exec(db, "DROP TABLE text_index;"
			   "DROP TABLE delivered;"
			   "DROP INDEX expunged_modseq;"
			   "DROP INDEX messages_state;"
			   "DROP TRIGGER messages_unref;"
			   "DROP TABLE blob_unref;"
			   "DROP TRIGGER messages_text_pending;"
			   "DROP TABLE text_pending;"
			   "DROP TRIGGER messages_unref_pack;"
			   "DROP TABLE pack_unref;"
			   "DROP INDEX messages_pack;"
			   "ALTER TABLE messages DROP COLUMN pack_offset;"
			   "ALTER TABLE messages DROP COLUMN pack;"
			   "ALTER TABLE mailboxes DROP COLUMN recent_uid;"
			   "CREATE VIRTUAL TABLE message_text USING fts5(body);"
			   "INSERT INTO message_text(rowid, body) SELECT id,"
			   " 'Subject: pre-migration' || char(10) ||"
			   " 'legacy body text' FROM messages;"
			   "DELETE FROM schema_version WHERE version > 1;",
			   NULL, NULL, NULL) == SQLITE_OK, "downgrade to v1");
	sqlite3_close(db);

	s = open_store("old");
	if (s == NULL)
		return;
	CHECK_STR(found(s, inbox, STORE_TEXT_BODY, "legacy body"), "1",
		  "migrated text found by BODY");
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "PRE-MIGRATION"), "1",
		  "and by TEXT");
	add(s, inbox, "Subject: new", "fresh body text", 0);
	CHECK_STR(found(s, inbox, STORE_TEXT_ALL, "body text"), "1 2",
		  "old and new rows side by side");
	store_close(&s);
}

int main(void)
{
	const char *err;
	int parent;

	snprintf(root, sizeof(root), "/tmp/test-store-search-XXXXXX");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_basic();
	test_changes();
	test_migration();

	parent = open("/tmp", O_RDONLY | O_DIRECTORY);
	if (parent < 0 || fs_remove_tree(parent, root + 5, 6, &err) < 0)
		printf("# cleanup of %s failed\n", root);
	if (parent >= 0)
		close(parent);
	return TEST_DONE();
}
