/* imap-args.h: pure parsers for IMAP commands after login.
 *
 * Three layers, none doing I/O:
 *  - imap_frame() finds where one command ends in the bytes received so far,
 *    including its literals ({n} synchronizing, {n+} LITERAL+, RFC 7888),
 *    and refuses a literal over its cap from the announcement alone, before
 *    any of its octets are read. It is resumable: call it again with the
 *    same state after more bytes arrived.
 *  - imap_parse() turns one complete command (as framed) into a tag, a
 *    command name and a small tree of arguments. Strings point into the
 *    command buffer (quoted strings are unescaped in place, so the buffer is
 *    modified); nodes come from a caller-provided array, so the parser never
 *    allocates. Nesting and node counts are capped.
 *  - helpers: sequence sets ("1:*", "3,5:7") with overflow checks, and
 *    copying a string argument out NUL-terminated.
 *
 * Return conventions are given per function; errors come with *error_r set
 * to a static string suitable for a BAD reply. */
#ifndef RD_IMAP_ARGS_H
#define RD_IMAP_ARGS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- framing ---- */

enum imap_frame_ret {
	IMAP_FRAME_MORE = 0,     /* need more bytes */
	IMAP_FRAME_DONE,         /* a whole command: f->pos octets (with CRLF) */
	IMAP_FRAME_LITERAL,      /* a synchronizing literal was announced: send
				  * "+ " and call again when bytes arrive */
	IMAP_FRAME_TOOBIG,       /* literal over its cap: f->lit_sync says
				  * whether the client waits (NO [TOOBIG] and
				  * drop f->pos octets) or not (BAD, close) */
	IMAP_FRAME_ERROR,        /* line too long or malformed: close */
};

struct imap_frame_limits {
	size_t max_command;      /* a command without APPEND's message */
	uint64_t max_append;     /* one APPEND literal (the message) */
};

struct imap_frame {
	size_t pos;              /* octets scanned so far */
	size_t line_start;       /* where the current line began */
	uint64_t lit_left;       /* literal octets still to skip */
	uint64_t lit_total;      /* literal octets in this command so far */
	uint64_t lit_size;       /* the literal just announced */
	bool lit_sync;
	bool in_quote, escape;
	int append;              /* -1 unknown, 0 no, 1 the command is APPEND */
};

void imap_frame_init(struct imap_frame *f);
enum imap_frame_ret imap_frame(struct imap_frame *f, const uint8_t *buf,
			       size_t len, const struct imap_frame_limits *lim,
			       const char **error_r);

/* ---- argument tree ---- */

enum imap_arg_type {
	IMAP_ARG_ATOM,      /* unquoted token; includes BODY[...]<a.b> items,
			     * \Flags, sequence sets and list wildcards */
	IMAP_ARG_NUMBER,    /* all digits, fits 64 bits; data/len still set */
	IMAP_ARG_QUOTED,
	IMAP_ARG_LITERAL,   /* {n}, {n+} or literal8 ~{n} (RFC 3516) */
	IMAP_ARG_NIL,
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	const uint8_t *data;     /* not NUL-terminated */
	size_t len;
	uint64_t num;            /* IMAP_ARG_NUMBER */
	struct imap_arg *child;  /* IMAP_ARG_LIST: first element or NULL */
	size_t count;            /* IMAP_ARG_LIST: number of elements */
	struct imap_arg *next;   /* next sibling or NULL */
};

#define IMAP_PARSE_TAG_MAX 64

struct imap_cmd {
	char tag[IMAP_PARSE_TAG_MAX + 1];
	char name[32];           /* upper-cased command name */
	struct imap_arg *args;   /* first argument or NULL */
	size_t nargs;            /* top-level arguments */
};

/* Parses buf[0..len) (a framed command, CRLF included or not). nodes/max
 * is the node array; max_depth caps list nesting. Returns 0, or -1 with
 * *error_r (cmd->tag is set whenever a valid tag was seen, else ""). */
int imap_parse(uint8_t *buf, size_t len, struct imap_arg *nodes, size_t max,
	       unsigned max_depth, struct imap_cmd *cmd, const char **error_r);

/* True for an atom or number equal to s, ignoring ASCII case. */
bool imap_arg_is(const struct imap_arg *a, const char *s);
/* True for atom, number, quoted or literal (an IMAP astring/string). */
bool imap_arg_is_string(const struct imap_arg *a);
/* Copies a string argument to dst (NUL-terminated); -1 if it is not a
 * string, holds a NUL, or does not fit. */
int imap_arg_copy(const struct imap_arg *a, char *dst, size_t dstlen);
/* A number argument fitting in 32 bits into *n_r; -1 otherwise. */
int imap_arg_u32(const struct imap_arg *a, uint32_t *n_r);

/* Digits at s[*i..len) as a number up to UINT32_MAX, advancing *i; -1 if
 * there is no digit or the value does not fit. */
int imap_parse_u32(const uint8_t *s, size_t len, size_t *i, uint32_t *v_r);

/* ---- sequence sets ---- */

/* One range lo..hi (lo <= hi after normalisation); "*" is UINT32_MAX. */
struct imap_range {
	uint32_t lo, hi;
};

/* Parses a sequence set into at most max ranges. "*" becomes star (the
 * largest sequence number or UID in use; pass UINT32_MAX to keep it
 * symbolic). Returns the number of ranges, or -1 with *error_r (syntax,
 * zero, over 32 bits, or more than max ranges). */
int imap_seqset_parse(const uint8_t *s, size_t len, uint32_t star,
		      struct imap_range *ranges, size_t max,
		      const char **error_r);
/* True if n lies in one of the ranges. */
bool imap_seqset_has(const struct imap_range *ranges, size_t n, uint32_t v);

/* ---- mailbox names (RFC 3501 5.1.3 modified UTF-7) ---- */

/* UTF-8 name (as the store keeps it) to modified UTF-7, NUL-terminated.
 * Returns 0, or -1 if it does not fit or the input is not UTF-8. */
int imap_mutf7_encode(const char *utf8, char *out, size_t outlen);
/* Modified UTF-7 from a client to UTF-8, NUL-terminated. 8-bit input is
 * passed through (the store then checks it is UTF-8). Returns 0, or -1 on
 * a malformed "&...-" run or if it does not fit. */
int imap_mutf7_decode(const char *in, char *out, size_t outlen);

/* ---- LIST patterns ---- */

/* RFC 3501 6.3.8: '*' matches any run of characters, '%' any run without
 * the hierarchy delimiter '/'. Exact byte comparison otherwise (the caller
 * canonicalises INBOX). Time is O(pattern x name), never exponential;
 * names over RD_STORE_MAX_MAILBOX_NAME octets never match. */
bool imap_list_match(const char *pattern, const char *name);

#endif
