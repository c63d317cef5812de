/* audit-record.c: escaping, parsing and time text of audit records.
 * Pure: no I/O, no allocation; every loop is bounded by the input length. */
#include "audit/audit-record.h"
#include <string.h>
#include <stdio.h>

static int plain_octet(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	       c == '@' || c == '/' || c == '+' || c == '-' || c == '[' || c == ']';
}

static int key_octet(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

int audit_key_valid(const char *key)
{
	size_t n = 0;
	for (; key[n] != '\0'; n++)
		if (!key_octet((unsigned char)key[n]) || n >= RD_AUDIT_MAX_KEY)
			return 0;
	return n > 0;
}

long audit_escape(char *out, size_t outlen, const char *v, size_t vlen)
{
	static const char hexd[] = "0123456789abcdef";
	int plain = vlen > 0;
	for (size_t i = 0; i < vlen && plain; i++)
		plain = plain_octet((unsigned char)v[i]);
	size_t o = 0;
	if (plain) {
		if (vlen >= outlen)
			return -1;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
		return (long)vlen;
	}
	if (outlen < 3)
		return -1;
	out[o++] = '"';
	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)v[i];
		/* room for the longest form (4), the closing quote and NUL */
		if (outlen - o < 6)
			return -1;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hexd[c >> 4];
			out[o++] = hexd[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return (long)o;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void audit_hex(const uint8_t *p, size_t n, char *out)
{
	static const char hexd[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[p[i] >> 4];
		out[2 * i + 1] = hexd[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int audit_unhex(const char *s, size_t slen, uint8_t *out, size_t n)
{
	if (slen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval((unsigned char)s[2 * i]);
		int lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (civil calendar
 * arithmetic on 400-year eras, so no table and no time zone). */
static int64_t days_from_date(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void date_from_days(int64_t z, int64_t *y_r, unsigned *m_r, unsigned *d_r)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	unsigned d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y_r = yoe + era * 400 + (m <= 2);
	*m_r = m;
	*d_r = d;
}

void audit_format_time(int64_t ms, char *out, size_t outlen)
{
	int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	int64_t rem = ms - days * 86400000;
	int64_t y;
	unsigned mo, d;
	date_from_days(days, &y, &mo, &d);
	snprintf(out, outlen, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
		 (long long)y, mo, d, (unsigned)(rem / 3600000),
		 (unsigned)(rem / 60000 % 60), (unsigned)(rem / 1000 % 60),
		 (unsigned)(rem % 1000));
}

/* n decimal digits at s into *v; -1 unless all are digits. */
static int digits(const char *s, unsigned n, unsigned *v)
{
	unsigned x = 0;
	for (unsigned i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (unsigned)(s[i] - '0');
	}
	*v = x;
	return 0;
}

static int days_in_month(unsigned y, unsigned m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* Parse the shared prefix "YYYY-MM-DD" and what follows; precision_r is
 * the span in ms the text names (a day, a minute, a second, a ms). */
static int parse_time(const char *s, size_t len, int allow_short, int64_t *ms_r,
		      int64_t *precision_r)
{
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
	int64_t prec;
	if (len < 10 || digits(s, 4, &y) < 0 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) < 0 || s[7] != '-' || digits(s + 8, 2, &d) < 0)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || (int)d > days_in_month(y, mo))
		return -1;
	if (len == 10 && allow_short) {
		prec = 86400000;
	} else {
		if (len < 17 || s[10] != 'T' || digits(s + 11, 2, &h) < 0 ||
		    s[13] != ':' || digits(s + 14, 2, &mi) < 0)
			return -1;
		size_t i = 16;
		prec = 60000;
		if (s[i] == ':') {
			if (len < i + 4 || digits(s + i + 1, 2, &sec) < 0)
				return -1;
			i += 3;
			prec = 1000;
			if (s[i] == '.') {
				if (len < i + 5 || digits(s + i + 1, 3, &ms) < 0)
					return -1;
				i += 4;
				prec = 1;
			}
		}
		if (i + 1 != len || s[i] != 'Z' || h > 23 || mi > 59 || sec > 59)
			return -1;
		if (!allow_short && prec != 1)
			return -1;
	}
	*ms_r = days_from_date(y, mo, d) * 86400000 + (int64_t)h * 3600000 +
		(int64_t)mi * 60000 + (int64_t)sec * 1000 + ms;
	*precision_r = prec;
	return 0;
}

int audit_parse_record_time(const char *s, int64_t *ms_r)
{
	int64_t prec;
	return parse_time(s, strlen(s), 0, ms_r, &prec);
}

int audit_parse_user_time(const char *s, int upper, int64_t *ms_r,
			  const char **error_r)
{
	int64_t prec;
	if (parse_time(s, strlen(s), 1, ms_r, &prec) < 0) {
		*error_r = "not a UTC time (2026-11-28 or 2026-11-28T04:00:00Z)";
		return -1;
	}
	if (upper)
		*ms_r += prec - 1;
	return 0;
}

/* Unescape one value starting at p (end e) into out; *next_r is where the
 * token ends. Returns the unescaped length or -1. */
static long parse_value(const char *p, const char *e, char *out, const char **next_r,
			const char **error_r)
{
	size_t o = 0;
	if (p < e && *p == '"') {
		for (p++; p < e && *p != '"'; p++) {
			unsigned char c = (unsigned char)*p;
			if (c < 0x20 || c >= 0x7f) {
				*error_r = "raw control or non-ASCII octet in a value";
				return -1;
			}
			if (c == '\\') {
				if (p + 1 >= e) {
					*error_r = "escape at end of line";
					return -1;
				}
				if (p[1] == '"' || p[1] == '\\') {
					c = (unsigned char)p[1];
					p++;
				} else if (p[1] == 'x' && p + 3 < e && hexval((unsigned char)p[2]) >= 0 &&
					   hexval((unsigned char)p[3]) >= 0) {
					c = (unsigned char)(hexval((unsigned char)p[2]) << 4 |
							    hexval((unsigned char)p[3]));
					if (c == 0) {
						*error_r = "NUL in a value";
						return -1;
					}
					p += 3;
				} else {
					*error_r = "unknown escape in a value";
					return -1;
				}
			}
			out[o++] = (char)c;
		}
		if (p >= e) {
			*error_r = "unterminated quoted value";
			return -1;
		}
		p++;
	} else {
		for (; p < e && *p != ' '; p++) {
			if (!plain_octet((unsigned char)*p)) {
				*error_r = "octet not allowed in a bare value";
				return -1;
			}
			out[o++] = *p;
		}
		if (o == 0) {
			*error_r = "empty bare value";
			return -1;
		}
	}
	if (p < e && *p != ' ') {
		*error_r = "no space after a value";
		return -1;
	}
	out[o] = '\0';
	*next_r = p;
	return (long)o;
}

static int is_hash_hex(const char *v)
{
	size_t n = strlen(v);
	if (n != AUDIT_HASH_HEX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
			return 0;
	return 1;
}

static int parse_seq(const char *v, uint64_t *seq_r)
{
	uint64_t x = 0;
	if (v[0] == '\0' || (v[0] == '0') || strlen(v) > 20)
		return -1;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9' ||
		    __builtin_mul_overflow(x, 10u, &x) ||
		    __builtin_add_overflow(x, (uint64_t)(*p - '0'), &x))
			return -1;
	}
	*seq_r = x;
	return 0;
}

/* The fixed tokens around the event fields, in order. */
enum { TOK_SEQ, TOK_TS, TOK_KIND, TOK_EVENT, TOK_PREV, TOK_HASH, TOK_END };

int audit_record_parse(const char *line, size_t len, struct audit_record *rec,
		       const char **error_r)
{
	static const char *const fixed[] = { "seq", "ts", "kind" };
	const char *p = line, *e = line + len;
	size_t o = 0;
	int state = TOK_SEQ;
	memset(rec, 0, offsetof(struct audit_record, store));
	if (len == 0 || len >= RD_AUDIT_MAX_LINE) {
		*error_r = len == 0 ? "empty line" : "line too long";
		return -1;
	}
	while (p < e) {
		const char *tok = p;
		const char *k = p;
		while (p < e && key_octet((unsigned char)*p) && p - k <= (long)RD_AUDIT_MAX_KEY)
			p++;
		if (p == k || p >= e || *p != '=' || p - k > (long)RD_AUDIT_MAX_KEY) {
			*error_r = "bad key";
			return -1;
		}
		/* key, NUL, value, NUL take at most the token's length plus one
		 * octet, so store (len + 1) never overflows */
		char *key = rec->store + o;
		memcpy(key, k, (size_t)(p - k));
		key[p - k] = '\0';
		o += (size_t)(p - k) + 1;
		char *val = rec->store + o;
		long vl = parse_value(p + 1, e, val, &p, error_r);
		if (vl < 0)
			return -1;
		o += (size_t)vl + 1;
		if (state < TOK_EVENT) {
			if (strcmp(key, fixed[state]) != 0) {
				*error_r = "seq, ts and kind must come first, in that order";
				return -1;
			}
			if (state == TOK_SEQ && parse_seq(val, &rec->seq) < 0) {
				*error_r = "bad seq";
				return -1;
			}
			if (state == TOK_TS) {
				if (audit_parse_record_time(val, &rec->ts_ms) < 0) {
					*error_r = "bad ts";
					return -1;
				}
				rec->ts = val;
			}
			if (state == TOK_KIND) {
				if (!audit_key_valid(val)) {
					*error_r = "bad kind";
					return -1;
				}
				rec->kind = val;
			}
			state++;
		} else if (state == TOK_EVENT && strcmp(key, "prev") != 0) {
			if (strcmp(key, "hash") == 0 || strcmp(key, "seq") == 0 ||
			    strcmp(key, "ts") == 0 || strcmp(key, "kind") == 0) {
				*error_r = "reserved key among the event fields";
				return -1;
			}
			if (rec->nfields >= RD_AUDIT_MAX_FIELDS) {
				*error_r = "too many fields";
				return -1;
			}
			if (strcmp(key, "sig") == 0)
				rec->signed_len = (size_t)(tok - line) - 1;
			rec->fields[rec->nfields].key = key;
			rec->fields[rec->nfields].value = val;
			rec->nfields++;
		} else if (state == TOK_EVENT) {
			if (!is_hash_hex(val)) {
				*error_r = "bad prev";
				return -1;
			}
			rec->prev = val;
			state = TOK_HASH;
		} else if (state == TOK_HASH) {
			if (strcmp(key, "hash") != 0 || !is_hash_hex(val)) {
				*error_r = "hash must follow prev";
				return -1;
			}
			rec->hash = val;
			rec->hashed_len = (size_t)(tok - line) - 1;
			state = TOK_END;
		} else {
			*error_r = "field after hash";
			return -1;
		}
		if (p < e)
			p++;   /* the space */
		if (p == e && e[-1] == ' ') {
			*error_r = "trailing space";
			return -1;
		}
	}
	if (state != TOK_END) {
		*error_r = "record ends before its hash";
		return -1;
	}
	if (rec->signed_len != 0 && strcmp(rec->kind, "checkpoint") != 0)
		rec->signed_len = 0;
	return 0;
}

const char *audit_record_get(const struct audit_record *rec, const char *key)
{
	for (size_t i = 0; i < rec->nfields; i++)
		if (strcmp(rec->fields[i].key, key) == 0)
			return rec->fields[i].value;
	return NULL;
}
