/* mime-address.c: RFC 5322 address lists (with groups, routes, quoted and
 * obsolete forms) to IMAP address lists: ((name adl mailbox host) ...).
 *
 * One left-to-right pass over tokens with a single token of push-back, so
 * time is linear in the field; junk is skipped a token at a time. Parts of
 * an address are kept as spans of the raw value and normalised only when
 * written: display names keep their words (encoded-words untouched) joined
 * by one space where the header had white space, quotes and comments go;
 * local parts and domains are their tokens run together. */
#include "mime/mime-private.h"
#include <string.h>

enum atok_kind { A_END, A_ATOM, A_QUOTED, A_DLIT, A_SPECIAL };

struct atok {
	enum atok_kind kind;
	uint8_t ch;                 /* A_SPECIAL */
	const uint8_t *raw, *raw_end;
	bool ws;                    /* white space or comment before it */
};

struct aparser {
	struct mime_lex lx;
	struct atok back;
	bool has_back;
};

static bool is_special(uint8_t ch)
{
	return strchr("()<>@,;:.\\\"[]", ch) != NULL;
}

static void next(struct aparser *ap, struct atok *t)
{
	struct mime_lex *lx = &ap->lx;
	if (ap->has_back) {
		*t = ap->back;
		ap->has_back = false;
		return;
	}
	t->ws = mime_lex_cfws(lx);
	t->raw = lx->p;
	if (lx->p >= lx->end) {
		t->kind = A_END;
		t->raw_end = lx->p;
		return;
	}
	uint8_t ch = *lx->p;
	if (ch == '"') {
		const uint8_t *s;
		size_t n;
		(void)mime_lex_quoted(lx, &s, &n);
		t->kind = A_QUOTED;
	} else if (ch == '[') {
		while (lx->p < lx->end && *lx->p != ']') {
			if (*lx->p == '\\' && lx->p + 1 < lx->end)
				lx->p++;
			lx->p++;
		}
		if (lx->p < lx->end)
			lx->p++;
		t->kind = A_DLIT;
	} else if (is_special(ch)) {
		lx->p++;
		t->kind = A_SPECIAL;
		t->ch = ch;
	} else {
		while (lx->p < lx->end && !is_special(*lx->p) && *lx->p > ' ' &&
		       *lx->p != 0x7f)
			lx->p++;
		if (lx->p == t->raw)
			lx->p++;   /* a control octet: one-octet junk atom */
		t->kind = A_ATOM;
	}
	t->raw_end = lx->p;
}

static void push_back(struct aparser *ap, const struct atok *t)
{
	ap->back = *t;
	ap->has_back = true;
}

struct rspan {
	const uint8_t *s, *e;   /* s == NULL: absent */
};

/* Appends the tokens of raw span sp to c->tmp: words separated by one
 * space where there was white space (names), or run together (addresses). */
static int normalise(struct mime_ctx *c, struct rspan sp, bool name)
{
	struct aparser ap = { .has_back = false };
	struct atok t;
	bool first = true;
	buffer_reset(&c->tmp);
	mime_lex_init(&ap.lx, sp.s, (size_t)(sp.e - sp.s));
	for (next(&ap, &t); t.kind != A_END; next(&ap, &t)) {
		const uint8_t *s = t.raw;
		size_t n = (size_t)(t.raw_end - t.raw);
		if (name && t.ws && !first && mime_put(&c->tmp, " ", 1) < 0)
			return -1;
		first = false;
		if (t.kind == A_QUOTED) {
			s++;
			n = n >= 2 && s[n - 2] == '"' ? n - 2 : n - 1;
			for (size_t i = 0; i < n; i++) {
				uint8_t ch = s[i];
				if (ch == '\\' && i + 1 < n)
					ch = s[++i];
				else if (ch == '\r' || ch == '\n')
					continue;
				if (mime_put(&c->tmp, &ch, 1) < 0)
					return -1;
			}
		} else if (mime_put(&c->tmp, s, n) < 0) {
			return -1;
		}
	}
	return 0;
}

static int nstring(struct mime_ctx *c, struct buffer *out, struct rspan sp,
		   bool name, const char *missing, size_t ms)
{
	if (sp.s == NULL || sp.s == sp.e) {
		if (missing == NULL)
			return mime_put_str(out, "NIL");
		return mime_imap_string(out, (const uint8_t *)missing,
					strlen(missing));
	}
	if (normalise(c, sp, name) < 0)
		return -1;
	if (c->tmp.len == 0 && missing != NULL)
		return mime_imap_string(out, (const uint8_t *)missing,
					strlen(missing));
	if (c->tmp.len == 0 && name)
		return mime_put_str(out, "NIL");
	return mime_imap_tmp(c, out, ms);
}

struct alist {
	struct buffer *out;
	size_t count, max_addrs, ms;
};

static int emit_open(struct alist *al)
{
	al->count++;
	return mime_put(al->out, al->count == 1 ? "((" : "(", al->count == 1 ? 2 : 1);
}

/* One mailbox: (name adl mailbox host). A name from a comment is raw
 * text (unfolded), a phrase is normalised. */
static int emit_mailbox(struct mime_ctx *c, struct alist *al, struct rspan name,
			bool name_is_comment, struct rspan adl,
			struct rspan local, struct rspan domain)
{
	int r;
	if ((r = emit_open(al)) != 0)
		return r;
	if (name_is_comment) {
		buffer_reset(&c->tmp);
		if (mime_unfold(&c->tmp, name.s, (size_t)(name.e - name.s)) < 0)
			return -1;
		r = c->tmp.len == 0 ? mime_put_str(al->out, "NIL")
		    : mime_imap_tmp(c, al->out, al->ms);
	} else {
		r = nstring(c, al->out, name, true, NULL, al->ms);
	}
	if (r != 0 || (r = mime_put(al->out, " ", 1)) != 0 ||
	    (r = nstring(c, al->out, adl, false, NULL, al->ms)) != 0 ||
	    (r = mime_put(al->out, " ", 1)) != 0 ||
	    (r = nstring(c, al->out, local, false, "MISSING_MAILBOX", al->ms)) != 0 ||
	    (r = mime_put(al->out, " ", 1)) != 0 ||
	    (r = nstring(c, al->out, domain, false, "MISSING_DOMAIN", al->ms)) != 0)
		return r;
	return mime_put(al->out, ")", 1);
}

static int emit_group_start(struct mime_ctx *c, struct alist *al, struct rspan name)
{
	int r;
	if ((r = emit_open(al)) != 0 || (r = mime_put_str(al->out, "NIL NIL ")) != 0)
		return r;
	if (normalise(c, name, true) < 0)
		return -1;
	if ((r = mime_imap_tmp(c, al->out, al->ms)) != 0)
		return r;
	return mime_put_str(al->out, " NIL)");
}

static int emit_group_end(struct alist *al)
{
	int r = emit_open(al);
	return r != 0 ? r : mime_put_str(al->out, "NIL NIL NIL NIL)");
}

/* Collects tokens that may form a domain (atoms, dots, literals). */
static struct rspan domain_tokens(struct aparser *ap)
{
	struct rspan d = { NULL, NULL };
	struct atok t;
	for (;;) {
		next(ap, &t);
		if (t.kind == A_ATOM || t.kind == A_DLIT ||
		    (t.kind == A_SPECIAL && t.ch == '.')) {
			if (d.s == NULL)
				d.s = t.raw;
			d.e = t.raw_end;
			continue;
		}
		push_back(ap, &t);
		return d;
	}
}

/* After '<': [route ":"] local "@" domain ">". */
static int angle_addr(struct mime_ctx *c, struct alist *al, struct aparser *ap,
		      struct rspan name)
{
	struct rspan adl = { NULL, NULL }, local = { NULL, NULL }, dom = { NULL, NULL };
	struct atok t;
	next(ap, &t);
	if (t.kind == A_SPECIAL && t.ch == '@') {
		/* obs-route: "@a,@b:"; kept as written without white space. */
		adl.s = t.raw;
		for (;;) {
			adl.e = t.raw_end;
			next(ap, &t);
			if (t.kind == A_END || (t.kind == A_SPECIAL &&
			    (t.ch == ':' || t.ch == '>')))
				break;
		}
		if (!(t.kind == A_SPECIAL && t.ch == ':')) {
			/* "<@domain>" without a colon: no route after all. */
			dom.s = adl.s + 1;
			dom.e = adl.e;
			adl.s = NULL;
			return emit_mailbox(c, al, name, false, adl, local, dom);
		}
		next(ap, &t);
	}
	while (t.kind == A_ATOM || t.kind == A_QUOTED ||
	       (t.kind == A_SPECIAL && t.ch == '.')) {
		if (local.s == NULL)
			local.s = t.raw;
		local.e = t.raw_end;
		next(ap, &t);
	}
	if (t.kind == A_SPECIAL && t.ch == '@') {
		dom = domain_tokens(ap);
		next(ap, &t);
	}
	/* Skip anything else up to the closing '>'. */
	while (t.kind != A_END && !(t.kind == A_SPECIAL && t.ch == '>'))
		next(ap, &t);
	return emit_mailbox(c, al, name, false, adl, local, dom);
}

int mime_address_list(struct mime_ctx *c, struct mime_span v,
		      struct buffer *out, size_t max_addrs, size_t max_string)
{
	struct aparser ap = { .has_back = false };
	struct alist al = { out, 0, max_addrs, max_string };
	struct rspan phrase = { NULL, NULL }, none = { NULL, NULL };
	struct atok t;
	bool in_group = false, skip = false;
	int r = 0;

	if (!mime_span_present(v))
		return mime_put_str(out, "NIL");
	mime_lex_init(&ap.lx, c->msg + v.off, v.len);
	while (r == 0 && al.count < al.max_addrs) {
		next(&ap, &t);
		if (t.kind == A_END)
			break;
		if (t.kind == A_SPECIAL && (t.ch == ',' || t.ch == ';')) {
			if (phrase.s != NULL && !skip)
				/* Bare words: a local part without a domain. */
				r = emit_mailbox(c, &al, none, false, none, phrase, none);
			phrase.s = NULL;
			skip = false;
			if (r == 0 && t.ch == ';' && in_group) {
				r = emit_group_end(&al);
				in_group = false;
			}
			continue;
		}
		if (skip)
			continue;   /* junk after an address, up to ',' */
		if (t.kind == A_ATOM || t.kind == A_QUOTED || t.kind == A_DLIT ||
		    (t.kind == A_SPECIAL && t.ch == '.')) {
			if (phrase.s == NULL)
				phrase.s = t.raw;
			phrase.e = t.raw_end;
		} else if (t.ch == '<') {
			r = angle_addr(c, &al, &ap, phrase);
			phrase.s = NULL;
			skip = true;
		} else if (t.ch == '@' && phrase.s != NULL) {
			ap.lx.comment = NULL;
			struct rspan dom = domain_tokens(&ap);
			struct atok peek;
			next(&ap, &peek);   /* lexes a trailing "(comment)" */
			push_back(&ap, &peek);
			struct rspan cm = { ap.lx.comment, ap.lx.comment };
			if (cm.s != NULL)
				cm.e = cm.s + ap.lx.comment_len;
			r = emit_mailbox(c, &al, cm.s != NULL ? cm : none,
					 cm.s != NULL, none, phrase, dom);
			phrase.s = NULL;
			skip = true;
		} else if (t.ch == ':' && phrase.s != NULL && !in_group) {
			r = emit_group_start(c, &al, phrase);
			in_group = true;
			phrase.s = NULL;
		}
		/* Anything else (stray '>', ')', '\', ...) is skipped. */
	}
	if (al.count >= al.max_addrs)
		c->truncated |= MIME_TRUNC_OUTPUT;
	if (r == 0 && phrase.s != NULL && !skip && al.count < al.max_addrs)
		r = emit_mailbox(c, &al, none, false, none, phrase, none);
	if (r == 0 && in_group)
		r = emit_group_end(&al);
	if (r != 0)
		return r;
	return mime_put_str(out, al.count > 0 ? ")" : "NIL");
}
