/* imap-search.h: IMAP SEARCH keys (RFC 3501 6.4.4), compiled from the
 * parsed arguments into a small tree and evaluated against one message.
 *
 * Pure: the caller gives every message's metadata and, when the compiled
 * search says needs_text, its raw octets; nothing here reads files. TEXT
 * and BODY keys are meant to be resolved by the caller before matching
 * (the worker asks the store's full-text index, which matches decoded
 * text): imap_search_text_keys lists them, imap_search_resolve gives each
 * its set of matching UIDs. A key left unresolved, and every HEADER key,
 * is an ASCII case-insensitive substring match over the raw message
 * (header keys over the named header fields, BODY after the header, TEXT
 * over all of it). Nodes and
 * sequence ranges come from caller arrays; nesting is capped. There is no
 * \Recent in this server, so RECENT and NEW match nothing and OLD all.
 *
 * imap_search_compile returns 0, or -1 with *error_r for a BAD reply. */
#ifndef RD_IMAP_SEARCH_H
#define RD_IMAP_SEARCH_H
#include "imap/imap-args.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Flag bits, the same values as enum store_flag so a caller passes them
 * through unchanged (this module does not include store.h). */
#define IMAP_SEARCH_SEEN     (1u << 0)
#define IMAP_SEARCH_ANSWERED (1u << 1)
#define IMAP_SEARCH_FLAGGED  (1u << 2)
#define IMAP_SEARCH_DELETED  (1u << 3)
#define IMAP_SEARCH_DRAFT    (1u << 4)
#define IMAP_SEARCH_RECENT   (1u << 5)   /* the session's \Recent */

enum imap_search_op {
	SK_ALL, SK_NONE, SK_AND, SK_OR, SK_NOT, SK_NEW,
	SK_FLAG_SET, SK_FLAG_UNSET, SK_KEYWORD, SK_UNKEYWORD,
	SK_SEQ, SK_UID, SK_LARGER, SK_SMALLER,
	SK_BEFORE, SK_ON, SK_SINCE,
	SK_HEADER, SK_BODY, SK_TEXT,
	SK_MODSEQ,                     /* RFC 7162 3.1.5: modseq >= n */
};

struct imap_search_key {
	enum imap_search_op op;
	unsigned flag;
	uint64_t n;                    /* size */
	int64_t day;                   /* dates: days since 1970-01-01 */
	const uint8_t *field;          /* SK_HEADER field name */
	size_t field_len;
	const uint8_t *str;            /* text or keyword */
	size_t str_len;
	const struct imap_range *ranges;
	size_t nranges;
	struct imap_search_key *a, *b; /* children; SK_AND is a list via next */
	struct imap_search_key *next;
	/* SK_TEXT / SK_BODY after imap_search_resolve: the matching UIDs,
	 * ascending, owned by the caller until matching is over */
	bool resolved;
	const uint32_t *uids;
	size_t nuids;
};

struct imap_search_ctx {
	struct imap_search_key *keys;
	size_t max_keys;
	struct imap_range *ranges;
	size_t max_ranges;
	unsigned max_depth;
	uint32_t max_seq, max_uid;     /* what "*" stands for */
	/* RFC 5182 "$": the saved result as UID ranges (NULL, 0: empty) */
	const struct imap_range *saved;
	size_t nsaved;
	size_t nkeys, nranges;         /* used so far */
};

struct imap_search {
	struct imap_search_key *root;
	bool needs_text;               /* some key reads the raw message */
	bool has_modseq;               /* a MODSEQ key: replies carry MODSEQ */
};

struct imap_search_msg {
	uint32_t seq, uid;
	unsigned flags;
	const char *keywords;          /* space-separated */
	int64_t internal_date;
	uint64_t size, modseq;
	const uint8_t *raw;            /* NULL unless needs_text */
	size_t raw_len;
};

/* Compiles the keys starting at args (after any CHARSET). */
int imap_search_compile(struct imap_search_ctx *ctx, const struct imap_arg *args,
			struct imap_search *out, const char **error_r);
bool imap_search_match(const struct imap_search *s, const struct imap_search_msg *m);
/* Stores pointers to the first max SK_TEXT and SK_BODY keys of s in keys
 * and returns how many there are in all (may exceed max). */
size_t imap_search_text_keys(struct imap_search *s, struct imap_search_key **keys,
			     size_t max);
/* Key k (SK_TEXT or SK_BODY, from s) matches exactly the messages whose
 * UID is in uids[0..n), ascending; s->needs_text is updated, so the raw
 * message is read only while some key still needs it. */
void imap_search_resolve(struct imap_search *s, struct imap_search_key *k,
			 const uint32_t *uids, size_t n);
/* The smallest resolved key every match must satisfy (the root, or one
 * of the keys the root ANDs together), or NULL: its UIDs are then the
 * only messages worth looking at. */
const struct imap_search_key *imap_search_narrowest(const struct imap_search *s);

/* "1-Feb-1994" (day 1 or 2 digits, year from 1900) to days since
 * 1970-01-01 (negative before it); 0, or -1 if it is no valid date. */
int imap_date_days(const uint8_t *s, size_t len, int64_t *days_r);
/* ASCII case-insensitive search of needle in hay. */
bool imap_ci_contains(const uint8_t *hay, size_t hay_len,
		      const uint8_t *needle, size_t needle_len);

#endif
