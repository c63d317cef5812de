/* imap-fetch.c: FETCH item parsing, planning and response writing, IMAP
 * string and flag writers, and the minimal structure fallback (see
 * imap-fetch.h). */
#include "imap/imap-fetch.h"
#include "imap/imap-binary.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- writers ---- */

int imap_write_string(struct buffer *out, const uint8_t *s, size_t len)
{
	if (s == NULL)
		return buffer_append_str(out, "NIL");
	bool quote = len <= RD_IMAP_MAX_QUOTED;
	for (size_t i = 0; quote && i < len; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0' || s[i] >= 0x80)
			quote = false;
	if (!quote) {
		if (buffer_printf(out, "{%zu}\r\n", len) < 0)
			return -1;
		return buffer_append(out, s, len);
	}
	if (buffer_append_u8(out, '"') < 0)
		return -1;
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		if (buffer_append(out, s + run, i - run) < 0 || buffer_append_u8(out, '\\') < 0)
			return -1;
		run = i;
	}
	if (buffer_append(out, s + run, len - run) < 0)
		return -1;
	return buffer_append_u8(out, '"');
}

int imap_write_cstring(struct buffer *out, const char *s)
{
	return imap_write_string(out, (const uint8_t *)s, s != NULL ? strlen(s) : 0);
}

static const char *const flag_names[] = {
	"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Recent",
};

int imap_write_flags(struct buffer *out, unsigned flags, const char *keywords)
{
	const char *sep = "";
	if (buffer_append_u8(out, '(') < 0)
		return -1;
	for (unsigned i = 0; i < 6; i++)
		if (flags & (1u << i)) {
			if (buffer_printf(out, "%s%s", sep, flag_names[i]) < 0)
				return -1;
			sep = " ";
		}
	if (keywords != NULL && keywords[0] != '\0' &&
	    buffer_printf(out, "%s%s", sep, keywords) < 0)
		return -1;
	return buffer_append_u8(out, ')');
}

/* ---- parsing ---- */

static const struct {
	const char *name;
	enum imap_fetch_att att;
} simple_atts[] = {
	{ "UID", FA_UID }, { "FLAGS", FA_FLAGS }, { "INTERNALDATE", FA_INTERNALDATE },
	{ "RFC822.SIZE", FA_RFC822_SIZE }, { "ENVELOPE", FA_ENVELOPE },
	{ "BODYSTRUCTURE", FA_BODYSTRUCTURE }, { "BODY", FA_BODY },
	{ "RFC822", FA_RFC822 }, { "RFC822.HEADER", FA_RFC822_HEADER },
	{ "RFC822.TEXT", FA_RFC822_TEXT }, { "MODSEQ", FA_MODSEQ },
	{ "EMAILID", FA_EMAILID }, { "THREADID", FA_THREADID },
};

static int add_item(struct imap_fetch *f, enum imap_fetch_att att, const char **error_r)
{
	if (f->n >= RD_IMAP_MAX_FETCH_ITEMS) {
		*error_r = "Too many FETCH items";
		return -1;
	}
	struct imap_fetch_item *it = &f->items[f->n++];
	memset(it, 0, sizeof(*it));
	it->att = att;
	if (att == FA_FLAGS)
		f->has_flags = true;
	if (att == FA_RFC822 || att == FA_RFC822_TEXT)
		f->sets_seen = true;
	return 0;
}

static bool starts(const uint8_t *s, size_t len, const char *p)
{
	size_t n = strlen(p);
	return len >= n && strncasecmp((const char *)s, p, n) == 0;
}

/* The text inside [...]: part numbers, then HEADER / HEADER.FIELDS (..) /
 * HEADER.FIELDS.NOT (..) / TEXT / MIME or nothing. */
static int parse_section(struct imap_fetch_item *it, const uint8_t *s, size_t len,
			 const char **error_r)
{
	size_t i = 0, o = 0;
	*error_r = "Invalid section";
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		uint32_t n;
		if (s[i] == '0' || imap_parse_u32(s, len, &i, &n) < 0)
			return -1;
		size_t digits = (size_t)snprintf(NULL, 0, "%u", n);
		if (o + digits + 1 > RD_IMAP_MAX_SECTION)
			return -1;
		if (o > 0)
			it->part[o++] = '.';
		o += (size_t)snprintf(it->part + o, sizeof(it->part) - o, "%u", n);
		if (i < len && s[i] == '.')
			i++;
		else if (i < len)
			return -1;
	}
	it->part[o] = '\0';
	const uint8_t *r = s + i;
	size_t rl = len - i;
	if (rl == 0) {
		it->section = SEC_ALL;
		return 0;
	}
	if (o > 0 && i > 0 && s[i - 1] != '.')
		return -1;
	if (rl == 4 && starts(r, rl, "TEXT")) {
		it->section = SEC_TEXT;
	} else if (rl == 4 && starts(r, rl, "MIME") && o > 0) {
		it->section = SEC_MIME;
	} else if (rl == 6 && starts(r, rl, "HEADER")) {
		it->section = SEC_HEADER;
	} else if (starts(r, rl, "HEADER.FIELDS ") || starts(r, rl, "HEADER.FIELDS.NOT ")) {
		bool not = starts(r, rl, "HEADER.FIELDS.NOT ");
		size_t k = not ? 18 : 14;
		it->section = not ? SEC_HEADER_FIELDS_NOT : SEC_HEADER_FIELDS;
		if (k >= rl || r[k] != '(' || r[rl - 1] != ')' || rl - k < 3)
			return -1;
		it->fields = r + k + 1;
		it->fields_len = rl - k - 2;
	} else {
		return -1;
	}
	return 0;
}

static int parse_body_item(struct imap_fetch *f, const uint8_t *s, size_t len,
			   const char **error_r)
{
	size_t i = 4;
	bool peek = false;
	if (starts(s, len, "BODY.PEEK[")) {
		peek = true;
		i = 9;
	}
	if (add_item(f, FA_SECTION, error_r) < 0)
		return -1;
	struct imap_fetch_item *it = &f->items[f->n - 1];
	it->peek = peek;
	if (!peek)
		f->sets_seen = true;
	const uint8_t *close = memchr(s + i, ']', len - i);
	if (close == NULL) {
		*error_r = "Invalid section";
		return -1;
	}
	it->spec = s + i + 1;
	it->spec_len = (size_t)(close - it->spec);
	if (parse_section(it, it->spec, it->spec_len, error_r) < 0)
		return -1;
	size_t j = (size_t)(close - s) + 1;
	if (j == len)
		return 0;
	*error_r = "Invalid partial";
	if (s[j] != '<' || s[len - 1] != '>')
		return -1;
	j++;
	if (imap_parse_u32(s, len, &j, &it->offset) < 0 || j >= len || s[j] != '.')
		return -1;
	j++;
	if (imap_parse_u32(s, len, &j, &it->count) < 0 || j != len - 1 || it->count == 0)
		return -1;
	it->partial = true;
	return 0;
}

/* BINARY[part]<partial>, BINARY.PEEK[...] and BINARY.SIZE[part] (RFC 3516
 * 3: section-binary holds part numbers only). The section grammar is the
 * BODY one, so it is parsed as such and then narrowed. */
static int parse_binary_item(struct imap_fetch *f, const uint8_t *s, size_t len,
			     const char **error_r)
{
	bool size = starts(s, len, "BINARY.SIZE[");
	bool peek = starts(s, len, "BINARY.PEEK[");
	size_t bl = size || peek ? 12 : 7;      /* "BINARY.SIZE[" or "BINARY[" */
	size_t hl = size || peek ? 10 : 5;      /* "BODY.PEEK[" or "BODY[" */
	uint8_t tmp[RD_IMAP_MAX_SECTION + 64];
	if (hl + len - bl > sizeof(tmp)) {
		*error_r = "Invalid section";
		return -1;
	}
	/* rewritten as BODY[...] / BODY.PEEK[...] for the shared parser; spec
	 * is pointed back into the command afterwards */
	memcpy(tmp, size || peek ? "BODY.PEEK[" : "BODY[", hl);
	memcpy(tmp + hl, s + bl, len - bl);
	if (parse_body_item(f, tmp, hl + len - bl, error_r) < 0)
		return -1;
	struct imap_fetch_item *it = &f->items[f->n - 1];
	it->spec = s + bl;
	it->fields = NULL;
	if (it->section != SEC_ALL || (size && it->partial)) {
		*error_r = "Invalid BINARY section";
		return -1;
	}
	it->att = size ? FA_BINARY_SIZE : FA_BINARY;
	return 0;
}

static int parse_one(struct imap_fetch *f, const struct imap_arg *a, const char **error_r)
{
	if (a->type != IMAP_ARG_ATOM) {
		*error_r = "Invalid FETCH item";
		return -1;
	}
	for (size_t i = 0; i < sizeof(simple_atts) / sizeof(simple_atts[0]); i++)
		if (imap_arg_is(a, simple_atts[i].name))
			return add_item(f, simple_atts[i].att, error_r);
	if (starts(a->data, a->len, "BODY[") || starts(a->data, a->len, "BODY.PEEK["))
		return parse_body_item(f, a->data, a->len, error_r);
	if (starts(a->data, a->len, "BINARY[") || starts(a->data, a->len, "BINARY.PEEK[") ||
	    starts(a->data, a->len, "BINARY.SIZE["))
		return parse_binary_item(f, a->data, a->len, error_r);
	*error_r = "Unknown FETCH item";
	return -1;
}

int imap_fetch_parse(const struct imap_arg *arg, struct imap_fetch *f, const char **error_r)
{
	static const enum imap_fetch_att fast[] = { FA_FLAGS, FA_INTERNALDATE, FA_RFC822_SIZE };
	memset(f, 0, sizeof(*f));
	if (arg == NULL) {
		*error_r = "Missing FETCH items";
		return -1;
	}
	if (imap_arg_is(arg, "ALL") || imap_arg_is(arg, "FAST") || imap_arg_is(arg, "FULL")) {
		for (size_t i = 0; i < 3; i++)
			(void)add_item(f, fast[i], error_r);
		if (!imap_arg_is(arg, "FAST"))
			(void)add_item(f, FA_ENVELOPE, error_r);
		if (imap_arg_is(arg, "FULL"))
			(void)add_item(f, FA_BODY, error_r);
		return 0;
	}
	if (arg->type != IMAP_ARG_LIST)
		return parse_one(f, arg, error_r);
	if (arg->count == 0) {
		*error_r = "Empty FETCH item list";
		return -1;
	}
	for (const struct imap_arg *a = arg->child; a != NULL; a = a->next)
		if (parse_one(f, a, error_r) < 0)
			return -1;
	return 0;
}

void imap_fetch_add_uid(struct imap_fetch *f)
{
	const char *err;
	for (size_t i = 0; i < f->n; i++)
		if (f->items[i].att == FA_UID)
			return;
	if (add_item(f, FA_UID, &err) == 0 && f->n > 1) {
		/* UID first reads better and some clients expect it early */
		struct imap_fetch_item uid = f->items[f->n - 1];
		memmove(&f->items[1], &f->items[0], (f->n - 1) * sizeof(f->items[0]));
		f->items[0] = uid;
	}
}

enum imap_fetch_need imap_fetch_plan(const struct imap_fetch *f, uint64_t total,
				     bool has_cache, uint64_t *off_r, uint64_t *len_r)
{
	enum imap_fetch_need need = FETCH_NEED_NOTHING;
	size_t windows = 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct imap_fetch_item *it = &f->items[i];
		enum imap_fetch_need n = FETCH_NEED_NOTHING;
		switch (it->att) {
		case FA_ENVELOPE: case FA_BODYSTRUCTURE:
			n = has_cache ? FETCH_NEED_NOTHING : FETCH_NEED_STRUCTURE;
			break;
		case FA_BODY:
			n = FETCH_NEED_STRUCTURE;
			break;
		case FA_RFC822: case FA_RFC822_HEADER: case FA_RFC822_TEXT:
			n = FETCH_NEED_ALL;
			break;
		case FA_BINARY: case FA_BINARY_SIZE:
			n = it->part[0] != '\0' ? FETCH_NEED_STRUCTURE : FETCH_NEED_ALL;
			break;
		case FA_SECTION:
			if (it->part[0] != '\0')
				n = FETCH_NEED_STRUCTURE;
			else if (it->section == SEC_ALL && it->partial) {
				n = FETCH_NEED_WINDOW;
				windows++;
				*off_r = it->offset < total ? it->offset : total;
				*len_r = total - *off_r < it->count ? total - *off_r : it->count;
			} else
				n = FETCH_NEED_ALL;
			break;
		default:
			break;
		}
		if (n > need)
			need = n;
	}
	if (need == FETCH_NEED_WINDOW && windows > 1)
		need = FETCH_NEED_ALL;
	return need;
}

/* ---- writing ---- */

/* Offset just past the blank line ending the header at raw[0..len). */
static size_t header_end(const uint8_t *raw, size_t len)
{
	if (len > 0 && raw[0] == '\n')
		return 1;
	if (len > 1 && raw[0] == '\r' && raw[1] == '\n')
		return 2;
	for (size_t i = 0; i + 1 < len; i++) {
		if (raw[i] != '\n')
			continue;
		if (raw[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && raw[i + 1] == '\r' && raw[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* Is the field at the start of line h (name up to ':') in the list? */
static bool field_listed(const uint8_t *h, size_t hlen, const uint8_t *list, size_t llen)
{
	const uint8_t *colon = memchr(h, ':', hlen);
	if (colon == NULL)
		return false;
	size_t nlen = (size_t)(colon - h);
	while (nlen > 0 && (h[nlen - 1] == ' ' || h[nlen - 1] == '\t'))
		nlen--;
	size_t i = 0;
	while (i < llen) {
		while (i < llen && list[i] == ' ')
			i++;
		size_t start = i;
		bool q = i < llen && list[i] == '"';
		if (q)
			start = ++i;
		while (i < llen && (q ? list[i] != '"' : list[i] != ' '))
			i++;
		if (i - start == nlen && nlen > 0 &&
		    strncasecmp((const char *)list + start, (const char *)h, nlen) == 0)
			return true;
		if (q && i < llen)
			i++;
	}
	return false;
}

/* Header fields (with their folded lines) kept or dropped by the list,
 * then the blank line, as RFC 3501 6.4.5 HEADER.FIELDS gives them. */
static int filter_header(const uint8_t *h, size_t len, const struct imap_fetch_item *it,
			 struct buffer *tmp)
{
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && h[end] != '\n')
			end++;
		if (end == i || (end == i + 1 && h[i] == '\r'))
			break;   /* the blank line */
		while (end + 1 < len && (h[end + 1] == ' ' || h[end + 1] == '\t')) {
			end++;
			while (end < len && h[end] != '\n')
				end++;
		}
		size_t next = end < len ? end + 1 : end;
		bool listed = field_listed(h + i, end - i, it->fields, it->fields_len);
		if (listed == (it->section == SEC_HEADER_FIELDS) &&
		    buffer_append(tmp, h + i, next - i) < 0)
			return -1;
		i = next;
	}
	return buffer_append(tmp, "\r\n", 2);
}

static const struct imap_fetch_part *find_part(const struct imap_fetch_msg *m, const char *sec)
{
	for (size_t i = 0; i < m->nparts; i++)
		if (strcmp(m->parts[i].section, sec) == 0)
			return &m->parts[i];
	return NULL;
}

/* The absolute range of the item's section; -1 if the section does not
 * exist in this message. */
static int section_range(const struct imap_fetch_item *it, const struct imap_fetch_msg *m,
			 uint64_t *off_r, uint64_t *len_r)
{
	if (it->part[0] == '\0') {
		if (it->section == SEC_ALL) {
			*off_r = 0;
			*len_r = m->size;
			return 0;
		}
		if (m->raw == NULL || m->raw_off != 0)
			return -1;
		size_t h = header_end(m->raw, m->raw_len);
		*off_r = it->section == SEC_TEXT ? h : 0;
		*len_r = it->section == SEC_TEXT ? m->raw_len - h : h;
		return 0;
	}
	const struct imap_fetch_part *p = find_part(m, it->part);
	if (p == NULL)
		return -1;
	switch (it->section) {
	case SEC_ALL:
		*off_r = p->body_offset;
		*len_r = p->body_size;
		return 0;
	case SEC_MIME:
		*off_r = p->header_offset;
		*len_r = p->header_size;
		return 0;
	case SEC_TEXT:
		if (!p->has_message)
			return -1;
		*off_r = p->msg_body_offset;
		*len_r = p->msg_body_size;
		return 0;
	default:
		if (!p->has_message)
			return -1;
		*off_r = p->msg_header_offset;
		*len_r = p->msg_header_size;
		return 0;
	}
}

void imap_fetch_clip(const struct imap_fetch_item *it, const uint8_t **p, size_t *n)
{
	if (!it->partial)
		return;
	size_t a = it->offset < *n ? it->offset : *n;
	*p += a;
	*n -= a;
	if (*n > it->count)
		*n = it->count;
}

static int write_section(const struct imap_fetch_item *it, const struct imap_fetch_msg *m,
			 struct buffer *out, struct buffer *tmp, const char **error_r)
{
	uint64_t off, len;
	if (buffer_append_str(out, "BODY[") < 0 ||
	    buffer_append(out, it->spec, it->spec_len) < 0 || buffer_append_u8(out, ']') < 0)
		goto too_big;
	if (it->partial && buffer_printf(out, "<%u>", it->offset) < 0)
		goto too_big;
	if (buffer_append_u8(out, ' ') < 0)
		goto too_big;
	if (section_range(it, m, &off, &len) < 0)
		return buffer_append_str(out, "NIL") < 0 ? -1 : 0;
	bool filter = it->section == SEC_HEADER_FIELDS || it->section == SEC_HEADER_FIELDS_NOT;
	if (!filter && it->partial) {
		uint64_t a = it->offset < len ? it->offset : len;
		off += a;
		len -= a;
		if (len > it->count)
			len = it->count;
	}
	/* the caller loaded what imap_fetch_plan asked for; anything else is
	 * a bug, answered as an error rather than read out of bounds */
	if (off < m->raw_off || off - m->raw_off > m->raw_len ||
	    len > m->raw_len - (off - m->raw_off) || (len > 0 && m->raw == NULL)) {
		*error_r = "Message octets not loaded";
		return -1;
	}
	const uint8_t *p = len > 0 ? m->raw + (off - m->raw_off) : (const uint8_t *)"";
	size_t n = (size_t)len;
	if (filter) {
		buffer_reset(tmp);
		if (filter_header(p, n, it, tmp) < 0)
			goto too_big;
		p = tmp->data;
		n = tmp->len;
		imap_fetch_clip(it, &p, &n);
	}
	if (buffer_printf(out, "{%zu}\r\n", n) < 0 || buffer_append(out, p, n) < 0)
		goto too_big;
	return 0;
too_big:
	*error_r = "FETCH response too big";
	return -1;
}

static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static int write_raw_part(struct buffer *out, const char *name, const uint8_t *p, size_t n)
{
	return buffer_printf(out, "%s {%zu}\r\n", name, n) < 0 || buffer_append(out, p, n) < 0 ?
	       -1 : 0;
}

static int write_item(const struct imap_fetch_item *it, const struct imap_fetch_msg *m,
		      struct buffer *out, struct buffer *tmp, const char **error_r)
{
	int r = 0;
	size_t h;
	switch (it->att) {
	case FA_UID:
		return buffer_printf(out, "UID %u", m->uid);
	case FA_FLAGS:
		return buffer_append_str(out, "FLAGS ") < 0 ? -1 :
		       imap_write_flags(out, m->flags, m->keywords);
	case FA_MODSEQ:
		return buffer_printf(out, "MODSEQ (%llu)", (unsigned long long)m->modseq);
	case FA_EMAILID:
		/* RFC 8474 5.1: immutable and the same for copies of one
		 * message: the content address is both (96 bits of it) */
		return buffer_printf(out, "EMAILID (E%.24s)", m->blob_id ? m->blob_id : "0");
	case FA_THREADID:
		return buffer_append_str(out, "THREADID NIL");   /* RFC 8474 5.2: no threads kept */
	case FA_INTERNALDATE: {
		struct tm tm;
		time_t t = (time_t)m->internal_date;
		if (gmtime_r(&t, &tm) == NULL)
			memset(&tm, 0, sizeof(tm));
		return buffer_printf(out, "INTERNALDATE \"%02d-%s-%04d %02d:%02d:%02d +0000\"",
				     tm.tm_mday, month_names[tm.tm_mon % 12], tm.tm_year + 1900,
				     tm.tm_hour, tm.tm_min, tm.tm_sec);
	}
	case FA_RFC822_SIZE:
		return buffer_printf(out, "RFC822.SIZE %llu", (unsigned long long)m->size);
	case FA_ENVELOPE:
		return buffer_printf(out, "ENVELOPE %s", m->envelope ? m->envelope : "NIL");
	case FA_BODYSTRUCTURE:
		return buffer_printf(out, "BODYSTRUCTURE %s",
				     m->bodystructure ? m->bodystructure : "NIL");
	case FA_BODY:
		return buffer_printf(out, "BODY %s", m->body ? m->body : "NIL");
	case FA_SECTION:
		return write_section(it, m, out, tmp, error_r);
	case FA_BINARY: case FA_BINARY_SIZE:
		return imap_binary_write(it, m, out, tmp, error_r);
	case FA_RFC822:
	case FA_RFC822_HEADER:
	case FA_RFC822_TEXT:
		if (m->raw == NULL || m->raw_off != 0) {
			*error_r = "Message octets not loaded";
			return -1;
		}
		h = header_end(m->raw, m->raw_len);
		if (it->att == FA_RFC822)
			r = write_raw_part(out, "RFC822", m->raw, m->raw_len);
		else if (it->att == FA_RFC822_HEADER)
			r = write_raw_part(out, "RFC822.HEADER", m->raw, h);
		else
			r = write_raw_part(out, "RFC822.TEXT", m->raw + h, m->raw_len - h);
		return r;
	}
	return 0;
}

int imap_fetch_write(const struct imap_fetch *f, const struct imap_fetch_msg *m,
		     struct buffer *out, const char **error_r)
{
	struct buffer tmp;
	buffer_init(&tmp, RD_IMAP_MAX_LINE + RD_STORE_MAX_MESSAGE);
	*error_r = NULL;
	int r = buffer_printf(out, "* %u FETCH (", m->seq);
	for (size_t i = 0; r == 0 && i < f->n; i++) {
		if (i > 0)
			r = buffer_append_u8(out, ' ');
		if (r == 0)
			r = write_item(&f->items[i], m, out, &tmp, error_r);
	}
	if (r == 0)
		r = buffer_append_str(out, ")\r\n");
	buffer_free(&tmp);
	if (r < 0 && *error_r == NULL)
		*error_r = "FETCH response too big";
	return r;
}

/* ---- minimal structure fallback ---- */

const uint8_t *imap_header_value(const uint8_t *h, size_t hlen, const char *name,
				   struct buffer *tmp, size_t *len_r)
{
	size_t nlen = strlen(name), i = 0;
	while (i < hlen) {
		size_t end = i;
		while (end < hlen && h[end] != '\n')
			end++;
		while (end + 1 < hlen && (h[end + 1] == ' ' || h[end + 1] == '\t')) {
			end++;
			while (end < hlen && h[end] != '\n')
				end++;
		}
		if (end - i > nlen && h[i + nlen] == ':' &&
		    strncasecmp((const char *)h + i, name, nlen) == 0) {
			buffer_reset(tmp);
			for (size_t k = i + nlen + 1; k < end; k++)
				if (h[k] != '\r' && h[k] != '\n' && h[k] != '\0' &&
				    buffer_append_u8(tmp, h[k]) < 0)
					break;
			size_t a = 0, b = tmp->len;
			while (a < b && (tmp->data[a] == ' ' || tmp->data[a] == '\t'))
				a++;
			while (b > a && (tmp->data[b - 1] == ' ' || tmp->data[b - 1] == '\t'))
				b--;
			*len_r = b - a;
			return tmp->data != NULL ? tmp->data + a : (const uint8_t *)"";
		}
		i = end + 1;
	}
	return NULL;
}

static void trim(const uint8_t **p, size_t *n)
{
	while (*n > 0 && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* One address "Name <local@domain>" or "local@domain" as (name NIL
 * mailbox host); comments and groups are not interpreted here (src/mime
 * does it properly). */
static int write_address(struct buffer *out, const uint8_t *p, size_t n)
{
	const uint8_t *name = NULL, *spec = p;
	size_t name_len = 0, spec_len = n;
	const uint8_t *lt = memchr(p, '<', n);
	if (lt != NULL) {
		const uint8_t *gt = memchr(lt, '>', n - (size_t)(lt - p));
		name = p;
		name_len = (size_t)(lt - p);
		trim(&name, &name_len);
		if (name_len >= 2 && name[0] == '"' && name[name_len - 1] == '"') {
			name++;
			name_len -= 2;
		}
		if (name_len == 0)
			name = NULL;
		spec = lt + 1;
		spec_len = gt != NULL ? (size_t)(gt - spec) : n - (size_t)(spec - p);
	}
	trim(&spec, &spec_len);
	const uint8_t *at = NULL;
	for (size_t i = 0; i < spec_len; i++)
		if (spec[i] == '@')
			at = spec + i;
	size_t local_len = at != NULL ? (size_t)(at - spec) : spec_len;
	if (buffer_append_u8(out, '(') < 0 || imap_write_string(out, name, name_len) < 0 ||
	    buffer_append_str(out, " NIL ") < 0)
		return -1;
	if (local_len == 0 ? buffer_append_str(out, "\"MISSING_MAILBOX\"") :
	    imap_write_string(out, spec, local_len))
		return -1;
	if (buffer_append_u8(out, ' ') < 0)
		return -1;
	if (at == NULL || spec_len - local_len <= 1 ?
	    buffer_append_str(out, "\"MISSING_DOMAIN\"") :
	    imap_write_string(out, at + 1, spec_len - local_len - 1))
		return -1;
	return buffer_append_u8(out, ')');
}

/* Comma-separated addresses (commas inside quotes or <> do not split). */
static int write_address_list(struct buffer *out, const uint8_t *v, size_t n)
{
	if (v == NULL || n == 0)
		return buffer_append_str(out, "NIL");
	if (buffer_append_u8(out, '(') < 0)
		return -1;
	size_t start = 0, count = 0;
	bool q = false, angle = false;
	for (size_t i = 0; i <= n && count < RD_IMAP_MAX_FALLBACK_ADDRESSES; i++) {
		if (i < n && v[i] == '"')
			q = !q;
		else if (i < n && !q && v[i] == '<')
			angle = true;
		else if (i < n && !q && v[i] == '>')
			angle = false;
		if (i < n && (q || angle || v[i] != ','))
			continue;
		const uint8_t *a = v + start;
		size_t al = i - start;
		trim(&a, &al);
		if (al > 0) {
			if (write_address(out, a, al) < 0)
				return -1;
			count++;
		}
		start = i + 1;
	}
	if (count == 0) {
		out->len--;   /* drop the '(' written above */
		return buffer_append_str(out, "NIL");
	}
	return buffer_append_u8(out, ')');
}

static int simple_envelope(const uint8_t *h, size_t hlen, struct buffer *out, struct buffer *tmp)
{
	static const char *const strs1[] = { "Date", "Subject" };
	static const char *const addrs[] = { "From", "Sender", "Reply-To", "To", "Cc", "Bcc" };
	static const char *const strs2[] = { "In-Reply-To", "Message-ID" };
	size_t n;
	const uint8_t *v;
	if (buffer_append_u8(out, '(') < 0)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		v = imap_header_value(h, hlen, strs1[i], tmp, &n);
		if (imap_write_string(out, v, n) < 0 || buffer_append_u8(out, ' ') < 0)
			return -1;
	}
	for (size_t i = 0; i < 6; i++) {
		v = imap_header_value(h, hlen, addrs[i], tmp, &n);
		if (v == NULL && (i == 1 || i == 2))   /* Sender, Reply-To default to From */
			v = imap_header_value(h, hlen, "From", tmp, &n);
		if (write_address_list(out, v, v != NULL ? n : 0) < 0 ||
		    buffer_append_u8(out, ' ') < 0)
			return -1;
	}
	for (size_t i = 0; i < 2; i++) {
		v = imap_header_value(h, hlen, strs2[i], tmp, &n);
		if (imap_write_string(out, v, n) < 0 ||
		    buffer_append_str(out, i == 0 ? " " : ")") < 0)
			return -1;
	}
	return 0;
}

static void upper_token(const uint8_t *p, size_t n, char *dst, size_t dstlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < dstlen; i++) {
		uint8_t c = p[i];
		if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\')
			continue;
		dst[o++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	dst[o] = '\0';
}

/* ("TYPE" "SUBTYPE" ("CHARSET" "x") NIL NIL "ENC" size [lines]) */
static int simple_body(const uint8_t *h, size_t hlen, const uint8_t *body, size_t blen,
		       struct buffer *out, struct buffer *tmp)
{
	char type[64] = "TEXT", subtype[64] = "PLAIN", charset[64] = "US-ASCII", enc[32] = "7BIT";
	size_t n;
	const uint8_t *v = imap_header_value(h, hlen, "Content-Transfer-Encoding", tmp, &n);
	if (v != NULL && n > 0)
		upper_token(v, n, enc, sizeof(enc));
	v = imap_header_value(h, hlen, "Content-Type", tmp, &n);
	if (v != NULL) {
		const uint8_t *slash = memchr(v, '/', n), *semi = memchr(v, ';', n);
		if (slash != NULL && (semi == NULL || slash < semi)) {
			upper_token(v, (size_t)(slash - v), type, sizeof(type));
			size_t end = semi != NULL ? (size_t)(semi - v) : n;
			upper_token(slash + 1, end - (size_t)(slash + 1 - v), subtype, sizeof(subtype));
		}
		for (size_t i = 0; semi != NULL && i + 8 <= n; i++)
			if (strncasecmp((const char *)v + i, "charset=", 8) == 0) {
				size_t k = i + 8, o = 0;
				while (k < n && v[k] != ';' && o + 1 < sizeof(charset)) {
					if (v[k] > ' ' && v[k] < 0x7f && v[k] != '"' && v[k] != '\\')
						charset[o++] = (char)v[k];
					k++;
				}
				charset[o] = '\0';
				break;
			}
		if (type[0] == '\0' || subtype[0] == '\0') {
			strcpy(type, "TEXT");
			strcpy(subtype, "PLAIN");
		}
	}
	bool text = strcmp(type, "TEXT") == 0;
	if (buffer_printf(out, "(\"%s\" \"%s\" ", type, subtype) < 0)
		return -1;
	if (text || charset[0] != '\0') {
		if (buffer_printf(out, "(\"CHARSET\" \"%s\")", charset[0] ? charset : "US-ASCII") < 0)
			return -1;
	} else if (buffer_append_str(out, "NIL") < 0) {
		return -1;
	}
	if (buffer_printf(out, " NIL NIL \"%s\" %zu", enc, blen) < 0)
		return -1;
	if (text) {
		size_t lines = 0;
		for (size_t i = 0; i < blen; i++)
			lines += body[i] == '\n';
		if (buffer_printf(out, " %zu", lines) < 0)
			return -1;
	}
	return buffer_append_u8(out, ')');
}

int imap_fetch_simple(const uint8_t *raw, size_t len, struct imap_fetch_simple *s)
{
	struct buffer tmp;
	memset(s, 0, sizeof(*s));
	buffer_init(&s->envelope, RD_STORE_MAX_CACHE_TEXT);
	buffer_init(&s->bodystructure, RD_STORE_MAX_CACHE_TEXT);
	buffer_init(&s->body, RD_STORE_MAX_CACHE_TEXT);
	buffer_init(&tmp, RD_STORE_MAX_CACHE_TEXT);
	size_t h = header_end(raw, len);
	const char *dummy;
	int r = simple_envelope(raw, h, &s->envelope, &tmp) < 0 ||
		simple_body(raw, h, raw + h, len - h, &s->body, &tmp) < 0 ||
		buffer_append(&s->bodystructure, s->body.data, s->body.len) < 0 ||
		buffer_cstr(&s->envelope, &dummy) < 0 || buffer_cstr(&s->body, &dummy) < 0 ||
		buffer_cstr(&s->bodystructure, &dummy) < 0 ? -1 : 0;
	buffer_free(&tmp);
	s->parts[0] = (struct imap_fetch_part){ .section = "", .header_offset = 0,
		.header_size = h, .body_offset = h, .body_size = len - h };
	/* a single-part message's part 1 is its body, its MIME header the
	 * message header (RFC 3501 6.4.5) */
	s->parts[1] = s->parts[0];
	s->parts[1].section = "1";
	return r;
}

void imap_fetch_simple_free(struct imap_fetch_simple *s)
{
	buffer_free(&s->envelope);
	buffer_free(&s->bodystructure);
	buffer_free(&s->body);
}
