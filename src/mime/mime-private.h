/* mime-private.h: what the files of src/mime share and nothing outside uses.
 *
 * mime-struct.c scans the message once into a tree of nodes (preorder
 * array); mime-header.c lexes header values; mime-address.c turns address
 * fields into IMAP address lists; mime-imap.c writes IMAP strings,
 * ENVELOPE and BODYSTRUCTURE; mime-decode.c does transfer encodings,
 * charsets and RFC 2047; mime-text.c builds fulltext and the preview.
 *
 * Appending helpers return 0, 1 when the output's cap is reached (nothing
 * or a whole character less was written: the caller stops or degrades),
 * -1 when memory runs out. */
#ifndef RD_MIME_PRIVATE_H
#define RD_MIME_PRIVATE_H
#include "mime/mime.h"

#define MIME_NONE UINT32_MAX

/* Header fields anything here reads; the first occurrence wins. */
enum mime_field {
	MF_CONTENT_TYPE, MF_CONTENT_TRANSFER_ENCODING, MF_CONTENT_ID,
	MF_CONTENT_DESCRIPTION, MF_CONTENT_DISPOSITION, MF_CONTENT_LANGUAGE,
	MF_CONTENT_LOCATION, MF_CONTENT_MD5,
	MF_DATE, MF_SUBJECT, MF_FROM, MF_SENDER, MF_REPLY_TO, MF_TO, MF_CC,
	MF_BCC, MF_IN_REPLY_TO, MF_MESSAGE_ID,
	MF_COUNT
};

/* A range of the message; off == SIZE_MAX means absent. */
struct mime_span {
	size_t off, len;
};

enum mime_node_kind {
	NODE_LEAF,
	NODE_MULTIPART,
	NODE_MESSAGE,   /* message/rfc822: its one child is the embedded message */
};

struct mime_node {
	struct mime_span f[MF_COUNT];   /* raw values, folding included */
	size_t hdr_start, hdr_end, body_start, body_end;
	size_t body_lf0, body_lf1;      /* LFs before body_start / body_end */
	uint32_t parent, first_child, last_child, next_sibling, nchildren;
	unsigned depth;
	enum mime_node_kind kind;
	bool is_message;   /* the message itself or an embedded one */
	bool opaque;       /* described as TEXT/PLAIN, never looked into */
	bool digest_child; /* default type message/rfc822 (RFC 2046 5.1.5) */
	char section[MIME_SECTION_SIZE]; /* IMAP part number, "" if none */
};

struct mime_ctx {
	const uint8_t *msg;
	size_t len;
	struct mime_node *nodes;
	size_t nnodes, nodes_cap;
	unsigned truncated;
	struct buffer tmp;     /* one value being normalised before output */
	struct buffer dec1, dec2, dec3; /* text decoding stages */
	bool no_text;          /* mime_parse_no_text: preview only */
};

/* ---- helpers shared by all files ---- */
/* Appends n octets, or returns 1 leaving b unchanged if its cap forbids. */
int mime_put(struct buffer *b, const void *p, size_t n);
int mime_put_str(struct buffer *b, const char *s);
/* Appends code point cp as UTF-8 (U+FFFD for surrogates and > U+10FFFF). */
int mime_put_cp(struct buffer *b, uint32_t cp);
bool mime_span_present(struct mime_span s);
bool mime_ieq(const uint8_t *a, size_t an, const char *b);

/* ---- mime-header.c: header value lexing ---- */
struct mime_lex {
	const uint8_t *p, *end;
	const uint8_t *comment;   /* contents of the last comment skipped */
	size_t comment_len;
};
void mime_lex_init(struct mime_lex *lx, const uint8_t *p, size_t n);
/* Skips white space, CR, LF and (nested) comments; true if any. */
bool mime_lex_cfws(struct mime_lex *lx);
/* RFC 2045 token; false (nothing consumed) if none. */
bool mime_lex_token(struct mime_lex *lx, const uint8_t **s_r, size_t *n_r);
/* A quoted string at the cursor: the raw contents between the quotes. */
bool mime_lex_quoted(struct mime_lex *lx, const uint8_t **s_r, size_t *n_r);

/* type "/" subtype from a Content-Type value; false if malformed. The
 * lexer is left before the parameters. */
bool mime_ctype_parse(struct mime_lex *lx, const uint8_t **type_r,
		      size_t *type_len_r, const uint8_t **sub_r,
		      size_t *sub_len_r);
/* Next ";" attribute "=" value; value is raw (quoted: escapes kept). */
struct mime_param {
	const uint8_t *name, *value;
	size_t name_len, value_len;
	bool quoted;
};
bool mime_param_next(struct mime_lex *lx, struct mime_param *p);
/* Finds parameter name in a Content-Type / Disposition value span. */
bool mime_param_find(const struct mime_ctx *c, struct mime_span v,
		     const char *name, struct mime_param *p);
/* Unescapes a quoted-string body (or copies a token) into out[0..max);
 * returns the length, or SIZE_MAX if it does not fit. */
size_t mime_unquote(const uint8_t *s, size_t n, bool quoted, char *out,
		    size_t max);
/* Appends the value with CR and LF removed and outer white space trimmed. */
int mime_unfold(struct buffer *out, const uint8_t *s, size_t n);
/* Index of a known header field name, or MF_COUNT. */
enum mime_field mime_field_lookup(const uint8_t *name, size_t n);

/* The node's effective media type, upper-case ASCII copied into type/sub
 * (each at most MIME_TYPE_MAX - 1 octets; longer names are cut). */
#define MIME_TYPE_MAX 128
/* s[0..n) upper-cased (ASCII) into dst[MIME_TYPE_MAX], cut to fit. */
void mime_copy_upper(char *dst, const uint8_t *s, size_t n);
void mime_node_type(const struct mime_ctx *c, const struct mime_node *n,
		    char *type, char *sub);
bool mime_node_is_text(const struct mime_ctx *c, const struct mime_node *n,
		       const char *sub);

/* ---- mime-struct.c ---- */
int mime_scan(struct mime_ctx *c);
int mime_sections(struct mime_ctx *c, struct mime_result *out);

/* ---- mime-imap.c ---- */
/* An IMAP string for s[0..n): quoted or literal; NUL octets dropped. */
int mime_imap_string(struct buffer *out, const uint8_t *s, size_t n);
int mime_envelope(struct mime_ctx *c, uint32_t node, struct buffer *out,
		  bool compact);
int mime_bodystructure(struct mime_ctx *c, struct buffer *out,
		       bool extended);

/* ---- mime-address.c ---- */
/* Writes an IMAP address list or NIL for the raw field value. */
int mime_address_list(struct mime_ctx *c, struct mime_span v,
		      struct buffer *out, size_t max_addrs, size_t max_string);
/* Writes a (possibly cut) string through c->tmp. */
int mime_imap_tmp(struct mime_ctx *c, struct buffer *out, size_t max_string);

/* ---- mime-decode.c ---- */
enum mime_charset { CS_UTF8, CS_ASCII, CS_LATIN1, CS_CP1252 };
enum mime_charset mime_charset_lookup(const uint8_t *name, size_t n);
/* Converts to UTF-8, U+FFFD for what cannot be decoded, NUL as space. */
int mime_to_utf8(enum mime_charset cs, const uint8_t *in, size_t n,
		 struct buffer *out);
int mime_qp_decode(const uint8_t *in, size_t n, bool header_q,
		   struct buffer *out);
int mime_b64_decode(const uint8_t *in, size_t n, struct buffer *out);
/* RFC 2047: unfolds and decodes encoded-words to UTF-8 (raw text is taken
 * as UTF-8); scratch holds one encoded-word's octets. */
int mime_2047_decode(const uint8_t *in, size_t n, struct buffer *out,
		     struct buffer *scratch);

/* ---- mime-text.c ---- */
int mime_text(struct mime_ctx *c, struct mime_result *out);

#endif
