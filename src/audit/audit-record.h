/* audit-record.h: the text form of one audit record, pure (no I/O, no
 * allocation, no crypto), so the parser can be fuzzed on its own.
 *
 * A record is one line of space-separated key=value tokens in a fixed
 * order:
 *
 *   seq=N ts=YYYY-MM-DDTHH:MM:SS.mmmZ kind=K [key=value ...] prev=HEX hash=HEX
 *
 * Keys and kinds are [a-z0-9_]{1,RD_AUDIT_MAX_KEY}. A value is written bare
 * when it is non-empty and every octet is in [A-Za-z0-9._:@/+-[]]; else it
 * is quoted: "..." with \" and \\ for quote and backslash and \xHH for any
 * octet below 0x20, 0x7f or above it. A record line is therefore printable
 * ASCII only, and no value (a user name holding "\n kind=admin", say) can
 * end the line or add a token. These are log_escape()'s rules (lib/log.h),
 * plus escaping of octets above 0x7f so records stay ASCII.
 *
 * Functions return 0 on success and -1 with *error_r set to a static
 * string, unless documented otherwise. */
#ifndef RD_AUDIT_RECORD_H
#define RD_AUDIT_RECORD_H
#include <stddef.h>
#include <stdint.h>
#include "limits.h"

/* Hex length of a BLAKE2b-256 hash. */
#define AUDIT_HASH_HEX 64u

struct audit_field {
	const char *key;
	const char *value;   /* unescaped, NUL-terminated, never holds NUL */
};

/* A parsed record. Every pointer points into its own store, so the
 * record is self-contained but must not be copied by assignment (the copy
 * would point into the original). It is large: allocate it, or keep one. */
struct audit_record {
	uint64_t seq;
	int64_t ts_ms;            /* milliseconds since the epoch, UTC */
	const char *ts;           /* as written */
	const char *kind;
	const char *prev;         /* AUDIT_HASH_HEX hex digits */
	const char *hash;         /* AUDIT_HASH_HEX hex digits */
	size_t nfields;           /* event fields between kind and prev */
	struct audit_field fields[RD_AUDIT_MAX_FIELDS];
	size_t hashed_len;        /* octets of the line the hash covers */
	size_t signed_len;        /* checkpoint: octets before " sig=", else 0 */
	char store[RD_AUDIT_MAX_LINE + 1];
};

/* Parse one line (without its newline). Bounded by RD_AUDIT_MAX_LINE and
 * RD_AUDIT_MAX_FIELDS; refuses anything the writer would not produce:
 * unknown order, bad key, raw control or non-ASCII octet, \x00, bad hex. */
int audit_record_parse(const char *line, size_t len, struct audit_record *rec,
		       const char **error_r);
/* The value of an event field, or NULL. */
const char *audit_record_get(const struct audit_record *rec, const char *key);

/* A valid key or kind? 1 yes, 0 no. */
int audit_key_valid(const char *key);
/* Escape vlen octets of v into out as described above. Returns the length
 * written (out is NUL-terminated), or -1 when outlen is too small; the
 * worst case needs 4 * vlen + 3 octets. */
long audit_escape(char *out, size_t outlen, const char *v, size_t vlen);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" for ms since the epoch; out >= 32 octets. */
void audit_format_time(int64_t ms, char *out, size_t outlen);
/* The record timestamp form above, exactly. */
int audit_parse_record_time(const char *s, int64_t *ms_r);
/* An operator's time: "2026-11-28", "2026-11-28T04:00Z",
 * "2026-11-28T04:00:00Z" or with ".mmm". With upper set, the result is the
 * last millisecond the text covers (the whole day for a date), so a bound
 * given to --until includes what it names. */
int audit_parse_user_time(const char *s, int upper, int64_t *ms_r,
			  const char **error_r);

/* Lower-case hex of n octets into out (2n + 1 octets). */
void audit_hex(const uint8_t *p, size_t n, char *out);
/* Exactly 2n hex digits (either case) into out; -1 otherwise. */
int audit_unhex(const char *s, size_t slen, uint8_t *out, size_t n);

#endif
