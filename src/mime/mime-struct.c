/* mime-struct.c: the one pass that splits a message into its MIME tree.
 *
 * Lines are visited once, left to right. Open containers (multiparts and
 * message/rfc822 parts) sit on an explicit stack of at most
 * RD_MIME_MAX_DEPTH frames, so nesting never recurses. A line starting
 * with "--" is compared with the boundaries of the open multiparts through
 * prefix hashes: O(line prefix + frames) per line, never O(parts), so a
 * message costs time linear in its length. Boundaries match as prefixes
 * (as Dovecot does, tolerating trailing junk); the longest match wins, so
 * an outer boundary that extends an inner one is still found. A boundary
 * line closes every entity opened inside its multipart. */
#include "mime/mime-private.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct frame {
	uint32_t node;
	bool multipart;
	bool closed;        /* close delimiter seen: the epilogue runs */
	size_t blen;
	uint32_t bhash;
	char boundary[RD_MIME_MAX_BOUNDARY];
};

struct scan {
	struct mime_ctx *c;
	struct frame stack[RD_MIME_MAX_DEPTH];
	unsigned nframes;
	unsigned open_multiparts;   /* frames that still match boundaries */
	uint32_t cur;               /* entity whose header or body we are in */
	bool in_header;
	bool boundaries_on;         /* off once the part cap is reached */
	size_t lf;                  /* LFs before the current line */
	/* header field being read */
	bool in_field;
	enum mime_field field;
	size_t value_start;
	size_t nfields;
};

static uint32_t hash_step(uint32_t h, uint8_t ch)
{
	return h * 31u + ch;
}

static int node_new(struct scan *s, uint32_t parent, size_t start,
		    uint32_t *idx_r)
{
	struct mime_ctx *c = s->c;
	if (c->nnodes >= RD_MIME_MAX_PARTS)
		return -1;   /* callers check room first; never reached */
	if (c->nnodes == c->nodes_cap) {
		size_t ncap = c->nodes_cap ? c->nodes_cap * 2 : 16;
		if (ncap > RD_MIME_MAX_PARTS)
			ncap = RD_MIME_MAX_PARTS;
		struct mime_node *n = reallocarray(c->nodes, ncap, sizeof(*n));
		if (n == NULL)
			return -1;
		c->nodes = n;
		c->nodes_cap = ncap;
	}
	uint32_t idx = (uint32_t)c->nnodes++;
	struct mime_node *n = &c->nodes[idx];
	memset(n, 0, sizeof(*n));
	for (unsigned i = 0; i < MF_COUNT; i++)
		n->f[i].off = SIZE_MAX;
	n->hdr_start = n->hdr_end = n->body_start = n->body_end = start;
	n->body_lf0 = n->body_lf1 = s->lf;
	n->parent = parent;
	n->first_child = n->last_child = n->next_sibling = MIME_NONE;
	if (parent != MIME_NONE) {
		struct mime_node *p = &c->nodes[parent];
		n->depth = p->depth + 1;
		if (p->last_child == MIME_NONE)
			p->first_child = idx;
		else
			c->nodes[p->last_child].next_sibling = idx;
		p->last_child = idx;
		p->nchildren++;
	}
	s->cur = idx;
	s->in_header = true;
	s->in_field = false;
	s->nfields = 0;
	*idx_r = idx;
	return 0;
}

/* Ends the field being read; its value runs up to end. */
static void field_end(struct scan *s, size_t end)
{
	if (!s->in_field)
		return;
	s->in_field = false;
	struct mime_node *n = &s->c->nodes[s->cur];
	if (s->field == MF_COUNT || mime_span_present(n->f[s->field]))
		return;
	if (end < s->value_start)
		end = s->value_start;
	n->f[s->field].off = s->value_start;
	n->f[s->field].len = end - s->value_start;
}

static bool identity_encoding(const struct mime_ctx *c, const struct mime_node *n)
{
	struct mime_span v = n->f[MF_CONTENT_TRANSFER_ENCODING];
	struct mime_lex lx;
	const uint8_t *t;
	size_t tn;
	if (!mime_span_present(v))
		return true;
	mime_lex_init(&lx, c->msg + v.off, v.len);
	mime_lex_cfws(&lx);
	if (!mime_lex_token(&lx, &t, &tn))
		return true;
	return mime_ieq(t, tn, "7bit") || mime_ieq(t, tn, "8bit") ||
	       mime_ieq(t, tn, "binary");
}

/* Whether one more container fits: depth, frames, and a node to spare. */
static bool room_for_container(struct scan *s, const struct mime_node *n)
{
	if (n->depth >= RD_MIME_MAX_DEPTH || s->nframes >= RD_MIME_MAX_DEPTH) {
		s->c->truncated |= MIME_TRUNC_DEPTH;
		return false;
	}
	return s->boundaries_on && s->c->nnodes + 1 < RD_MIME_MAX_PARTS;
}

/* Opens a container: a multipart with its boundary, or (boundary NULL) a
 * message/rfc822, which matches no line and ends with its parent. */
static void push_frame(struct scan *s, uint32_t idx, const char *b, size_t blen)
{
	struct frame *f = &s->stack[s->nframes++];
	f->node = idx;
	f->multipart = b != NULL;
	f->closed = b == NULL;
	f->blen = blen;
	f->bhash = 0;
	for (size_t i = 0; i < blen; i++) {
		f->boundary[i] = b[i];
		f->bhash = hash_step(f->bhash, (uint8_t)b[i]);
	}
}

/* The header of s->cur ended at hdr_end; its body starts at body_start
 * (a line start with s->lf LFs before it). Decides leaf or container. */
static int header_done(struct scan *s, size_t hdr_end, size_t body_start)
{
	struct mime_ctx *c = s->c;
	uint32_t idx = s->cur;
	struct mime_node *n = &c->nodes[idx];
	char type[MIME_TYPE_MAX], sub[MIME_TYPE_MAX];

	field_end(s, hdr_end);
	n->hdr_end = hdr_end;
	n->body_start = n->body_end = body_start;
	n->body_lf0 = n->body_lf1 = s->lf;
	s->in_header = false;
	if (n->opaque)
		return 0;
	if (!mime_span_present(n->f[MF_CONTENT_TYPE]) && n->parent != MIME_NONE &&
	    c->nodes[n->parent].kind == NODE_MULTIPART) {
		mime_node_type(c, &c->nodes[n->parent], type, sub);
		n->digest_child = strcmp(sub, "DIGEST") == 0;
	}
	mime_node_type(c, n, type, sub);
	if (strcmp(type, "MULTIPART") == 0) {
		struct mime_param p;
		char b[RD_MIME_MAX_BOUNDARY];
		size_t blen = SIZE_MAX;
		if (mime_param_find(c, n->f[MF_CONTENT_TYPE], "boundary", &p))
			blen = mime_unquote(p.value, p.value_len, p.quoted, b, sizeof(b));
		if (blen == 0 || blen == SIZE_MAX || !room_for_container(s, n)) {
			n->opaque = true;
			return 0;
		}
		push_frame(s, idx, b, blen);
		s->open_multiparts++;
		n->kind = NODE_MULTIPART;
		return 0;
	}
	if (strcmp(type, "MESSAGE") == 0 &&
	    (strcmp(sub, "RFC822") == 0 || strcmp(sub, "GLOBAL") == 0)) {
		if (!identity_encoding(c, n) || !room_for_container(s, n)) {
			n->opaque = true;
			return 0;
		}
		push_frame(s, idx, NULL, 0);
		n->kind = NODE_MESSAGE;
		uint32_t child;
		if (node_new(s, idx, body_start, &child) < 0)
			return -1;
		c->nodes[child].is_message = true;
	}
	return 0;
}

/* Ends node idx's body just before the line at ls (whose preceding line
 * break belongs to the boundary, RFC 2046 5.1.1), or at the end. */
static void body_end(struct scan *s, uint32_t idx, size_t ls, bool at_eof)
{
	struct mime_node *n = &s->c->nodes[idx];
	const uint8_t *m = s->c->msg;
	size_t e = ls, lf = s->lf;
	if (!at_eof && e > 0 && m[e - 1] == '\n') {
		e--;
		lf--;
		if (e > 0 && m[e - 1] == '\r')
			e--;
	}
	if (e < n->body_start) {
		e = n->body_start;
		lf = n->body_lf0;
	}
	n->body_end = e;
	n->body_lf1 = lf;
}

/* Index of the frame whose boundary the line p[0..n) (after "--") starts
 * with, longest first; -1 if none. */
static int boundary_match(const struct scan *s, const uint8_t *p, size_t n,
			  bool *close_r)
{
	uint32_t h[RD_MIME_MAX_BOUNDARY + 1];
	size_t max = n < RD_MIME_MAX_BOUNDARY ? n : RD_MIME_MAX_BOUNDARY;
	int best = -1;
	h[0] = 0;
	for (size_t i = 0; i < max; i++)
		h[i + 1] = hash_step(h[i], p[i]);
	for (unsigned i = s->nframes; i-- > 0;) {
		const struct frame *f = &s->stack[i];
		if (!f->multipart || f->closed || f->blen > max ||
		    h[f->blen] != f->bhash)
			continue;
		if (best >= 0 && s->stack[best].blen >= f->blen)
			continue;
		if (memcmp(p, f->boundary, f->blen) == 0)
			best = (int)i;
	}
	if (best >= 0) {
		size_t bl = s->stack[best].blen;
		*close_r = n >= bl + 2 && p[bl] == '-' && p[bl + 1] == '-';
	}
	return best;
}

static int on_boundary(struct scan *s, int k, bool is_close, size_t ls,
		       size_t next)
{
	struct mime_ctx *c = s->c;
	/* A header cut short by the boundary: the entity has no body. An
	 * embedded message it opens has an empty header in turn. */
	while (s->in_header) {
		size_t e = ls, lf = s->lf, saved = s->lf;
		if (e > 0 && c->msg[e - 1] == '\n') {
			e--;
			lf--;
			if (e > 0 && c->msg[e - 1] == '\r')
				e--;
		}
		if (e < c->nodes[s->cur].hdr_start) {
			e = ls;   /* an empty header: the boundary is its first line */
			lf = saved;
		}
		s->lf = lf;
		int r = header_done(s, e, e);
		s->lf = saved;
		if (r < 0)
			return -1;
	}
	if (s->nframes == 0 || s->stack[s->nframes - 1].node != s->cur)
		body_end(s, s->cur, ls, false);
	while (s->nframes > (unsigned)k + 1) {
		struct frame *f = &s->stack[--s->nframes];
		if (f->multipart && !f->closed)
			s->open_multiparts--;
		body_end(s, f->node, ls, false);
	}
	struct frame *f = &s->stack[k];
	s->cur = f->node;
	s->in_header = false;
	if (is_close) {
		f->closed = true;
		s->open_multiparts--;
		return 0;
	}
	uint32_t child;
	bool last = c->nnodes + 2 >= RD_MIME_MAX_PARTS;
	/* The new part starts after this line's LF. */
	bool lf = next > ls && c->msg[next - 1] == '\n';
	s->lf += lf;
	int r = node_new(s, f->node, next, &child);
	s->lf -= lf;
	if (r < 0)
		return -1;
	if (last) {
		/* The part cap: this part takes the rest of the message. */
		c->nodes[child].opaque = true;
		s->boundaries_on = false;
		c->truncated |= MIME_TRUNC_PARTS;
	}
	return 0;
}

static int header_line(struct scan *s, size_t ls, size_t ce, size_t le)
{
	struct mime_ctx *c = s->c;
	const uint8_t *m = c->msg;
	struct mime_node *n = &c->nodes[s->cur];
	if (ce == ls) {
		/* The empty line ends the header; it belongs to it. */
		field_end(s, ls);
		bool lf = le > ls && c->msg[le - 1] == '\n';
		s->lf += lf;
		int r = header_done(s, le, le);
		s->lf -= lf;
		return r;
	}
	if (le - n->hdr_start > RD_MIME_MAX_HEADER_SIZE) {
		/* Too big: the header ends here, this line starts the body. */
		c->truncated |= MIME_TRUNC_HEADER;
		return header_done(s, ls, ls);
	}
	if (m[ls] == ' ' || m[ls] == '\t')
		return 0;   /* folded: the field being read goes on */
	field_end(s, ls);
	const uint8_t *colon = memchr(m + ls, ':', ce - ls);
	if (colon == NULL)
		return 0;   /* not a field: skipped */
	if (s->nfields >= RD_MIME_MAX_HEADER_FIELDS) {
		c->truncated |= MIME_TRUNC_HEADER;
		return 0;
	}
	s->nfields++;
	size_t nl = (size_t)(colon - (m + ls));
	while (nl > 0 && (m[ls + nl - 1] == ' ' || m[ls + nl - 1] == '\t'))
		nl--;
	s->in_field = true;
	s->field = mime_field_lookup(m + ls, nl);
	s->value_start = (size_t)(colon - m) + 1;
	return 0;
}

/* The value of a field runs to the end of its last line without the line
 * break: field_end gets the next line's start, so trim here. */
static void trim_values(struct mime_ctx *c)
{
	for (size_t i = 0; i < c->nnodes; i++)
		for (unsigned f = 0; f < MF_COUNT; f++) {
			struct mime_span *v = &c->nodes[i].f[f];
			while (mime_span_present(*v) && v->len > 0 &&
			       (c->msg[v->off + v->len - 1] == '\n' ||
				c->msg[v->off + v->len - 1] == '\r'))
				v->len--;
		}
}

int mime_scan(struct mime_ctx *c)
{
	struct scan s;
	uint32_t root;
	const uint8_t *m = c->msg;
	size_t pos = 0;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.boundaries_on = true;
	if (node_new(&s, MIME_NONE, 0, &root) < 0)
		return -1;
	c->nodes[root].is_message = true;
	while (pos < c->len) {
		size_t ls = pos;
		const uint8_t *nl = memchr(m + pos, '\n', c->len - pos);
		size_t le = nl != NULL ? (size_t)(nl - m) + 1 : c->len;
		size_t ce = nl != NULL ? (size_t)(nl - m) : c->len;
		if (ce > ls && m[ce - 1] == '\r')
			ce--;
		bool done = false;
		if (s.open_multiparts > 0 && s.boundaries_on && ce - ls >= 2 &&
		    m[ls] == '-' && m[ls + 1] == '-') {
			bool is_close = false;
			int k = boundary_match(&s, m + ls + 2, ce - ls - 2, &is_close);
			if (k >= 0) {
				if (on_boundary(&s, k, is_close, ls, le) < 0)
					return -1;
				done = true;
			}
		}
		if (!done && s.in_header && header_line(&s, ls, ce, le) < 0)
			return -1;
		pos = le;
		if (nl != NULL)
			s.lf++;
	}
	/* The end closes everything still open. */
	while (s.in_header) {
		struct mime_node *n = &c->nodes[s.cur];
		if (c->len - n->hdr_start > RD_MIME_MAX_HEADER_SIZE)
			c->truncated |= MIME_TRUNC_HEADER;
		if (header_done(&s, c->len, c->len) < 0)
			return -1;
	}
	body_end(&s, s.cur, c->len, true);
	for (unsigned i = 0; i < s.nframes; i++)
		body_end(&s, s.stack[i].node, c->len, true);
	trim_values(c);
	return 0;
}

/* ---- section numbers and the public part map ---- */

static int set_section(struct mime_node *n, const char *parent, uint32_t num)
{
	char prefix[MIME_SECTION_SIZE];
	memcpy(prefix, parent, sizeof(prefix));
	int r = prefix[0] == '\0'
		? snprintf(n->section, sizeof(n->section), "%u", (unsigned)num)
		: snprintf(n->section, sizeof(n->section), "%s.%u", prefix,
			   (unsigned)num);
	return r < 0 || (size_t)r >= sizeof(n->section) ? -1 : 0;
}

/* Whether node i has a part number of its own (see mime.h). */
static bool numbered(const struct mime_ctx *c, size_t i)
{
	const struct mime_node *n = &c->nodes[i];
	return !n->is_message || n->kind != NODE_MULTIPART;
}

int mime_sections(struct mime_ctx *c, struct mime_result *out)
{
	/* Nodes are in preorder: a parent's section is set before its
	 * children's. */
	size_t count = 1;
	for (size_t i = 0; i < c->nnodes; i++)
		c->nodes[i].section[0] = '\0';
	if (c->nodes[0].kind != NODE_MULTIPART)
		strcpy(c->nodes[0].section, "1");
	/* Assign numbers walking each parent's children once. */
	for (size_t i = 0; i < c->nnodes; i++) {
		struct mime_node *p = &c->nodes[i];
		if (p->kind == NODE_MULTIPART) {
			uint32_t num = 1;
			for (uint32_t k = p->first_child; k != MIME_NONE;
			     k = c->nodes[k].next_sibling, num++)
				if (set_section(&c->nodes[k], p->section, num) < 0)
					return -1;
		} else if (p->kind == NODE_MESSAGE && p->first_child != MIME_NONE) {
			struct mime_node *e = &c->nodes[p->first_child];
			if (e->kind == NODE_MULTIPART)
				strcpy(e->section, p->section);
			else if (set_section(e, p->section, 1) < 0)
				return -1;
		}
		if (numbered(c, i))
			count++;
	}
	out->parts = calloc(count, sizeof(*out->parts));
	if (out->parts == NULL)
		return -1;
	struct mime_part *mp = &out->parts[0];
	const struct mime_node *r = &c->nodes[0];
	mp->header_offset = mp->msg_header_offset = r->hdr_start;
	mp->header_size = mp->msg_header_size = r->hdr_end - r->hdr_start;
	mp->body_offset = mp->msg_body_offset = r->body_start;
	mp->body_size = mp->msg_body_size = r->body_end - r->body_start;
	mp->has_message = true;
	out->nparts = 1;
	for (size_t i = 0; i < c->nnodes; i++) {
		const struct mime_node *n = &c->nodes[i];
		if (!numbered(c, i))
			continue;
		mp = &out->parts[out->nparts++];
		memcpy(mp->section, n->section, sizeof(mp->section));
		mp->depth = n->depth;
		mp->header_offset = n->hdr_start;
		mp->header_size = n->hdr_end - n->hdr_start;
		mp->body_offset = n->body_start;
		mp->body_size = n->body_end - n->body_start;
		if (n->kind == NODE_MESSAGE && n->first_child != MIME_NONE) {
			const struct mime_node *e = &c->nodes[n->first_child];
			mp->has_message = true;
			mp->msg_header_offset = e->hdr_start;
			mp->msg_header_size = e->hdr_end - e->hdr_start;
			mp->msg_body_offset = e->body_start;
			mp->msg_body_size = e->body_end - e->body_start;
		}
	}
	return 0;
}
