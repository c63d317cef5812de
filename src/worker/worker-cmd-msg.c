/* worker-cmd-msg.c: the commands on the selected mailbox: FETCH STORE
 * COPY MOVE EXPUNGE CLOSE UNSELECT CHECK IDLE, with their UID forms
 * (SEARCH is in worker-search.c).
 *
 * Message octets are read through store_message_open() with pread, only
 * the part a FETCH needs. Structure (ENVELOPE, BODYSTRUCTURE, sections)
 * comes from the store's cache when it has one, else from mime_parse()
 * (src/mime), with imap_fetch_simple() (single part) only if that fails.
 * Non-UID FETCH, STORE and SEARCH send no EXPUNGE (RFC 3501 7.4.1). */
#include "worker/worker.h"
#include "imap/imap-fetch.h"
#include "mime/mime.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>

uint8_t *read_message(struct session *s, uint32_t uid, uint64_t off, uint64_t len,
			     size_t *len_r)
{
	int fd;
	uint64_t size, base;
	const char *err;
	if (store_message_open(s->sel->store, s->sel->id, uid, &fd, &base, &size, &err) != STORE_OK)
		return NULL;
	if (off > size)
		off = size;
	if (len > size - off)
		len = size - off;
	uint8_t *p = malloc(len > 0 ? (size_t)len : 1);
	size_t got = 0;
	while (p != NULL && got < len) {
		ssize_t n = pread(fd, p + got, (size_t)len - got, (off_t)(base + off + got));
		if (n <= 0) {
			free(p);
			p = NULL;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	*len_r = got;
	s->msgs_read++;
	s->bytes_read += got;
	return p;
}

/* ---- FETCH ---- */

struct fetch_ctx {
	struct session *s;
	struct imap_fetch *f;
	uint64_t changedsince;  /* RFC 7162 CHANGEDSINCE, 0 for none */
	struct buffer out;
	const char *error;
	bool stopped;           /* output over the cap: resume after last_uid */
	uint32_t last_uid;
};

/* A FETCH in progress. It stops whenever the session's pending output
 * passes RD_IMAP_MAX_PENDING_OUTPUT and goes on when the client has read
 * it, so FETCH 1:* BODY[] of a big mailbox never sits in memory at once.
 * Items point into the command, which worker.c keeps until the job ends. */
struct fetch_job {
	struct imap_fetch *f;
	struct imap_range *ranges;
	int n, i;
	uint32_t next_lo;
	bool uid;
	char tag[IMAP_PARSE_TAG_MAX + 1];
	struct fetch_ctx fc;
};

/* The one item that is the whole message (BODY[], BODY.PEEK[], RFC822),
 * when every other item is metadata the store keeps: then a big message
 * can go out from its file, never read into memory. -1 if none. */
static int whole_message_item(const struct imap_fetch *f)
{
	int found = -1;
	for (size_t i = 0; i < f->n; i++) {
		const struct imap_fetch_item *it = &f->items[i];
		bool whole = (it->att == FA_SECTION && it->part[0] == '\0' &&
			      it->section == SEC_ALL && !it->partial) || it->att == FA_RFC822;
		bool meta = it->att == FA_UID || it->att == FA_FLAGS ||
			    it->att == FA_INTERNALDATE || it->att == FA_RFC822_SIZE ||
			    it->att == FA_MODSEQ || it->att == FA_EMAILID || it->att == FA_THREADID;
		if (whole && found < 0)
			found = (int)i;
		else if (!meta)
			return -1;
	}
	return found;
}

/* "* n FETCH (meta... BODY[] {size}" CRLF, the message from its file
 * (libevent sends it from there), ")" CRLF. 0, or -1 with *error_r. */
static int fetch_streamed(struct session *s, struct fetch_ctx *fc, int item,
			  const struct imap_fetch_msg *fm, const char **error_r)
{
	struct imap_fetch *rest = malloc(sizeof(*rest));
	int fd = -1;
	uint64_t size, base;
	if (rest == NULL) {
		*error_r = "Out of memory";
		return -1;
	}
	*rest = *fc->f;
	memmove(&rest->items[item], &rest->items[item + 1],
		(rest->n - (size_t)item - 1) * sizeof(rest->items[0]));
	rest->n--;
	buffer_reset(&fc->out);
	int r = imap_fetch_write(rest, fm, &fc->out, error_r);
	free(rest);
	if (r < 0)
		return -1;
	/* drop ")\r\n": the message item comes last */
	fc->out.len -= 3;
	if (store_message_open(s->sel->store, s->sel->id, fm->uid, &fd, &base, &size, error_r) != STORE_OK)
		return -1;
	r = buffer_printf(&fc->out, "%s%s {%llu}\r\n", fc->f->n > 1 ? " " : "",
			  fc->f->items[item].att == FA_RFC822 ? "RFC822" : "BODY[]",
			  (unsigned long long)size);
	if (r < 0) {
		close(fd);
		*error_r = "Response too big";
		return -1;
	}
	out_buf(s, &fc->out);
	struct evbuffer *o = bufferevent_get_output(s->bev);
	if (size > 0 && evbuffer_add_file(o, fd, (ev_off_t)base, (ev_off_t)size) < 0) {
		close(fd);
		*error_r = "Cannot send the message";
		return -1;
	}
	if (size == 0)
		close(fd);
	out(s, ")\r\n");
	s->msgs_read++;
	s->bytes_read += size;
	return 0;
}

static int fetch_cb(void *ctx, const struct store_message *m)
{
	struct fetch_ctx *fc = ctx;
	struct session *s = fc->s;
	uint32_t seq = mbox_seq(s->sel, m->uid);
	if (seq == 0 || m->modseq <= fc->changedsince)
		return 0;
	uint64_t off = 0, len = 0;
	bool cached = m->envelope != NULL && m->bodystructure != NULL;
	enum imap_fetch_need need = imap_fetch_plan(fc->f, m->size, cached, &off, &len);
	struct imap_fetch_msg fm = {
		.seq = seq, .uid = m->uid, .flags = m->flags | mbox_recent_bit(s, m->uid),
		.keywords = m->keywords,
		.internal_date = m->internal_date, .size = m->size, .modseq = m->modseq,
		.envelope = m->envelope, .bodystructure = m->bodystructure,
		.blob_id = m->blob_id,
	};
	uint8_t *raw = NULL;
	struct imap_fetch_simple simple;
	struct mime_result mr;
	struct imap_fetch_part *parts = NULL;
	bool have_simple = false, have_mime = false;
	int whole = need == FETCH_NEED_ALL && m->size >= RD_IMAP_STREAM_MIN ?
		    whole_message_item(fc->f) : -1;
	if (whole >= 0) {
		const char *serr;
		if (fetch_streamed(s, fc, whole, &fm, &serr) < 0) {
			fc->error = serr;
			return 1;
		}
		if (out_pending(s) > RD_IMAP_MAX_PENDING_OUTPUT) {
			fc->stopped = true;
			fc->last_uid = m->uid;
			return 1;
		}
		return 0;
	}
	if (need != FETCH_NEED_NOTHING) {
		if (need != FETCH_NEED_WINDOW) {
			off = 0;
			len = m->size;
		}
		raw = read_message(s, m->uid, off, len, &fm.raw_len);
		if (raw == NULL) {
			fc->error = "Cannot read message";
			return 1;
		}
		fm.raw = raw;
		fm.raw_off = off;
	}
	if (need == FETCH_NEED_STRUCTURE) {
		const char *merr;
		if (mime_parse(raw, fm.raw_len, &mr, &merr) == 0 &&
		    (parts = calloc(mr.nparts, sizeof(*parts))) != NULL) {
			have_mime = true;
			for (size_t i = 0; i < mr.nparts; i++) {
				const struct mime_part *mp = &mr.parts[i];
				parts[i] = (struct imap_fetch_part){
					.section = mp->section,
					.header_offset = mp->header_offset,
					.header_size = mp->header_size,
					.body_offset = mp->body_offset, .body_size = mp->body_size,
					.msg_header_offset = mp->msg_header_offset,
					.msg_header_size = mp->msg_header_size,
					.msg_body_offset = mp->msg_body_offset,
					.msg_body_size = mp->msg_body_size,
					.has_message = mp->has_message,
				};
			}
			if (fm.envelope == NULL || fm.bodystructure == NULL) {
				fm.envelope = (const char *)mr.envelope.data;
				fm.bodystructure = (const char *)mr.bodystructure.data;
			}
			fm.body = (const char *)mr.body.data;
			fm.parts = parts;
			fm.nparts = mr.nparts;
		} else {
			mime_result_free(&mr);
			if (imap_fetch_simple(raw, fm.raw_len, &simple) < 0) {
				imap_fetch_simple_free(&simple);
				free(raw);
				fc->error = "Out of memory";
				return 1;
			}
			have_simple = true;
			if (fm.envelope == NULL || fm.bodystructure == NULL) {
				fm.envelope = (const char *)simple.envelope.data;
				fm.bodystructure = (const char *)simple.bodystructure.data;
			}
			fm.body = (const char *)simple.body.data;
			fm.parts = simple.parts;
			fm.nparts = 2;
		}
	}
	buffer_reset(&fc->out);
	const char *err;
	int r = imap_fetch_write(fc->f, &fm, &fc->out, &err);
	if (r == 0)
		out_buf(s, &fc->out);
	else
		fc->error = err;
	if (r == 0 && out_pending(s) > RD_IMAP_MAX_PENDING_OUTPUT) {
		fc->stopped = true;
		fc->last_uid = m->uid;
		r = 1;
	}
	if (have_simple)
		imap_fetch_simple_free(&simple);
	if (have_mime)
		mime_result_free(&mr);
	free(parts);
	free(raw);
	return r != 0;
}

struct note_ctx {
	struct selected *sel;
};

static int note_cb(void *ctx, const struct store_message *m)
{
	struct note_ctx *nc = ctx;
	mbox_note_modseq(nc->sel, m->uid, m->modseq);
	return 0;
}

/* FETCH modifiers (RFC 7162 3.1.4 and 3.2.6): (CHANGEDSINCE n [VANISHED]).
 * Returns 0, or -1 with *why_r. */
static int fetch_modifiers(struct session *s, const struct imap_arg *list, bool uid,
			   uint64_t *since_r, bool *vanished_r, const char **why_r)
{
	*since_r = 0;
	*vanished_r = false;
	if (list == NULL)
		return 0;
	*why_r = "Invalid FETCH modifier";
	if (list->type != IMAP_ARG_LIST || list->next != NULL)
		return -1;
	for (const struct imap_arg *a = list->child; a != NULL; a = a->next) {
		if (imap_arg_is(a, "CHANGEDSINCE") && a->next != NULL &&
		    a->next->type == IMAP_ARG_NUMBER && a->next->num > 0 &&
		    a->next->num <= INT64_MAX) {
			*since_r = a->next->num;
			a = a->next;
		} else if (imap_arg_is(a, "VANISHED") && uid && s->qresync) {
			*vanished_r = true;
		} else {
			return -1;
		}
	}
	if (*vanished_r && *since_r == 0) {
		*why_r = "VANISHED needs CHANGEDSINCE";
		return -1;
	}
	return 0;
}

static void cmd_fetch(struct session *s, const char *tag, const struct imap_arg *args, bool uid)
{
	struct imap_range *ranges;
	struct imap_fetch *f;
	const char *err;
	uint64_t since;
	bool vanished;
	if (args == NULL || args->next == NULL ||
	    fetch_modifiers(s, args->next->next, uid, &since, &vanished, &err) < 0) {
		session_bad(s, tag, args == NULL || args->next == NULL ?
			    "Expected sequence set and items" : err);
		return;
	}
	if ((f = malloc(sizeof(*f))) == NULL) {
		out(s, "%s NO [SERVERBUG] Out of memory\r\n", tag);
		return;
	}
	if (imap_fetch_parse(args->next, f, &err) < 0) {
		free(f);
		session_bad(s, tag, err);
		return;
	}
	int n = mbox_uid_ranges(s, tag, args, uid, &ranges);
	if (n < 0) {
		free(f);
		return;
	}
	if (uid)
		imap_fetch_add_uid(f);
	bool has_modseq = false;
	for (size_t i = 0; i < f->n; i++)
		has_modseq |= f->items[i].att == FA_MODSEQ;
	if (since > 0 || has_modseq)
		s->condstore = true;   /* both are CONDSTORE-enabling (RFC 7162 3.1) */
	if ((since > 0 || (s->condstore && f->sets_seen)) && !has_modseq &&
	    f->n < RD_IMAP_MAX_FETCH_ITEMS) {
		memset(&f->items[f->n], 0, sizeof(f->items[0]));
		f->items[f->n++].att = FA_MODSEQ;
	}
	if (vanished) {
		/* the set as sent, not clipped to the UIDs still there: those
		 * above the highest one left may be the vanished ones */
		size_t max = args->len / 2 + 1;
		uint32_t top = s->sel->count > 0 ? s->sel->uids[s->sel->count - 1] : 1;
		struct imap_range *all = malloc(max * sizeof(*all));
		int an = all == NULL ? -1 :
			imap_seqset_parse(args->data, args->len, top, all, max, &err);
		if (an > 0)
			mbox_vanished_earlier(s, all, (size_t)an, since);
		free(all);
	}
	/* RFC 4314 4: the implicit \Seen of a non-PEEK fetch needs "s" */
	if (f->sets_seen && !s->sel->readonly &&
	    (!s->sel->shared || mbref_may(&s->sel->grant, 's'))) {
		struct store_flag_change ch = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_SEEN };
		struct note_ctx nc = { s->sel };
		for (int i = 0; i < n; i++)
			(void)store_flags_update(s->sel->store, s->sel->id, ranges[i].lo, ranges[i].hi,
						 &ch, note_cb, &nc, NULL, &err);
		if (!f->has_flags && f->n < RD_IMAP_MAX_FETCH_ITEMS) {
			memset(&f->items[f->n], 0, sizeof(f->items[0]));
			f->items[f->n++].att = FA_FLAGS;
		}
	}
	struct fetch_job *job = calloc(1, sizeof(*job));
	if (job == NULL) {
		free(ranges);
		free(f);
		out(s, "%s NO [SERVERBUG] Out of memory\r\n", tag);
		return;
	}
	job->f = f;
	job->ranges = ranges;
	job->n = n;
	job->next_lo = n > 0 ? ranges[0].lo : 0;
	job->uid = uid;
	snprintf(job->tag, sizeof(job->tag), "%s", tag);
	job->fc = (struct fetch_ctx){ .s = s, .f = f, .changedsince = since };
	buffer_init(&job->fc.out, 4 * (size_t)RD_STORE_MAX_MESSAGE);
	s->job = job;
	(void)fetch_job_run(s);
}

void fetch_job_free(struct session *s)
{
	struct fetch_job *job = s->job;
	if (job == NULL)
		return;
	buffer_free(&job->fc.out);
	free(job->ranges);
	free(job->f);
	free(job);
	s->job = NULL;
}

bool fetch_job_run(struct session *s)
{
	struct fetch_job *job = s->job;
	struct fetch_ctx *fc = &job->fc;
	const char *err;
	while (job->i < job->n && fc->error == NULL) {
		const struct imap_range *r = &job->ranges[job->i];
		fc->stopped = false;
		if (store_fetch(s->sel->store, s->sel->id, job->next_lo, r->hi, fetch_cb, fc,
				&err) != STORE_OK)
			fc->error = err;
		if (fc->stopped && fc->last_uid < r->hi) {
			job->next_lo = fc->last_uid + 1;
			return false;
		}
		if (++job->i < job->n)
			job->next_lo = job->ranges[job->i].lo;
		if (fc->stopped)
			return false;
	}
	bool uid = job->uid;
	char tag[IMAP_PARSE_TAG_MAX + 1];
	const char *error = fc->error;
	snprintf(tag, sizeof(tag), "%s", job->tag);
	fetch_job_free(s);
	mbox_sync(s, uid);
	if (error != NULL)
		out(s, "%s NO %s\r\n", tag, error);
	else
		out(s, "%s OK %sFETCH completed\r\n", tag, uid ? "UID " : "");
	return true;
}

/* ---- STORE ---- */


struct flags_out_ctx {
	struct session *s;
	bool uid, silent;
	uint64_t since;         /* UNCHANGEDSINCE, UINT64_MAX for none */
	/* UNCHANGEDSINCE: the UIDs that may change and those that failed */
	uint32_t *ok, *failed;
	size_t nok, nfailed, cap_ok, cap_failed;
	bool oom;
};

static int flags_out_cb(void *ctx, const struct store_message *m)
{
	struct flags_out_ctx *fo = ctx;
	uint32_t seq = mbox_seq(fo->s->sel, m->uid);
	if (seq > 0)
		mbox_write_flags(fo->s, seq, m, fo->uid);
	return 0;
}

/* A .SILENT STORE still tells a CONDSTORE client each new MODSEQ (RFC
 * 7162 3.1.3), without the flags. */
static int silent_cb(void *ctx, const struct store_message *m)
{
	struct flags_out_ctx *fo = ctx;
	mbox_note_modseq(fo->s->sel, m->uid, m->modseq);
	uint32_t seq = mbox_seq(fo->s->sel, m->uid);
	if (seq > 0 && fo->silent && fo->s->condstore) {
		if (fo->uid || fo->s->qresync)
			out(fo->s, "* %u FETCH (UID %u MODSEQ (%llu))\r\n", seq, m->uid,
			    (unsigned long long)m->modseq);
		else
			out(fo->s, "* %u FETCH (MODSEQ (%llu))\r\n", seq,
			    (unsigned long long)m->modseq);
	}
	return 0;
}

static int push_u32(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		uint32_t *nv = realloc(*v, ncap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = x;
	return 0;
}

/* Sorts the messages of the set by UNCHANGEDSINCE: the store has no
 * conditional update, but within this process nothing else changes flags
 * between this read and the update (sessions share one event loop and
 * deliver only appends), so the read decides. */
static int unchanged_cb(void *ctx, const struct store_message *m)
{
	struct flags_out_ctx *fo = ctx;
	if (mbox_seq(fo->s->sel, m->uid) == 0)
		return 0;
	int r = m->modseq <= fo->since ?
		push_u32(&fo->ok, &fo->nok, &fo->cap_ok, m->uid) :
		push_u32(&fo->failed, &fo->nfailed, &fo->cap_failed,
			 fo->uid ? m->uid : mbox_seq(fo->s->sel, m->uid));
	if (r < 0)
		fo->oom = true;
	return r != 0;
}

/* Replaces ranges by runs of the UIDs in fo->ok: a run may span UIDs no
 * longer in the mailbox, never one that failed. */
static int ok_runs(struct flags_out_ctx *fo, struct imap_range **ranges_r)
{
	struct imap_range *r = malloc((fo->nok + 1) * sizeof(*r));
	size_t n = 0;
	if (r == NULL)
		return -1;
	for (size_t i = 0; i < fo->nok; i++) {
		uint32_t u = fo->ok[i];
		uint32_t seq = mbox_seq(fo->s->sel, u);
		if (n > 0 && seq > 1 && fo->s->sel->uids[seq - 2] == r[n - 1].hi)
			r[n - 1].hi = u;
		else
			r[n++] = (struct imap_range){ u, u };
	}
	free(*ranges_r);
	*ranges_r = r;
	return (int)n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* (UNCHANGEDSINCE n) after the set: -1 with *why_r if malformed. */
static int store_modifiers(const struct imap_arg **ap, uint64_t *since_r, const char **why_r)
{
	const struct imap_arg *a = *ap;
	*since_r = UINT64_MAX;
	if (a == NULL || a->type != IMAP_ARG_LIST)
		return 0;
	const struct imap_arg *c = a->child;
	if (c == NULL || !imap_arg_is(c, "UNCHANGEDSINCE") || c->next == NULL ||
	    c->next->type != IMAP_ARG_NUMBER || c->next->num > INT64_MAX ||
	    c->next->next != NULL) {
		*why_r = "Invalid STORE modifier";
		return -1;
	}
	*since_r = c->next->num;
	*ap = a->next;
	return 0;
}

/* RFC 4314 4: on another owner's mailbox, \Seen needs "s", \Deleted
 * "t", every other flag and keyword "w"; what the grant does not allow is
 * left out of the change. Replacing the whole set would clear flags
 * the grantee may not touch, so it needs all three: -1 otherwise. */
static int rights_filter(const struct grant *g, struct store_flag_change *ch)
{
	bool sr = mbref_may(g, 's'), wr = mbref_may(g, 'w'), tr = mbref_may(g, 't');
	if (ch->op == STORE_FLAGS_SET)
		return sr && wr && tr ? 0 : -1;
	if (!sr)
		ch->flags &= ~(unsigned)STORE_FLAG_SEEN;
	if (!tr)
		ch->flags &= ~(unsigned)STORE_FLAG_DELETED;
	if (!wr) {
		ch->flags &= STORE_FLAG_SEEN | STORE_FLAG_DELETED;
		ch->keyword_count = 0;
	}
	return 0;
}

static void cmd_store(struct session *s, const char *tag, const struct imap_arg *args, bool uid)
{
	char kwbuf[RD_STORE_MAX_KEYWORDS][RD_STORE_MAX_KEYWORD_LEN + 1];
	const char *kws[RD_STORE_MAX_KEYWORDS];
	struct store_flag_change ch = { .keywords = kws };
	struct imap_range *ranges;
	const char *err = NULL;
	struct flags_out_ctx fo = { .s = s, .uid = uid };
	const struct imap_arg *item = args != NULL ? args->next : NULL;
	if (store_modifiers(&item, &fo.since, &err) < 0) {
		session_bad(s, tag, err);
		return;
	}
	if (item == NULL || item->next == NULL || item->type != IMAP_ARG_ATOM) {
		session_bad(s, tag, "Expected sequence set, item and flags");
		return;
	}
	const struct imap_arg *fl = item->next;
	char what[32];
	if (imap_arg_copy(item, what, sizeof(what)) < 0) {
		session_bad(s, tag, "Invalid STORE item");
		return;
	}
	bool silent = false;
	size_t wl = strlen(what);
	if (wl > 7 && strcasecmp(what + wl - 7, ".SILENT") == 0) {
		silent = true;
		what[wl - 7] = '\0';
	}
	fo.silent = silent;
	if (strcasecmp(what, "FLAGS") == 0)
		ch.op = STORE_FLAGS_SET;
	else if (strcasecmp(what, "+FLAGS") == 0)
		ch.op = STORE_FLAGS_ADD;
	else if (strcasecmp(what, "-FLAGS") == 0)
		ch.op = STORE_FLAGS_REMOVE;
	else {
		session_bad(s, tag, "Invalid STORE item");
		return;
	}
	/* a parenthesised list, or the flags as the remaining arguments */
	struct imap_arg rest = { .type = IMAP_ARG_LIST, .child = (struct imap_arg *)fl };
	const struct imap_arg *list = fl->type == IMAP_ARG_LIST && fl->next == NULL ? fl : &rest;
	if (parse_flag_list(list, &ch.flags, kws, &ch.keyword_count, kwbuf) < 0) {
		session_bad(s, tag, "Invalid flag");
		return;
	}
	int n = mbox_uid_ranges(s, tag, args, uid, &ranges);
	if (n < 0)
		return;
	if (s->sel->readonly) {
		free(ranges);
		out(s, "%s NO [READ-ONLY] Mailbox is read-only\r\n", tag);
		return;
	}
	if (s->sel->shared && rights_filter(&s->sel->grant, &ch) < 0) {
		free(ranges);
		out(s, "%s NO [NOPERM] Replacing flags needs the s, w and t rights\r\n", tag);
		return;
	}
	int r = STORE_OK;
	if (fo.since != UINT64_MAX) {
		s->condstore = true;
		for (int i = 0; i < n && r == STORE_OK; i++)
			r = store_fetch(s->sel->store, s->sel->id, ranges[i].lo, ranges[i].hi,
					unchanged_cb, &fo, &err);
		if (r == STORE_OK && (fo.oom || (n = ok_runs(&fo, &ranges)) < 0)) {
			r = STORE_ERROR;
			err = "Out of memory";
		}
	}
	for (int i = 0; i < n && r == STORE_OK; i++)
		r = store_flags_update(s->sel->store, s->sel->id, ranges[i].lo, ranges[i].hi, &ch,
				       silent_cb, &fo, NULL, &err);
	for (int i = 0; i < n && !silent && r == STORE_OK; i++)
		(void)store_fetch(s->sel->store, s->sel->id, ranges[i].lo, ranges[i].hi,
				  flags_out_cb, &fo, &err);
	free(ranges);
	mbox_sync(s, uid);
	if (r == STORE_INVALID || r == STORE_LIMIT) {
		out(s, "%s NO [LIMIT] %s\r\n", tag, err);
	} else if (r != STORE_OK) {
		out(s, "%s NO [SERVERBUG] %s\r\n", tag, err);
	} else if (fo.nfailed > 0) {
		struct buffer b;
		buffer_init(&b, RD_IMAP_MAX_LINE * 4);
		const char *set;
		qsort(fo.failed, fo.nfailed, sizeof(*fo.failed), cmp_u32);
		if (write_uid_set(&b, fo.failed, fo.nfailed) == 0 && buffer_cstr(&b, &set) == 0)
			out(s, "%s OK [MODIFIED %s] Conditional %sSTORE failed for some\r\n", tag,
			    set, uid ? "UID " : "");
		else
			out(s, "%s NO [SERVERBUG] Result too big\r\n", tag);
		buffer_free(&b);
	} else {
		out(s, "%s OK %sSTORE completed\r\n", tag, uid ? "UID " : "");
	}
	free(fo.ok);
	free(fo.failed);
}

/* ---- COPY / MOVE ---- */

int write_uid_set(struct buffer *b, const uint32_t *u, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && u[j + 1] == u[j] + 1)
			j++;
		int r = j > i ? buffer_printf(b, "%s%u:%u", i ? "," : "", u[i], u[j]) :
				buffer_printf(b, "%s%u", i ? "," : "", u[i]);
		if (r < 0)
			return -1;
		i = j + 1;
	}
	return 0;
}

static int append_uids(uint32_t **v, size_t *n, const struct store_uids *add)
{
	if (add->count == 0)
		return 0;
	uint32_t *nv = realloc(*v, (*n + add->count) * sizeof(**v));
	if (nv == NULL)
		return -1;
	memcpy(nv + *n, add->uids, add->count * sizeof(**v));
	*v = nv;
	*n += add->count;
	return 0;
}

static void cmd_copy(struct session *s, const char *tag, const struct imap_arg *args, bool uid,
		     bool move)
{
	char name[RD_STORE_MAX_MAILBOX_NAME + 1];
	struct store_mailbox_state dst;
	struct imap_range *ranges;
	const char *err = NULL;
	if (args == NULL || args->next == NULL || args->next->next != NULL) {
		session_bad(s, tag, "Expected sequence set and mailbox");
		return;
	}
	if (mailbox_arg(s, tag, args->next, name, sizeof(name)) < 0)
		return;
	int n = mbox_uid_ranges(s, tag, args, uid, &ranges);
	if (n < 0)
		return;
	if (move && s->sel->readonly) {
		free(ranges);
		out(s, "%s NO [READ-ONLY] Mailbox is read-only\r\n", tag);
		return;
	}
	struct mbref ref;
	int r = mbox_resolve(s, name, &ref);
	if (r == STORE_OK && (!mbref_may(ref.grant, 'i') ||
			      (move && (!mbref_may(s->sel->shared ? &s->sel->grant : NULL, 't') ||
					!mbref_may(s->sel->shared ? &s->sel->grant : NULL, 'e'))))) {
		free(ranges);
		out(s, "%s NO [NOPERM] %s\r\n", tag, !mbref_may(ref.grant, 'i') ?
		    "No right to add messages there" : "No right to remove messages here");
		return;
	}
	if (r == STORE_OK)
		r = store_mailbox_state(ref.store, ref.name, &dst, &err);
	if (r == STORE_OK && ref.store != s->sel->store) {
		/* between two owners' stores: read and append, in batches */
		shared_copy(s, tag, ranges, n, &ref, &dst, uid, move);
		free(ranges);
		return;
	}
	if (r != STORE_OK) {
		free(ranges);
		if (r == STORE_NOT_FOUND)
			out(s, "%s NO [TRYCREATE] No such mailbox\r\n", tag);
		else
			out(s, "%s NO [SERVERBUG] %s\r\n", tag, err);
		return;
	}
	uint32_t *src = NULL, *dsts = NULL;
	size_t nsrc = 0, ndst = 0;
	for (int i = 0; i < n && r == STORE_OK; i++) {
		struct store_copy_result res = { 0 };
		r = store_copy(s->sel->store, s->sel->id, ranges[i].lo, ranges[i].hi, dst.id, move,
			       &res, &err);
		if (move && r == STORE_OK)
			worker_gc_soon(s->w);
		if (r == STORE_OK &&
		    (append_uids(&src, &nsrc, &res.src) < 0 || append_uids(&dsts, &ndst, &res.dst) < 0)) {
			r = STORE_ERROR;
			err = "Out of memory";
		}
		store_copy_result_free(&res);
	}
	free(ranges);
	if (ref.grant != NULL && ndst > 0)
		shared_audit(s, ref.grant, move ? "move" : "copy", ndst, 0);
	if (move && s->sel->shared && nsrc > 0)
		shared_audit(s, &s->sel->grant, "expunge", nsrc, 0);
	copy_reply(s, tag, r, err, dst.uidvalidity, src, nsrc == ndst ? nsrc : 0, dsts, uid, move);
	free(src);
	free(dsts);
}

void copy_reply(struct session *s, const char *tag, int r, const char *err,
		uint32_t uidvalidity, const uint32_t *src, size_t n, const uint32_t *dst,
		bool uid, bool move)
{
	struct buffer code;
	buffer_init(&code, RD_IMAP_MAX_LINE * 4);
	if (n > 0 &&
	    (buffer_printf(&code, "[COPYUID %u ", uidvalidity) < 0 ||
	     write_uid_set(&code, src, n) < 0 || buffer_append_u8(&code, ' ') < 0 ||
	     write_uid_set(&code, dst, n) < 0 || buffer_append_str(&code, "] ") < 0))
		buffer_reset(&code);
	const char *cstr = "";
	if (buffer_cstr(&code, &cstr) < 0)
		cstr = "";
	if (r != STORE_OK) {
		/* a partial move still has to be reported as expunges */
		mbox_sync(s, true);
		out(s, "%s NO [%s] %s\r\n", tag, r == STORE_LIMIT ? "LIMIT" : "SERVERBUG", err);
	} else if (move) {
		if (cstr[0] != '\0')
			out(s, "* OK %sMoved\r\n", cstr);
		mbox_sync(s, true);
		out(s, "%s OK %sMOVE completed\r\n", tag, uid ? "UID " : "");
	} else {
		mbox_sync(s, uid);
		out(s, "%s OK %s%sCOPY completed\r\n", tag, cstr, uid ? "UID " : "");
	}
	buffer_free(&code);
}

/* ---- EXPUNGE / CLOSE ---- */

static int expunge_range(struct session *s, uint32_t lo, uint32_t hi, const char **error_r)
{
	for (;;) {
		struct store_uids gone = { 0 };
		int r = store_expunge(s->sel->store, s->sel->id, lo, hi, &gone, error_r);
		size_t count = gone.count;
		if (count > 0)
			worker_gc_soon(s->w);
		/* removing an owner's mail is the access most worth a record */
		if (count > 0 && s->sel->shared)
			shared_audit(s, &s->sel->grant, "expunge", count, 0);
		store_uids_free(&gone);
		if (r != STORE_OK || count < RD_STORE_MAX_BATCH)
			return r;
	}
}

static void cmd_expunge(struct session *s, const char *tag, const struct imap_arg *args,
			bool uid)
{
	struct imap_range all = { 1, UINT32_MAX }, *ranges = &all;
	const char *err = NULL;
	int n = 1;
	if ((uid && (args == NULL || args->next != NULL)) || (!uid && args != NULL)) {
		session_bad(s, tag, uid ? "Expected a UID set" : "EXPUNGE takes no arguments");
		return;
	}
	if (uid && (n = mbox_uid_ranges(s, tag, args, true, &ranges)) < 0)
		return;
	if (s->sel->readonly || (s->sel->shared && !mbref_may(&s->sel->grant, 'e'))) {
		if (ranges != &all)
			free(ranges);
		if (s->sel->readonly)
			out(s, "%s NO [READ-ONLY] Mailbox is read-only\r\n", tag);
		else
			out(s, "%s NO [NOPERM] No expunge right on this mailbox\r\n", tag);
		return;
	}
	int r = STORE_OK;
	for (int i = 0; i < n && r == STORE_OK; i++)
		r = expunge_range(s, ranges[i].lo, ranges[i].hi, &err);
	if (ranges != &all)
		free(ranges);
	mbox_sync(s, true);
	if (r != STORE_OK)
		out(s, "%s NO [SERVERBUG] %s\r\n", tag, err);
	else if (s->condstore && s->sel->highestmodseq > 0)
		/* RFC 7162 3.2.10: the client learns the new HIGHESTMODSEQ */
		out(s, "%s OK [HIGHESTMODSEQ %llu] %sEXPUNGE completed\r\n", tag,
		    (unsigned long long)s->sel->highestmodseq, uid ? "UID " : "");
	else
		out(s, "%s OK %sEXPUNGE completed\r\n", tag, uid ? "UID " : "");
}

bool cmd_selected(struct session *s, struct imap_cmd *cmd, const char *name,
		  const struct imap_arg *args, bool uid)
{
	const char *tag = cmd->tag;
	const char *err;
	if (strcmp(name, "FETCH") == 0) {
		cmd_fetch(s, tag, args, uid);
	} else if (strcmp(name, "STORE") == 0) {
		cmd_store(s, tag, args, uid);
	} else if (strcmp(name, "SEARCH") == 0) {
		cmd_search(s, tag, args, uid);
	} else if (strcmp(name, "SORT") == 0 || strcmp(name, "THREAD") == 0) {
		cmd_sort(s, tag, args, uid, strcmp(name, "THREAD") == 0);
	} else if (strcmp(name, "COPY") == 0 || strcmp(name, "MOVE") == 0) {
		cmd_copy(s, tag, args, uid, strcmp(name, "MOVE") == 0);
	} else if (strcmp(name, "EXPUNGE") == 0) {
		cmd_expunge(s, tag, args, uid);
	} else if (uid) {
		return false;
	} else if (args != NULL) {
		return false;
	} else if (strcmp(name, "CLOSE") == 0) {
		/* expunge silently (RFC 3501 6.4.2) */
		if (!s->sel->readonly && (!s->sel->shared || mbref_may(&s->sel->grant, 'e')))
			(void)expunge_range(s, 1, UINT32_MAX, &err);
		mbox_unselect(s);
		out(s, "%s OK CLOSE completed\r\n", tag);
	} else if (strcmp(name, "UNSELECT") == 0) {
		mbox_unselect(s);
		out(s, "%s OK UNSELECT completed\r\n", tag);
	} else if (strcmp(name, "CHECK") == 0) {
		mbox_sync(s, true);
		out(s, "%s OK CHECK completed\r\n", tag);
	} else if (strcmp(name, "IDLE") == 0) {
		mbox_sync(s, true);
		session_idle_start(s, tag);
	} else {
		return false;
	}
	return true;
}
