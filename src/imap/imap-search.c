/* imap-search.c: compiling and evaluating SEARCH keys (see imap-search.h). */
#include "imap/imap-search.h"
#include <string.h>
#include <strings.h>
#include <time.h>

static struct imap_search_key *key_new(struct imap_search_ctx *c, enum imap_search_op op,
				       const char **error_r)
{
	if (c->nkeys >= c->max_keys) {
		*error_r = "Too many search keys";
		return NULL;
	}
	struct imap_search_key *k = &c->keys[c->nkeys++];
	memset(k, 0, sizeof(*k));
	k->op = op;
	return k;
}

static const char *const months[12] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec",
};

int imap_date_days(const uint8_t *s, size_t len, int64_t *days_r)
{
	size_t i = 0;
	unsigned d = 0, y = 0;
	while (i < len && i < 2 && s[i] >= '0' && s[i] <= '9')
		d = d * 10 + (unsigned)(s[i++] - '0');
	if (i == 0 || i >= len || s[i] != '-' || len - i != 9 || s[i + 4] != '-')
		return -1;
	int m = -1;
	for (int k = 0; k < 12; k++)
		if (strncasecmp((const char *)s + i + 1, months[k], 3) == 0)
			m = k + 1;
	for (size_t k = i + 5; k < len; k++) {
		if (s[k] < '0' || s[k] > '9')
			return -1;
		y = y * 10 + (unsigned)(s[k] - '0');
	}
	static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 0 || d == 0 || d > mdays[m - 1] || y < 1900)
		return -1;
	/* timegm reads no time zone: UTC calendar arithmetic only */
	struct tm tm = { .tm_year = (int)y - 1900, .tm_mon = m - 1, .tm_mday = (int)d,
			 .tm_hour = 12 };
	time_t t = timegm(&tm);
	if (tm.tm_mday != (int)d)   /* 29-Feb in a common year rolled over */
		return -1;
	*days_r = ((int64_t)t - 43200) / 86400;   /* exact: t is noon of that day */
	return 0;
}

static int compile_key(struct imap_search_ctx *c, const struct imap_arg **ap,
		       unsigned depth, struct imap_search_key **r, const char **error_r);

/* Keys from *ap up to the end of the sibling chain, ANDed. */
static int compile_list(struct imap_search_ctx *c, const struct imap_arg *a,
			unsigned depth, struct imap_search_key **r, const char **error_r)
{
	struct imap_search_key *and = key_new(c, SK_AND, error_r), *last = NULL;
	if (and == NULL)
		return -1;
	if (a == NULL) {
		*error_r = "Missing search key";
		return -1;
	}
	while (a != NULL) {
		struct imap_search_key *k;
		if (compile_key(c, &a, depth, &k, error_r) < 0)
			return -1;
		if (last == NULL)
			and->a = k;
		else
			last->next = k;
		last = k;
	}
	*r = and;
	return 0;
}

static int take_string(const struct imap_arg **ap, struct imap_search_key *k,
		       const char **error_r)
{
	const struct imap_arg *s = (*ap)->next;
	if (!imap_arg_is_string(s)) {
		*error_r = "Search key needs a string";
		return -1;
	}
	k->str = s->data;
	k->str_len = s->len;
	*ap = s;
	return 0;
}

static int take_set(struct imap_search_ctx *c, const struct imap_arg *s, uint32_t star,
		    struct imap_search_key *k, const char **error_r)
{
	int n = imap_seqset_parse(s->data, s->len, star, c->ranges + c->nranges,
				  c->max_ranges - c->nranges, error_r);
	if (n < 0)
		return -1;
	k->ranges = c->ranges + c->nranges;
	k->nranges = (size_t)n;
	c->nranges += (size_t)n;
	return 0;
}

static const struct {
	const char *name;
	enum imap_search_op op;
	unsigned flag;
} simple_keys[] = {
	{ "ALL", SK_ALL, 0 }, { "OLD", SK_FLAG_UNSET, IMAP_SEARCH_RECENT },
	{ "NEW", SK_NEW, 0 }, { "RECENT", SK_FLAG_SET, IMAP_SEARCH_RECENT },
	{ "SEEN", SK_FLAG_SET, IMAP_SEARCH_SEEN },
	{ "UNSEEN", SK_FLAG_UNSET, IMAP_SEARCH_SEEN },
	{ "ANSWERED", SK_FLAG_SET, IMAP_SEARCH_ANSWERED },
	{ "UNANSWERED", SK_FLAG_UNSET, IMAP_SEARCH_ANSWERED },
	{ "FLAGGED", SK_FLAG_SET, IMAP_SEARCH_FLAGGED },
	{ "UNFLAGGED", SK_FLAG_UNSET, IMAP_SEARCH_FLAGGED },
	{ "DELETED", SK_FLAG_SET, IMAP_SEARCH_DELETED },
	{ "UNDELETED", SK_FLAG_UNSET, IMAP_SEARCH_DELETED },
	{ "DRAFT", SK_FLAG_SET, IMAP_SEARCH_DRAFT },
	{ "UNDRAFT", SK_FLAG_UNSET, IMAP_SEARCH_DRAFT },
};

static const struct {
	const char *name;
	enum imap_search_op op;
	const char *field;
} text_keys[] = {
	{ "FROM", SK_HEADER, "From" }, { "TO", SK_HEADER, "To" },
	{ "CC", SK_HEADER, "Cc" }, { "BCC", SK_HEADER, "Bcc" },
	{ "SUBJECT", SK_HEADER, "Subject" }, { "BODY", SK_BODY, NULL },
	{ "TEXT", SK_TEXT, NULL }, { "KEYWORD", SK_KEYWORD, NULL },
	{ "UNKEYWORD", SK_UNKEYWORD, NULL },
};

static const struct {
	const char *name;
	enum imap_search_op op;
} date_keys[] = {
	{ "BEFORE", SK_BEFORE }, { "ON", SK_ON }, { "SINCE", SK_SINCE },
	/* the Date: header is not parsed here; the internal date stands in */
	{ "SENTBEFORE", SK_BEFORE }, { "SENTON", SK_ON }, { "SENTSINCE", SK_SINCE },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int compile_key(struct imap_search_ctx *c, const struct imap_arg **ap,
		       unsigned depth, struct imap_search_key **r, const char **error_r)
{
	const struct imap_arg *a = *ap;
	struct imap_search_key *k;
	if (depth >= c->max_depth) {
		*error_r = "Search keys nested too deeply";
		return -1;
	}
	if (a->type == IMAP_ARG_LIST) {
		if (compile_list(c, a->child, depth + 1, r, error_r) < 0)
			return -1;
		*ap = a->next;
		return 0;
	}
	if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_NUMBER) {
		*error_r = "Expected a search key";
		return -1;
	}
	if ((k = key_new(c, SK_ALL, error_r)) == NULL)
		return -1;
	*r = k;
	for (size_t i = 0; i < COUNT(simple_keys); i++)
		if (imap_arg_is(a, simple_keys[i].name)) {
			k->op = simple_keys[i].op;
			k->flag = simple_keys[i].flag;
			*ap = a->next;
			return 0;
		}
	for (size_t i = 0; i < COUNT(text_keys); i++)
		if (imap_arg_is(a, text_keys[i].name)) {
			k->op = text_keys[i].op;
			if (text_keys[i].field != NULL) {
				k->field = (const uint8_t *)text_keys[i].field;
				k->field_len = strlen(text_keys[i].field);
			}
			if (take_string(&a, k, error_r) < 0)
				return -1;
			*ap = a->next;
			return 0;
		}
	for (size_t i = 0; i < COUNT(date_keys); i++)
		if (imap_arg_is(a, date_keys[i].name)) {
			const struct imap_arg *d = a->next;
			if (d == NULL || !imap_arg_is_string(d) ||
			    imap_date_days(d->data, d->len, &k->day) < 0) {
				*error_r = "Invalid date";
				return -1;
			}
			k->op = date_keys[i].op;
			*ap = d->next;
			return 0;
		}
	if (imap_arg_is(a, "HEADER")) {
		const struct imap_arg *f = a->next;
		if (!imap_arg_is_string(f)) {
			*error_r = "HEADER needs a field name";
			return -1;
		}
		k->op = SK_HEADER;
		k->field = f->data;
		k->field_len = f->len;
		if (take_string(&f, k, error_r) < 0)
			return -1;
		*ap = f->next;
		return 0;
	}
	if (imap_arg_is(a, "LARGER") || imap_arg_is(a, "SMALLER")) {
		const struct imap_arg *n = a->next;
		if (n == NULL || n->type != IMAP_ARG_NUMBER) {
			*error_r = "Size expected";
			return -1;
		}
		k->op = imap_arg_is(a, "LARGER") ? SK_LARGER : SK_SMALLER;
		k->n = n->num;
		*ap = n->next;
		return 0;
	}
	if (imap_arg_is(a, "UID")) {
		const struct imap_arg *s = a->next;
		if (s == NULL || (s->type != IMAP_ARG_ATOM && s->type != IMAP_ARG_NUMBER)) {
			*error_r = "UID set expected";
			return -1;
		}
		k->op = SK_UID;
		if (take_set(c, s, c->max_uid, k, error_r) < 0)
			return -1;
		*ap = s->next;
		return 0;
	}
	if (imap_arg_is(a, "MODSEQ")) {
		/* MODSEQ ["/flags/<flag>" priv|shared|all] n: the entry names one
		 * flag's modseq, which this server does not keep apart from the
		 * message's, so only the number counts (RFC 7162 3.1.5 allows
		 * it) */
		const struct imap_arg *n = a->next;
		if (n != NULL && n->type == IMAP_ARG_QUOTED && n->next != NULL &&
		    (imap_arg_is(n->next, "PRIV") || imap_arg_is(n->next, "SHARED") ||
		     imap_arg_is(n->next, "ALL")))
			n = n->next->next;
		if (n == NULL || n->type != IMAP_ARG_NUMBER || n->num > INT64_MAX) {
			*error_r = "MODSEQ needs a mod-sequence";
			return -1;
		}
		k->op = SK_MODSEQ;
		k->n = n->num;
		*ap = n->next;
		return 0;
	}
	if (a->len == 1 && a->data[0] == '$') {
		/* RFC 5182: the result saved by an earlier SEARCH RETURN (SAVE) */
		k->op = c->nsaved > 0 ? SK_UID : SK_NONE;
		k->ranges = c->saved;
		k->nranges = c->nsaved;
		*ap = a->next;
		return 0;
	}
	if (imap_arg_is(a, "NOT")) {
		if (a->next == NULL) {
			*error_r = "NOT needs a key";
			return -1;
		}
		k->op = SK_NOT;
		*ap = a->next;
		return compile_key(c, ap, depth + 1, &k->a, error_r);
	}
	if (imap_arg_is(a, "OR")) {
		k->op = SK_OR;
		*ap = a->next;
		if (*ap == NULL || compile_key(c, ap, depth + 1, &k->a, error_r) < 0 ||
		    *ap == NULL || compile_key(c, ap, depth + 1, &k->b, error_r) < 0) {
			*error_r = "OR needs two keys";
			return -1;
		}
		return 0;
	}
	/* a sequence set */
	k->op = SK_SEQ;
	if (take_set(c, a, c->max_seq, k, error_r) < 0) {
		*error_r = "Unknown search key";
		return -1;
	}
	*ap = a->next;
	return 0;
}

static bool has_op(const struct imap_search_key *k, enum imap_search_op op)
{
	for (; k != NULL; k = k->next) {
		if (k->op == op)
			return true;
		if ((k->a != NULL && has_op(k->a, op)) || (k->b != NULL && has_op(k->b, op)))
			return true;
	}
	return false;
}

static bool needs_text(const struct imap_search_key *k)
{
	for (; k != NULL; k = k->next) {
		if (k->op == SK_HEADER ||
		    ((k->op == SK_BODY || k->op == SK_TEXT) && !k->resolved))
			return true;
		if ((k->a != NULL && needs_text(k->a)) || (k->b != NULL && needs_text(k->b)))
			return true;
	}
	return false;
}

int imap_search_compile(struct imap_search_ctx *ctx, const struct imap_arg *args,
			struct imap_search *out, const char **error_r)
{
	ctx->nkeys = ctx->nranges = 0;
	if (compile_list(ctx, args, 0, &out->root, error_r) < 0)
		return -1;
	out->needs_text = needs_text(out->root);
	out->has_modseq = has_op(out->root, SK_MODSEQ);
	return 0;
}

bool imap_ci_contains(const uint8_t *hay, size_t hay_len,
		      const uint8_t *needle, size_t needle_len)
{
	if (needle_len == 0)
		return true;
	for (size_t i = 0; i + needle_len <= hay_len; i++) {
		size_t j = 0;
		while (j < needle_len) {
			uint8_t x = hay[i + j], y = needle[j];
			if (x >= 'A' && x <= 'Z')
				x += 32;
			if (y >= 'A' && y <= 'Z')
				y += 32;
			if (x != y)
				break;
			j++;
		}
		if (j == needle_len)
			return true;
	}
	return false;
}

/* Length of the header (up to and including the blank line). */
static size_t header_len(const uint8_t *raw, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (raw[i] != '\n')
			continue;
		if (i + 1 < len && raw[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && raw[i + 1] == '\r' && raw[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* Searches the values of every header field named field (with its folded
 * continuation lines). */
static bool header_contains(const uint8_t *raw, size_t len, const struct imap_search_key *k)
{
	size_t hlen = header_len(raw, len), i = 0;
	while (i < hlen) {
		size_t eol = i;
		while (eol < hlen && raw[eol] != '\n')
			eol++;
		/* extend over continuation lines */
		size_t end = eol;
		while (end + 1 < hlen && (raw[end + 1] == ' ' || raw[end + 1] == '\t')) {
			end++;
			while (end < hlen && raw[end] != '\n')
				end++;
		}
		if (end - i > k->field_len && raw[i + k->field_len] == ':' &&
		    strncasecmp((const char *)raw + i, (const char *)k->field, k->field_len) == 0) {
			size_t v = i + k->field_len + 1;
			if (imap_ci_contains(raw + v, end - v, k->str, k->str_len))
				return true;
		}
		i = end + 1;
	}
	return false;
}

static bool has_keyword(const char *list, const uint8_t *kw, size_t len)
{
	const char *p = list;
	while (p != NULL && *p != '\0') {
		const char *sp = strchr(p, ' ');
		size_t n = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (n == len && strncasecmp(p, (const char *)kw, len) == 0)
			return true;
		p = sp != NULL ? sp + 1 : NULL;
	}
	return false;
}

/* Binary search: a resolved key's set may hold a whole mailbox. */
static bool uid_in(const uint32_t *uids, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (uids[mid] == uid)
			return true;
		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool eval(const struct imap_search_key *k, const struct imap_search_msg *m)
{
	int64_t day = m->internal_date >= 0 ? m->internal_date / 86400 :
		      (m->internal_date - 86399) / 86400;
	switch (k->op) {
	case SK_ALL: return true;
	case SK_NONE: return false;
	case SK_AND:
		for (const struct imap_search_key *c = k->a; c != NULL; c = c->next)
			if (!eval(c, m))
				return false;
		return true;
	case SK_OR: return eval(k->a, m) || eval(k->b, m);
	case SK_NOT: return !eval(k->a, m);
	case SK_NEW:   /* RFC 3501 6.4.4: RECENT UNSEEN */
		return (m->flags & IMAP_SEARCH_RECENT) && !(m->flags & IMAP_SEARCH_SEEN);
	case SK_FLAG_SET: return (m->flags & k->flag) != 0;
	case SK_FLAG_UNSET: return (m->flags & k->flag) == 0;
	case SK_KEYWORD: return has_keyword(m->keywords, k->str, k->str_len);
	case SK_UNKEYWORD: return !has_keyword(m->keywords, k->str, k->str_len);
	case SK_SEQ: return imap_seqset_has(k->ranges, k->nranges, m->seq);
	case SK_UID: return imap_seqset_has(k->ranges, k->nranges, m->uid);
	case SK_LARGER: return m->size > k->n;
	case SK_SMALLER: return m->size < k->n;
	case SK_MODSEQ: return m->modseq >= k->n;
	case SK_BEFORE: return day < k->day;
	case SK_ON: return day == k->day;
	case SK_SINCE: return day >= k->day;
	case SK_HEADER:
		return m->raw != NULL && header_contains(m->raw, m->raw_len, k);
	case SK_BODY:
		if (k->resolved)
			return uid_in(k->uids, k->nuids, m->uid);
		if (m->raw == NULL)
			return false;
		{
			size_t h = header_len(m->raw, m->raw_len);
			return imap_ci_contains(m->raw + h, m->raw_len - h, k->str, k->str_len);
		}
	case SK_TEXT:
		if (k->resolved)
			return uid_in(k->uids, k->nuids, m->uid);
		return m->raw != NULL && imap_ci_contains(m->raw, m->raw_len, k->str, k->str_len);
	}
	return false;
}

bool imap_search_match(const struct imap_search *s, const struct imap_search_msg *m)
{
	return eval(s->root, m);
}

static void collect_text(struct imap_search_key *k, struct imap_search_key **keys,
			 size_t max, size_t *n)
{
	for (; k != NULL; k = k->next) {
		if (k->op == SK_TEXT || k->op == SK_BODY) {
			if (*n < max)
				keys[*n] = k;
			(*n)++;
		}
		if (k->a != NULL)
			collect_text(k->a, keys, max, n);
		if (k->b != NULL)
			collect_text(k->b, keys, max, n);
	}
}

size_t imap_search_text_keys(struct imap_search *s, struct imap_search_key **keys,
			     size_t max)
{
	size_t n = 0;
	collect_text(s->root, keys, max, &n);
	return n;
}

void imap_search_resolve(struct imap_search *s, struct imap_search_key *k,
			 const uint32_t *uids, size_t n)
{
	k->resolved = true;
	k->uids = uids;
	k->nuids = n;
	s->needs_text = needs_text(s->root);
}

const struct imap_search_key *imap_search_narrowest(const struct imap_search *s)
{
	const struct imap_search_key *k = s->root, *best = NULL;
	if (k == NULL)
		return NULL;
	if (k->resolved)
		return k;
	if (k->op != SK_AND)
		return NULL;
	for (const struct imap_search_key *c = k->a; c != NULL; c = c->next)
		if (c->resolved && (best == NULL || c->nuids < best->nuids))
			best = c;
	return best;
}
