/* mbox.c: the incremental mbox splitter (see mbox.h). */
#include "import/mbox.h"
#include <string.h>
#include <time.h>

static const uint8_t crlf[2] = { '\r', '\n' };
static const char from_[] = "From ";
#define FROM_LEN 5u

void mbox_init(struct mbox_splitter *m, const struct mbox_sink *sink)
{
	memset(m, 0, sizeof(*m));
	m->sink = *sink;
	m->state = MBOX_LINE_START;
}

/* Message text goes to the sink; text before the first separator is only
 * counted. */
static void emit(struct mbox_splitter *m, const uint8_t *p, size_t n)
{
	if (n == 0 || m->stopped)
		return;
	if (!m->in_message) {
		m->preamble_bytes += n;
		return;
	}
	if (m->sink.data(m->sink.ctx, p, n) != 0)
		m->stopped = true;
}

/* The held-back empty line turned out to be text: give it out. */
static void flush_blank(struct mbox_splitter *m)
{
	if (m->pending_blank) {
		m->pending_blank = false;
		emit(m, crlf, sizeof(crlf));
	}
}

static void emit_quotes(struct mbox_splitter *m, uint64_t n)
{
	static const uint8_t gts[64] = {
		'>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
		'>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
		'>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
		'>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>', '>',
	};
	while (n > 0 && !m->stopped) {
		size_t k = n > sizeof(gts) ? sizeof(gts) : (size_t)n;
		emit(m, gts, k);
		n -= k;
	}
}

/* The start of the current line is ordinary text after all: give out what
 * was held (quotes and the "From" candidate) and stream the rest. */
static void to_text(struct mbox_splitter *m, uint64_t quotes)
{
	flush_blank(m);
	emit_quotes(m, quotes);
	emit(m, m->line, m->line_len);
	m->line_len = 0;
	m->gt = 0;
	m->state = MBOX_TEXT;
}

static void begin_message(struct mbox_splitter *m, int64_t date)
{
	if (m->in_message && !m->stopped && m->sink.end(m->sink.ctx) != 0)
		m->stopped = true;
	m->pending_blank = false;   /* the separator's blank line */
	m->in_message = true;
	m->messages++;
	if (!m->stopped && m->sink.begin(m->sink.ctx, date) != 0)
		m->stopped = true;
}

/* One line ended (LF or CRLF). */
static void newline(struct mbox_splitter *m)
{
	int64_t date;
	switch (m->state) {
	case MBOX_LINE_START:
		/* an empty line: hold it, it may be the one before a separator */
		if (m->in_message) {
			flush_blank(m);
			m->pending_blank = true;
		}
		break;
	case MBOX_FROM:
		if (m->gt == 0 && m->line_len >= FROM_LEN &&
		    memcmp(m->line, from_, FROM_LEN) == 0 &&
		    mbox_from_date(m->line + FROM_LEN, m->line_len - FROM_LEN, &date)) {
			m->line_len = 0;
			begin_message(m, date);
			break;
		}
		to_text(m, m->gt);
		emit(m, crlf, sizeof(crlf));
		break;
	case MBOX_QUOTE:
		to_text(m, m->gt);
		emit(m, crlf, sizeof(crlf));
		break;
	case MBOX_TEXT:
		emit(m, crlf, sizeof(crlf));
		break;
	}
	m->gt = 0;
	m->line_len = 0;
	m->state = MBOX_LINE_START;
}

/* One octet (not LF; a CR here is a bare one) while the start of the line
 * is still undecided. */
static void line_start_byte(struct mbox_splitter *m, uint8_t c)
{
	switch (m->state) {
	case MBOX_LINE_START:
	case MBOX_QUOTE:
		if (c == '>') {
			m->gt++;
			m->state = MBOX_QUOTE;
		} else if (c == 'F') {
			m->line[0] = c;
			m->line_len = 1;
			m->state = MBOX_FROM;
		} else {
			to_text(m, m->gt);
			emit(m, &c, 1);
		}
		break;
	case MBOX_FROM:
		if (m->line_len < FROM_LEN) {
			if (c != (uint8_t)from_[m->line_len]) {
				to_text(m, m->gt);
				emit(m, &c, 1);
				break;
			}
			m->line[m->line_len++] = c;
			if (m->line_len == FROM_LEN && m->gt > 0)
				to_text(m, m->gt - 1);   /* ">From ": one '>' less */
			break;
		}
		if (m->line_len == sizeof(m->line)) {
			/* too long for a From_ line: text */
			to_text(m, 0);
			emit(m, &c, 1);
			break;
		}
		m->line[m->line_len++] = c;
		break;
	case MBOX_TEXT:
		emit(m, &c, 1);
		break;
	}
}

int mbox_feed(struct mbox_splitter *m, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n && !m->stopped) {
		if (m->cr) {
			m->cr = false;
			if (p[i] == '\n') {
				i++;
				newline(m);
				continue;
			}
			line_start_byte(m, '\r');   /* bare CR: an ordinary octet */
			continue;
		}
		if (m->state == MBOX_TEXT) {
			/* the common case: stream up to the end of the line */
			const uint8_t *nl = memchr(p + i, '\n', n - i);
			size_t j = nl != NULL ? (size_t)(nl - p) : n;
			const uint8_t *cr = memchr(p + i, '\r', j - i);
			if (cr != NULL)
				j = (size_t)(cr - p);
			emit(m, p + i, j - i);
			i = j;
			if (i == n)
				break;
		}
		uint8_t c = p[i++];
		if (c == '\n')
			newline(m);
		else if (c == '\r')
			m->cr = true;
		else
			line_start_byte(m, c);
	}
	return m->stopped ? -1 : 0;
}

int mbox_finish(struct mbox_splitter *m)
{
	if (m->stopped)
		return -1;
	if (m->cr) {
		m->cr = false;
		newline(m);   /* a file cut after the CR of its last CRLF */
	}
	if (m->state != MBOX_LINE_START)
		newline(m);   /* the missing final newline */
	m->pending_blank = false;   /* the file's closing blank line */
	if (m->in_message && !m->stopped) {
		m->in_message = false;
		if (m->sink.end(m->sink.ctx) != 0)
			m->stopped = true;
	}
	return m->stopped ? -1 : 0;
}

/* ---- the From_ line date ---- */

#define MAX_TOKENS 16

struct token {
	const uint8_t *p;
	size_t len;
};

static bool tok_is(const struct token *t, const char *s)
{
	size_t l = strlen(s);
	if (t->len != l)
		return false;
	for (size_t i = 0; i < l; i++) {
		uint8_t a = t->p[i], b = (uint8_t)s[i];
		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a + 32);
		if (a != b)
			return false;
	}
	return true;
}

static int tok_index(const struct token *t, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (tok_is(t, names[i]))
			return i;
	return -1;
}

/* Digits only, at most maxlen of them; -1 otherwise. */
static long tok_number(const uint8_t *p, size_t len, size_t maxlen)
{
	long v = 0;
	if (len == 0 || len > maxlen)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* "hh:mm" or "hh:mm:ss" */
static bool parse_time(const struct token *t, struct tm *tm)
{
	long h, mi, s = 0;
	if (t->len != 5 && t->len != 8)
		return false;
	if (t->p[2] != ':' || (t->len == 8 && t->p[5] != ':'))
		return false;
	h = tok_number(t->p, 2, 2);
	mi = tok_number(t->p + 3, 2, 2);
	if (t->len == 8)
		s = tok_number(t->p + 6, 2, 2);
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60)
		return false;
	tm->tm_hour = (int)h;
	tm->tm_min = (int)mi;
	tm->tm_sec = (int)s;
	return true;
}

/* "+hhmm" / "-hhmm" gives an offset in seconds; a 1-5 letter name (UTC,
 * GMT, EST...) is accepted and read as UTC, since mbox dates carry no
 * reliable zone anyway. */
static bool parse_zone(const struct token *t, long *off)
{
	if (t->len == 5 && (t->p[0] == '+' || t->p[0] == '-')) {
		long v = tok_number(t->p + 1, 4, 4);
		if (v < 0 || v / 100 > 23 || v % 100 > 59)
			return false;
		*off = (v / 100 * 3600 + v % 100 * 60) * (t->p[0] == '-' ? -1 : 1);
		return true;
	}
	if (t->len < 1 || t->len > 5)
		return false;
	for (size_t i = 0; i < t->len; i++)
		if (!((t->p[i] >= 'A' && t->p[i] <= 'Z') || (t->p[i] >= 'a' && t->p[i] <= 'z')))
			return false;
	*off = 0;
	return true;
}

static bool parse_year(const struct token *t, struct tm *tm)
{
	long y = tok_number(t->p, t->len, 4);
	if (t->len != 4 || y < 1900)
		return false;
	tm->tm_year = (int)(y - 1900);
	return true;
}

/* tok[0..n) starting at a weekday: "Www Mmm dd hh:mm[:ss] [zone] yyyy [zone]". */
static bool parse_at(const struct token *tok, int n, int64_t *t_r)
{
	static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
	static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun",
					      "jul", "aug", "sep", "oct", "nov", "dec" };
	struct tm tm;
	long off = 0, day;
	int i = 4, mon;
	memset(&tm, 0, sizeof(tm));
	if (n < 5 || tok_index(&tok[0], days, 7) < 0 ||
	    (mon = tok_index(&tok[1], months, 12)) < 0)
		return false;
	day = tok_number(tok[2].p, tok[2].len, 2);
	if (day < 1 || day > 31 || !parse_time(&tok[3], &tm))
		return false;
	if (!parse_year(&tok[i], &tm)) {
		if (!parse_zone(&tok[i], &off) || ++i >= n || !parse_year(&tok[i], &tm))
			return false;
	} else if (i + 1 < n) {
		long later = 0;
		if (parse_zone(&tok[i + 1], &later))
			off = later;
	}
	tm.tm_mon = mon;
	tm.tm_mday = (int)day;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mon == 11 && tm.tm_mday == 31))
		return false;
	*t_r = (int64_t)t - off;
	return true;
}

bool mbox_from_date(const uint8_t *line, size_t len, int64_t *t_r)
{
	struct token tok[MAX_TOKENS];
	int n = 0;
	size_t i = 0;
	while (i < len && n < MAX_TOKENS) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		tok[n].p = line + i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		tok[n].len = (size_t)(line + i - tok[n].p);
		n++;
	}
	/* the sender may be missing or odd: find the weekday that starts a
	 * date, anywhere on the line */
	for (int k = 0; k < n; k++)
		if (parse_at(tok + k, n - k, t_r))
			return true;
	return false;
}
