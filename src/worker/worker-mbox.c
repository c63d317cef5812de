/* worker-mbox.c: the selected mailbox of one session: the UID -> sequence
 * map, SELECT/EXAMINE replies, and keeping the map in step with the store
 * when another session or a delivery changed the mailbox (see worker.h). */
#include "worker/worker.h"
#include "imap/imap-fetch.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int load_all(struct session *s, int64_t id, struct uidlist *l, const char **error_r)
{
	memset(l, 0, sizeof(*l));
	int r = store_fetch(s->w->store, id, 1, UINT32_MAX, load_cb, l, error_r);
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
	free(s->sel->uids);
	free(s->sel->modseqs);
	free(s->sel);
	s->sel = NULL;
}

int mbox_select(struct session *s, const char *name, bool readonly, const char **error_r)
{
	struct store_mailbox_info info;
	struct uidlist l;
	mbox_unselect(s);
	int r = store_mailbox_get(s->w->store, name, &info, error_r);
	if (r != STORE_OK)
		return r;
	struct selected *sel = calloc(1, sizeof(*sel));
	if (sel == NULL) {
		*error_r = "Out of memory";
		return STORE_ERROR;
	}
	if ((r = load_all(s, info.id, &l, error_r)) != STORE_OK) {
		free(sel);
		return r;
	}
	snprintf(sel->name, sizeof(sel->name), "%s", name);
	sel->id = info.id;
	sel->readonly = readonly;
	sel->uidvalidity = info.uidvalidity;
	sel->uidnext = info.uidnext;
	sel->highestmodseq = info.highestmodseq;
	sel->messages = info.messages;
	sel->uids = l.uids;
	sel->modseqs = l.modseqs;
	sel->count = l.count;
	sel->cap = l.cap;
	if (sel->count > 0 && sel->uids[sel->count - 1] >= sel->uidnext)
		sel->uidnext = sel->uids[sel->count - 1] + 1;
	s->sel = sel;
	out(s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n");
	out(s, "* %zu EXISTS\r\n* 0 RECENT\r\n", sel->count);
	if (l.first_unseen > 0)
		out(s, "* OK [UNSEEN %u] First unseen\r\n", l.first_unseen);
	out(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n", sel->uidvalidity);
	out(s, "* OK [UIDNEXT %u] Predicted next UID\r\n", sel->uidnext);
	if (readonly)
		out(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
	else
		out(s, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
		    "Flags permitted\r\n");
	return STORE_OK;
}

uint32_t mbox_seq(const struct selected *sel, uint32_t uid)
{
	size_t lo = 0, hi = sel->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sel->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sel->count && sel->uids[lo] == uid ? (uint32_t)(lo + 1) : 0;
}

void mbox_note_modseq(struct selected *sel, uint32_t uid, uint64_t modseq)
{
	uint32_t seq = mbox_seq(sel, uid);
	if (seq > 0)
		sel->modseqs[seq - 1] = modseq;
}

struct flags_ctx {
	struct session *s;
	uint32_t seq;
};

static int flags_cb(void *ctx, const struct store_message *m)
{
	struct flags_ctx *fc = ctx;
	struct buffer b;
	buffer_init(&b, RD_IMAP_MAX_LINE);
	if (buffer_printf(&b, "* %u FETCH (UID %u FLAGS ", fc->seq, m->uid) == 0 &&
	    imap_write_flags(&b, m->flags, m->keywords) == 0 &&
	    buffer_append_str(&b, ")\r\n") == 0)
		out_buf(fc->s, &b);
	buffer_free(&b);
	return 0;
}

void mbox_sync(struct session *s, bool expunges)
{
	struct selected *sel = s->sel;
	struct store_mailbox_info info;
	struct uidlist now;
	const char *err;
	if (sel == NULL)
		return;
	if (store_mailbox_get(s->w->store, sel->name, &info, &err) != STORE_OK ||
	    info.id != sel->id) {
		/* deleted or renamed under us: nothing more to report */
		return;
	}
	if (info.highestmodseq == sel->highestmodseq && info.uidnext == sel->uidnext &&
	    info.messages == sel->messages)
		return;
	if (load_all(s, sel->id, &now, &err) != STORE_OK)
		return;
	/* expunged: in the map, not in the store; reported from the highest
	 * sequence number down so every number is right when it is read */
	size_t j = now.count, kept = 0;
	bool withheld = false;
	for (size_t i = sel->count; i > 0; i--) {
		uint32_t uid = sel->uids[i - 1];
		while (j > 0 && now.uids[j - 1] > uid)
			j--;
		bool present = j > 0 && now.uids[j - 1] == uid;
		if (present)
			continue;
		if (!expunges) {
			withheld = true;
			continue;
		}
		out(s, "* %zu EXPUNGE\r\n", i);
		sel->uids[i - 1] = 0;   /* marked for removal */
	}
	for (size_t i = 0; i < sel->count; i++)
		if (sel->uids[i] != 0) {
			sel->uids[kept] = sel->uids[i];
			sel->modseqs[kept] = sel->modseqs[i];
			kept++;
		}
	sel->count = kept;
	/* changed flags, then new messages */
	uint32_t maxuid = sel->count > 0 ? sel->uids[sel->count - 1] : 0;
	size_t old = sel->count;
	for (size_t k = 0; k < now.count; k++) {
		uint32_t uid = now.uids[k];
		if (uid > maxuid) {
			struct uidlist grow = { sel->uids, sel->modseqs, sel->count, sel->cap,
						0, false };
			int r = uidlist_add(&grow, uid, now.modseqs[k]);
			sel->uids = grow.uids;
			sel->modseqs = grow.modseqs;
			sel->cap = grow.cap;
			sel->count = grow.count;
			if (r < 0)
				break;
			continue;
		}
		uint32_t seq = mbox_seq(sel, uid);
		if (seq == 0 || seq > old || sel->modseqs[seq - 1] == now.modseqs[k])
			continue;
		sel->modseqs[seq - 1] = now.modseqs[k];
		struct flags_ctx fc = { s, seq };
		(void)store_fetch(s->w->store, sel->id, uid, uid, flags_cb, &fc, &err);
	}
	if (sel->count != old)
		out(s, "* %zu EXISTS\r\n", sel->count);
	free(now.uids);
	free(now.modseqs);
	sel->uidnext = info.uidnext;
	sel->messages = info.messages;
	/* with expunges held back, look again next time */
	sel->highestmodseq = withheld ? 0 : info.highestmodseq;
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
