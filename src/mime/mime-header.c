/* mime-header.c: lexing of header field values (RFC 5322 CFWS, RFC 2045
 * tokens, quoted strings, parameters) and the shared append helpers.
 * Every loop moves the cursor forward, so each value is lexed in linear
 * time whatever it holds; comments nest through a counter, not recursion. */
#include "mime/mime-private.h"
#include <string.h>

int mime_put(struct buffer *b, const void *p, size_t n)
{
	size_t need;
	if (__builtin_add_overflow(b->len, n, &need) || need > b->max)
		return 1;
	return buffer_append(b, p, n) < 0 ? -1 : 0;
}

int mime_put_str(struct buffer *b, const char *s)
{
	return mime_put(b, s, strlen(s));
}

int mime_put_cp(struct buffer *b, uint32_t cp)
{
	uint8_t u[4];
	size_t n;
	if (cp >= 0xd800u && (cp <= 0xdfffu || cp > 0x10ffffu))
		cp = 0xfffdu;
	if (cp < 0x80u) {
		u[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800u) {
		u[0] = (uint8_t)(0xc0u | (cp >> 6));
		u[1] = (uint8_t)(0x80u | (cp & 0x3fu));
		n = 2;
	} else if (cp < 0x10000u) {
		u[0] = (uint8_t)(0xe0u | (cp >> 12));
		u[1] = (uint8_t)(0x80u | ((cp >> 6) & 0x3fu));
		u[2] = (uint8_t)(0x80u | (cp & 0x3fu));
		n = 3;
	} else {
		u[0] = (uint8_t)(0xf0u | (cp >> 18));
		u[1] = (uint8_t)(0x80u | ((cp >> 12) & 0x3fu));
		u[2] = (uint8_t)(0x80u | ((cp >> 6) & 0x3fu));
		u[3] = (uint8_t)(0x80u | (cp & 0x3fu));
		n = 4;
	}
	return mime_put(b, u, n);
}

bool mime_span_present(struct mime_span s)
{
	return s.off != SIZE_MAX;
}

static uint8_t lower(uint8_t ch)
{
	return ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch + 32) : ch;
}

bool mime_ieq(const uint8_t *a, size_t an, const char *b)
{
	size_t bn = strlen(b);
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (lower(a[i]) != lower((uint8_t)b[i]))
			return false;
	return true;
}

static const char *const field_names[MF_COUNT] = {
	[MF_CONTENT_TYPE] = "content-type",
	[MF_CONTENT_TRANSFER_ENCODING] = "content-transfer-encoding",
	[MF_CONTENT_ID] = "content-id",
	[MF_CONTENT_DESCRIPTION] = "content-description",
	[MF_CONTENT_DISPOSITION] = "content-disposition",
	[MF_CONTENT_LANGUAGE] = "content-language",
	[MF_CONTENT_LOCATION] = "content-location",
	[MF_CONTENT_MD5] = "content-md5",
	[MF_DATE] = "date",
	[MF_SUBJECT] = "subject",
	[MF_FROM] = "from",
	[MF_SENDER] = "sender",
	[MF_REPLY_TO] = "reply-to",
	[MF_TO] = "to",
	[MF_CC] = "cc",
	[MF_BCC] = "bcc",
	[MF_IN_REPLY_TO] = "in-reply-to",
	[MF_MESSAGE_ID] = "message-id",
};

enum mime_field mime_field_lookup(const uint8_t *name, size_t n)
{
	/* Every known name is under 32 octets: longer ones cost nothing. */
	if (n == 0 || n > 32)
		return MF_COUNT;
	for (unsigned i = 0; i < MF_COUNT; i++)
		if (mime_ieq(name, n, field_names[i]))
			return (enum mime_field)i;
	return MF_COUNT;
}

void mime_lex_init(struct mime_lex *lx, const uint8_t *p, size_t n)
{
	lx->p = p;
	lx->end = p + n;
	lx->comment = NULL;
	lx->comment_len = 0;
}

bool mime_lex_cfws(struct mime_lex *lx)
{
	bool any = false;
	while (lx->p < lx->end) {
		uint8_t ch = *lx->p;
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			lx->p++;
			any = true;
			continue;
		}
		if (ch != '(')
			break;
		/* A comment, nesting counted; an unclosed one ends the value. */
		const uint8_t *start = ++lx->p;
		size_t level = 1;
		while (lx->p < lx->end && level > 0) {
			uint8_t c = *lx->p++;
			if (c == '\\' && lx->p < lx->end)
				lx->p++;
			else if (c == '(')
				level++;
			else if (c == ')')
				level--;
		}
		lx->comment = start;
		lx->comment_len = (size_t)(lx->p - start) - (level == 0 ? 1 : 0);
		any = true;
	}
	return any;
}

static bool is_tspecial(uint8_t ch)
{
	return ch <= ' ' || ch == 0x7f || strchr("()<>@,;:\\\"/[]?=", ch) != NULL;
}

bool mime_lex_token(struct mime_lex *lx, const uint8_t **s_r, size_t *n_r)
{
	const uint8_t *s = lx->p;
	while (lx->p < lx->end && !is_tspecial(*lx->p))
		lx->p++;
	*s_r = s;
	*n_r = (size_t)(lx->p - s);
	return *n_r > 0;
}

bool mime_lex_quoted(struct mime_lex *lx, const uint8_t **s_r, size_t *n_r)
{
	if (lx->p >= lx->end || *lx->p != '"')
		return false;
	const uint8_t *s = ++lx->p;
	while (lx->p < lx->end && *lx->p != '"') {
		if (*lx->p == '\\' && lx->p + 1 < lx->end)
			lx->p++;
		lx->p++;
	}
	*s_r = s;
	*n_r = (size_t)(lx->p - s);
	if (lx->p < lx->end)
		lx->p++;   /* closing quote; an unclosed one runs to the end */
	return true;
}

bool mime_ctype_parse(struct mime_lex *lx, const uint8_t **type_r,
		      size_t *type_len_r, const uint8_t **sub_r,
		      size_t *sub_len_r)
{
	mime_lex_cfws(lx);
	if (!mime_lex_token(lx, type_r, type_len_r))
		return false;
	mime_lex_cfws(lx);
	if (lx->p >= lx->end || *lx->p != '/')
		return false;
	lx->p++;
	mime_lex_cfws(lx);
	return mime_lex_token(lx, sub_r, sub_len_r);
}

bool mime_param_next(struct mime_lex *lx, struct mime_param *p)
{
	for (;;) {
		mime_lex_cfws(lx);
		/* Skip to the next ';': junk between parameters is ignored. */
		while (lx->p < lx->end && *lx->p != ';') {
			if (*lx->p == '"') {
				const uint8_t *s;
				size_t n;
				(void)mime_lex_quoted(lx, &s, &n);
			} else {
				lx->p++;
			}
		}
		if (lx->p >= lx->end)
			return false;
		lx->p++;
		mime_lex_cfws(lx);
		if (!mime_lex_token(lx, &p->name, &p->name_len))
			continue;
		mime_lex_cfws(lx);
		if (lx->p >= lx->end || *lx->p != '=')
			continue;
		lx->p++;
		mime_lex_cfws(lx);
		p->quoted = lx->p < lx->end && *lx->p == '"';
		if (p->quoted)
			(void)mime_lex_quoted(lx, &p->value, &p->value_len);
		else
			(void)mime_lex_token(lx, &p->value, &p->value_len);
		return true;
	}
}

bool mime_param_find(const struct mime_ctx *c, struct mime_span v,
		     const char *name, struct mime_param *p)
{
	struct mime_lex lx;
	if (!mime_span_present(v))
		return false;
	mime_lex_init(&lx, c->msg + v.off, v.len);
	/* Parameters start after the first ';' whatever precedes it. */
	while (mime_param_next(&lx, p))
		if (mime_ieq(p->name, p->name_len, name))
			return true;
	return false;
}

size_t mime_unquote(const uint8_t *s, size_t n, bool quoted, char *out,
		    size_t max)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = s[i];
		if (quoted && ch == '\\' && i + 1 < n)
			ch = s[++i];
		if (quoted && (ch == '\r' || ch == '\n'))
			continue;   /* folding inside a quoted string */
		if (o >= max)
			return SIZE_MAX;
		out[o++] = (char)ch;
	}
	return o;
}

int mime_unfold(struct buffer *out, const uint8_t *s, size_t n)
{
	size_t a = 0, b = n;
	while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r' || s[a] == '\n'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r' ||
			 s[b - 1] == '\n'))
		b--;
	while (a < b) {
		size_t run = a;
		while (run < b && s[run] != '\r' && s[run] != '\n')
			run++;
		int r = mime_put(out, s + a, run - a);
		if (r != 0)
			return r;
		a = run;
		while (a < b && (s[a] == '\r' || s[a] == '\n'))
			a++;
	}
	return 0;
}

void mime_copy_upper(char *dst, const uint8_t *s, size_t n)
{
	if (n > MIME_TYPE_MAX - 1)
		n = MIME_TYPE_MAX - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	dst[n] = '\0';
}

void mime_node_type(const struct mime_ctx *c, const struct mime_node *n,
		    char *type, char *sub)
{
	struct mime_lex lx;
	const uint8_t *t, *s;
	size_t tn, sn;
	if (n->opaque) {
		strcpy(type, "TEXT");
		strcpy(sub, "PLAIN");
		return;
	}
	if (mime_span_present(n->f[MF_CONTENT_TYPE])) {
		mime_lex_init(&lx, c->msg + n->f[MF_CONTENT_TYPE].off,
			      n->f[MF_CONTENT_TYPE].len);
		if (mime_ctype_parse(&lx, &t, &tn, &s, &sn)) {
			mime_copy_upper(type, t, tn);
			mime_copy_upper(sub, s, sn);
			return;
		}
	}
	if (n->digest_child) {
		strcpy(type, "MESSAGE");
		strcpy(sub, "RFC822");
	} else {
		strcpy(type, "TEXT");
		strcpy(sub, "PLAIN");
	}
}

bool mime_node_is_text(const struct mime_ctx *c, const struct mime_node *n,
		       const char *sub)
{
	char type[MIME_TYPE_MAX], subtype[MIME_TYPE_MAX];
	mime_node_type(c, n, type, subtype);
	return strcmp(type, "TEXT") == 0 &&
	       (sub == NULL || strcmp(subtype, sub) == 0);
}
