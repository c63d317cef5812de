/* mime-text.c: decoded UTF-8 text for full-text search and the preview.
 *
 * The message's own header fields come first, each on a line, then the
 * separator octet (mime.h), then the body text: Subject, From, To, Cc of
 * each embedded message, RFC 2047-decoded like the header fields;
 * text/plain and text/html leaves are transfer-decoded, converted to
 * UTF-8 and, for HTML, stripped of tags
 * (crudely: tags, comments, script and style go, a few entities are
 * decoded). Each stage writes into a buffer capped at RD_MIME_MAX_FULLTEXT,
 * so a part costs at most its own length in time whatever it decodes to. */
#include "mime/mime-private.h"
#include <string.h>

/* Position of needle (lower-case ASCII) in s[from..n), case-insensitive,
 * or n. Needles are a few octets, so this is linear in practice. */
static size_t find_ci(const uint8_t *s, size_t n, size_t from, const char *needle)
{
	size_t nl = strlen(needle);
	for (size_t i = from; i + nl <= n; i++) {
		size_t k = 0;
		while (k < nl && (s[i + k] | 0x20u) == (uint8_t)needle[k])
			k++;
		if (k == nl)
			return i;
	}
	return n;
}

static bool tag_is(const uint8_t *s, size_t n, size_t i, const char *name)
{
	size_t nl = strlen(name);
	if (i + 1 + nl > n)
		return false;
	for (size_t k = 0; k < nl; k++)
		if ((s[i + 1 + k] | 0x20u) != (uint8_t)name[k])
			return false;
	return i + 1 + nl == n || s[i + 1 + nl] == '>' || s[i + 1 + nl] <= ' ' ||
	       s[i + 1 + nl] == '/';
}

static const struct { const char *name; uint32_t cp; } entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", ' ' },
};

/* An entity at s[i] ('&'): its code point and length, or false. */
static bool entity(const uint8_t *s, size_t n, size_t i, uint32_t *cp_r,
		   size_t *len_r)
{
	size_t k = i + 1;
	while (k < n && k - i < 12 && s[k] != ';')
		k++;
	if (k >= n || s[k] != ';' || k == i + 1)
		return false;
	*len_r = k + 1 - i;
	if (s[i + 1] == '#') {
		uint32_t v = 0;
		size_t d = i + 2;
		bool hex = d < k && (s[d] | 0x20u) == 'x';
		if (hex)
			d++;
		if (d == k)
			return false;
		for (; d < k; d++) {
			uint32_t dv;
			uint8_t ch = s[d];
			if (ch >= '0' && ch <= '9')
				dv = ch - '0';
			else if (hex && (ch | 0x20u) >= 'a' && (ch | 0x20u) <= 'f')
				dv = (ch | 0x20u) - 'a' + 10u;
			else
				return false;
			v = v * (hex ? 16u : 10u) + dv;
			if (v > 0x10ffffu)
				v = 0x110000u;   /* stays invalid: U+FFFD */
		}
		*cp_r = v == 0 ? 0xfffdu : v;
		return true;
	}
	for (size_t e = 0; e < sizeof(entities) / sizeof(entities[0]); e++)
		if (mime_ieq(s + i + 1, k - i - 1, entities[e].name)) {
			*cp_r = entities[e].cp;
			return true;
		}
	return false;
}

static int html_strip(const uint8_t *s, size_t n, struct buffer *out)
{
	size_t i = 0;
	int r;
	while (i < n) {
		size_t run = i;
		while (run < n && s[run] != '<' && s[run] != '&')
			run++;
		if ((r = mime_put(out, s + i, run - i)) != 0)
			return r;
		i = run;
		if (i >= n)
			break;
		if (s[i] == '&') {
			uint32_t cp;
			size_t len;
			if (entity(s, n, i, &cp, &len)) {
				r = mime_put_cp(out, cp);
				i += len;
			} else {
				r = mime_put(out, "&", 1);
				i++;
			}
			if (r != 0)
				return r;
			continue;
		}
		size_t end;
		if (i + 4 <= n && memcmp(s + i, "<!--", 4) == 0) {
			end = find_ci(s, n, i + 4, "-->");
			end = end < n ? end + 3 : n;
		} else {
			size_t from = i;
			if (tag_is(s, n, i, "script"))
				from = find_ci(s, n, i + 1, "</script");
			else if (tag_is(s, n, i, "style"))
				from = find_ci(s, n, i + 1, "</style");
			const uint8_t *gt = from < n ? memchr(s + from, '>', n - from) : NULL;
			end = gt != NULL ? (size_t)(gt - s) + 1 : n;
		}
		if ((r = mime_put(out, " ", 1)) != 0)
			return r;
		i = end;
	}
	return 0;
}

/* Appends as much of the UTF-8 text s[0..n) as fits, whole characters. */
static int append_text(struct mime_ctx *c, struct buffer *out,
		       const uint8_t *s, size_t n)
{
	int r = mime_put(out, s, n);
	if (r <= 0)
		return r;
	size_t room = out->max - out->len;
	while (room > 0 && room < n && (s[room] & 0xc0u) == 0x80u)
		room--;
	c->truncated |= MIME_TRUNC_TEXT;
	if (mime_put(out, s, room < n ? room : n) < 0)
		return -1;
	return 1;
}

static bool is_space(uint8_t ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' ||
	       ch == '\f' || ch == '\v';
}

static int make_preview(struct buffer *pv, const uint8_t *s, size_t n)
{
	size_t chars = 0;
	bool space = false;
	for (size_t i = 0; i < n && chars < RD_MIME_PREVIEW_CHARS;) {
		if (is_space(s[i])) {
			space = pv->len > 0;
			i++;
			continue;
		}
		if (space) {
			if (mime_put(pv, " ", 1) != 0)
				return -1;
			space = false;
			if (++chars >= RD_MIME_PREVIEW_CHARS)
				break;
		}
		size_t k = i + 1;
		while (k < n && (s[k] & 0xc0u) == 0x80u)
			k++;
		int r = mime_put(pv, s + i, k - i);
		if (r < 0)
			return -1;
		if (r > 0)
			break;
		chars++;
		i = k;
	}
	return 0;
}

/* The decoded UTF-8 text of a text leaf, in c->dec2 or c->dec3. */
static int part_text(struct mime_ctx *c, const struct mime_node *n,
		     bool html, const uint8_t **s_r, size_t *n_r)
{
	const uint8_t *body = c->msg + n->body_start;
	size_t len = n->body_end - n->body_start;
	struct mime_span v = n->f[MF_CONTENT_TRANSFER_ENCODING];
	struct mime_lex lx;
	const uint8_t *t;
	size_t tn;
	int r = 0;
	bool decoded = false;

	buffer_reset(&c->dec1);
	buffer_reset(&c->dec2);
	buffer_reset(&c->dec3);
	if (mime_span_present(v)) {
		mime_lex_init(&lx, c->msg + v.off, v.len);
		mime_lex_cfws(&lx);
		if (mime_lex_token(&lx, &t, &tn)) {
			decoded = true;
			if (mime_ieq(t, tn, "base64"))
				r = mime_b64_decode(body, len, &c->dec1);
			else if (mime_ieq(t, tn, "quoted-printable"))
				r = mime_qp_decode(body, len, false, &c->dec1);
			else
				decoded = false;   /* 7bit, 8bit, binary, unknown */
		}
	}
	if (r < 0)
		return -1;
	if (decoded) {
		body = c->dec1.data;
		len = c->dec1.len;
	} else if (len > c->dec1.max) {
		len = c->dec1.max;   /* the same cap as decoded text */
	}
	enum mime_charset cs = CS_UTF8;
	struct mime_param p;
	if (mime_param_find(c, n->f[MF_CONTENT_TYPE], "charset", &p)) {
		char name[RD_MIME_MAX_CHARSET];
		size_t nl = mime_unquote(p.value, p.value_len, p.quoted, name,
					 sizeof(name));
		if (nl != SIZE_MAX)
			cs = mime_charset_lookup((const uint8_t *)name, nl);
	}
	if (mime_to_utf8(cs, body, len, &c->dec2) < 0)
		return -1;
	if (!html) {
		*s_r = c->dec2.data;
		*n_r = c->dec2.len;
		return 0;
	}
	if (html_strip(c->dec2.data, c->dec2.len, &c->dec3) < 0)
		return -1;
	*s_r = c->dec3.data;
	*n_r = c->dec3.len;
	return 0;
}

/* Adds text and a line break to fulltext unless it is full already. */
static int add_line(struct mime_ctx *c, struct buffer *ft, const uint8_t *s,
		    size_t n, bool *full)
{
	int r = 0;
	if (!*full && (r = append_text(c, ft, s, n)) == 0)
		r = append_text(c, ft, (const uint8_t *)"\n", 1);
	if (r > 0)
		*full = true;
	return r < 0 ? -1 : 0;
}

/* One header field (name, colon, value; folded lines included),
 * RFC 2047-decoded and unfolded, as a line of the header text. The
 * separator octet is replaced so the header text never holds it, and the
 * header text stops at RD_MIME_MAX_FULLTEXT_HEAD (whole characters). */
static int head_field(struct mime_ctx *c, struct buffer *ft, size_t start,
		      size_t end)
{
	/* callers checked ft->len < the cap; 1 octet stays for the '\n' */
	size_t room = RD_MIME_MAX_FULLTEXT_HEAD - ft->len - 1, len;
	bool full = false;

	buffer_reset(&c->dec1);
	if (mime_2047_decode(c->msg + start, end - start, &c->dec1,
			     &c->dec2) < 0)
		return -1;
	uint8_t *d = c->dec1.data;
	len = c->dec1.len;
	for (size_t k = 0; k < len; k++)
		if (d[k] == MIME_FULLTEXT_SEPARATOR)
			d[k] = ' ';
	if (len > room) {
		len = room;
		while (len > 0 && (d[len] & 0xc0u) == 0x80u)
			len--;
	}
	return add_line(c, ft, d, len, &full);
}

/* Every field of the message's own header, then the separator: the
 * header text SEARCH TEXT looks at and SEARCH BODY leaves out. */
static int head_text(struct mime_ctx *c, const struct mime_node *n,
		     struct buffer *ft)
{
	size_t i = n->hdr_start, field = SIZE_MAX;

	while (i < n->hdr_end && ft->len < RD_MIME_MAX_FULLTEXT_HEAD) {
		const uint8_t *nl = memchr(c->msg + i, '\n', n->hdr_end - i);
		size_t next = nl != NULL ? (size_t)(nl - c->msg) + 1 : n->hdr_end;
		bool cont = c->msg[i] == ' ' || c->msg[i] == '\t';

		if (!cont && field != SIZE_MAX && head_field(c, ft, field, i) < 0)
			return -1;
		if (!cont || field == SIZE_MAX)
			field = i;
		i = next;
	}
	if (field != SIZE_MAX && ft->len < RD_MIME_MAX_FULLTEXT_HEAD &&
	    head_field(c, ft, field, i) < 0)
		return -1;
	uint8_t sep = MIME_FULLTEXT_SEPARATOR;
	return mime_put(ft, &sep, 1) < 0 ? -1 : 0;
}

int mime_text(struct mime_ctx *c, struct mime_result *out)
{
	static const enum mime_field hdrs[] = { MF_SUBJECT, MF_FROM, MF_TO, MF_CC };
	/* without the search text, "full" from the start: the walk stops at
	 * the first text part, which the preview needs */
	bool have_preview = false, full = c->no_text;
	if (!c->no_text && c->nnodes > 0 && head_text(c, &c->nodes[0], &out->fulltext) < 0)
		return -1;
	for (size_t i = 0; i < c->nnodes && !(full && have_preview); i++) {
		const struct mime_node *n = &c->nodes[i];
		const uint8_t *s;
		size_t len;
		/* embedded messages: their chief fields, as body text */
		for (size_t h = 0; i > 0 && n->is_message && !full &&
		     h < sizeof(hdrs) / sizeof(hdrs[0]); h++) {
			struct mime_span v = n->f[hdrs[h]];
			if (!mime_span_present(v))
				continue;
			while (v.len > 0 && is_space(c->msg[v.off])) {
				v.off++;
				v.len--;
			}
			buffer_reset(&c->dec1);
			if (mime_2047_decode(c->msg + v.off, v.len, &c->dec1,
					     &c->dec2) < 0 ||
			    add_line(c, &out->fulltext, c->dec1.data, c->dec1.len,
				     &full) < 0)
				return -1;
		}
		if (n->kind != NODE_LEAF || n->opaque)
			continue;
		bool html = mime_node_is_text(c, n, "HTML");
		if (!html && !mime_node_is_text(c, n, "PLAIN"))
			continue;
		if (full && have_preview)
			break;
		if (part_text(c, n, html, &s, &len) < 0)
			return -1;
		if (!have_preview && len > 0) {
			if (make_preview(&out->preview, s, len) < 0)
				return -1;
			have_preview = out->preview.len > 0;
		}
		if (add_line(c, &out->fulltext, s, len, &full) < 0)
			return -1;
	}
	return 0;
}
