/* worker-mbox.c: the selected mailbox of one session: the UID -> sequence
 * map, SELECT/EXAMINE replies, and keeping the map in step with the store
 * when another session or a delivery changed the mailbox (see worker.h). */
#include "worker/worker.h"
#include "imap/imap-fetch.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t recent_update(struct session *s);

struct uidlist {
	uint32_t *uids;
	uint64_t *modseqs;
	size_t count, cap;
	uint32_t first_unseen;   /* 1-based index, 0 if none */
	bool oom;
};

static int uidlist_add(struct uidlist *l, uint32_t uid, uint64_t modseq)
{
	if (l->count == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		uint32_t *u = realloc(l->uids, ncap * sizeof(*u));
		if (u == NULL)
			return -1;
		l->uids = u;
		uint64_t *m = realloc(l->modseqs, ncap * sizeof(*m));
		if (m == NULL)
			return -1;
		l->modseqs = m;
		l->cap = ncap;
	}
	l->uids[l->count] = uid;
	l->modseqs[l->count] = modseq;
	l->count++;
	return 0;
}

static int load_cb(void *ctx, const struct store_message *m)
{
	struct uidlist *l = ctx;
	if (uidlist_add(l, m->uid, m->modseq) < 0) {
		l->oom = true;
		return 1;
	}
	if (l->first_unseen == 0 && (m->flags & STORE_FLAG_SEEN) == 0)
		l->first_unseen = (uint32_t)l->count;
	return 0;
}

static int load_all(struct store *st, int64_t id, struct uidlist *l, const char **error_r)
{
	memset(l, 0, sizeof(*l));
	int r = store_fetch_state(st, id, load_cb, l, error_r);
	if (r == STORE_OK && l->oom) {
		*error_r = "Out of memory";
		r = STORE_ERROR;
	}
	if (r != STORE_OK) {
		free(l->uids);
		free(l->modseqs);
	}
	return r;
}

void mbox_unselect(struct session *s)
{
	if (s->sel == NULL)
		return;
	if (s->sel->shared)
		shared_audit(s, &s->sel->grant, "close", s->msgs_read - s->sel->msgs0,
			     s->bytes_read - s->sel->bytes0);
	free(s->sel->saved);
	free(s->sel->uids);
	free(s->sel->modseqs);
	free(s->sel);
	s->sel = NULL;
}

/* ---- VANISHED: UID sets written a range at a time, several responses
 * when one would pass the line cap ---- */

struct uidset_out {
	struct session *s;
	const char *prefix;     /* "* VANISHED " or "* VANISHED (EARLIER) " */
	struct buffer b;
	uint32_t lo, hi;        /* pending range, lo 0 if none */
};

static void uidset_flush_range(struct uidset_out *u)
{
	if (u->lo == 0)
		return;
	if (u->b.len > RD_IMAP_MAX_LINE / 2) {
		(void)buffer_append_str(&u->b, "\r\n");
		out_buf(u->s, &u->b);
		buffer_reset(&u->b);
	}
	if (u->b.len == 0)
		(void)buffer_append_str(&u->b, u->prefix);
	else
		(void)buffer_append_u8(&u->b, ',');
	if (u->lo == u->hi)
		(void)buffer_printf(&u->b, "%u", u->lo);
	else
		(void)buffer_printf(&u->b, "%u:%u", u->lo, u->hi);
	u->lo = 0;
}

static void uidset_add(struct uidset_out *u, uint32_t lo, uint32_t hi)
{
	if (u->lo != 0 && u->hi < UINT32_MAX && u->hi + 1 == lo) {
		u->hi = hi;
		return;
	}
	uidset_flush_range(u);
	u->lo = lo;
	u->hi = hi;
}

static void uidset_end(struct uidset_out *u)
{
	uidset_flush_range(u);
	if (u->b.len > 0) {
		(void)buffer_append_str(&u->b, "\r\n");
		out_buf(u->s, &u->b);
	}
	buffer_free(&u->b);
}

/* Index of the first map entry with uid >= v. */
static size_t lower_bound(const struct selected *sel, uint32_t v)
{
	size_t lo = 0, hi = sel->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sel->uids[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void mbox_vanished_earlier(struct session *s, const struct imap_range *ranges, size_t n,
			   uint64_t modseq)
{
	struct selected *sel = s->sel;
	struct store_mailbox_state info;
	const char *err;
	if (store_mailbox_state(sel->store, sel->name, &info, &err) == STORE_OK &&
	    info.id == sel->id && info.highestmodseq <= modseq)
		return;   /* nothing at all happened since the client's modseq */
	struct uidset_out u = { .s = s, .prefix = "* VANISHED (EARLIER) " };
	buffer_init(&u.b, RD_IMAP_MAX_LINE);
	uint32_t top = sel->uidnext > 1 ? sel->uidnext - 1 : 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t lo = ranges[i].lo, hi = ranges[i].hi < top ? ranges[i].hi : top;
		struct store_uids gone;
		if (lo > hi)
			continue;
		/* the expunge log: only what went since the client's modseq */
		if (store_expunged_since(sel->store, sel->id, modseq, lo, hi, &gone, &err) ==
		    STORE_OK) {
			for (size_t k = 0; k < gone.count; k++)
				if (mbox_seq(sel, gone.uids[k]) == 0)
					uidset_add(&u, gone.uids[k], gone.uids[k]);
			store_uids_free(&gone);
			continue;
		}
		/* without it, every gap between the UIDs still there (which
		 * RFC 7162 3.6 allows) */
		for (size_t k = lower_bound(sel, lo); lo <= hi; k++) {
			uint32_t next = k < sel->count ? sel->uids[k] : UINT32_MAX;
			if (next > hi) {
				uidset_add(&u, lo, hi);
				break;
			}
			if (next > lo)
				uidset_add(&u, lo, next - 1);
			if (next == UINT32_MAX)
				break;
			lo = next + 1;
		}
	}
	uidset_end(&u);
}

void mbox_write_flags(struct session *s, uint32_t seq, const struct store_message *m,
		      bool with_uid)
{
	struct buffer b;
	buffer_init(&b, RD_IMAP_MAX_LINE);
	if (buffer_printf(&b, "* %u FETCH (", seq) == 0 &&
	    (!(with_uid || s->qresync) || buffer_printf(&b, "UID %u ", m->uid) == 0) &&
	    buffer_append_str(&b, "FLAGS ") == 0 &&
	    imap_write_flags(&b, m->flags | mbox_recent_bit(s, m->uid), m->keywords) == 0 &&
	    (!s->condstore ||
	     buffer_printf(&b, " MODSEQ (%llu)", (unsigned long long)m->modseq) == 0) &&
	    buffer_append_str(&b, ")\r\n") == 0)
		out_buf(s, &b);
	buffer_free(&b);
}

struct changed_ctx {
	struct session *s;
	uint64_t since;
};

static int changed_cb(void *ctx, const struct store_message *m)
{
	struct changed_ctx *cc = ctx;
	uint32_t seq = mbox_seq(cc->s->sel, m->uid);
	if (seq > 0 && m->modseq > cc->since)
		mbox_write_flags(cc->s, seq, m, true);
	return 0;
}

/* RFC 7162 3.2.5: what changed since the client's state, before the
 * tagged OK of SELECT. */
static void qresync_report(struct session *s, const struct qresync_params *q)
{
	struct selected *sel = s->sel;
	const char *err;
	struct imap_range all = { 1, UINT32_MAX }, *ranges = &all;
	int n = 1;
	if (q->uidvalidity != sel->uidvalidity || q->modseq >= sel->highestmodseq)
		return;
	if (q->known != NULL) {
		size_t max = q->known->len / 2 + 1;
		if ((ranges = malloc(max * sizeof(*ranges))) == NULL ||
		    (n = imap_seqset_parse(q->known->data, q->known->len, UINT32_MAX, ranges, max,
					   &err)) < 0) {
			free(ranges);
			return;   /* checked by the caller before selecting */
		}
	}
	mbox_vanished_earlier(s, ranges, (size_t)n, q->modseq);
	if (ranges != &all)
		free(ranges);
	struct changed_ctx cc = { s, q->modseq };
	(void)store_fetch(sel->store, sel->id, 1, UINT32_MAX, changed_cb, &cc, &err);
}

int mbox_select(struct session *s, const char *name, bool readonly,
		const struct qresync_params *q, const char **error_r)
{
	/* the row alone (store_mailbox_get would count every message for
	 * STATUS: a second pass over the mailbox on every SELECT) */
	struct store_mailbox_state info;
	struct uidlist l;
	if (s->sel != NULL)   /* RFC 7162 3.2.11 (and RFC 9051): say where one ends */
		out(s, "* OK [CLOSED] Previous mailbox closed\r\n");
	mbox_unselect(s);
	struct mbref ref;
	int r = mbox_resolve(s, name, &ref);
	if (r != STORE_OK)
		return r;
	if (!mbref_may(ref.grant, 'r')) {
		*error_r = "No read right on this mailbox";
		return MBOX_NOPERM;
	}
	/* RFC 4314 4: read-write only with a right that changes something */
	if (!mbref_may(ref.grant, 's') && !mbref_may(ref.grant, 'w') &&
	    !mbref_may(ref.grant, 't') && !mbref_may(ref.grant, 'e'))
		readonly = true;
	r = store_mailbox_state(ref.store, ref.name, &info, error_r);
	if (r != STORE_OK)
		return r;
	struct selected *sel = calloc(1, sizeof(*sel));
	if (sel == NULL) {
		*error_r = "Out of memory";
		return STORE_ERROR;
	}
	if ((r = load_all(ref.store, info.id, &l, error_r)) != STORE_OK) {
		free(sel);
		return r;
	}
	snprintf(sel->name, sizeof(sel->name), "%s", ref.name);
	sel->store = ref.store;
	if (ref.grant != NULL) {
		sel->shared = true;
		sel->grant = *ref.grant;
		sel->msgs0 = s->msgs_read;
		sel->bytes0 = s->bytes_read;
		shared_audit(s, ref.grant, readonly ? "examine" : "select", 0, 0);
	}
	sel->id = info.id;
	sel->readonly = readonly;
	sel->uidvalidity = info.uidvalidity;
	sel->uidnext = info.uidnext;
	sel->highestmodseq = info.highestmodseq;
	sel->uids = l.uids;
	sel->modseqs = l.modseqs;
	sel->count = l.count;
	sel->cap = l.cap;
	if (sel->count > 0 && sel->uids[sel->count - 1] >= sel->uidnext)
		sel->uidnext = sel->uids[sel->count - 1] + 1;
	s->sel = sel;
	s->w->trim_wanted = true;   /* its state and pages go back once idle */
	out(s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n");
	if (s->rev2) {
		/* RFC 9051 6.3.2: EXISTS and the mailbox's LIST, no RECENT or
		 * UNSEEN */
		struct buffer b;
		buffer_init(&b, RD_IMAP_MAX_LINE);
		if (buffer_printf(&b, "* %zu EXISTS\r\n* LIST () \"/\" ", sel->count) == 0 &&
		    mailbox_write_name(s, &b, name) == 0 && buffer_append_str(&b, "\r\n") == 0)
			out_buf(s, &b);
		buffer_free(&b);
	} else {
		/* EXAMINE changes nothing: what no session claimed yet is
		 * recent for it, without claiming */
		if (readonly && info.recent_uid < UINT32_MAX &&
		    lower_bound(sel, info.recent_uid + 1) < sel->count)
			sel->recent[sel->nrecent++] = (struct imap_range){
				info.recent_uid + 1, info.uidnext > 1 ? info.uidnext - 1 : 1 };
		out(s, "* %zu EXISTS\r\n* %zu RECENT\r\n", sel->count, recent_update(s));
		if (l.first_unseen > 0)
			out(s, "* OK [UNSEEN %u] First unseen\r\n", l.first_unseen);
	}
	out(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n", sel->uidvalidity);
	out(s, "* OK [UIDNEXT %u] Predicted next UID\r\n", sel->uidnext);
	char oid[MAILBOXID_BUF];
	mailbox_objectid(s, sel->shared ? &sel->grant : NULL, sel->id, oid);
	out(s, "* OK [MAILBOXID (%s)] Ok\r\n", oid);
	/* every mailbox has modseqs, so never NOMODSEQ (RFC 7162 3.1.2.1) */
	out(s, "* OK [HIGHESTMODSEQ %llu] Highest\r\n", (unsigned long long)sel->highestmodseq);
	if (readonly) {
		out(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
	} else if (sel->shared) {
		/* RFC 4314 4: what this grant lets the session change */
		const struct grant *g = &sel->grant;
		char pf[64] = "";
		if (mbref_may(g, 'w'))
			strcat(pf, " \\Answered \\Flagged \\Draft \\*");
		if (mbref_may(g, 't'))
			strcat(pf, " \\Deleted");
		if (mbref_may(g, 's'))
			strcat(pf, " \\Seen");
		out(s, "* OK [PERMANENTFLAGS (%s)] Flags permitted\r\n", pf[0] ? pf + 1 : "");
	} else {
		out(s, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
		    "Flags permitted\r\n");
	}
	if (q != NULL)
		qresync_report(s, q);
	return STORE_OK;
}

unsigned mbox_recent_bit(const struct session *s, uint32_t uid)
{
	const struct selected *sel = s->sel;
	if (sel == NULL || s->rev2)
		return 0;
	for (size_t i = 0; i < sel->nrecent; i++)
		if (uid >= sel->recent[i].lo && uid <= sel->recent[i].hi)
			return IMAP_FLAG_RECENT;
	return 0;
}

/* Claims what arrived since the last claim as this session's \Recent
 * (read-write rev1 sessions); returns how many messages of the map are
 * recent for it now. */
static size_t recent_update(struct session *s)
{
	struct selected *sel = s->sel;
	uint32_t first, last;
	const char *err;
	if (s->rev2)
		return 0;
	if (!sel->readonly &&
	    store_recent_claim(sel->store, sel->id, &first, &last, &err) == STORE_OK &&
	    first <= last) {
		if (sel->nrecent > 0 && sel->recent[sel->nrecent - 1].hi + 1 == first)
			sel->recent[sel->nrecent - 1].hi = last;
		else if (sel->nrecent < RD_IMAP_MAX_RECENT_RANGES)
			sel->recent[sel->nrecent++] = (struct imap_range){ first, last };
	}
	size_t n = 0;
	for (size_t i = 0; i < sel->count; i++)
		n += mbox_recent_bit(s, sel->uids[i]) != 0;
	return n;
}

uint32_t mbox_seq(const struct selected *sel, uint32_t uid)
{
	size_t lo = lower_bound(sel, uid);
	return lo < sel->count && sel->uids[lo] == uid ? (uint32_t)(lo + 1) : 0;
}

void mbox_note_modseq(struct selected *sel, uint32_t uid, uint64_t modseq)
{
	uint32_t seq = mbox_seq(sel, uid);
	if (seq > 0)
		sel->modseqs[seq - 1] = modseq;
}

struct changed_rows {
	struct session *s;
	uint32_t maxuid;      /* the map's last UID before: above it, new */
	size_t old;
	bool oom;
};

static int changed_row_cb(void *ctx, const struct store_message *m)
{
	struct changed_rows *cr = ctx;
	struct selected *sel = cr->s->sel;
	if (m->uid > cr->maxuid) {
		struct uidlist grow = { sel->uids, sel->modseqs, sel->count, sel->cap, 0, false };
		int r = uidlist_add(&grow, m->uid, m->modseq);
		sel->uids = grow.uids;
		sel->modseqs = grow.modseqs;
		sel->cap = grow.cap;
		sel->count = grow.count;
		if (r < 0) {
			cr->oom = true;
			return 1;
		}
		return 0;
	}
	uint32_t seq = mbox_seq(sel, m->uid);
	/* what this session itself told the client is not said again */
	if (seq == 0 || seq > cr->old || sel->modseqs[seq - 1] == m->modseq)
		return 0;
	sel->modseqs[seq - 1] = m->modseq;
	mbox_write_flags(cr->s, seq, m, true);
	return 0;
}

/* Takes the expunged UIDs out of the map, telling the client: EXPUNGE
 * from the highest sequence number down (each number right when read),
 * or one VANISHED of ascending UIDs with QRESYNC. */
static void report_expunges(struct session *s, const struct store_uids *gone)
{
	struct selected *sel = s->sel;
	struct uidset_out vanished = { .s = s, .prefix = "* VANISHED " };
	buffer_init(&vanished.b, RD_IMAP_MAX_LINE);
	bool any = false;
	for (size_t k = gone->count; k > 0; k--) {
		uint32_t seq = mbox_seq(sel, gone->uids[k - 1]);
		if (seq == 0)
			continue;
		if (!s->qresync)
			out(s, "* %u EXPUNGE\r\n", seq);
		/* marked for removal: store modseqs stay below INT64_MAX */
		sel->modseqs[seq - 1] = UINT64_MAX;
		any = true;
	}
	size_t kept = 0;
	for (size_t i = 0; any && i < sel->count; i++) {
		if (sel->modseqs[i] == UINT64_MAX) {
			if (s->qresync)
				uidset_add(&vanished, sel->uids[i], sel->uids[i]);
			continue;
		}
		sel->uids[kept] = sel->uids[i];
		sel->modseqs[kept] = sel->modseqs[i];
		kept++;
	}
	if (any)
		sel->count = kept;
	uidset_end(&vanished);
}

void mbox_sync(struct session *s, bool expunges)
{
	struct selected *sel = s->sel;
	struct store_mailbox_state st;
	const char *err;
	if (sel == NULL)
		return;
	/* the mailbox row only: this runs before nearly every reply */
	if (store_mailbox_state(sel->store, sel->name, &st, &err) != STORE_OK || st.id != sel->id)
		return;   /* deleted or renamed under us: nothing more to report */
	if (st.highestmodseq == sel->highestmodseq && st.uidnext == sel->uidnext &&
	    (sel->expunge_from == 0 || !expunges))
		return;
	uint64_t since = sel->highestmodseq;
	/* expunges first, from the store's expunge log: while a FETCH,
	 * STORE or SEARCH runs they may not be told (RFC 9051 7.5.1), so
	 * they wait, remembered from where */
	uint64_t from = sel->expunge_from != 0 && sel->expunge_from < since ? sel->expunge_from :
			since;
	struct store_uids gone = { 0 };
	if (store_expunged_since(sel->store, sel->id, from, 1, UINT32_MAX, &gone, &err) == STORE_OK) {
		bool pending = false;
		for (size_t k = 0; k < gone.count && !pending; k++)
			pending = mbox_seq(sel, gone.uids[k]) != 0;
		if (pending && !expunges) {
			if (sel->expunge_from == 0 || from < sel->expunge_from)
				sel->expunge_from = from;
		} else {
			if (pending)
				report_expunges(s, &gone);
			sel->expunge_from = 0;
		}
		store_uids_free(&gone);
	}
	/* then changed flags and new messages, by MODSEQ: the cost follows
	 * what changed, not the mailbox's size */
	struct changed_rows cr = { s, sel->count > 0 ? sel->uids[sel->count - 1] : 0, sel->count,
				   false };
	if (store_fetch_changed(sel->store, sel->id, since, changed_row_cb, &cr, &err) != STORE_OK ||
	    cr.oom)
		return;   /* looked at again next time: highestmodseq stays */
	if (sel->count != cr.old) {
		out(s, "* %zu EXISTS\r\n", sel->count);
		if (!s->rev2 && !sel->readonly)
			out(s, "* %zu RECENT\r\n", recent_update(s));
	}
	sel->uidnext = st.uidnext;
	sel->highestmodseq = st.highestmodseq;
}

int mbox_uid_ranges(struct session *s, const char *tag, const struct imap_arg *set,
		    bool uid, struct imap_range **ranges_r)
{
	struct selected *sel = s->sel;
	const char *err;
	*ranges_r = NULL;
	if (set == NULL || (set->type != IMAP_ARG_ATOM && set->type != IMAP_ARG_NUMBER)) {
		session_bad(s, tag, "Expected a sequence set");
		return -1;
	}
	if (set->len == 1 && set->data[0] == '$') {
		/* RFC 5182: the saved result, already UID ranges */
		struct imap_range *c = malloc((sel->nsaved + 1) * sizeof(*c));
		if (c == NULL) {
			session_bad(s, tag, "Out of memory");
			return -1;
		}
		if (sel->nsaved > 0)
			memcpy(c, sel->saved, sel->nsaved * sizeof(*c));
		*ranges_r = c;
		return (int)sel->nsaved;
	}
	size_t max = set->len / 2 + 1;
	struct imap_range *r = malloc(max * sizeof(*r));
	if (r == NULL) {
		session_bad(s, tag, "Out of memory");
		return -1;
	}
	uint32_t maxuid = sel->count > 0 ? sel->uids[sel->count - 1] : 0;
	uint32_t star = uid ? maxuid : (uint32_t)sel->count;
	int n = imap_seqset_parse(set->data, set->len, star > 0 ? star : 1, r, max, &err);
	if (n < 0) {
		free(r);
		session_bad(s, tag, err);
		return -1;
	}
	size_t o = 0;
	for (int i = 0; i < n; i++) {
		uint32_t lo = r[i].lo, hi = r[i].hi;
		if (uid) {
			if (lo > maxuid)
				continue;
			if (hi > maxuid)
				hi = maxuid;
		} else {
			if (lo > sel->count) {
				free(r);
				session_bad(s, tag, "Invalid message sequence number");
				return -1;
			}
			if (hi > sel->count)
				hi = (uint32_t)sel->count;
			lo = sel->uids[lo - 1];
			hi = sel->uids[hi - 1];
		}
		r[o].lo = lo;
		r[o].hi = hi;
		o++;
	}
	*ranges_r = r;
	return (int)o;
}
