/* store-sqlite-search.c: IMAP SEARCH TEXT / BODY from the FTS5 index,
 * and the expunge log read for QRESYNC (sq_expunged_since, at the end).
 *
 * message_search(head, body) uses the trigram tokenizer: every run of
 * three characters is a token, folded to lower case (Unicode simple
 * folding), so a quoted phrase of the needle's trigrams finds exactly the
 * texts holding the needle as a substring, case-insensitively, which is
 * what RFC 9051 6.4.4 asks of TEXT and BODY. The needle only ever reaches
 * SQLite as a bound value: inside an FTS5 string ("...") nothing is an
 * operator, the only escape is a doubled quote, so AND, NEAR(, * and ^
 * in a needle are plain text. A needle of one or two characters has no
 * trigram; then the texts of the mailbox are read one by one and matched
 * with LIKE (ASCII case folding only), the pattern's % _ \ escaped. */
#include "store/store-sqlite.h"

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

/* prefix "needle" with each '"' doubled: an FTS5 phrase taken literally. */
static char *fts_phrase(const char *prefix, const char *needle, size_t len)
{
	size_t plen = strlen(prefix), size, o;
	char *q;

	/* worst case every octet is a quote: 2 * len, plus quotes and NUL */
	if (__builtin_mul_overflow(len, (size_t)2, &size) ||
	    __builtin_add_overflow(size, plen + 3, &size) ||
	    (q = malloc(size)) == NULL)
		return NULL;
	memcpy(q, prefix, plen);
	o = plen;
	q[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		if (needle[i] == '"')
			q[o++] = '"';
		q[o++] = needle[i];
	}
	q[o++] = '"';
	q[o] = '\0';
	return q;
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
	char *arg;
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
		id = SQ_SEARCH_MATCH;
		arg = fts_phrase(part == STORE_TEXT_BODY ? "body : " : "",
				 needle, needle_len);
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
