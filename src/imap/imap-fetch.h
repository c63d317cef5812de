/* imap-fetch.h: FETCH items (RFC 3501 6.4.5 / 7.4.2): parsing the item
 * list, planning which octets of a message are needed, and writing one
 * "* n FETCH (...)" response; plus the IMAP string and flag writers every
 * response uses.
 *
 * Pure: the caller reads the message (only the window imap_fetch_plan asks
 * for, so BODY[]<0.100> of a 50 MiB message reads 100 octets) and gives the
 * structure (ENVELOPE, BODYSTRUCTURE, BODY texts and the section map) either
 * from the store's cache, from src/mime, or from imap_fetch_simple(), the
 * minimal single-part fallback here. Strings borrowed from the parsed
 * command (header field lists) stay valid while the command runs.
 *
 * Functions return 0, or -1 with *error_r (a BAD reason for the parser,
 * "output too big" for the writers, whose buffers are capped). */
#ifndef RD_IMAP_FETCH_H
#define RD_IMAP_FETCH_H
#include "imap/imap-args.h"
#include "lib/buffer.h"
#include "limits.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Beside the store's flag bits (store.h): \Recent, which a session
 * computes (IMAP4rev1) and the store never keeps. */
#define IMAP_FLAG_RECENT (1u << 5)

enum imap_fetch_att {
	FA_UID, FA_FLAGS, FA_INTERNALDATE, FA_RFC822_SIZE, FA_ENVELOPE,
	FA_BODYSTRUCTURE, FA_BODY, FA_SECTION, FA_RFC822, FA_RFC822_HEADER,
	FA_RFC822_TEXT, FA_MODSEQ,
	FA_BINARY, FA_BINARY_SIZE,  /* RFC 3516, written by imap-binary.c */
	FA_EMAILID, FA_THREADID,    /* RFC 8474 */
};

enum imap_section {
	SEC_ALL,            /* BODY[] or BODY[1.2]: the part's body */
	SEC_HEADER, SEC_HEADER_FIELDS, SEC_HEADER_FIELDS_NOT, SEC_TEXT, SEC_MIME,
};

struct imap_fetch_item {
	enum imap_fetch_att att;
	bool peek;
	enum imap_section section;
	char part[RD_IMAP_MAX_SECTION + 1];  /* "1.2", "" for the message */
	const uint8_t *spec;        /* section text as sent, for the reply */
	size_t spec_len;
	const uint8_t *fields;      /* inside "(...)" of HEADER.FIELDS */
	size_t fields_len;
	bool partial;
	uint32_t offset, count;
};

struct imap_fetch {
	struct imap_fetch_item items[RD_IMAP_MAX_FETCH_ITEMS];
	size_t n;
	bool sets_seen;             /* a non-PEEK body item */
	bool has_flags;
};

/* One addressable part, as src/mime's struct mime_part gives it: [0] is
 * the whole message (section ""), then "1", "1.2", ... */
struct imap_fetch_part {
	const char *section;
	size_t header_offset, header_size, body_offset, body_size;
	size_t msg_header_offset, msg_header_size, msg_body_offset, msg_body_size;
	bool has_message;
};

struct imap_fetch_msg {
	uint32_t seq, uid;
	unsigned flags;             /* enum store_flag bits */
	const char *keywords;       /* space-separated */
	int64_t internal_date;
	uint64_t size, modseq;
	const char *envelope, *bodystructure, *body;
	const char *blob_id;        /* content hash: EMAILID derives from it */
	const struct imap_fetch_part *parts;
	size_t nparts;
	const uint8_t *raw;         /* message octets [raw_off, raw_off+raw_len) */
	uint64_t raw_off;
	size_t raw_len;
};

enum imap_fetch_need {
	FETCH_NEED_NOTHING,         /* metadata only */
	FETCH_NEED_WINDOW,          /* only octets [off, off+len) */
	FETCH_NEED_ALL,             /* the whole message, no structure */
	FETCH_NEED_STRUCTURE,       /* the whole message and its structure */
};

/* Parses a FETCH item: a macro (ALL FAST FULL), one item or a list. */
int imap_fetch_parse(const struct imap_arg *arg, struct imap_fetch *f,
		     const char **error_r);
/* Adds UID unless present (UID FETCH replies always carry it). */
void imap_fetch_add_uid(struct imap_fetch *f);
/* What octets the items need of a message of size total; *off_r and *len_r
 * for FETCH_NEED_WINDOW. has_cache: envelope and bodystructure cached. */
enum imap_fetch_need imap_fetch_plan(const struct imap_fetch *f, uint64_t total,
				     bool has_cache, uint64_t *off_r, uint64_t *len_r);
/* Writes "* seq FETCH (...)\r\n". */
int imap_fetch_write(const struct imap_fetch *f, const struct imap_fetch_msg *m,
		     struct buffer *out, const char **error_r);

/* An IMAP string: NIL for NULL, quoted when safe, else a literal. */
int imap_write_string(struct buffer *out, const uint8_t *s, size_t len);
int imap_write_cstring(struct buffer *out, const char *s);
/* "(\Seen \Flagged kw ...)" */
int imap_write_flags(struct buffer *out, unsigned flags, const char *keywords);

/* Narrows p[0..*n) to the item's <offset.count> window, if it has one. */
void imap_fetch_clip(const struct imap_fetch_item *it, const uint8_t **p, size_t *n);

/* The first header field called name in h[0..hlen), unfolded (CR and LF
 * dropped) and trimmed, in tmp (reset first); NULL if absent. */
const uint8_t *imap_header_value(const uint8_t *h, size_t hlen, const char *name,
				 struct buffer *tmp, size_t *len_r);

/* The minimal structure fallback: ENVELOPE from the top header (Date,
 * Subject, From, Sender, Reply-To, To, Cc, Bcc, In-Reply-To, Message-ID),
 * a single-part BODYSTRUCTURE/BODY from Content-Type and
 * Content-Transfer-Encoding, and parts "" and "1". Free with
 * imap_fetch_simple_free(). Returns 0 or -1 (memory). */
struct imap_fetch_simple {
	struct buffer envelope, bodystructure, body;
	struct imap_fetch_part parts[2];
};
int imap_fetch_simple(const uint8_t *raw, size_t len, struct imap_fetch_simple *out);
void imap_fetch_simple_free(struct imap_fetch_simple *s);

#endif
