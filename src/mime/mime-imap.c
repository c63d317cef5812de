/* mime-imap.c: IMAP syntax for what the scan found: strings, ENVELOPE,
 * BODYSTRUCTURE and BODY (RFC 9051 7.5.2, RFC 3501 7.4.2).
 *
 * Every writer appends whole syntactic units through mime_put, so when an
 * output cap is reached the caller throws the text away and starts again
 * in compact form rather than ever storing half a list. Recursion follows
 * the entity tree, whose depth the scan capped at RD_MIME_MAX_DEPTH. */
#include "mime/mime-private.h"
#include <stdio.h>
#include <string.h>

#define TRY(x) do { int r_ = (x); if (r_ != 0) return r_; } while (0)

int mime_imap_string(struct buffer *out, const uint8_t *s, size_t n)
{
	size_t real = 0;
	bool literal = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == 0)
			continue;
		real++;
		if (s[i] >= 0x80 || s[i] == '\r' || s[i] == '\n')
			literal = true;
	}
	if (real > RD_MIME_MAX_QUOTED)
		literal = true;
	if (literal) {
		char head[32];
		snprintf(head, sizeof(head), "{%zu}\r\n", real);
		TRY(mime_put_str(out, head));
	} else {
		TRY(mime_put(out, "\"", 1));
	}
	size_t i = 0;
	while (i < n) {
		size_t run = i;
		while (run < n && s[run] != 0 &&
		       (literal || (s[run] != '"' && s[run] != '\\')))
			run++;
		TRY(mime_put(out, s + i, run - i));
		if (run < n && s[run] != 0) {
			uint8_t esc[2] = { '\\', s[run] };
			TRY(mime_put(out, esc, 2));
		}
		i = run + 1;
	}
	return literal ? 0 : mime_put(out, "\"", 1);
}

int mime_imap_tmp(struct mime_ctx *c, struct buffer *out, size_t max_string)
{
	size_t n = c->tmp.len;
	if (n > max_string) {
		n = max_string;
		/* Cut before a UTF-8 continuation so a character stays whole. */
		while (n > 0 && (c->tmp.data[n] & 0xc0u) == 0x80u)
			n--;
	}
	return mime_imap_string(out, c->tmp.data, n);
}

/* A raw header value, unfolded and trimmed, or NIL if absent. */
static int field_string(struct mime_ctx *c, struct buffer *out,
			struct mime_span v, size_t max_string)
{
	if (!mime_span_present(v))
		return mime_put_str(out, "NIL");
	buffer_reset(&c->tmp);
	int r = mime_unfold(&c->tmp, c->msg + v.off, v.len);
	if (r < 0)
		return -1;
	return mime_imap_tmp(c, out, max_string);
}

int mime_envelope(struct mime_ctx *c, uint32_t idx, struct buffer *out,
		  bool compact)
{
	const struct mime_node *n = &c->nodes[idx];
	size_t ms = compact ? RD_MIME_COMPACT_STRING : SIZE_MAX;
	size_t ma = compact ? RD_MIME_COMPACT_ADDRESSES : RD_MIME_MAX_ADDRESSES;
	static const enum mime_field lists[] = {
		MF_FROM, MF_SENDER, MF_REPLY_TO, MF_TO, MF_CC, MF_BCC,
	};

	TRY(mime_put(out, "(", 1));
	TRY(field_string(c, out, n->f[MF_DATE], ms));
	TRY(mime_put(out, " ", 1));
	TRY(field_string(c, out, n->f[MF_SUBJECT], ms));
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		size_t mark = out->len;
		TRY(mime_put(out, " ", 1));
		TRY(mime_address_list(c, n->f[lists[i]], out, ma, ms));
		/* Sender and Reply-To absent or empty: the From list. */
		if ((lists[i] == MF_SENDER || lists[i] == MF_REPLY_TO) &&
		    out->len - mark == 4 && memcmp(out->data + mark + 1, "NIL", 3) == 0) {
			out->len = mark + 1;
			TRY(mime_address_list(c, n->f[MF_FROM], out, ma, ms));
		}
	}
	TRY(mime_put(out, " ", 1));
	TRY(field_string(c, out, n->f[MF_IN_REPLY_TO], ms));
	TRY(mime_put(out, " ", 1));
	TRY(field_string(c, out, n->f[MF_MESSAGE_ID], ms));
	return mime_put(out, ")", 1);
}

static int upper_string(struct buffer *out, const char *s)
{
	return mime_imap_string(out, (const uint8_t *)s, strlen(s));
}

/* ("NAME" "value" ...) from the parameters of a Content-Type or
 * Content-Disposition value, or NIL when there are none. */
static int params(struct mime_ctx *c, struct buffer *out, struct mime_lex *lx)
{
	struct mime_param p;
	bool any = false;
	while (mime_param_next(lx, &p)) {
		char name[MIME_TYPE_MAX];
		mime_copy_upper(name, p.name, p.name_len);
		TRY(mime_put_str(out, any ? " " : "("));
		any = true;
		TRY(upper_string(out, name));
		TRY(mime_put(out, " ", 1));
		buffer_reset(&c->tmp);
		for (size_t i = 0; i < p.value_len; i++) {
			uint8_t ch = p.value[i];
			if (p.quoted && ch == '\\' && i + 1 < p.value_len)
				ch = p.value[++i];
			else if (ch == '\r' || ch == '\n')
				continue;
			int r = mime_put(&c->tmp, &ch, 1);
			if (r < 0)
				return -1;
		}
		TRY(mime_imap_tmp(c, out, SIZE_MAX));
	}
	return mime_put_str(out, any ? ")" : "NIL");
}

static int ctype_params(struct mime_ctx *c, const struct mime_node *n,
			struct buffer *out, bool compact)
{
	struct mime_lex lx;
	struct mime_span v = n->f[MF_CONTENT_TYPE];
	const uint8_t *t, *s;
	size_t tn, sn;
	if (n->opaque)
		return mime_put_str(out, "(\"CHARSET\" \"US-ASCII\")");
	if (mime_span_present(v)) {
		mime_lex_init(&lx, c->msg + v.off, v.len);
		if (mime_ctype_parse(&lx, &t, &tn, &s, &sn))
			return compact ? mime_put_str(out, "NIL") : params(c, out, &lx);
	}
	return mime_put_str(out, n->digest_child ? "NIL"
			    : "(\"CHARSET\" \"US-ASCII\")");
}

/* The first token of field value v, upper-cased into dst
 * (MIME_TYPE_MAX); false if there is none. lx is left after it. */
static bool first_token(const struct mime_ctx *c, struct mime_span v,
			struct mime_lex *lx, char *dst)
{
	const uint8_t *t;
	size_t tn;
	if (!mime_span_present(v))
		return false;
	mime_lex_init(lx, c->msg + v.off, v.len);
	mime_lex_cfws(lx);
	if (!mime_lex_token(lx, &t, &tn))
		return false;
	mime_copy_upper(dst, t, tn);
	return true;
}

static int disposition(struct mime_ctx *c, const struct mime_node *n,
		       struct buffer *out)
{
	struct mime_lex lx;
	char type[MIME_TYPE_MAX];
	if (!first_token(c, n->f[MF_CONTENT_DISPOSITION], &lx, type))
		return mime_put_str(out, "NIL");
	TRY(mime_put(out, "(", 1));
	TRY(upper_string(out, type));
	TRY(mime_put(out, " ", 1));
	TRY(params(c, out, &lx));
	return mime_put(out, ")", 1);
}

/* Content-Language: NIL, one string, or a list of strings. */
static int language(struct mime_ctx *c, const struct mime_node *n,
		    struct buffer *out)
{
	struct mime_lex lx;
	struct mime_span v = n->f[MF_CONTENT_LANGUAGE];
	const uint8_t *t, *toks[2];
	size_t tn, lens[2], count = 0;
	if (!mime_span_present(v))
		return mime_put_str(out, "NIL");
	/* First pass: are there zero, one or more tags? */
	mime_lex_init(&lx, c->msg + v.off, v.len);
	while (count < 2 && lx.p < lx.end) {
		mime_lex_cfws(&lx);
		if (mime_lex_token(&lx, &t, &tn)) {
			toks[count] = t;
			lens[count++] = tn;
		} else if (lx.p < lx.end) {
			lx.p++;
		}
	}
	if (count == 0)
		return mime_put_str(out, "NIL");
	if (count == 1)
		return mime_imap_string(out, toks[0], lens[0]);
	mime_lex_init(&lx, c->msg + v.off, v.len);
	bool first = true;
	while (lx.p < lx.end) {
		mime_lex_cfws(&lx);
		if (mime_lex_token(&lx, &t, &tn)) {
			TRY(mime_put_str(out, first ? "(" : " "));
			first = false;
			TRY(mime_imap_string(out, t, tn));
		} else if (lx.p < lx.end) {
			lx.p++;
		}
	}
	return mime_put(out, ")", 1);
}

static int extension_tail(struct mime_ctx *c, const struct mime_node *n,
			  struct buffer *out, bool compact)
{
	if (compact)
		return mime_put_str(out, " NIL NIL NIL");
	TRY(mime_put(out, " ", 1));
	TRY(disposition(c, n, out));
	TRY(mime_put(out, " ", 1));
	TRY(language(c, n, out));
	TRY(mime_put(out, " ", 1));
	return field_string(c, out, n->f[MF_CONTENT_LOCATION], SIZE_MAX);
}

static int encoding(struct mime_ctx *c, const struct mime_node *n,
		    struct buffer *out)
{
	struct mime_lex lx;
	char enc[MIME_TYPE_MAX];
	if (!first_token(c, n->f[MF_CONTENT_TRANSFER_ENCODING], &lx, enc))
		return mime_put_str(out, "\"7BIT\"");
	return upper_string(out, enc);
}

static size_t body_lines(const struct mime_ctx *c, const struct mime_node *n)
{
	size_t lines = n->body_lf1 - n->body_lf0;
	if (n->body_end > n->body_start && c->msg[n->body_end - 1] != '\n')
		lines++;
	return lines;
}

#define EMPTY_PART "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0"

static int body_node(struct mime_ctx *c, uint32_t idx, struct buffer *out,
		     bool ext, bool compact)
{
	const struct mime_node *n = &c->nodes[idx];
	char type[MIME_TYPE_MAX], sub[MIME_TYPE_MAX], num[64];
	size_t ms = compact ? RD_MIME_COMPACT_STRING : SIZE_MAX;

	mime_node_type(c, n, type, sub);
	TRY(mime_put(out, "(", 1));
	if (n->kind == NODE_MULTIPART) {
		for (uint32_t k = n->first_child; k != MIME_NONE;
		     k = c->nodes[k].next_sibling)
			TRY(body_node(c, k, out, ext, compact));
		if (n->first_child == MIME_NONE)
			TRY(mime_put_str(out, ext ? EMPTY_PART " NIL NIL NIL NIL)"
					 : EMPTY_PART ")"));
		TRY(mime_put(out, " ", 1));
		TRY(upper_string(out, sub));
		if (ext) {
			TRY(mime_put(out, " ", 1));
			TRY(ctype_params(c, n, out, compact));
			TRY(extension_tail(c, n, out, compact));
		}
		return mime_put(out, ")", 1);
	}
	TRY(upper_string(out, type));
	TRY(mime_put(out, " ", 1));
	TRY(upper_string(out, sub));
	TRY(mime_put(out, " ", 1));
	TRY(ctype_params(c, n, out, compact));
	TRY(mime_put(out, " ", 1));
	TRY(field_string(c, out, compact ? (struct mime_span){ SIZE_MAX, 0 }
			 : n->f[MF_CONTENT_ID], ms));
	TRY(mime_put(out, " ", 1));
	TRY(field_string(c, out, compact ? (struct mime_span){ SIZE_MAX, 0 }
			 : n->f[MF_CONTENT_DESCRIPTION], ms));
	TRY(mime_put(out, " ", 1));
	TRY(encoding(c, n, out));
	snprintf(num, sizeof(num), " %zu", n->body_end - n->body_start);
	TRY(mime_put_str(out, num));
	if (n->kind == NODE_MESSAGE && n->first_child != MIME_NONE) {
		TRY(mime_put(out, " ", 1));
		if (compact)
			TRY(mime_put_str(out, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"));
		else
			TRY(mime_envelope(c, n->first_child, out, false));
		TRY(mime_put(out, " ", 1));
		TRY(body_node(c, n->first_child, out, ext, compact));
	}
	if (n->kind == NODE_MESSAGE || strcmp(type, "TEXT") == 0) {
		snprintf(num, sizeof(num), " %zu", body_lines(c, n));
		TRY(mime_put_str(out, num));
	}
	if (ext) {
		TRY(mime_put(out, " ", 1));
		TRY(compact ? mime_put_str(out, "NIL")
		     : field_string(c, out, n->f[MF_CONTENT_MD5], SIZE_MAX));
		TRY(extension_tail(c, n, out, compact));
	}
	return mime_put(out, ")", 1);
}

int mime_bodystructure(struct mime_ctx *c, struct buffer *out, bool extended)
{
	buffer_reset(out);
	int r = body_node(c, 0, out, extended, false);
	if (r <= 0)
		return r;
	c->truncated |= MIME_TRUNC_OUTPUT;
	buffer_reset(out);
	r = body_node(c, 0, out, extended, true);
	if (r <= 0)
		return r;
	/* Cannot happen with the caps in limits.h; stay valid regardless. */
	buffer_reset(out);
	return mime_put_str(out, extended ? EMPTY_PART " NIL NIL NIL NIL)"
			    : EMPTY_PART ")");
}
