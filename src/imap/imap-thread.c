/* imap-thread.c: RFC 5256 THREAD=REFERENCES (see imap-thread.h).
 *
 * Every message and every referenced-but-absent id is a node in one array,
 * linked by index (parent, first/last child, prev/next sibling), so moving
 * a subtree is O(1) and nothing holds pointers across a realloc. Step 1's
 * loop checks ("is the would-be parent inside the child's tree?") ask for
 * the root of the parent's tree; a link-cut forest answers that in
 * amortised logarithmic time while links are made and broken, where
 * walking up would make a 100,000-deep chain cost 10^10 steps. */
#include "imap/imap-thread.h"
#include "imap/imap-sort.h"
#include "limits.h"
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

/* ---- msg-id lexing ---- */

/* s[i] is '(': the index after the comment (nesting counted, quoted-pairs
 * skipped); an unclosed comment runs to the end. */
static size_t skip_comment(const uint8_t *s, size_t len, size_t i)
{
	size_t level = 0;
	while (i < len) {
		uint8_t c = s[i++];
		if (c == '\\' && i < len)
			i++;
		else if (c == '(')
			level++;
		else if (c == ')' && --level == 0)
			break;
	}
	return i;
}

/* RFC 5322 msg-id: a non-empty id-left "@" non-empty id-right. */
static bool msgid_valid(const uint8_t *p, size_t n)
{
	const uint8_t *at = n > 0 ? memchr(p, '@', n) : NULL;
	return at != NULL && at != p && p[n - 1] != '@';
}

int imap_msgid_next(const uint8_t *s, size_t len, size_t *pos, struct buffer *out)
{
	size_t i = *pos;
	while (i < len) {
		if (s[i] == '(') {
			i = skip_comment(s, len, i);
			continue;
		}
		if (s[i] != '<') {
			i++;
			continue;
		}
		buffer_reset(out);
		bool quoted = false, again = false;
		size_t j = i + 1;
		for (; j < len; j++) {
			uint8_t c = s[j];
			if (c == '"') {
				quoted = !quoted;
				continue;
			}
			if (c == '\r' || c == '\n')
				continue;   /* folding, even inside quotes */
			if (quoted && c == '\\' && j + 1 < len) {
				c = s[++j];
			} else if (!quoted) {
				if (c == '>')
					break;
				if (c == '<') {   /* the first '<' was clutter */
					again = true;
					break;
				}
				if (c == ' ' || c == '\t')
					continue;
				if (c == '(') {
					j = skip_comment(s, len, j) - 1;
					continue;
				}
			}
			if (buffer_append_u8(out, c) < 0)
				return -1;
		}
		if (again) {
			i = j;
			continue;
		}
		if (j >= len)
			break;
		i = j + 1;
		if (msgid_valid(out->data, out->len)) {
			*pos = i;
			return 1;
		}
	}
	*pos = len;
	return 0;
}

/* ---- reply or forward ---- */

/* Index after the subj-blob "[...]" and its white space at p[i], or 0. */
static size_t blob_end(const char *p, size_t i, size_t end)
{
	if (i >= end || p[i] != '[')
		return 0;
	size_t j = i + 1;
	while (j < end && p[j] != '[' && p[j] != ']')
		j++;
	if (j >= end || p[j] != ']')
		return 0;
	for (j++; j < end && p[j] == ' ';)
		j++;
	return j;
}

/* Would base-subject extraction of the normalised (decoded, single-spaced,
 * upper-cased) subject p[a..b) remove a reply/forward marker? Follows the
 * extraction's order: trailers first, then leaders, where only blobs and
 * white space go without making it a reply, then the "[fwd: ...]" wrapper. */
static bool marks_reply(const char *p, size_t a, size_t b)
{
	while (b > a && p[b - 1] == ' ')
		b--;
	if (b - a >= 5 && memcmp(p + b - 5, "(FWD)", 5) == 0)
		return true;
	for (;;) {
		while (a < b && p[a] == ' ')
			a++;
		size_t j = a, e;
		while ((e = blob_end(p, j, b)) != 0)
			j = e;
		size_t k = b - j >= 3 && memcmp(p + j, "FWD", 3) == 0 ? 3 :
			   b - j >= 2 && (memcmp(p + j, "FW", 2) == 0 || memcmp(p + j, "RE", 2) == 0) ? 2 : 0;
		if (k > 0) {
			size_t q = j + k;
			while (q < b && p[q] == ' ')
				q++;
			if ((e = blob_end(p, q, b)) != 0)
				q = e;
			if (q < b && p[q] == ':')
				return true;
		}
		e = blob_end(p, a, b);
		if (e == 0 || e >= b)
			break;   /* a lone blob stays: it is the subject */
		a = e;
	}
	return b - a >= 6 && memcmp(p + a, "[FWD:", 5) == 0 && p[b - 1] == ']';
}

int imap_thread_subject(const uint8_t *s, size_t len, struct buffer *out, bool *reply_r)
{
	*reply_r = false;
	if (imap_base_subject(s, len, out) < 0)
		return -1;
	/* The text extraction works on (encoded-words decoded, white space
	 * collapsed) comes from imap_base_subject itself: octet 1 at both
	 * ends stops every strip rule, so the markers are judged on exactly
	 * what extraction saw. */
	size_t glen;
	if (__builtin_add_overflow(len, 4, &glen))
		return -1;
	uint8_t *g = malloc(glen);
	if (g == NULL)
		return -1;
	g[0] = 1;
	g[1] = ' ';
	if (len > 0)
		memcpy(g + 2, s, len);
	g[len + 2] = ' ';
	g[len + 3] = 1;
	struct buffer d;
	buffer_init(&d, SIZE_MAX);
	int r = imap_base_subject(g, glen, &d);
	free(g);
	if (r == 0 && d.len >= 3 && d.data[0] == 1 && d.data[d.len - 2] == 1)
		*reply_r = marks_reply((const char *)d.data, 1, d.len - 2);
	buffer_free(&d);
	return r;
}

/* ---- keyed hash (SipHash-2-4) ---- */

static uint64_t le64(const uint8_t *p)
{
	uint64_t r = 0;
	for (unsigned i = 0; i < 8; i++)
		r |= (uint64_t)p[i] << (8 * i);
	return r;
}

static uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static void sip_rounds(uint64_t v[4], unsigned n)
{
	while (n-- > 0) {
		v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
		v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
		v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
		v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
	}
}

static uint64_t siphash(const uint8_t key[IMAP_THREAD_KEY_SIZE], const uint8_t *m, size_t n)
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
			  k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull };
	size_t i = 0;
	for (; n - i >= 8; i += 8) {
		uint64_t w = le64(m + i);
		v[3] ^= w;
		sip_rounds(v, 2);
		v[0] ^= w;
	}
	uint64_t last = (uint64_t)n << 56;
	for (unsigned k = 0; i + k < n; k++)
		last |= (uint64_t)m[i + k] << (8 * k);
	v[3] ^= last;
	sip_rounds(v, 2);
	v[0] ^= last;
	v[2] ^= 0xff;
	sip_rounds(v, 4);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- string -> node table (open addressing, linear probing) ---- */

struct slot {
	const uint8_t *key;     /* NULL: empty; borrowed, outlives the table */
	size_t len;
	uint64_t hash;
	uint32_t node;
};

struct table {
	struct slot *slots;
	size_t cap, n;          /* cap a power of two, n * 2 <= cap */
	const uint8_t *hkey;
};

static struct slot *table_slot(const struct table *t, const uint8_t *k, size_t len,
			       uint64_t h)
{
	size_t i = (size_t)h & (t->cap - 1);
	while (t->slots[i].key != NULL &&
	       !(t->slots[i].hash == h && t->slots[i].len == len &&
		 memcmp(t->slots[i].key, k, len) == 0))
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

static int table_grow(struct table *t)
{
	size_t ncap;
	if (__builtin_mul_overflow(t->cap ? t->cap : 32, 2, &ncap))
		return -1;
	struct slot *ns = calloc(ncap, sizeof(*ns));
	if (ns == NULL)
		return -1;
	struct table nt = { ns, ncap, t->n, t->hkey };
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].key != NULL)
			*table_slot(&nt, t->slots[i].key, t->slots[i].len, t->slots[i].hash) =
				t->slots[i];
	free(t->slots);
	*t = nt;
	return 0;
}

/* The slot for k (found, or empty for table_put); NULL when memory ran out
 * making room. */
static struct slot *table_find(struct table *t, const uint8_t *k, size_t len)
{
	if ((t->n + 1) * 2 > t->cap && table_grow(t) < 0)
		return NULL;
	return table_slot(t, k, len, siphash(t->hkey, k, len));
}

static void table_put(struct table *t, struct slot *sl, const uint8_t *k, size_t len,
		      uint32_t node)
{
	*sl = (struct slot){ k, len, siphash(t->hkey, k, len), node };
	t->n++;
}

/* ---- the forest ---- */

struct node {
	uint32_t parent, first, last, prev, next;   /* the thread tree */
	uint32_t lp, lc[2];     /* link-cut forest (step 1 only) */
	uint32_t msg;           /* index into v, NONE for a dummy */
};

/* A message's parsed ids: spans into the arena. */
struct span {
	size_t off, len;
};
struct msg_ids {
	bool has_id;
	struct span id;
	size_t ref0, nref;      /* into ctx.refs */
};

struct ctx {
	const struct imap_thread_msg *v;
	size_t n;
	struct node *nd;
	size_t nn, ncap;
	uint32_t *order;        /* node k is the message v[order[k]] */
	struct msg_ids *ids;    /* per node k < n */
	struct buffer arena;    /* normalised ids, back to back */
	struct span *refs;
	size_t nrefs, refs_cap;
	uint32_t *tmp;          /* scratch list of nodes, tmp_cap long */
	size_t tmp_cap;
	uint32_t root;
};

/* arr (*cap elements of elem octets) reallocated to twice as many (64 at
 * first); NULL, arr untouched, on overflow or when memory runs out. */
static void *grow(void *arr, size_t *cap, size_t elem)
{
	size_t ncap;
	void *p;
	if (__builtin_mul_overflow(*cap ? *cap : 64, 2, &ncap) ||
	    (p = reallocarray(arr, ncap, elem)) == NULL)
		return NULL;
	*cap = ncap;
	return p;
}

static int new_node(struct ctx *c, uint32_t msg, uint32_t *idx_r)
{
	if (c->nn >= NONE - 1)
		return -1;
	if (c->nn == c->ncap) {
		struct node *p = grow(c->nd, &c->ncap, sizeof(*p));
		if (p == NULL)
			return -1;
		c->nd = p;
	}
	c->nd[c->nn] = (struct node){ NONE, NONE, NONE, NONE, NONE, NONE, { NONE, NONE }, msg };
	*idx_r = (uint32_t)c->nn++;
	return 0;
}

static void tree_unlink(struct node *nd, uint32_t x)
{
	uint32_t p = nd[x].parent;
	if (p == NONE)
		return;
	if (nd[x].prev != NONE)
		nd[nd[x].prev].next = nd[x].next;
	else
		nd[p].first = nd[x].next;
	if (nd[x].next != NONE)
		nd[nd[x].next].prev = nd[x].prev;
	else
		nd[p].last = nd[x].prev;
	nd[x].parent = nd[x].prev = nd[x].next = NONE;
}

static void tree_append(struct node *nd, uint32_t p, uint32_t x)
{
	nd[x].parent = p;
	nd[x].next = NONE;
	nd[x].prev = nd[p].last;
	if (nd[p].last != NONE)
		nd[nd[p].last].next = x;
	else
		nd[p].first = x;
	nd[p].last = x;
}

/* Moves every child of from under to. */
static void tree_adopt(struct node *nd, uint32_t to, uint32_t from)
{
	uint32_t ch;
	while ((ch = nd[from].first) != NONE) {
		tree_unlink(nd, ch);
		tree_append(nd, to, ch);
	}
}

/* ---- link-cut forest: the root of a node's tree while step 1 links
 * and cuts. lp is the splay parent or, at a splay root, the path parent. */

static bool lct_is_root(const struct node *nd, uint32_t x)
{
	uint32_t p = nd[x].lp;
	return p == NONE || (nd[p].lc[0] != x && nd[p].lc[1] != x);
}

static void lct_rotate(struct node *nd, uint32_t x)
{
	uint32_t y = nd[x].lp, z = nd[y].lp;
	int k = nd[y].lc[1] == x;
	if (!lct_is_root(nd, y))
		nd[z].lc[nd[z].lc[1] == y] = x;
	nd[x].lp = z;
	nd[y].lc[k] = nd[x].lc[!k];
	if (nd[x].lc[!k] != NONE)
		nd[nd[x].lc[!k]].lp = y;
	nd[x].lc[!k] = y;
	nd[y].lp = x;
}

static void lct_splay(struct node *nd, uint32_t x)
{
	while (!lct_is_root(nd, x)) {
		uint32_t y = nd[x].lp;
		if (!lct_is_root(nd, y)) {
			uint32_t z = nd[y].lp;
			lct_rotate(nd, (nd[y].lc[0] == x) == (nd[z].lc[0] == y) ? y : x);
		}
		lct_rotate(nd, x);
	}
}

/* Makes the path from x's tree root to x preferred; x ends a splay root. */
static void lct_access(struct node *nd, uint32_t x)
{
	uint32_t below = NONE;
	for (uint32_t y = x; y != NONE; below = y, y = nd[y].lp) {
		lct_splay(nd, y);
		nd[y].lc[1] = below;
	}
	lct_splay(nd, x);
}

static uint32_t lct_find_root(struct node *nd, uint32_t x)
{
	lct_access(nd, x);
	while (nd[x].lc[0] != NONE)
		x = nd[x].lc[0];
	lct_splay(nd, x);   /* keeps the next walk short */
	return x;
}

/* x (a tree root) under p, in both structures. */
static void link_under(struct node *nd, uint32_t x, uint32_t p)
{
	lct_access(nd, x);
	nd[x].lp = p;
	tree_append(nd, p, x);
}

static void cut_parent(struct node *nd, uint32_t x)
{
	lct_access(nd, x);
	uint32_t up = nd[x].lc[0];
	if (up != NONE) {
		nd[up].lp = NONE;
		nd[x].lc[0] = NONE;
	}
	tree_unlink(nd, x);
}

/* Would x (a root) under p close a loop? */
static bool would_loop(struct node *nd, uint32_t x, uint32_t p)
{
	return x == p || lct_find_root(nd, p) == x;
}

/* ---- step 1 ---- */

static int push_ref(struct ctx *c, size_t off, size_t len)
{
	if (c->nrefs == c->refs_cap) {
		struct span *p = grow(c->refs, &c->refs_cap, sizeof(*p));
		if (p == NULL)
			return -1;
		c->refs = p;
	}
	c->refs[c->nrefs++] = (struct span){ off, len };
	return 0;
}

/* Appends the valid ids of s[0..len) to c->refs (all of them, or only the
 * first when one is true); returns how many, or -1. */
static long parse_ids(struct ctx *c, const uint8_t *s, size_t len, bool one,
		      struct buffer *tmp)
{
	size_t pos = 0;
	long k = 0;
	int r;
	while (s != NULL && (r = imap_msgid_next(s, len, &pos, tmp)) != 0) {
		size_t off = c->arena.len;
		if (r < 0 || buffer_append(&c->arena, tmp->data, tmp->len) < 0 ||
		    push_ref(c, off, tmp->len) < 0)
			return -1;
		k++;
		if (one)
			break;
	}
	return k;
}

/* Every message's Message-ID and references, normalised into the arena;
 * References keeps its last RD_IMAP_MAX_REFERENCES ids, else the first id
 * of In-Reply-To is the one reference (RFC 5256 3). */
static int parse_all(struct ctx *c)
{
	struct buffer tmp;
	buffer_init(&tmp, SIZE_MAX);
	int r = 0;
	for (size_t k = 0; k < c->n && r == 0; k++) {
		const struct imap_thread_msg *m = &c->v[c->order[k]];
		struct msg_ids *mi = &c->ids[k];
		long got = parse_ids(c, m->message_id, m->message_id_len, true, &tmp);
		if (got > 0) {
			mi->has_id = true;
			mi->id = c->refs[--c->nrefs];
		}
		mi->ref0 = c->nrefs;
		if (got >= 0)
			got = parse_ids(c, m->references, m->references_len, false, &tmp);
		if (got == 0)
			got = parse_ids(c, m->in_reply_to, m->in_reply_to_len, true, &tmp);
		if (got < 0) {
			r = -1;
			break;
		}
		mi->nref = c->nrefs - mi->ref0;
		if (mi->nref > RD_IMAP_MAX_REFERENCES) {
			memmove(&c->refs[mi->ref0], &c->refs[c->nrefs - RD_IMAP_MAX_REFERENCES],
				RD_IMAP_MAX_REFERENCES * sizeof(*c->refs));
			mi->nref = RD_IMAP_MAX_REFERENCES;
			c->nrefs = mi->ref0 + mi->nref;
		}
	}
	buffer_free(&tmp);
	return r;
}

/* The node for id (a dummy made on first sight); NONE when memory ran out. */
static uint32_t id_node(struct ctx *c, struct table *ids, struct span sp)
{
	const uint8_t *k = c->arena.data + sp.off;
	struct slot *sl = table_find(ids, k, sp.len);
	if (sl == NULL)
		return NONE;
	if (sl->key != NULL)
		return sl->node;
	uint32_t x;
	if (new_node(c, NONE, &x) < 0)
		return NONE;
	table_put(ids, sl, k, sp.len, x);
	return x;
}

/* Steps 1 A and B for the message at node m. */
static int link_message(struct ctx *c, struct table *ids, uint32_t m)
{
	uint32_t r[RD_IMAP_MAX_REFERENCES];
	size_t nr = 0;
	const struct msg_ids *mi = &c->ids[m];
	for (size_t i = 0; i < mi->nref; i++) {
		uint32_t x = id_node(c, ids, c->refs[mi->ref0 + i]);
		if (x == NONE)
			return -1;
		if (x != m)   /* a message citing itself: the citation is ignored */
			r[nr++] = x;
	}
	struct node *nd = c->nd;
	for (size_t i = 0; i + 1 < nr; i++) {
		/* an existing parent stays: References may have been cut short */
		if (nd[r[i + 1]].parent == NONE && !would_loop(nd, r[i + 1], r[i]))
			link_under(nd, r[i + 1], r[i]);
	}
	uint32_t p = nr > 0 ? r[nr - 1] : NONE;
	if (nd[m].parent == p)
		return 0;
	if (nd[m].parent != NONE)
		cut_parent(nd, m);
	if (p != NONE && !would_loop(nd, m, p))
		link_under(nd, m, p);
	return 0;
}

static int step1(struct ctx *c, const uint8_t *key)
{
	struct table ids = { .hkey = key };
	int r = 0;
	/* The first message (by sequence) with an id owns it; later ones with
	 * the same id, and those without, are unique by having no entry. */
	for (uint32_t k = 0; k < c->n && r == 0; k++) {
		if (!c->ids[k].has_id)
			continue;
		const uint8_t *id = c->arena.data + c->ids[k].id.off;
		struct slot *sl = table_find(&ids, id, c->ids[k].id.len);
		if (sl == NULL)
			r = -1;
		else if (sl->key == NULL)
			table_put(&ids, sl, id, c->ids[k].id.len, k);
	}
	for (uint32_t k = 0; k < c->n && r == 0; k++)
		r = link_message(c, &ids, k);
	free(ids.slots);
	return r;
}

/* ---- steps 2 to 6 ---- */

static bool is_dummy(const struct ctx *c, uint32_t x)
{
	return c->nd[x].msg == NONE;
}

/* The message a node sorts and is named by: itself, or a dummy's first
 * child; NULL for a childless dummy. */
static const struct imap_thread_msg *rep(const struct ctx *c, uint32_t x)
{
	if (is_dummy(c, x))
		x = c->nd[x].first;
	return x == NONE || is_dummy(c, x) ? NULL : &c->v[c->nd[x].msg];
}

/* RFC 5256 2.2: sent date, then sequence number. */
static int cmp_nodes(const void *a, const void *b, void *arg)
{
	const struct ctx *c = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	const struct imap_thread_msg *mx = rep(c, x), *my = rep(c, y);
	if (mx == NULL || my == NULL)
		return mx != NULL ? -1 : my != NULL ? 1 : (x > y) - (x < y);
	if (mx->date != my->date)
		return mx->date < my->date ? -1 : 1;
	if (mx->seq != my->seq)
		return mx->seq < my->seq ? -1 : 1;
	return (x > y) - (x < y);
}

static void sort_children(struct ctx *c, uint32_t p)
{
	struct node *nd = c->nd;
	size_t k = 0;
	if (nd[p].first == nd[p].last)
		return;
	for (uint32_t x = nd[p].first; x != NONE; x = nd[x].next)
		c->tmp[k++] = x;
	qsort_r(c->tmp, k, sizeof(*c->tmp), cmp_nodes, c);
	nd[p].first = nd[p].last = NONE;
	for (size_t i = 0; i < k; i++)
		tree_append(nd, p, c->tmp[i]);
}

/* Steps 2 and 3: every parentless node under the root, then dummies
 * pruned, children before parents (a post-order list in c->tmp). */
static int steps2_3(struct ctx *c)
{
	if (new_node(c, NONE, &c->root) < 0)
		return -1;
	struct node *nd = c->nd;
	for (uint32_t x = 0; x < c->root; x++)
		if (nd[x].parent == NONE)
			tree_append(nd, c->root, x);
	size_t k = 0;
	uint32_t x = nd[c->root].first;
	while (x != NONE) {
		while (nd[x].first != NONE)
			x = nd[x].first;
		c->tmp[k++] = x;
		while (nd[x].next == NONE && nd[x].parent != c->root) {
			x = nd[x].parent;
			c->tmp[k++] = x;
		}
		x = nd[x].next;
	}
	for (size_t i = 0; i < k; i++) {
		x = c->tmp[i];
		if (!is_dummy(c, x))
			continue;
		uint32_t p = nd[x].parent;
		if (p != c->root || nd[x].first == nd[x].last) {
			/* promoted, except that a dummy at the top with two or
			 * more children stays to hold them together */
			tree_adopt(nd, p, x);
			tree_unlink(nd, x);
		}
	}
	return 0;
}

/* The thread subject (step 5 B i): "" when empty. */
static const char *thread_subject(const struct ctx *c, uint32_t x)
{
	const struct imap_thread_msg *m = rep(c, x);
	return m != NULL && m->subject != NULL ? m->subject : "";
}

/* Step 5 C (iv) for cur against t, the table's entry; *t_r may become a
 * new dummy holding both. */
static int merge(struct ctx *c, uint32_t cur, uint32_t *t_r)
{
	uint32_t t = *t_r;
	struct node *nd = c->nd;
	bool dc = is_dummy(c, cur), dt = is_dummy(c, t);
	if (dc && dt) {
		tree_adopt(nd, t, cur);
		tree_unlink(nd, cur);
	} else if (dt || (!dc && c->v[nd[cur].msg].reply && !c->v[nd[t].msg].reply)) {
		tree_unlink(nd, cur);
		tree_append(nd, t, cur);
	} else if (dc) {
		/* cannot happen (5 B keeps the first dummy), kept sound anyway */
		tree_unlink(nd, t);
		tree_append(nd, cur, t);
		*t_r = cur;
	} else {
		uint32_t d;
		if (new_node(c, NONE, &d) < 0)
			return -1;
		nd = c->nd;
		tree_unlink(nd, t);
		tree_unlink(nd, cur);
		tree_append(nd, c->root, d);
		tree_append(nd, d, t);
		tree_append(nd, d, cur);
		*t_r = d;
	}
	return 0;
}

static int step5(struct ctx *c, const uint8_t *key)
{
	struct table subj = { .hkey = key };
	size_t k = 0;
	int r = 0;
	for (uint32_t x = c->nd[c->root].first; x != NONE; x = c->nd[x].next)
		c->tmp[k++] = x;
	/* B: one thread per subject, preferring a dummy, then a non-reply */
	for (size_t i = 0; i < k && r == 0; i++) {
		uint32_t x = c->tmp[i];
		const char *s = thread_subject(c, x);
		if (*s == '\0')
			continue;
		struct slot *sl = table_find(&subj, (const uint8_t *)s, strlen(s));
		if (sl == NULL)
			r = -1;
		else if (sl->key == NULL)
			table_put(&subj, sl, (const uint8_t *)s, strlen(s), x);
		else if (!is_dummy(c, sl->node) &&
			 (is_dummy(c, x) || (c->v[c->nd[sl->node].msg].reply &&
					     !c->v[c->nd[x].msg].reply)))
			sl->node = x;
	}
	/* C: the others join it */
	for (size_t i = 0; i < k && r == 0; i++) {
		uint32_t x = c->tmp[i];
		const char *s = thread_subject(c, x);
		if (c->nd[x].parent != c->root || *s == '\0')
			continue;   /* already moved by an earlier merge */
		struct slot *sl = table_find(&subj, (const uint8_t *)s, strlen(s));
		if (sl == NULL)
			r = -1;
		else if (sl->key != NULL && sl->node != x)
			r = merge(c, x, &sl->node);
	}
	free(subj.slots);
	return r;
}

/* ---- output ---- */

static int put_num(const struct ctx *c, uint32_t x, bool uid, struct buffer *out)
{
	const struct imap_thread_msg *m = &c->v[c->nd[x].msg];
	return buffer_printf(out, "%u", uid ? m->uid : m->seq);
}

/* The thread-members of top's subtree, "3 6 (4 23)(44 7 96)", walked by
 * the links (no recursion): a single child follows after a space, two or
 * more are each parenthesised. */
static int write_subtree(const struct ctx *c, uint32_t top, bool uid, struct buffer *out)
{
	const struct node *nd = c->nd;
	uint32_t x = top;
	for (;;) {
		if (put_num(c, x, uid, out) < 0)
			return -1;
		if (nd[x].first != NONE) {
			if (buffer_append_str(out, nd[x].first == nd[x].last ? " " : " (") < 0)
				return -1;
			x = nd[x].first;
			continue;
		}
		for (;;) {
			if (x == top)
				return 0;
			uint32_t p = nd[x].parent;
			bool several = nd[p].first != nd[p].last;
			if (several && buffer_append_u8(out, ')') < 0)
				return -1;
			if (nd[x].next != NONE) {
				if (several && buffer_append_u8(out, '(') < 0)
					return -1;
				x = nd[x].next;
				break;
			}
			x = p;
		}
	}
}

static int write_threads(const struct ctx *c, bool uid, struct buffer *out)
{
	const struct node *nd = c->nd;
	for (uint32_t t = nd[c->root].first; t != NONE; t = nd[t].next) {
		if (buffer_append_u8(out, '(') < 0)
			return -1;
		if (!is_dummy(c, t)) {
			if (write_subtree(c, t, uid, out) < 0)
				return -1;
		} else if (nd[t].first == nd[t].last) {
			if (nd[t].first != NONE && write_subtree(c, nd[t].first, uid, out) < 0)
				return -1;
		} else {
			for (uint32_t x = nd[t].first; x != NONE; x = nd[x].next)
				if (buffer_append_u8(out, '(') < 0 ||
				    write_subtree(c, x, uid, out) < 0 ||
				    buffer_append_u8(out, ')') < 0)
					return -1;
		}
		if (buffer_append_u8(out, ')') < 0)
			return -1;
	}
	return 0;
}

/* ---- the whole ---- */

static int cmp_seq(const void *a, const void *b, void *arg)
{
	const struct imap_thread_msg *v = ((const struct ctx *)arg)->v;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (v[x].seq != v[y].seq)
		return v[x].seq < v[y].seq ? -1 : 1;
	return (x > y) - (x < y);
}

static int run(struct ctx *c, const uint8_t *key, bool uid, struct buffer *out)
{
	for (size_t k = 0; k < c->n; k++)
		c->order[k] = (uint32_t)k;
	qsort_r(c->order, c->n, sizeof(*c->order), cmp_seq, c);
	for (size_t k = 0; k < c->n; k++) {
		uint32_t x;
		if (new_node(c, c->order[k], &x) < 0)
			return -1;
	}
	if (parse_all(c) < 0 || step1(c, key) < 0)
		return -1;
	/* nodes to come: the root and at most one step-5 dummy per message */
	if (__builtin_add_overflow(c->nn, c->n + 2, &c->tmp_cap) ||
	    (c->tmp = reallocarray(NULL, c->tmp_cap, sizeof(*c->tmp))) == NULL)
		return -1;
	if (steps2_3(c) < 0)
		return -1;
	/* step 4: top-level order by date, a dummy by its first child */
	for (uint32_t t = c->nd[c->root].first; t != NONE; t = c->nd[t].next)
		if (is_dummy(c, t))
			sort_children(c, t);
	sort_children(c, c->root);
	if (step5(c, key) < 0)
		return -1;
	/* step 6: every sibling set, the top level last (its dummies sort by
	 * their first child, which must be in place first) */
	for (uint32_t x = 0; x < c->nn; x++)
		if (x != c->root && c->nd[x].first != NONE)
			sort_children(c, x);
	sort_children(c, c->root);
	return write_threads(c, uid, out);
}

int imap_thread_references(const struct imap_thread_msg *v, size_t n, bool uid,
			   const uint8_t key[IMAP_THREAD_KEY_SIZE], struct buffer *out)
{
	if (n == 0)
		return 0;
	if (n >= NONE / 2)
		return -1;
	struct ctx c = { .v = v, .n = n };
	buffer_init(&c.arena, SIZE_MAX);
	c.order = reallocarray(NULL, n, sizeof(*c.order));
	c.ids = calloc(n, sizeof(*c.ids));
	int r = c.order != NULL && c.ids != NULL ? run(&c, key, uid, out) : -1;
	free(c.order);
	free(c.ids);
	free(c.refs);
	free(c.tmp);
	free(c.nd);
	buffer_free(&c.arena);
	return r;
}
