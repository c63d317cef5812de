/* store-sqlite-search.c: IMAP SEARCH TEXT / BODY from the FTS5 index,
 * and the expunge log read for QRESYNC (sq_expunged_since, at the end).
 *
 * text_index(t) uses the trigram tokenizer: every run of three
 * characters is a token, folded to lower case (Unicode simple folding),
 * and keeps no positions (detail=none), which halves the index and its
 * cost. Each message has two rows: id * 2 its header text, id * 2 + 1 its
 * body. A needle is found as its trigrams present (FTS5 strings ANDed:
 * an ASCII needle's rarest-looking four, any other needle's all, up to
 * 48), then, when it is ASCII, checked with LIKE (ASCII case
 * folding) to be there in one piece: exactly RFC 9051 6.4.4's
 * case-insensitive substring. A non-ASCII needle, which LIKE cannot fold,
 * is matched by its trigrams alone (Unicode folding; a text holding all
 * of them apart would match too, which takes a contrived text). The
 * needle only ever reaches SQLite as bound values: inside an FTS5 string
 * ("...") nothing is an operator, the only escape is a doubled quote, so
 * AND, NEAR(, * and ^ in a needle are plain text. A needle of one or two
 * characters has no trigram; then the texts of the mailbox are read one
 * by one and matched with LIKE, the pattern's % _ \ escaped. */
#include "store/store-sqlite.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Characters (not octets) in a UTF-8 string: what trigrams count. */
static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0u) != 0x80u)
			n++;
	}
	return n;
}

/* How common an ASCII character is in mail text, roughly (per mille of
 * English text; a space is the most common of all): only to rank a
 * needle's trigrams, never to decide a match. */
static unsigned char_weight(unsigned char c)
{
	static const unsigned char letters[26] = {
		82, 15, 28, 43, 127, 22, 20, 61, 70, 2, 8, 40, 24,   /* a-m */
		67, 75, 19, 1, 60, 63, 91, 28, 10, 24, 2, 20, 1,     /* n-z */
	};
	if (c >= 'A' && c <= 'Z')
		c = (unsigned char)(c - 'A' + 'a');
	if (c >= 'a' && c <= 'z')
		return letters[c - 'a'];
	if (c == ' ')
		return 180;
	return c >= '0' && c <= '9' ? 5 : 10;
}

/* The trigram starting at octet i of an ASCII needle, ranked: the
 * product of its characters' weights, lower is rarer. */
static unsigned trigram_weight(const char *needle, size_t i)
{
	return char_weight((unsigned char)needle[i]) *
	       char_weight((unsigned char)needle[i + 1]) *
	       char_weight((unsigned char)needle[i + 2]);
}

/* The needle's trigrams as FTS5 strings joined by AND. Every one given
 * must be present, and each costs its whole list of messages read from
 * the index, so which ones matters more than how many: with a LIKE check
 * behind (rare_only, an ASCII needle) the RD_STORE_SEARCH_RARE_TRIGRAMS
 * rarest-looking ones ("xot" and "uix" of "quixotically", not "all" and
 * "cal", whose lists hold half the mailbox); otherwise, at most
 * RD_STORE_MAX_SEARCH_TRIGRAMS spread evenly over the needle. */
static char *fts_trigrams(const char *needle, size_t len, bool rare_only)
{
	size_t starts[RD_STORE_MAX_SEARCH_NEEDLE + 1], n = 0, size;
	size_t pick[RD_STORE_MAX_SEARCH_TRIGRAMS];
	char *q;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)needle[i] & 0xc0u) != 0x80u)
			starts[n++] = i;
	starts[n] = len;
	if (n < 3)
		return NULL;
	size_t count = n - 2;
	size_t take = count < RD_STORE_MAX_SEARCH_TRIGRAMS ? count : RD_STORE_MAX_SEARCH_TRIGRAMS;
	if (rare_only && take > RD_STORE_SEARCH_RARE_TRIGRAMS) {
		/* ASCII: octet k starts trigram k; the rarest first, ties to
		 * the earlier, no trigram twice */
		take = RD_STORE_SEARCH_RARE_TRIGRAMS;
		for (size_t j = 0; j < take; j++) {
			size_t best = count;
			for (size_t k = 0; k < count; k++) {
				bool used = false;
				for (size_t u = 0; u < j && !used; u++)
					used = pick[u] == k ||
						memcmp(needle + pick[u], needle + k, 3) == 0;
				if (!used && (best == count ||
					      trigram_weight(needle, k) < trigram_weight(needle, best)))
					best = k;
			}
			if (best == count) {
				take = j;
				break;
			}
			pick[j] = best;
		}
	} else {
		/* evenly from the first trigram to the last */
		for (size_t j = 0; j < take; j++)
			pick[j] = take > 1 ? j * (count - 1) / (take - 1) : 0;
	}
	/* each trigram: at most 12 octets, 24 with quotes doubled, plus its
	 * quotes and " AND " */
	if (__builtin_mul_overflow(take, (size_t)32, &size) ||
	    (q = malloc(size + 1)) == NULL)
		return NULL;
	size_t o = 0;
	for (size_t j = 0; j < take; j++) {
		size_t k = pick[j];
		if (o > 0) {
			memcpy(q + o, " AND ", 5);
			o += 5;
		}
		q[o++] = '"';
		for (size_t i = starts[k]; i < starts[k + 3]; i++) {
			if (needle[i] == '"')
				q[o++] = '"';
			q[o++] = needle[i];
		}
		q[o++] = '"';
	}
	q[o] = '\0';
	return q;
}

static bool is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80u)
			return false;
	return true;
}

/* %needle% with \ % _ escaped by '\' (the statements say ESCAPE '\'). */
static char *like_pattern(const char *needle, size_t len)
{
	size_t size, o = 0;
	char *p;

	if (__builtin_mul_overflow(len, (size_t)2, &size) ||
	    __builtin_add_overflow(size, (size_t)3, &size) ||
	    (p = malloc(size)) == NULL)
		return NULL;
	p[o++] = '%';
	for (size_t i = 0; i < len; i++) {
		if (needle[i] == '\\' || needle[i] == '%' || needle[i] == '_')
			p[o++] = '\\';
		p[o++] = needle[i];
	}
	p[o++] = '%';
	p[o] = '\0';
	return p;
}

int sq_search_text(struct store *store, int64_t mailbox_id,
		   enum store_text_part part, const char *needle,
		   size_t needle_len, struct store_uids *uids_r,
		   const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	enum sq_stmt id;
	sqlite3_stmt *st;
	size_t cap = 0;
	char *arg, *check = NULL;
	int rc, ret = STORE_OK;

	if (part != STORE_TEXT_ALL && part != STORE_TEXT_BODY) {
		*error_r = "unknown text part";
		return STORE_INVALID;
	}
	if (needle_len > RD_STORE_MAX_SEARCH_NEEDLE) {
		*error_r = "search text too long for the index";
		return STORE_LIMIT;
	}
	/* The indexed text is a C string: it holds no NUL, so such a
	 * needle matches nothing (and must not be cut short at it). */
	if (needle_len > 0 && memchr(needle, '\0', needle_len) != NULL)
		return STORE_OK;
	if (utf8_chars(needle, needle_len) >= 3) {
		bool ascii = is_ascii(needle, needle_len);
		id = SQ_SEARCH_MATCH;
		arg = fts_trigrams(needle, needle_len, ascii);
		if (arg != NULL && ascii &&
		    (check = like_pattern(needle, needle_len)) == NULL) {
			free(arg);
			arg = NULL;
		}
	} else {
		id = part == STORE_TEXT_BODY ? SQ_SEARCH_LIKE_BODY :
			SQ_SEARCH_LIKE_ALL;
		arg = like_pattern(needle, needle_len);
	}
	if (arg == NULL) {
		*error_r = "out of memory";
		return STORE_ERROR;
	}
	if ((st = sq_stmt(s, id, error_r)) == NULL) {
		free(arg);
		return STORE_ERROR;
	}
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_text(st, 2, arg, -1, SQLITE_STATIC);
	if (id == SQ_SEARCH_MATCH) {
		if (check != NULL)
			sqlite3_bind_text(st, 3, check, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 3);
		sqlite3_bind_int(st, 4, part == STORE_TEXT_BODY);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t uid = (uint32_t)sqlite3_column_int64(st, 0);

		if ((ret = sq_uids_push(uids_r, &cap, uid, error_r)) != STORE_OK)
			break;
	}
	if (ret == STORE_OK && rc != SQLITE_DONE)
		ret = sq_fail(s, "text search", error_r);
	sqlite3_reset(st);
	/* the statement no longer points at arg once reset and unbound */
	sqlite3_clear_bindings(st);
	free(arg);
	free(check);
	if (ret != STORE_OK) {
		free(uids_r->uids);
		uids_r->uids = NULL;
		uids_r->count = 0;
	}
	return ret;
}

int sq_expunged_since(struct store *store, int64_t mailbox_id, uint64_t modseq,
		      uint32_t uid_first, uint32_t uid_last, struct store_uids *uids_r,
		      const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	sqlite3_stmt *st = sq_stmt(s, SQ_EXPUNGED_SINCE, error_r);
	size_t cap = 0;
	int rc, ret = STORE_OK;
	if (st == NULL)
		return STORE_ERROR;
	if (modseq > INT64_MAX)
		modseq = INT64_MAX;
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)modseq);
	sqlite3_bind_int64(st, 3, uid_first);
	sqlite3_bind_int64(st, 4, uid_last);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && uids_r->count < RD_STORE_MAX_BATCH)
		if ((ret = sq_uids_push(uids_r, &cap, (uint32_t)sqlite3_column_int64(st, 0),
					error_r)) != STORE_OK)
			break;
	if (ret == STORE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = sq_fail(s, "expunge log", error_r);
	sqlite3_reset(st);
	if (ret != STORE_OK)
		store_uids_free(uids_r);
	return ret;
}

/* ---- text filed later (schema step 8) ---- */

int sq_text_pending(struct store *store, int64_t mailbox_id, size_t max,
		    struct store_text_pending *items_r, size_t *n_r, const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	sqlite3_stmt *st = sq_stmt(s, mailbox_id == 0 ? SQ_TEXT_PENDING_LIST :
				   SQ_TEXT_PENDING_LIST_MAILBOX, error_r);
	int rc;
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	if (mailbox_id != 0)
		sqlite3_bind_int64(st, 2, mailbox_id);
	while (*n_r < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		items_r[*n_r] = (struct store_text_pending){
			.id = sqlite3_column_int64(st, 0),
			.mailbox_id = sqlite3_column_int64(st, 1),
			.uid = (uint32_t)sqlite3_column_int64(st, 2),
		};
		(*n_r)++;
	}
	if (*n_r < max && rc != SQLITE_DONE) {
		sqlite3_reset(st);
		*n_r = 0;
		return sq_fail(s, "text pending list", error_r);
	}
	sqlite3_reset(st);
	return STORE_OK;
}

/* One waiting message's text into the index, if it still waits. */
static int text_add_one(struct store_sqlite *s, const struct store_text_add *it,
			const char **error_r)
{
	sqlite3_stmt *st = sq_stmt(s, SQ_TEXT_PENDING_DEL, error_r);
	if (st == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, it->id);
	if (sq_exec_stmt(s, st, "text pending", error_r) != STORE_OK)
		return STORE_ERROR;
	if (sqlite3_changes(s->db) == 0 || it->fulltext == NULL)
		return STORE_OK;
	if (strlen(it->fulltext) > RD_STORE_MAX_MESSAGE) {
		*error_r = "full text too large";
		return STORE_LIMIT;
	}
	/* header text | separator | body text (store.h) */
	const char *sep = strchr(it->fulltext, STORE_FULLTEXT_SEPARATOR);
	const char *body = sep != NULL ? sep + 1 : it->fulltext;
	size_t head_len = sep != NULL ? (size_t)(sep - it->fulltext) : 0;
	if ((st = sq_stmt(s, SQ_TEXT_INSERT, error_r)) == NULL)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, it->id);
	sqlite3_bind_text(st, 2, it->fulltext, (int)head_len, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, body, -1, SQLITE_STATIC);
	return sq_exec_stmt(s, st, "full text insert", error_r);
}

int sq_text_add(struct store *store, const struct store_text_add *items, size_t n,
		const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	int ret;
	if ((ret = sq_begin(s, error_r)) != STORE_OK)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if ((ret = text_add_one(s, &items[i], error_r)) != STORE_OK) {
			sq_rollback(s);
			return ret;
		}
	}
	if ((ret = sq_commit(s, error_r)) != STORE_OK)
		sq_rollback(s);
	return ret;
}

int sq_text_pending_count(struct store *store, int64_t mailbox_id, uint64_t *count_r,
			  const char **error_r)
{
	struct store_sqlite *s = (struct store_sqlite *)store;
	sqlite3_stmt *st = sq_stmt(s, mailbox_id == 0 ? SQ_TEXT_PENDING_COUNT_ALL :
				   SQ_TEXT_PENDING_COUNT, error_r);
	if (st == NULL)
		return STORE_ERROR;
	if (mailbox_id != 0)
		sqlite3_bind_int64(st, 1, mailbox_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count_r = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? STORE_OK : sq_fail(s, "text pending count", error_r);
}
