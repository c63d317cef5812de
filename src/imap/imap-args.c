/* imap-args.c: framing, argument tree and sequence sets for IMAP commands
 * after login (see imap-args.h). Pure: no I/O, no allocation. */
#include "imap/imap-args.h"
#include "limits.h"
#include <string.h>
#include <strings.h>

void imap_frame_init(struct imap_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->append = -1;
}

/* The first line's command word is APPEND: its one literal may be the size
 * of a message, every other command's literals count against the command
 * cap. Decided on the first literal, when the first line is complete. */
static int is_append(const uint8_t *buf, size_t len)
{
	size_t i = 0;
	while (i < len && buf[i] != ' ' && buf[i] != '\r' && buf[i] != '\n')
		i++;
	if (i == 0 || i >= len || buf[i] != ' ')
		return 0;
	i++;
	return len - i > 6 && strncasecmp((const char *)buf + i, "APPEND", 6) == 0 &&
	       buf[i + 6] == ' ';
}

/* Looks for "{digits}" or "{digits+}" ending the line buf[start..end).
 * Returns 1 and the size (UINT64_MAX when it overflows, so that it is
 * refused as too big rather than wrapped), or 0 if the line has none. */
static int literal_at_end(const uint8_t *buf, size_t start, size_t end,
			  uint64_t *size_r, bool *plus_r)
{
	if (end <= start || buf[end - 1] != '}')
		return 0;
	size_t i = end - 1;
	*plus_r = false;
	if (i > start && buf[i - 1] == '+') {
		*plus_r = true;
		i--;
	}
	size_t dend = i;
	while (i > start && buf[i - 1] >= '0' && buf[i - 1] <= '9')
		i--;
	if (i == dend || i == start || buf[i - 1] != '{')
		return 0;
	uint64_t v = 0;
	for (size_t k = i; k < dend; k++) {
		if (__builtin_mul_overflow(v, 10u, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(buf[k] - '0'), &v)) {
			v = UINT64_MAX;
			break;
		}
	}
	*size_r = v;
	return 1;
}

enum imap_frame_ret imap_frame(struct imap_frame *f, const uint8_t *buf,
			       size_t len, const struct imap_frame_limits *lim,
			       const char **error_r)
{
	for (;;) {
		if (f->lit_left > 0) {
			size_t avail = len - f->pos;
			size_t take = f->lit_left < avail ? (size_t)f->lit_left : avail;
			f->pos += take;
			f->lit_left -= take;
			if (f->lit_left > 0)
				return IMAP_FRAME_MORE;
			f->line_start = f->pos;
		}
		while (f->pos < len && buf[f->pos] != '\n') {
			uint8_t c = buf[f->pos];
			if (f->in_quote) {
				if (f->escape)
					f->escape = false;
				else if (c == '\\')
					f->escape = true;
				else if (c == '"')
					f->in_quote = false;
			} else if (c == '"') {
				f->in_quote = true;
			}
			f->pos++;
			if (f->pos - f->lit_total > lim->max_command) {
				*error_r = "Command line too long";
				return IMAP_FRAME_ERROR;
			}
		}
		if (f->pos >= len)
			return IMAP_FRAME_MORE;
		size_t end = f->pos;
		if (end > f->line_start && buf[end - 1] == '\r')
			end--;
		f->pos++;
		bool quoted = f->in_quote;
		f->in_quote = f->escape = false;
		uint64_t size;
		bool plus;
		if (quoted || !literal_at_end(buf, f->line_start, end, &size, &plus))
			return IMAP_FRAME_DONE;
		if (f->append < 0)
			f->append = is_append(buf, len);
		f->lit_size = size;
		f->lit_sync = !plus;
		uint64_t total;
		bool over;
		if (f->append == 1)
			over = __builtin_add_overflow(f->lit_total, size, &total) ||
			       total > lim->max_append;
		else
			over = __builtin_add_overflow((uint64_t)f->pos, size, &total) ||
			       total > lim->max_command;
		if (over) {
			*error_r = "Literal too big";
			return IMAP_FRAME_TOOBIG;
		}
		f->lit_left = size;
		f->lit_total += size;
		f->line_start = f->pos;
		if (!plus)
			return IMAP_FRAME_LITERAL;
	}
}

/* ---- parser ---- */

struct pstate {
	uint8_t *buf;
	size_t len, pos;
	struct imap_arg *nodes;
	size_t n, max;
	unsigned max_depth;
	const char *err;
};

static bool atom_char(uint8_t c)
{
	/* RFC 3501 ATOM-CHAR, widened with the list wildcards and '\' that
	 * LIST patterns, sequence sets and flags need unquoted. */
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' &&
	       c != '"';
}

static bool tag_char(uint8_t c)
{
	return atom_char(c) && c != '+' && c != '*' && c != '%' && c != '\\' &&
	       c != ']';
}

static struct imap_arg *new_node(struct pstate *p)
{
	if (p->n >= p->max) {
		p->err = "Too many arguments";
		return NULL;
	}
	struct imap_arg *a = &p->nodes[p->n++];
	memset(a, 0, sizeof(*a));
	return a;
}

static int parse_quoted(struct pstate *p, struct imap_arg *a)
{
	size_t o = ++p->pos;
	uint8_t *start = p->buf + o;
	for (;;) {
		if (p->pos >= p->len) {
			p->err = "Unterminated quoted string";
			return -1;
		}
		uint8_t c = p->buf[p->pos];
		if (c == '"')
			break;
		if (c == '\\') {
			if (p->pos + 1 >= p->len ||
			    (p->buf[p->pos + 1] != '"' && p->buf[p->pos + 1] != '\\')) {
				p->err = "Invalid escape in quoted string";
				return -1;
			}
			c = p->buf[++p->pos];
		} else if (c == '\r' || c == '\n' || c == '\0') {
			p->err = "CR, LF or NUL in quoted string";
			return -1;
		}
		p->buf[o++] = c;   /* unescape in place: o never passes pos */
		p->pos++;
	}
	p->pos++;
	a->type = IMAP_ARG_QUOTED;
	a->data = start;
	a->len = (size_t)(p->buf + o - start);
	return 0;
}

static int parse_literal(struct pstate *p, struct imap_arg *a)
{
	uint64_t size = 0;
	size_t digits = 0;
	p->pos++;
	while (p->pos < p->len && p->buf[p->pos] >= '0' && p->buf[p->pos] <= '9') {
		if (__builtin_mul_overflow(size, 10u, &size) ||
		    __builtin_add_overflow(size, (uint64_t)(p->buf[p->pos] - '0'), &size)) {
			p->err = "Literal size overflows";
			return -1;
		}
		p->pos++;
		digits++;
	}
	if (digits == 0) {
		p->err = "Bad literal size";
		return -1;
	}
	if (p->pos < p->len && p->buf[p->pos] == '+')
		p->pos++;
	if (p->pos >= p->len || p->buf[p->pos] != '}') {
		p->err = "Bad literal announcement";
		return -1;
	}
	p->pos++;
	if (p->pos < p->len && p->buf[p->pos] == '\r')
		p->pos++;
	if (p->pos >= p->len || p->buf[p->pos] != '\n') {
		p->err = "Literal announcement not at end of line";
		return -1;
	}
	p->pos++;
	if (size > p->len - p->pos) {
		p->err = "Literal shorter than announced";
		return -1;
	}
	a->type = IMAP_ARG_LITERAL;
	a->data = p->buf + p->pos;
	a->len = (size_t)size;
	p->pos += (size_t)size;
	return 0;
}

/* An atom; "[" opens a section (BODY[HEADER.FIELDS (A B)]) that runs to
 * its "]" whatever it holds, so a fetch item stays one token. */
static int parse_atom(struct pstate *p, struct imap_arg *a)
{
	size_t start = p->pos;
	while (p->pos < p->len) {
		uint8_t c = p->buf[p->pos];
		if (c == '[') {
			p->pos++;
			while (p->pos < p->len && p->buf[p->pos] != ']') {
				uint8_t d = p->buf[p->pos];
				if (d < 0x20 || d >= 0x7f || d == '[') {
					p->err = "Bad character in section";
					return -1;
				}
				p->pos++;
			}
			if (p->pos >= p->len) {
				p->err = "Unterminated section";
				return -1;
			}
			p->pos++;
			continue;
		}
		if (!atom_char(c))
			break;
		p->pos++;
	}
	if (p->pos == start) {
		p->err = "Unexpected character";
		return -1;
	}
	a->type = IMAP_ARG_ATOM;
	a->data = p->buf + start;
	a->len = p->pos - start;
	if (a->len == 3 && strncasecmp((const char *)a->data, "NIL", 3) == 0) {
		a->type = IMAP_ARG_NIL;
		return 0;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < a->len; i++) {
		uint8_t c = a->data[i];
		if (c < '0' || c > '9' || __builtin_mul_overflow(v, 10u, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(c - '0'), &v))
			return 0;
	}
	a->type = IMAP_ARG_NUMBER;
	a->num = v;
	return 0;
}

static int parse_items(struct pstate *p, unsigned depth, bool in_list,
		       struct imap_arg **first_r, size_t *count_r);

static int parse_value(struct pstate *p, unsigned depth, struct imap_arg **r)
{
	struct imap_arg *a = new_node(p);
	if (a == NULL)
		return -1;
	*r = a;
	switch (p->buf[p->pos]) {
	case '(':
		if (depth >= p->max_depth) {
			p->err = "Lists nested too deeply";
			return -1;
		}
		p->pos++;
		a->type = IMAP_ARG_LIST;
		if (parse_items(p, depth + 1, true, &a->child, &a->count) < 0)
			return -1;
		p->pos++;   /* ')' */
		return 0;
	case '"':
		return parse_quoted(p, a);
	case '{':
		return parse_literal(p, a);
	case '~':
		/* RFC 3516 literal8 "~{n}": the framing already took it as a
		 * literal (it looks at the "{n}" ending the line) */
		if (p->pos + 1 < p->len && p->buf[p->pos + 1] == '{') {
			p->pos++;
			return parse_literal(p, a);
		}
		return parse_atom(p, a);
	default:
		return parse_atom(p, a);
	}
}

/* Space-separated values up to ')' (in a list, not consumed) or the end. */
static int parse_items(struct pstate *p, unsigned depth, bool in_list,
		       struct imap_arg **first_r, size_t *count_r)
{
	struct imap_arg *last = NULL;
	*first_r = NULL;
	*count_r = 0;
	for (;;) {
		if (p->pos >= p->len) {
			if (in_list) {
				p->err = "Unterminated list";
				return -1;
			}
			return 0;
		}
		if (in_list && p->buf[p->pos] == ')')
			return 0;
		if (last != NULL) {
			if (p->buf[p->pos] != ' ') {
				p->err = "Expected a space between arguments";
				return -1;
			}
			p->pos++;
			if (p->pos >= p->len || (in_list && p->buf[p->pos] == ')')) {
				p->err = "Trailing space";
				return -1;
			}
		}
		struct imap_arg *a;
		if (parse_value(p, depth, &a) < 0)
			return -1;
		if (last == NULL)
			*first_r = a;
		else
			last->next = a;
		last = a;
		(*count_r)++;
	}
}

int imap_parse(uint8_t *buf, size_t len, struct imap_arg *nodes, size_t max,
	       unsigned max_depth, struct imap_cmd *cmd, const char **error_r)
{
	struct pstate p = { .buf = buf, .len = len, .nodes = nodes, .max = max,
			    .max_depth = max_depth };
	memset(cmd, 0, sizeof(*cmd));
	if (p.len > 0 && buf[p.len - 1] == '\n')
		p.len--;
	if (p.len > 0 && buf[p.len - 1] == '\r')
		p.len--;
	size_t i = 0;
	while (i < p.len && tag_char(buf[i])) {
		if (i >= IMAP_PARSE_TAG_MAX) {
			*error_r = "Tag too long";
			return -1;
		}
		i++;
	}
	if (i == 0 || i >= p.len || buf[i] != ' ') {
		*error_r = "Missing or invalid tag";
		return -1;
	}
	memcpy(cmd->tag, buf, i);
	cmd->tag[i] = '\0';
	size_t start = ++i;
	while (i < p.len && buf[i] != ' ') {
		uint8_t c = buf[i];
		if (!atom_char(c) || c == '[' || i - start >= sizeof(cmd->name) - 1) {
			*error_r = "Invalid command name";
			return -1;
		}
		cmd->name[i - start] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
		i++;
	}
	if (i == start) {
		*error_r = "Missing command";
		return -1;
	}
	if (i < p.len) {
		i++;
		if (i >= p.len) {
			*error_r = "Trailing space";
			return -1;
		}
	}
	p.pos = i;
	if (parse_items(&p, 0, false, &cmd->args, &cmd->nargs) < 0) {
		*error_r = p.err;
		return -1;
	}
	return 0;
}

bool imap_arg_is(const struct imap_arg *a, const char *s)
{
	return a != NULL && (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NUMBER) &&
	       a->len == strlen(s) && strncasecmp((const char *)a->data, s, a->len) == 0;
}

bool imap_arg_is_string(const struct imap_arg *a)
{
	return a != NULL && (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NUMBER ||
			     a->type == IMAP_ARG_QUOTED || a->type == IMAP_ARG_LITERAL);
}

int imap_arg_copy(const struct imap_arg *a, char *dst, size_t dstlen)
{
	if (!imap_arg_is_string(a) || a->len >= dstlen ||
	    memchr(a->data, '\0', a->len) != NULL)
		return -1;
	memcpy(dst, a->data, a->len);
	dst[a->len] = '\0';
	return 0;
}

int imap_arg_u32(const struct imap_arg *a, uint32_t *n_r)
{
	if (a == NULL || a->type != IMAP_ARG_NUMBER || a->num > UINT32_MAX)
		return -1;
	*n_r = (uint32_t)a->num;
	return 0;
}

/* ---- sequence sets ---- */

int imap_parse_u32(const uint8_t *s, size_t len, size_t *i, uint32_t *v_r)
{
	uint64_t v = 0;
	size_t start = *i;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10u + (uint64_t)(s[*i] - '0');
		if (v > UINT32_MAX)
			return -1;
		(*i)++;
	}
	if (*i == start)
		return -1;
	*v_r = (uint32_t)v;
	return 0;
}

static int seq_number(const uint8_t *s, size_t len, size_t *i, uint32_t star,
		      uint32_t *v_r)
{
	if (*i < len && s[*i] == '*') {
		(*i)++;
		*v_r = star;
		return 0;
	}
	return imap_parse_u32(s, len, i, v_r) < 0 || *v_r == 0 ? -1 : 0;
}

int imap_seqset_parse(const uint8_t *s, size_t len, uint32_t star,
		      struct imap_range *ranges, size_t max,
		      const char **error_r)
{
	size_t i = 0, n = 0;
	if (len == 0) {
		*error_r = "Empty sequence set";
		return -1;
	}
	for (;;) {
		uint32_t lo, hi;
		if (seq_number(s, len, &i, star, &lo) < 0) {
			*error_r = "Invalid sequence set";
			return -1;
		}
		hi = lo;
		if (i < len && s[i] == ':') {
			i++;
			if (seq_number(s, len, &i, star, &hi) < 0) {
				*error_r = "Invalid sequence set";
				return -1;
			}
		}
		if (n >= max) {
			*error_r = "Sequence set too long";
			return -1;
		}
		ranges[n].lo = lo < hi ? lo : hi;
		ranges[n].hi = lo < hi ? hi : lo;
		n++;
		if (i == len)
			return (int)n;
		if (s[i] != ',') {
			*error_r = "Invalid sequence set";
			return -1;
		}
		i++;
	}
}

bool imap_seqset_has(const struct imap_range *ranges, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (v >= ranges[i].lo && v <= ranges[i].hi)
			return true;
	return false;
}

bool imap_list_match(const char *pattern, const char *name)
{
	/* prev[j]: the pattern so far matches name[0..j) */
	bool a[RD_STORE_MAX_MAILBOX_NAME + 2], b[RD_STORE_MAX_MAILBOX_NAME + 2];
	bool *prev = a, *cur = b;
	size_t n = strlen(name);
	if (n > RD_STORE_MAX_MAILBOX_NAME)
		return false;
	prev[0] = true;
	for (size_t j = 1; j <= n; j++)
		prev[j] = false;
	for (const char *pc = pattern; *pc != '\0'; pc++) {
		char c = *pc;
		cur[0] = (c == '*' || c == '%') && prev[0];
		for (size_t j = 1; j <= n; j++) {
			if (c == '*')
				cur[j] = prev[j] || cur[j - 1];
			else if (c == '%')
				cur[j] = prev[j] || (cur[j - 1] && name[j - 1] != '/');
			else
				cur[j] = prev[j - 1] && name[j - 1] == c;
		}
		bool *t = prev;
		prev = cur;
		cur = t;
	}
	return prev[n];
}

/* ---- modified UTF-7 ---- */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* One UTF-8 sequence at *p to a code point; -1 if malformed. */
static int32_t utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t c = s[0];
	int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 :
		(c & 0xf8) == 0xf0 ? 3 : -1;
	if (n < 0)
		return -1;
	if (n > 0)
		c &= 0x3fu >> n;
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	static const uint32_t min[4] = { 0, 0x80, 0x800, 0x10000 };
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*p = s + n + 1;
	return (int32_t)c;
}

static int put(char *out, size_t outlen, size_t *o, char c)
{
	if (*o + 1 >= outlen)
		return -1;
	out[(*o)++] = c;
	return 0;
}

int imap_mutf7_encode(const char *utf8, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)utf8;
	size_t o = 0;
	while (*p != '\0') {
		if (*p >= 0x20 && *p < 0x7f) {
			if (put(out, outlen, &o, (char)*p) < 0 ||
			    (*p == '&' && put(out, outlen, &o, '-') < 0))
				return -1;
			p++;
			continue;
		}
		/* a run of non-ASCII characters, as UTF-16BE in base64 */
		uint32_t bits = 0;
		int nbits = 0;
		if (put(out, outlen, &o, '&') < 0)
			return -1;
		while (*p != '\0' && (*p < 0x20 || *p >= 0x7f)) {
			int32_t c = utf8_next(&p);
			if (c < 0)
				return -1;
			uint16_t units[2];
			int nu = 1;
			if (c >= 0x10000) {
				units[0] = (uint16_t)(0xd800 + ((c - 0x10000) >> 10));
				units[1] = (uint16_t)(0xdc00 + ((c - 0x10000) & 0x3ff));
				nu = 2;
			} else {
				units[0] = (uint16_t)c;
			}
			for (int u = 0; u < nu; u++) {
				bits = (bits << 16) | units[u];
				nbits += 16;
				while (nbits >= 6) {
					nbits -= 6;
					if (put(out, outlen, &o, b64[(bits >> nbits) & 0x3f]) < 0)
						return -1;
				}
				bits &= (1u << nbits) - 1;
			}
		}
		if ((nbits > 0 && put(out, outlen, &o, b64[(bits << (6 - nbits)) & 0x3f]) < 0) ||
		    put(out, outlen, &o, '-') < 0)
			return -1;
	}
	out[o] = '\0';
	return 0;
}

static int put_utf8(char *out, size_t outlen, size_t *o, uint32_t c)
{
	if (c < 0x80)
		return put(out, outlen, o, (char)c);
	if (c < 0x800)
		return put(out, outlen, o, (char)(0xc0 | (c >> 6))) < 0 ||
		       put(out, outlen, o, (char)(0x80 | (c & 0x3f))) < 0 ? -1 : 0;
	if (c < 0x10000)
		return put(out, outlen, o, (char)(0xe0 | (c >> 12))) < 0 ||
		       put(out, outlen, o, (char)(0x80 | ((c >> 6) & 0x3f))) < 0 ||
		       put(out, outlen, o, (char)(0x80 | (c & 0x3f))) < 0 ? -1 : 0;
	return put(out, outlen, o, (char)(0xf0 | (c >> 18))) < 0 ||
	       put(out, outlen, o, (char)(0x80 | ((c >> 12) & 0x3f))) < 0 ||
	       put(out, outlen, o, (char)(0x80 | ((c >> 6) & 0x3f))) < 0 ||
	       put(out, outlen, o, (char)(0x80 | (c & 0x3f))) < 0 ? -1 : 0;
}

int imap_mutf7_decode(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = in;
	while (*p != '\0') {
		if (*p != '&') {
			if (put(out, outlen, &o, *p++) < 0)
				return -1;
			continue;
		}
		p++;
		if (*p == '-') {
			if (put(out, outlen, &o, '&') < 0)
				return -1;
			p++;
			continue;
		}
		uint32_t bits = 0, high = 0;
		int nbits = 0;
		size_t chars = 0;
		for (; *p != '-'; p++, chars++) {
			const char *k = *p != '\0' ? strchr(b64, *p) : NULL;
			if (k == NULL)
				return -1;
			bits = (bits << 6) | (uint32_t)(k - b64);
			nbits += 6;
			if (nbits < 16)
				continue;
			nbits -= 16;
			uint32_t u = (bits >> nbits) & 0xffff;
			bits &= (1u << nbits) - 1;
			if (high != 0) {
				if (u < 0xdc00 || u > 0xdfff)
					return -1;
				u = 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00);
				high = 0;
			} else if (u >= 0xd800 && u <= 0xdbff) {
				high = u;
				continue;
			} else if ((u >= 0xdc00 && u <= 0xdfff) || (u >= 0x20 && u < 0x7f)) {
				return -1;   /* lone low surrogate, or ASCII hidden in base64 */
			}
			if (put_utf8(out, outlen, &o, u) < 0)
				return -1;
		}
		/* "&-" handled above; an empty or unfinished run is malformed */
		if (chars == 0 || high != 0 || nbits >= 6 || bits != 0)
			return -1;
		p++;
	}
	out[o] = '\0';
	return 0;
}
