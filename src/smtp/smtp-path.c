/* smtp-path.c: MAIL/RCPT argument parser; the accepted language and the
 * reply texts are documented in smtp-path.h. */
#include "smtp/smtp-path.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Reply texts that differ between MAIL and RCPT only in their enhanced
 * code and wording (RFC 3463: 5.1.7 sender, 5.1.3 recipient). */
struct path_msgs {
	const char *syntax;
	const char *bad;
	const char *path_long;
	const char *local_long;
	const char *domain_long;
	const char *non_ascii;
};

static const struct path_msgs mail_msgs = {
	"501 5.5.2 Syntax: MAIL FROM:<address> [parameters]",
	"501 5.1.7 Bad sender address syntax",
	"501 5.1.7 Sender path too long",
	"501 5.1.7 Sender local part too long",
	"501 5.1.7 Sender domain too long",
	"553 5.6.7 Non-ASCII sender address needs SMTPUTF8",
};

static const struct path_msgs rcpt_msgs = {
	"501 5.5.2 Syntax: RCPT TO:<address> [parameters]",
	"501 5.1.3 Bad recipient address syntax",
	"501 5.1.3 Recipient path too long",
	"501 5.1.3 Recipient local part too long",
	"501 5.1.3 Recipient domain too long",
	"553 5.6.7 Non-ASCII recipient address needs SMTPUTF8",
};

struct parser {
	const unsigned char *p;
	size_t len;
	size_t pos;
	int utf8;               /* non-ASCII seen in the path */
	const struct path_msgs *msgs;
};

static int is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

/* RFC 5322 atext without '`' and '|' (see the header for why). */
static int is_atext(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_{}~", c) != NULL);
}

/* Well-formed UTF-8 (RFC 3629 4) as lead-octet ranges with the range of
 * the second octet; the narrowed second ranges are what exclude overlongs
 * (E0, F0), surrogates (ED) and values above U+10FFFF (F4). C2 80..9F is
 * left out as well: those are the C1 controls. */
static const struct {
	unsigned char lead_lo, lead_hi, n, lo, hi;
} utf8_forms[] = {
	{ 0xc2, 0xc2, 2, 0xa0, 0xbf }, { 0xc3, 0xdf, 2, 0x80, 0xbf },
	{ 0xe0, 0xe0, 3, 0xa0, 0xbf }, { 0xe1, 0xec, 3, 0x80, 0xbf },
	{ 0xed, 0xed, 3, 0x80, 0x9f }, { 0xee, 0xef, 3, 0x80, 0xbf },
	{ 0xf0, 0xf0, 4, 0x90, 0xbf }, { 0xf1, 0xf3, 4, 0x80, 0xbf },
	{ 0xf4, 0xf4, 4, 0x80, 0x8f },
};

/* Length (2..4) of the strict UTF-8 sequence starting at p, or 0. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
	for (size_t f = 0; f < sizeof(utf8_forms) / sizeof(utf8_forms[0]); f++) {
		if (p[0] < utf8_forms[f].lead_lo || p[0] > utf8_forms[f].lead_hi)
			continue;
		size_t n = utf8_forms[f].n;
		if (avail < n || p[1] < utf8_forms[f].lo || p[1] > utf8_forms[f].hi)
			return 0;
		for (size_t i = 2; i < n; i++) {
			if (p[i] < 0x80 || p[i] > 0xbf)
				return 0;
		}
		return n;
	}
	return 0;
}

/* If the octet at the cursor starts a valid UTF-8 sequence, step over it
 * and remember that the path is not ASCII. */
static int take_utf8(struct parser *ps)
{
	if (ps->p[ps->pos] < 0x80)
		return 0;
	size_t n = utf8_seq(ps->p + ps->pos, ps->len - ps->pos);
	if (n == 0)
		return 0;
	ps->pos += n;
	ps->utf8 = 1;
	return 1;
}

static int at(const struct parser *ps, unsigned char c)
{
	return ps->pos < ps->len && ps->p[ps->pos] == c;
}

/* Domain = sub-domain *("." sub-domain); each label 1..63 octets of
 * letters, digits, hyphens (not first or last) or UTF-8. */
static int parse_domain_name(struct parser *ps)
{
	for (;;) {
		size_t start = ps->pos;
		while (ps->pos < ps->len) {
			unsigned char c = ps->p[ps->pos];
			if (is_alnum(c) || c == '-')
				ps->pos++;
			else if (!take_utf8(ps))
				break;
		}
		size_t n = ps->pos - start;
		if (n == 0 || n > RD_MAX_DNS_LABEL || ps->p[start] == '-' ||
		    ps->p[ps->pos - 1] == '-')
			return -1;
		if (!at(ps, '.'))
			return 0;
		ps->pos++;
	}
}

/* Snum "." Snum "." Snum "." Snum, each 0..255 without leading zeros
 * (a leading zero reads as octal to some tools). */
static int ipv4_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
		size_t start = i;
		unsigned v = 0;
		while (i < len && is_digit(s[i]) && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return 0;
	}
	return i == len;
}

/* address-literal: "[" IPv4 "]" or "[IPv6:" IPv6 "]". */
static int parse_address_literal(struct parser *ps)
{
	ps->pos++;      /* '[' */
	size_t start = ps->pos;
	while (ps->pos < ps->len) {
		unsigned char c = ps->p[ps->pos];
		/* dcontent: %d33-90 / %d94-126 */
		if (!((c >= 33 && c <= 90) || (c >= 94 && c <= 126)))
			break;
		ps->pos++;
	}
	if (!at(ps, ']'))
		return -1;
	const unsigned char *s = ps->p + start;
	size_t n = ps->pos - start;
	ps->pos++;
	if (n > 5 && strncasecmp((const char *)s, "IPv6:", 5) == 0) {
		char buf[INET6_ADDRSTRLEN];
		struct in6_addr a6;
		if (n - 5 >= sizeof(buf))
			return -1;
		memcpy(buf, s + 5, n - 5);
		buf[n - 5] = '\0';
		return inet_pton(AF_INET6, buf, &a6) == 1 ? 0 : -1;
	}
	return ipv4_valid(s, n) ? 0 : -1;
}

/* Local-part = Dot-string / Quoted-string (RFC 6531 adds UTF-8 to atext
 * and qtextSMTP, not to quoted-pair). */
static int parse_local(struct parser *ps)
{
	if (at(ps, '"')) {
		size_t start = ++ps->pos;
		for (;;) {
			if (ps->pos >= ps->len)
				return -1;
			unsigned char c = ps->p[ps->pos];
			if (c == '"')
				break;
			if (c == '\\') {
				if (ps->pos + 1 >= ps->len || ps->p[ps->pos + 1] < 32 ||
				    ps->p[ps->pos + 1] > 126)
					return -1;
				ps->pos += 2;
			} else if (c >= 32 && c <= 126) {
				ps->pos++;
			} else if (!take_utf8(ps)) {
				return -1;
			}
		}
		if (ps->pos == start)
			return -1;      /* "" names no mailbox */
		ps->pos++;
		return 0;
	}
	for (;;) {
		size_t start = ps->pos;
		while (ps->pos < ps->len) {
			if (is_atext(ps->p[ps->pos]))
				ps->pos++;
			else if (!take_utf8(ps))
				break;
		}
		if (ps->pos == start)
			return -1;      /* empty atom: leading, trailing or double dot */
		if (!at(ps, '.'))
			return 0;
		ps->pos++;
	}
}

/* Mailbox = Local-part "@" ( Domain / address-literal ), with the length
 * caps of RFC 5321 4.5.3.1.1-2. */
static int parse_mailbox(struct parser *ps, const char **status_r)
{
	size_t start = ps->pos;
	if (parse_local(ps) < 0 || !at(ps, '@')) {
		*status_r = ps->msgs->bad;
		return -1;
	}
	if (ps->pos - start > RD_MAX_LOCALPART) {
		*status_r = ps->msgs->local_long;
		return -1;
	}
	size_t dstart = ++ps->pos;
	int r = at(ps, '[') ? parse_address_literal(ps) : parse_domain_name(ps);
	if (r < 0) {
		*status_r = ps->msgs->bad;
		return -1;
	}
	if (ps->pos - dstart > RD_MAX_DOMAIN) {
		*status_r = ps->msgs->domain_long;
		return -1;
	}
	return 0;
}

/* A-d-l ":" — a source route, checked and then forgotten (RFC 5321
 * 4.1.1.3 and appendix C: relays MUST ignore it). */
static int skip_source_route(struct parser *ps)
{
	for (;;) {
		if (!at(ps, '@'))
			return -1;
		ps->pos++;
		if (parse_domain_name(ps) < 0)
			return -1;
		if (at(ps, ':')) {
			ps->pos++;
			return 0;
		}
		if (!at(ps, ','))
			return -1;
		ps->pos++;
	}
}

/* "<" ... ">" starting at the cursor; fills address, null_path,
 * postmaster. */
static int parse_path(struct parser *ps, enum smtp_path_kind kind,
		      struct smtp_path *out, const char **status_r)
{
	size_t path_start = ps->pos;
	if (!at(ps, '<')) {
		*status_r = ps->msgs->syntax;
		return -1;
	}
	ps->pos++;
	if (at(ps, '>')) {
		if (kind != SMTP_PATH_MAIL) {
			*status_r = ps->msgs->bad;
			return -1;
		}
		ps->pos++;
		out->null_path = 1;
		return 0;
	}
	if (at(ps, '@') && skip_source_route(ps) < 0) {
		*status_r = ps->msgs->bad;
		return -1;
	}
	size_t mstart = ps->pos;
	static const char pm[] = "postmaster>";
	if (kind == SMTP_PATH_RCPT && mstart == path_start + 1 &&
	    ps->len - mstart >= sizeof(pm) - 1 &&
	    strncasecmp((const char *)ps->p + mstart, pm, sizeof(pm) - 1) == 0) {
		ps->pos += sizeof(pm) - 2;
		out->postmaster = 1;
	} else if (parse_mailbox(ps, status_r) < 0) {
		return -1;
	}
	size_t mend = ps->pos;
	if (!at(ps, '>')) {
		*status_r = ps->msgs->bad;
		return -1;
	}
	ps->pos++;
	if (ps->pos - path_start > RD_MAX_ADDRESS) {
		*status_r = ps->msgs->path_long;
		return -1;
	}
	/* fits: the path's 256 octets include its two brackets */
	memcpy(out->address, ps->p + mstart, mend - mstart);
	out->address[mend - mstart] = '\0';
	out->has_utf8 = ps->utf8;
	return 0;
}

/* ---- parameters ---- */

enum param_id { P_SIZE, P_BODY, P_SMTPUTF8, P_RET, P_ENVID, P_AUTH,
		P_NOTIFY, P_ORCPT };

static const struct param_def {
	const char *name;
	enum param_id id;
	enum smtp_path_kind kind;
	int has_value;
} param_defs[] = {
	{ "SIZE", P_SIZE, SMTP_PATH_MAIL, 1 },
	{ "BODY", P_BODY, SMTP_PATH_MAIL, 1 },
	{ "SMTPUTF8", P_SMTPUTF8, SMTP_PATH_MAIL, 0 },
	{ "RET", P_RET, SMTP_PATH_MAIL, 1 },
	{ "ENVID", P_ENVID, SMTP_PATH_MAIL, 1 },
	{ "AUTH", P_AUTH, SMTP_PATH_MAIL, 1 },
	{ "NOTIFY", P_NOTIFY, SMTP_PATH_RCPT, 1 },
	{ "ORCPT", P_ORCPT, SMTP_PATH_RCPT, 1 },
};

struct param {
	const char *key;
	size_t klen;
	const char *val;        /* NULL when there is no "=" */
	size_t vlen;
};

static int hexval(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;      /* RFC 3461 4: hexchar digits are upper case */
}

/* Decode xtext (RFC 3461 4) into dst (NUL-terminated). The value's octets
 * are already known to be %d33-126 without "=". Refused: a "+" without two
 * upper-case hex digits, a decoded octet outside 0x20..0x7e (CR, LF, NUL,
 * DEL, controls, 8-bit), a result that does not fit. */
static int xtext_decode(const char *src, size_t len, char *dst, size_t dstsize)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == '+') {
			if (len - i < 3)
				return -1;
			int hi = hexval((unsigned char)src[i + 1]);
			int lo = hexval((unsigned char)src[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi * 16 + lo);
			if (c < 0x20 || c > 0x7e)
				return -1;
			i += 2;
		}
		if (o + 1 >= dstsize)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

static int value_is(const struct param *pa, const char *word)
{
	return strlen(word) == pa->vlen && strncasecmp(pa->val, word, pa->vlen) == 0;
}

/* SIZE=1*20DIGIT (RFC 1870); saturates instead of wrapping. */
static int param_size(const struct param *pa, struct smtp_path *out)
{
	if (pa->vlen > 20)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < pa->vlen; i++) {
		unsigned char c = (unsigned char)pa->val[i];
		if (!is_digit(c))
			return -1;
		/* once saturated, every further digit overflows again */
		if (__builtin_mul_overflow(v, 10u, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(c - '0'), &v))
			v = UINT64_MAX;
	}
	out->size = v;
	out->has_size = 1;
	return 0;
}

/* NOTIFY=NEVER / 1#(SUCCESS / FAILURE / DELAY) (RFC 3461 4.1). */
static int param_notify(const struct param *pa, struct smtp_path *out)
{
	static const struct { const char *w; unsigned bit; } words[] = {
		{ "NEVER", SMTP_NOTIFY_NEVER }, { "SUCCESS", SMTP_NOTIFY_SUCCESS },
		{ "FAILURE", SMTP_NOTIFY_FAILURE }, { "DELAY", SMTP_NOTIFY_DELAY },
	};
	unsigned bits = 0;
	size_t i = 0;
	while (i <= pa->vlen) {
		size_t s = i;
		while (i < pa->vlen && pa->val[i] != ',')
			i++;
		struct param item = { .val = pa->val + s, .vlen = i - s };
		unsigned bit = 0;
		for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
			if (value_is(&item, words[k].w))
				bit = words[k].bit;
		}
		if (bit == 0 || (bits & bit) != 0)
			return -1;
		bits |= bit;
		i++;    /* past ',' (or past the end, which ends the loop) */
	}
	if ((bits & SMTP_NOTIFY_NEVER) != 0 && bits != SMTP_NOTIFY_NEVER)
		return -1;
	out->notify = bits;
	return 0;
}

/* ORCPT=addr-type ";" xtext; only "rfc822" is supported. */
static int param_orcpt(const struct param *pa, struct smtp_path *out)
{
	static const char type[] = "rfc822;";
	const size_t tl = sizeof(type) - 1;
	if (pa->vlen <= tl || strncasecmp(pa->val, type, tl) != 0)
		return -1;
	memcpy(out->orcpt, type, tl);
	return xtext_decode(pa->val + tl, pa->vlen - tl, out->orcpt + tl,
			    sizeof(out->orcpt) - tl);
}

static int apply_param(const struct param_def *def, const struct param *pa,
		       struct smtp_path *out)
{
	switch (def->id) {
	case P_SIZE:
		return param_size(pa, out);
	case P_BODY:
		out->body = value_is(pa, "7BIT") ? SMTP_BODY_7BIT :
			value_is(pa, "8BITMIME") ? SMTP_BODY_8BITMIME :
			value_is(pa, "BINARYMIME") ? SMTP_BODY_BINARYMIME :
			SMTP_BODY_UNSET;
		return out->body == SMTP_BODY_UNSET ? -1 : 0;
	case P_SMTPUTF8:
		out->smtputf8 = 1;
		return 0;
	case P_RET:
		out->ret = value_is(pa, "FULL") ? SMTP_RET_FULL :
			value_is(pa, "HDRS") ? SMTP_RET_HDRS : SMTP_RET_UNSET;
		return out->ret == SMTP_RET_UNSET ? -1 : 0;
	case P_ENVID:
		if (pa->vlen > RD_SMTP_MAX_ENVID)
			return -1;
		return xtext_decode(pa->val, pa->vlen, out->envid, sizeof(out->envid));
	case P_AUTH:
		return xtext_decode(pa->val, pa->vlen, out->auth, sizeof(out->auth));
	case P_NOTIFY:
		return param_notify(pa, out);
	case P_ORCPT:
		return param_orcpt(pa, out);
	}
	return -1;
}

/* Look the keyword up, check it belongs to this command, is new, and has a
 * value exactly when it should; then apply it. */
static int handle_param(enum smtp_path_kind kind, int utf8_allowed,
			const struct param *pa, unsigned *seen,
			struct smtp_path *out, const char **status_r)
{
	const struct param_def *def = NULL;
	for (size_t i = 0; i < sizeof(param_defs) / sizeof(param_defs[0]); i++) {
		if (strlen(param_defs[i].name) == pa->klen &&
		    strncasecmp(param_defs[i].name, pa->key, pa->klen) == 0)
			def = &param_defs[i];
	}
	if (def == NULL || def->kind != kind ||
	    (def->id == P_SMTPUTF8 && !utf8_allowed)) {
		/* the keyword is [A-Za-z0-9-] and capped, so safe to echo */
		snprintf(out->reply, sizeof(out->reply),
			 "555 5.5.4 Unsupported parameter %.*s", (int)pa->klen, pa->key);
		*status_r = out->reply;
		return SMTP_PATH_UNSUPPORTED;
	}
	const char *why = NULL;
	if ((*seen & (1u << def->id)) != 0)
		why = "Duplicate parameter";
	else if (def->has_value && pa->val == NULL)
		why = "Missing value for parameter";
	else if (!def->has_value && pa->val != NULL)
		why = "No value allowed for parameter";
	else if (apply_param(def, pa, out) < 0)
		why = "Bad value for parameter";
	if (why != NULL) {
		snprintf(out->reply, sizeof(out->reply), "501 5.5.4 %s %s", why,
			 def->name);
		*status_r = out->reply;
		return SMTP_PATH_BAD;
	}
	*seen |= 1u << def->id;
	return SMTP_PATH_OK;
}

/* esmtp-param *(SP esmtp-param), runs of SP tolerated; the cursor is on a
 * non-SP octet or at the end. */
static int parse_params(struct parser *ps, enum smtp_path_kind kind,
			int utf8_allowed, struct smtp_path *out,
			const char **status_r)
{
	unsigned seen = 0, count = 0;
	while (ps->pos < ps->len) {
		struct param pa = { .key = (const char *)ps->p + ps->pos };
		/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
		size_t start = ps->pos;
		while (ps->pos < ps->len && (is_alnum(ps->p[ps->pos]) ||
		       (ps->p[ps->pos] == '-' && ps->pos > start)))
			ps->pos++;
		pa.klen = ps->pos - start;
		if (at(ps, '=')) {
			ps->pos++;
			pa.val = (const char *)ps->p + ps->pos;
			/* esmtp-value = 1*(%d33-60 / %d62-126) */
			while (ps->pos < ps->len && ps->p[ps->pos] >= 33 &&
			       ps->p[ps->pos] <= 126 && ps->p[ps->pos] != '=')
				ps->pos++;
			pa.vlen = (size_t)((const char *)ps->p + ps->pos - pa.val);
		}
		if (pa.klen == 0 || (pa.val != NULL && pa.vlen == 0) ||
		    (ps->pos < ps->len && ps->p[ps->pos] != ' ')) {
			*status_r = "501 5.5.4 Bad parameter syntax";
			return SMTP_PATH_BAD;
		}
		if (pa.klen > RD_SMTP_MAX_PARAM_KEYWORD) {
			*status_r = "501 5.5.4 Parameter keyword too long";
			return SMTP_PATH_BAD;
		}
		if (pa.vlen > RD_SMTP_MAX_PARAM_VALUE) {
			*status_r = "501 5.5.4 Parameter value too long";
			return SMTP_PATH_BAD;
		}
		if (++count > RD_SMTP_MAX_PARAMS) {
			*status_r = "501 5.5.4 Too many parameters";
			return SMTP_PATH_BAD;
		}
		int r = handle_param(kind, utf8_allowed, &pa, &seen, out, status_r);
		if (r != SMTP_PATH_OK)
			return r;
		while (at(ps, ' '))
			ps->pos++;
	}
	return SMTP_PATH_OK;
}

int smtp_path_parse(enum smtp_path_kind kind, const char *arg, size_t len,
		    int utf8_allowed, struct smtp_path *out,
		    const char **status_r)
{
	memset(out, 0, sizeof(*out));
	struct parser ps = {
		.p = (const unsigned char *)arg, .len = len,
		.msgs = kind == SMTP_PATH_MAIL ? &mail_msgs : &rcpt_msgs,
	};
	/* Controls (NUL, TAB, CR, LF, DEL ...) have no place anywhere in the
	 * argument; refusing them first means no later step can be fooled
	 * by "a\0@b" or a CR inside a value. */
	for (size_t i = 0; i < len; i++) {
		if (ps.p[i] < 0x20 || ps.p[i] == 0x7f) {
			*status_r = ps.msgs->syntax;
			return SMTP_PATH_BAD;
		}
	}
	const char *word = kind == SMTP_PATH_MAIL ? "FROM:" : "TO:";
	size_t wl = strlen(word);
	if (len < wl || strncasecmp(arg, word, wl) != 0) {
		*status_r = ps.msgs->syntax;
		return SMTP_PATH_BAD;
	}
	ps.pos = wl;
	while (at(&ps, ' '))
		ps.pos++;
	if (parse_path(&ps, kind, out, status_r) < 0)
		return SMTP_PATH_BAD;
	if (ps.pos < len && !at(&ps, ' ')) {
		*status_r = ps.msgs->syntax;
		return SMTP_PATH_BAD;
	}
	while (at(&ps, ' '))
		ps.pos++;
	int r = parse_params(&ps, kind, utf8_allowed, out, status_r);
	if (r != SMTP_PATH_OK)
		return r;
	/* Only now is it known whether MAIL carried SMTPUTF8 (RFC 6531 3.4:
	 * the parameter comes after the path it licenses). */
	int utf8_ok = kind == SMTP_PATH_MAIL ? utf8_allowed && out->smtputf8
		: utf8_allowed;
	if (out->has_utf8 && !utf8_ok) {
		*status_r = ps.msgs->non_ascii;
		return SMTP_PATH_BAD;
	}
	return SMTP_PATH_OK;
}
