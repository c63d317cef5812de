/* imap-sort.c: RFC 5256 SORT and THREAD=ORDEREDSUBJECT (see imap-sort.h). */
#include "imap/imap-sort.h"
#include "imap/imap-binary.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const struct {
	const char *name;
	enum imap_sort_crit crit;
} crits[] = {
	{ "ARRIVAL", SORT_ARRIVAL }, { "CC", SORT_CC }, { "DATE", SORT_DATE },
	{ "FROM", SORT_FROM }, { "SIZE", SORT_SIZE }, { "SUBJECT", SORT_SUBJECT },
	{ "TO", SORT_TO },
};

int imap_sort_parse(const struct imap_arg *list, struct imap_sort_key *keys, size_t max,
		    size_t *n_r, const char **error_r)
{
	size_t n = 0;
	bool reverse = false;
	*error_r = "Invalid sort criteria";
	if (list == NULL || list->type != IMAP_ARG_LIST || list->child == NULL)
		return -1;
	for (const struct imap_arg *a = list->child; a != NULL; a = a->next) {
		if (imap_arg_is(a, "REVERSE")) {
			if (reverse)
				return -1;
			reverse = true;
			continue;
		}
		size_t i = 0;
		while (i < sizeof(crits) / sizeof(crits[0]) && !imap_arg_is(a, crits[i].name))
			i++;
		if (i == sizeof(crits) / sizeof(crits[0]) || n >= max)
			return -1;
		keys[n++] = (struct imap_sort_key){ crits[i].crit, reverse };
		reverse = false;
	}
	if (reverse || n == 0)
		return -1;   /* REVERSE must qualify a key */
	*n_r = n;
	return 0;
}

/* ---- RFC 5322 dates ---- */

static const char *const months[12] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
};

static void skip_ws(const uint8_t *s, size_t len, size_t *i)
{
	while (*i < len && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\r' || s[*i] == '\n'))
		(*i)++;
}

static int digits(const uint8_t *s, size_t len, size_t *i, unsigned min, unsigned max,
		  int *v_r)
{
	unsigned n = 0;
	int v = 0;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9' && n < max) {
		v = v * 10 + (s[*i] - '0');
		(*i)++;
		n++;
	}
	*v_r = v;
	return n >= min ? 0 : -1;
}

/* Obsolete zone names (RFC 5322 4.3); unknown ones count as +0000. */
static int zone_minutes(const uint8_t *s, size_t n)
{
	static const struct { const char *name; int min; } zones[] = {
		{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
		{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
	};
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		if (n == 3 && strncasecmp((const char *)s, zones[i].name, 3) == 0)
			return zones[i].min;
	return 0;
}

int imap_rfc5322_date(const uint8_t *s, size_t len, int64_t *t_r)
{
	size_t i = 0;
	int d, y, hh, mm, ss = 0, m = -1;
	skip_ws(s, len, &i);
	size_t w = i;
	while (w < len && ((s[w] | 0x20) >= 'a' && (s[w] | 0x20) <= 'z'))
		w++;
	if (w < len && w > i && s[w] == ',') {   /* day of week */
		i = w + 1;
		skip_ws(s, len, &i);
	}
	if (digits(s, len, &i, 1, 2, &d) < 0)
		return -1;
	skip_ws(s, len, &i);
	for (int k = 0; k < 12 && i + 3 <= len; k++)
		if (strncasecmp((const char *)s + i, months[k], 3) == 0)
			m = k;
	if (m < 0)
		return -1;
	i += 3;
	skip_ws(s, len, &i);
	size_t ys = i;
	if (digits(s, len, &i, 2, 4, &y) < 0)
		return -1;
	if (i - ys == 2)
		y += y < 50 ? 2000 : 1900;   /* RFC 5322 4.3 */
	else if (i - ys == 3)
		y += 1900;
	skip_ws(s, len, &i);
	if (digits(s, len, &i, 1, 2, &hh) < 0 || i >= len || s[i++] != ':' ||
	    digits(s, len, &i, 2, 2, &mm) < 0)
		return -1;
	if (i < len && s[i] == ':') {
		i++;
		if (digits(s, len, &i, 2, 2, &ss) < 0)
			return -1;
	}
	skip_ws(s, len, &i);
	int zone = 0;
	if (i < len && (s[i] == '+' || s[i] == '-')) {
		int z;
		bool neg = s[i++] == '-';
		if (digits(s, len, &i, 4, 4, &z) < 0 || z % 100 > 59)
			return -1;
		zone = (z / 100 * 60 + z % 100) * (neg ? -1 : 1);
	} else {
		size_t zs = i;
		while (i < len && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
			i++;
		zone = zone_minutes(s + zs, i - zs);
	}
	if (d < 1 || d > 31 || y < 1900 || y > 9999 || hh > 23 || mm > 59 || ss > 60)
		return -1;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m, .tm_mday = d, .tm_hour = hh,
			 .tm_min = mm, .tm_sec = ss };
	*t_r = (int64_t)timegm(&tm) - (int64_t)zone * 60;
	return 0;
}

/* ---- base subject (RFC 5256 2.1) ---- */

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* "=?charset?B|Q?text?=" at s[i..len): end offset, or 0 if it is none. */
static size_t encoded_word(const uint8_t *s, size_t len, size_t i, size_t *cs_len,
			   uint8_t *enc, size_t *text, size_t *text_len)
{
	if (i + 1 >= len || s[i] != '=' || s[i + 1] != '?')
		return 0;
	size_t j = i + 2;
	while (j < len && s[j] != '?' && !is_ws(s[j]))
		j++;
	if (j + 3 >= len || s[j] != '?' || s[j + 2] != '?')
		return 0;
	*cs_len = j - (i + 2);
	*enc = (uint8_t)(s[j + 1] | 0x20);
	if (*enc != 'b' && *enc != 'q')
		return 0;
	size_t t = j + 3, k = t;
	while (k + 1 < len && !(s[k] == '?' && s[k + 1] == '=') && !is_ws(s[k]))
		k++;
	if (k + 1 >= len || s[k] != '?' || s[k + 1] != '=')
		return 0;
	*text = t;
	*text_len = k - t;
	return k + 2;
}

static int decode_word(const uint8_t *s, size_t cs, size_t cs_len, uint8_t enc,
		       size_t t, size_t tl, struct buffer *out)
{
	struct buffer raw;
	buffer_init(&raw, tl + 1);
	int r = 0;
	if (enc == 'b') {
		r = imap_base64_decode(s + t, tl, &raw);
	} else {
		for (size_t k = 0; k < tl && r == 0; k++) {
			int hi = -1, lo = -1;
			if (s[t + k] == '=' && k + 2 < tl) {
				hi = imap_hex_digit(s[t + k + 1]);
				lo = imap_hex_digit(s[t + k + 2]);
			}
			if (hi >= 0 && lo >= 0) {
				r = buffer_append_u8(&raw, (uint8_t)(hi << 4 | lo));
				k += 2;
			} else {
				r = buffer_append_u8(&raw, s[t + k] == '_' ? ' ' : s[t + k]);
			}
		}
	}
	/* ISO-8859-1 becomes UTF-8; other charsets keep their octets, which
	 * still group equal subjects together */
	bool latin1 = (cs_len == 10 && strncasecmp((const char *)s + cs, "iso-8859-1", 10) == 0) ||
		      (cs_len == 6 && strncasecmp((const char *)s + cs, "latin1", 6) == 0);
	for (size_t k = 0; k < raw.len && r == 0; k++) {
		uint8_t c = raw.data[k];
		if (c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (latin1 && c >= 0x80)
			r = buffer_append_u8(out, (uint8_t)(0xc0 | c >> 6)) < 0 ||
			    buffer_append_u8(out, (uint8_t)(0x80 | (c & 0x3f))) < 0 ? -1 : 0;
		else
			r = buffer_append_u8(out, c);
	}
	buffer_free(&raw);
	return r;
}

/* Step 1: encoded words decoded (white space between two of them goes),
 * runs of white space become one space. */
static int subject_decode(const uint8_t *s, size_t len, struct buffer *out)
{
	bool ws = false, last_word = false;
	size_t i = 0;
	while (i < len) {
		if (is_ws(s[i])) {
			ws = true;
			i++;
			continue;
		}
		size_t cs_len, t, tl;
		uint8_t enc;
		size_t end = encoded_word(s, len, i, &cs_len, &enc, &t, &tl);
		if (end > 0) {
			if (ws && !last_word && buffer_append_u8(out, ' ') < 0)
				return -1;
			if (decode_word(s, i + 2, cs_len, enc, t, tl, out) < 0)
				return -1;
			last_word = true;
			ws = false;
			i = end;
			continue;
		}
		if ((ws && buffer_append_u8(out, ' ') < 0) || buffer_append_u8(out, s[i]) < 0)
			return -1;
		ws = last_word = false;
		i++;
	}
	return 0;
}

/* A subj-blob "[...]" and the white space after it at p[*i..n). */
static bool skip_blob(const char *p, size_t n, size_t *i)
{
	size_t j = *i;
	if (j >= n || p[j] != '[')
		return false;
	j++;
	while (j < n && p[j] != '[' && p[j] != ']')
		j++;
	if (j >= n || p[j] != ']')
		return false;
	j++;
	while (j < n && p[j] == ' ')
		j++;
	*i = j;
	return true;
}

/* Steps 3 and 4 once: a subj-refwd (after any blobs) or a leading blob
 * (if text remains); the new start, or start itself when nothing goes. */
static size_t strip_leader(const char *p, size_t start, size_t end)
{
	size_t i = start;
	while (i < end && p[i] == ' ')
		i++;
	if (i != start)
		return i;
	size_t j = i;
	while (skip_blob(p, end, &j))
		;
	size_t k = 0;
	if (end - j >= 3 && strncasecmp(p + j, "fwd", 3) == 0)
		k = 3;
	else if (end - j >= 2 && (strncasecmp(p + j, "fw", 2) == 0 || strncasecmp(p + j, "re", 2) == 0))
		k = 2;
	if (k > 0) {
		size_t q = j + k;
		while (q < end && p[q] == ' ')
			q++;
		(void)skip_blob(p, end, &q);
		if (q < end && p[q] == ':')
			return q + 1;
	}
	j = i;
	if (skip_blob(p, end, &j) && j < end)
		return j;
	return start;
}

int imap_base_subject(const uint8_t *s, size_t len, struct buffer *out)
{
	struct buffer d;
	buffer_init(&d, len * 2 + 16);
	if (subject_decode(s, len, &d) < 0) {
		buffer_free(&d);
		return -1;
	}
	const char *p = d.data != NULL ? (const char *)d.data : "";
	size_t start = 0, end = d.len;
	for (;;) {
		/* step 2: trailers "(fwd)" and white space */
		for (;;) {
			if (end > start && p[end - 1] == ' ')
				end--;
			else if (end - start >= 5 && strncasecmp(p + end - 5, "(fwd)", 5) == 0)
				end -= 5;
			else
				break;
		}
		/* steps 3 and 4 until nothing changes */
		for (size_t n; (n = strip_leader(p, start, end)) != start;)
			start = n;
		/* step 5: "[fwd: ...]" */
		if (end - start >= 6 && strncasecmp(p + start, "[fwd:", 5) == 0 && p[end - 1] == ']') {
			start += 5;
			end--;
			continue;
		}
		break;
	}
	int r = 0;
	for (size_t i = start; i < end && r == 0; i++) {
		uint8_t c = (uint8_t)p[i];
		/* i;ascii-casemap: a-z compare as A-Z */
		r = buffer_append_u8(out, c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c);
	}
	if (r == 0)
		r = buffer_append_u8(out, 0);
	buffer_free(&d);
	return r;
}

/* ---- one message's keys ---- */

static char *upper_dup(const uint8_t *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	p[n] = '\0';
	return p;
}

/* The mailbox (third element) of the first address in an address list. */
static char *first_mailbox(const struct imap_arg *list)
{
	if (list != NULL && list->type == IMAP_ARG_LIST && list->child != NULL &&
	    list->child->type == IMAP_ARG_LIST && list->child->count >= 3) {
		const struct imap_arg *mb = list->child->child->next->next;
		if (imap_arg_is_string(mb))
			return upper_dup(mb->data, mb->len);
	}
	return upper_dup((const uint8_t *)"", 0);
}

int imap_sort_msg_fill(struct imap_sort_msg *m, const char *envelope)
{
	struct imap_arg *nodes = NULL;
	uint8_t *buf = NULL;
	const struct imap_arg *f[10] = { 0 };
	m->date = m->arrival;
	if (envelope != NULL) {
		size_t n = strlen(envelope);
		size_t max = n / 2 + 16;
		struct imap_cmd cmd;
		const char *err;
		buf = malloc(n + 5);
		nodes = malloc(max * sizeof(*nodes));
		if (buf == NULL || nodes == NULL)
			goto fail;
		memcpy(buf, "x E ", 4);
		memcpy(buf + 4, envelope, n);
		if (imap_parse(buf, n + 4, nodes, max, 4, &cmd, &err) == 0 && cmd.nargs == 1 &&
		    cmd.args->type == IMAP_ARG_LIST && cmd.args->count == 10) {
			size_t k = 0;
			for (const struct imap_arg *a = cmd.args->child; a != NULL; a = a->next)
				f[k++] = a;
		}
	}
	int64_t t;
	if (f[0] != NULL && imap_arg_is_string(f[0]) && imap_rfc5322_date(f[0]->data, f[0]->len, &t) == 0)
		m->date = t;
	struct buffer subj;
	buffer_init(&subj, 64 * 1024);
	if (f[1] != NULL && imap_arg_is_string(f[1]) ?
	    imap_base_subject(f[1]->data, f[1]->len, &subj) :
	    imap_base_subject((const uint8_t *)"", 0, &subj))
		buffer_reset(&subj);
	m->subject = subj.len > 0 ? strdup((const char *)subj.data) : strdup("");
	buffer_free(&subj);
	m->from = first_mailbox(f[2]);
	m->to = first_mailbox(f[5]);
	m->cc = first_mailbox(f[6]);
	free(nodes);
	free(buf);
	if (m->subject == NULL || m->from == NULL || m->to == NULL || m->cc == NULL) {
		imap_sort_msg_free(m);
		return -1;
	}
	return 0;
fail:
	free(nodes);
	free(buf);
	return -1;
}

void imap_sort_msg_free(struct imap_sort_msg *m)
{
	free(m->from);
	free(m->to);
	free(m->cc);
	free(m->subject);
	m->from = m->to = m->cc = m->subject = NULL;
}

/* ---- ordering ---- */

struct sort_spec {
	const struct imap_sort_key *keys;
	size_t n;
};

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_key(const struct imap_sort_msg *a, const struct imap_sort_msg *b,
		   enum imap_sort_crit c)
{
	switch (c) {
	case SORT_ARRIVAL: return cmp_i64(a->arrival, b->arrival);
	case SORT_DATE: return cmp_i64(a->date, b->date);
	case SORT_SIZE: return a->size < b->size ? -1 : a->size > b->size;
	case SORT_CC: return strcmp(a->cc, b->cc);
	case SORT_FROM: return strcmp(a->from, b->from);
	case SORT_TO: return strcmp(a->to, b->to);
	case SORT_SUBJECT: return strcmp(a->subject, b->subject);
	}
	return 0;
}

static int cmp_msgs(const void *x, const void *y, void *ctx)
{
	const struct sort_spec *sp = ctx;
	const struct imap_sort_msg *a = x, *b = y;
	for (size_t i = 0; i < sp->n; i++) {
		int c = cmp_key(a, b, sp->keys[i].crit);
		if (c != 0)
			return sp->keys[i].reverse ? -c : c;
	}
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void imap_sort(struct imap_sort_msg *v, size_t n, const struct imap_sort_key *keys,
	       size_t nkeys)
{
	struct sort_spec sp = { keys, nkeys };
	if (n > 1)
		qsort_r(v, n, sizeof(*v), cmp_msgs, &sp);
}

/* ---- THREAD=ORDEREDSUBJECT (RFC 5256 3) ---- */

struct thread_span {
	size_t first, n;
};

static int cmp_threads(const void *x, const void *y, void *ctx)
{
	const struct imap_sort_msg *v = ctx;
	const struct thread_span *a = x, *b = y;
	int c = cmp_i64(v[a->first].date, v[b->first].date);
	return c != 0 ? c : (v[a->first].seq < v[b->first].seq ? -1 : 1);
}

int imap_thread_orderedsubject(struct imap_sort_msg *v, size_t n, bool uid,
			       struct buffer *out)
{
	static const struct imap_sort_key by[] = { { SORT_SUBJECT, false }, { SORT_DATE, false } };
	imap_sort(v, n, by, 2);
	struct thread_span *t = malloc((n + 1) * sizeof(*t));
	size_t nt = 0;
	if (t == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (nt > 0 && strcmp(v[t[nt - 1].first].subject, v[i].subject) == 0)
			t[nt - 1].n++;
		else
			t[nt++] = (struct thread_span){ i, 1 };
	}
	if (nt > 1)
		qsort_r(t, nt, sizeof(*t), cmp_threads, v);
	int r = 0;
	for (size_t k = 0; k < nt && r == 0; k++) {
		const struct imap_sort_msg *m = &v[t[k].first];
		r = buffer_printf(out, "(%u", uid ? m->uid : m->seq);
		/* the first message is the parent of all the others */
		for (size_t j = 1; j < t[k].n && r == 0; j++) {
			m = &v[t[k].first + j];
			r = t[k].n == 2 ? buffer_printf(out, " %u", uid ? m->uid : m->seq) :
			    buffer_printf(out, "%s(%u)", j == 1 ? " " : "", uid ? m->uid : m->seq);
		}
		if (r == 0)
			r = buffer_append_u8(out, ')');
	}
	free(t);
	return r;
}
