/* mime-decode.c: content transfer encodings (quoted-printable, base64),
 * RFC 2047 encoded-words and the charsets we convert ourselves.
 *
 * Charsets are converted here rather than by iconv: glibc's iconv loads
 * gconv modules from files a confined deliver cannot open. UTF-8 and
 * US-ASCII are checked, ISO-8859-1 and windows-1252 mapped by table; an
 * unknown charset is read as UTF-8, which keeps its ASCII. ISO-8859-1 is
 * read as windows-1252 (as browsers do, WHATWG Encoding): mail labelled
 * Latin-1 with 0x80-0x9F octets nearly always means cp1252 quotes and
 * dashes, and the C1 controls otherwise meant are useless for search.
 * What cannot be decoded becomes U+FFFD; NUL becomes a space so results
 * stay C strings. Every decoder stops (returning 1) when its output buffer
 * is full, and moves forward on every octet, so time is linear. */
#include "mime/mime-private.h"
#include <string.h>

static const char *const utf8_names[] = { "utf-8", "utf8", NULL };
static const char *const ascii_names[] = {
	"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", NULL,
};
static const char *const latin1_names[] = {
	"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1", "iso-ir-100",
	"cp819", "ibm819", NULL,
};
static const char *const cp1252_names[] = {
	"windows-1252", "cp1252", "x-cp1252", NULL,
};

static bool in_list(const uint8_t *name, size_t n, const char *const *list)
{
	for (; *list != NULL; list++)
		if (mime_ieq(name, n, *list))
			return true;
	return false;
}

enum mime_charset mime_charset_lookup(const uint8_t *name, size_t n)
{
	if (in_list(name, n, ascii_names))
		return CS_ASCII;
	if (in_list(name, n, latin1_names))
		return CS_LATIN1;
	if (in_list(name, n, cp1252_names))
		return CS_CP1252;
	(void)utf8_names;
	return CS_UTF8;
}

/* windows-1252 0x80..0x9F; 0 marks the five undefined octets. */
static const uint16_t cp1252_high[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

/* Length of the valid UTF-8 sequence at s[0..n), 0 if invalid. */
static size_t utf8_valid(const uint8_t *s, size_t n, uint32_t *cp_r)
{
	uint8_t b = s[0];
	size_t len;
	uint32_t cp, min;
	if (b < 0x80) {
		*cp_r = b;
		return 1;
	} else if (b >= 0xc2 && b <= 0xdf) {
		len = 2; cp = b & 0x1fu; min = 0x80;
	} else if (b >= 0xe0 && b <= 0xef) {
		len = 3; cp = b & 0x0fu; min = 0x800;
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4; cp = b & 0x07u; min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0u) != 0x80u)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffffu || (cp >= 0xd800u && cp <= 0xdfffu))
		return 0;
	*cp_r = cp;
	return len;
}

int mime_to_utf8(enum mime_charset cs, const uint8_t *in, size_t n,
		 struct buffer *out)
{
	size_t i = 0;
	while (i < n) {
		/* Runs of ASCII without NUL are copied at once; eight octets
		 * at a time are checked while they have no high bit and no
		 * zero octet (the usual bit trick). */
		size_t run = i;
		while (n - run >= 8) {
			uint64_t w;
			memcpy(&w, in + run, 8);
			if ((w & 0x8080808080808080ull) != 0 ||
			    ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) != 0)
				break;
			run += 8;
		}
		while (run < n && in[run] != 0 && in[run] < 0x80)
			run++;
		if (run > i) {
			int r = mime_put(out, in + i, run - i);
			if (r != 0)
				return r;
			i = run;
			continue;
		}
		uint32_t cp = 0xfffdu;
		size_t used = 1;
		uint8_t b = in[i];
		if (b == 0)
			cp = ' ';
		else if (cs == CS_UTF8) {
			size_t l = utf8_valid(in + i, n - i, &cp);
			if (l == 0)
				cp = 0xfffdu;
			else
				used = l;
		} else if (cs == CS_LATIN1 || cs == CS_CP1252) {
			if (b >= 0xa0)
				cp = b;
			else if (cp1252_high[b - 0x80] != 0)
				cp = cp1252_high[b - 0x80];
		}
		int r = mime_put_cp(out, cp);
		if (r != 0)
			return r;
		i += used;
	}
	return 0;
}

static int hexval(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int mime_qp_decode(const uint8_t *in, size_t n, bool header_q,
		   struct buffer *out)
{
	size_t i = 0;
	while (i < n) {
		size_t run = i;
		while (run < n && in[run] != '=' && !(header_q && in[run] == '_'))
			run++;
		int r = mime_put(out, in + i, run - i);
		if (r != 0)
			return r;
		i = run;
		if (i >= n)
			break;
		uint8_t ch = in[i];
		if (ch == '_') {
			ch = ' ';
			i++;
		} else if (i + 2 < n && hexval(in[i + 1]) >= 0 &&
			   hexval(in[i + 2]) >= 0) {
			ch = (uint8_t)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
			i += 3;
		} else {
			/* A soft line break: "=", optional blanks, line end. */
			size_t k = i + 1;
			while (k < n && (in[k] == ' ' || in[k] == '\t'))
				k++;
			if (k < n && in[k] == '\r')
				k++;
			if (k < n && in[k] == '\n') {
				i = k + 1;
				continue;
			}
			if (k >= n) {
				i = n;
				continue;
			}
			i++;   /* a lone '=' stays as it is */
		}
		if ((r = mime_put(out, &ch, 1)) != 0)
			return r;
	}
	return 0;
}

static int b64val(uint8_t ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int mime_b64_decode(const uint8_t *in, size_t n, struct buffer *out)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] == '=')
			break;
		int v = b64val(in[i]);
		if (v < 0)
			continue;   /* line breaks and junk are skipped */
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			uint8_t b = (uint8_t)(acc >> bits);
			int r = mime_put(out, &b, 1);
			if (r != 0)
				return r;
			acc &= (1u << bits) - 1u;
		}
	}
	return 0;
}

/* Tries an encoded-word "=?charset[*lang]?B|Q?text?=" at in[i]; on success
 * decodes it into out and sets *end_r past it. *skip_r is where the next
 * try may start (past text that cannot hold a word). */
static int try_word(const uint8_t *in, size_t n, size_t i, struct buffer *out,
		    struct buffer *scratch, size_t *end_r, size_t *skip_r,
		    bool *ok_r)
{
	size_t k = i + 2, cs = k;
	*ok_r = false;
	*skip_r = i + 1;
	while (k < n && in[k] != '?' && in[k] > ' ' && k - cs <= RD_MIME_MAX_CHARSET)
		k++;
	if (k >= n || in[k] != '?' || k == cs || k - cs > RD_MIME_MAX_CHARSET)
		return 0;
	size_t cs_len = k - cs;
	const uint8_t *star = memchr(in + cs, '*', cs_len);
	if (star != NULL)
		cs_len = (size_t)(star - (in + cs));   /* RFC 2231 language */
	if (k + 2 >= n || in[k + 2] != '?')
		return 0;
	uint8_t enc = in[k + 1];
	if (enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q')
		return 0;
	size_t ts = k + 3, te = ts;
	/* The text has no white space: scan to "?=" or a blank. */
	while (te + 1 < n && !(in[te] == '?' && in[te + 1] == '=') &&
	       in[te] > ' ')
		te++;
	if (te + 1 >= n || in[te] != '?' || in[te + 1] != '=') {
		*skip_r = te > i + 1 ? te : i + 1;
		return 0;
	}
	buffer_reset(scratch);
	int r = (enc == 'B' || enc == 'b')
		? mime_b64_decode(in + ts, te - ts, scratch)
		: mime_qp_decode(in + ts, te - ts, true, scratch);
	if (r < 0)
		return -1;
	r = mime_to_utf8(mime_charset_lookup(in + cs, cs_len), scratch->data,
			 scratch->len, out);
	if (r != 0)
		return r;
	*end_r = te + 2;
	*ok_r = true;
	return 0;
}

int mime_2047_decode(const uint8_t *in, size_t n, struct buffer *out,
		     struct buffer *scratch)
{
	size_t i = 0, pending_ws = SIZE_MAX, no_word_before = 0;
	bool last_word = false;
	int r;
	while (i < n) {
		uint8_t ch = in[i];
		if (ch == '\r' || ch == '\n') {
			i++;   /* unfolding */
			continue;
		}
		if (ch == '=' && i + 1 < n && in[i + 1] == '?' && i >= no_word_before) {
			size_t end = i, skip;
			bool ok;
			if ((r = try_word(in, n, i, out, scratch, &end, &skip, &ok)) != 0)
				return r;
			if (ok) {
				/* White space between two words is dropped. */
				pending_ws = SIZE_MAX;
				last_word = true;
				i = end;
				continue;
			}
			no_word_before = skip;
		}
		if (ch == ' ' || ch == '\t') {
			if (last_word) {
				if (pending_ws == SIZE_MAX)
					pending_ws = i;
			} else if ((r = mime_put(out, &ch, 1)) != 0) {
				return r;
			}
			i++;
			continue;
		}
		if (last_word && pending_ws != SIZE_MAX) {
			/* Text follows the word: the held white space was real. */
			for (size_t k = pending_ws; k < i; k++)
				if (in[k] != '\r' && in[k] != '\n' &&
				    (r = mime_put(out, in + k, 1)) != 0)
					return r;
		}
		last_word = false;
		pending_ws = SIZE_MAX;
		/* A run of text up to white space or '=': whole UTF-8
		 * sequences stay together since both stops are ASCII. */
		size_t run = i + 1;
		while (run < n && in[run] != ' ' && in[run] != '\t' &&
		       in[run] != '\r' && in[run] != '\n' && in[run] != '=')
			run++;
		if ((r = mime_to_utf8(CS_UTF8, in + i, run - i, out)) != 0)
			return r;
		i = run;
	}
	return 0;
}
