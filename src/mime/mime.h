/* mime.h: one pass over a stored RFC 5322 message that computes, once at
 * delivery, everything IMAP and search need so nothing reparses later:
 * the IMAP ENVELOPE, BODYSTRUCTURE and BODY strings, a section map for
 * BODY[section], decoded text for full-text search and a preview.
 *
 * Pure and bounded (ARCHITECTURE rule 6): no I/O, no globals, no locale, no
 * iconv (a sandboxed deliver cannot load gconv modules). Every input gives
 * a result: bad syntax degrades (text/plain defaults, NIL fields, opaque
 * parts), caps from limits.h (RD_MIME_*) bound depth, parts, header size,
 * output and decoded text, and time is linear in the input. Lines may end
 * in CRLF or bare LF. Nothing recurses deeper than RD_MIME_MAX_DEPTH.
 *
 * Output conventions (documented once for the IMAP layer):
 * - Strings are valid IMAP syntax: NIL, a quoted string (with \" and \\
 *   escaped) or, for text with CR, LF, 8-bit octets or over
 *   RD_MIME_MAX_QUOTED octets, a literal {n}\r\n<n octets>. NUL octets are
 *   dropped, so every output is a NUL-free C string.
 * - ENVELOPE strings are the raw header text, unfolded (CR and LF removed)
 *   and trimmed; encoded-words are not decoded (RFC 9051 7.5.2).
 *   Addresses: display names have quotes and comments removed, words joined
 *   by one space where the header had white space; a missing local part or
 *   domain is "MISSING_MAILBOX" / "MISSING_DOMAIN" (as Dovecot does) so a
 *   NIL host always means group syntax.
 * - BODYSTRUCTURE / BODY: type, subtype, encoding, parameter names and the
 *   disposition type are upper-cased ("TEXT" "PLAIN" ("CHARSET" "utf-8"));
 *   parameter values are as given (RFC 2231 continuations are not joined).
 *   No Content-Type means ("TEXT" "PLAIN" ("CHARSET" "US-ASCII")), or
 *   message/rfc822 inside multipart/digest. Sizes are raw octets as stored
 *   (a bare-LF message is not counted as if it had CRLF); lines count LFs.
 *   An entity nested deeper than RD_MIME_MAX_DEPTH, a multipart without a
 *   usable boundary, a message/rfc822 with a non-identity encoding and
 *   the part past RD_MIME_MAX_PARTS are opaque: described as TEXT/PLAIN
 *   with their own encoding, size and lines, never looked into. A
 *   multipart without any part is given one empty TEXT/PLAIN part, as
 *   IMAP syntax needs at least one.
 * - If the full BODYSTRUCTURE would pass RD_STORE_MAX_CACHE_TEXT it is
 *   redone compact (parameters, ids, descriptions and nested envelopes
 *   dropped, MIME_TRUNC_OUTPUT set): always valid, never cut mid-syntax.
 *
 * Return conventions: mime_parse returns 0, or -1 only when memory runs out
 * (with *error_r set to a static string); any bytes give some result. */
#ifndef RD_MIME_H
#define RD_MIME_H
#include "lib/buffer.h"
#include "limits.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest section string: one "NNNN." per level, levels <= depth + 2. */
#define MIME_SECTION_SIZE ((RD_MIME_MAX_DEPTH + 2u) * 6u)

/* One addressable part, for BODY[section]. Offsets are into the message
 * given to mime_parse. The array is in message order and holds:
 * - parts[0], always: section "" (the whole message). header = the
 *   message header (BODY[HEADER], including the empty line), body = the
 *   message body (BODY[TEXT]); msg_* repeat them.
 * - one entry per IMAP part number ("1", "1.2", "3.1.2"): body is
 *   BODY[section] and header is BODY[section.MIME]. When the part is a
 *   message/rfc822 (has_message), msg_header and msg_body are
 *   BODY[section.HEADER] and BODY[section.TEXT] of the embedded message.
 *   A message that is not multipart has part "1" (its body, with the
 *   message header as "MIME"), as RFC 9051 6.4.5 says; the same holds for
 *   an embedded message ("2" -> "2.1").
 * A multipart's own bytes ("1" of a multipart/alternative inside a mixed)
 * are addressable like any part. */
struct mime_part {
	char section[MIME_SECTION_SIZE];
	size_t header_offset, header_size;
	size_t body_offset, body_size;
	size_t msg_header_offset, msg_header_size;
	size_t msg_body_offset, msg_body_size;
	unsigned depth;         /* 0 for the message itself */
	bool has_message;       /* msg_* describe an embedded message */
};

/* Why a result is less than complete (bits of mime_result.truncated). */
enum mime_truncation {
	MIME_TRUNC_HEADER = 1u << 0,  /* a header section hit a size/field cap */
	MIME_TRUNC_DEPTH = 1u << 1,   /* entities deeper than the cap are opaque */
	MIME_TRUNC_PARTS = 1u << 2,   /* the rest past the part cap is opaque */
	MIME_TRUNC_TEXT = 1u << 3,    /* fulltext stopped at its cap */
	MIME_TRUNC_OUTPUT = 1u << 4,  /* an IMAP string was redone compact */
};

/* Every buffer is NUL-terminated text (data may be NULL only before
 * mime_parse). envelope: the ENVELOPE list; bodystructure: the extended
 * BODYSTRUCTURE list; body: the non-extended BODY list; preview: up to
 * RD_MIME_PREVIEW_CHARS characters of UTF-8, white space collapsed;
 * fulltext: UTF-8, at most RD_MIME_MAX_FULLTEXT octets: every field of
 * the message's own header ("Name: value", RFC 2047-decoded, unfolded, a
 * line each, at most RD_MIME_MAX_FULLTEXT_HEAD octets), one
 * MIME_FULLTEXT_SEPARATOR octet (never in the header text), then the body
 * text: decoded Subject/From/To/Cc of every embedded message and the
 * text/plain and text/html (tags stripped) bodies, one per line group.
 * This is the layout store_append's fulltext expects (store.h). */
#define MIME_FULLTEXT_SEPARATOR 0x1eu
struct mime_result {
	struct buffer envelope, bodystructure, body, preview, fulltext;
	struct mime_part *parts;
	size_t nparts;
	unsigned truncated;     /* enum mime_truncation bits */
};

/* Parses msg[0..len) into *out (which need not be initialised; free it
 * with mime_result_free even after -1). */
int mime_parse(const uint8_t *msg, size_t len, struct mime_result *out,
	       const char **error_r);
/* mime_parse without the search text: fulltext stays empty, everything
 * else is the same. For mail whose text is indexed later (store.h
 * text_later): the text is most of a parse's work. */
int mime_parse_no_text(const uint8_t *msg, size_t len, struct mime_result *out,
		       const char **error_r);
/* Frees what mime_parse allocated and zeroes *r. */
void mime_result_free(struct mime_result *r);

#endif
