/* worker-cmd-msg.c: the commands on the selected mailbox: FETCH STORE
 * SEARCH COPY MOVE EXPUNGE CLOSE UNSELECT CHECK IDLE, with their UID forms.
 *
 * Message octets are read through store_message_open() with pread, only
 * the part a FETCH needs. Structure (ENVELOPE, BODYSTRUCTURE, sections)
 * comes from the store's cache when it has one, else from mime_parse()
 * (src/mime), with imap_fetch_simple() (single part) only if that fails.
 * Non-UID FETCH, STORE and SEARCH send no EXPUNGE (RFC 3501 7.4.1). */
#include "worker/worker.h"
#include "imap/imap-fetch.h"
#include "imap/imap-search.h"
#include "mime/mime.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads [off, off+len) of a message into a malloc'd buffer. */
static uint8_t *read_message(struct session *s, uint32_t uid, uint64_t off, uint64_t len,
			     size_t *len_r)
{
	int fd;
	uint64_t size;
	const char *err;
	if (store_message_open(s->w->store, s->sel->id, uid, &fd, &size, &err) != STORE_OK)
		return NULL;
	if (off > size)
		off = size;
	if (len > size - off)
		len = size - off;
	uint8_t *p = malloc(len > 0 ? (size_t)len : 1);
	size_t got = 0;
	while (p != NULL && got < len) {
		ssize_t n = pread(fd, p + got, (size_t)len - got, (off_t)(off + got));
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

static int fetch_cb(void *ctx, const struct store_message *m)
{
	struct fetch_ctx *fc = ctx;
	struct session *s = fc->s;
	uint32_t seq = mbox_seq(s->sel, m->uid);
	if (seq == 0)
		return 0;
	uint64_t off = 0, len = 0;
	bool cached = m->envelope != NULL && m->bodystructure != NULL;
	enum imap_fetch_need need = imap_fetch_plan(fc->f, m->size, cached, &off, &len);
	struct imap_fetch_msg fm = {
		.seq = seq, .uid = m->uid, .flags = m->flags, .keywords = m->keywords,
		.internal_date = m->internal_date, .size = m->size, .modseq = m->modseq,
		.envelope = m->envelope, .bodystructure = m->bodystructure,
	};
	uint8_t *raw = NULL;
	struct imap_fetch_simple simple;
	struct mime_result mr;
	struct imap_fetch_part *parts = NULL;
	bool have_simple = false, have_mime = false;
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

static void cmd_fetch(struct session *s, const char *tag, const struct imap_arg *args, bool uid)
{
	struct imap_range *ranges;
	struct imap_fetch *f;
	const char *err;
	if (args == NULL || args->next == NULL || args->next->next != NULL) {
		session_bad(s, tag, "Expected sequence set and items");
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
	if (f->sets_seen && !s->sel->readonly) {
		struct store_flag_change ch = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_SEEN };
		struct note_ctx nc = { s->sel };
		for (int i = 0; i < n; i++)
			(void)store_flags_update(s->w->store, s->sel->id, ranges[i].lo, ranges[i].hi,
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
	job->fc = (struct fetch_ctx){ .s = s, .f = f };
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
		if (store_fetch(s->w->store, s->sel->id, job->next_lo, r->hi, fetch_cb, fc,
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
	bool uid;
};

static int flags_out_cb(void *ctx, const struct store_message *m)
{
	struct flags_out_ctx *fo = ctx;
	uint32_t seq = mbox_seq(fo->s->sel, m->uid);
	struct buffer b;
	if (seq == 0)
		return 0;
	buffer_init(&b, RD_IMAP_MAX_LINE);
	if (buffer_printf(&b, "* %u FETCH (", seq) == 0 &&
	    (!fo->uid || buffer_printf(&b, "UID %u ", m->uid) == 0) &&
	    buffer_append_str(&b, "FLAGS ") == 0 &&
	    imap_write_flags(&b, m->flags, m->keywords) == 0 && buffer_append_str(&b, ")\r\n") == 0)
		out_buf(fo->s, &b);
	buffer_free(&b);
	return 0;
}

static void cmd_store(struct session *s, const char *tag, const struct imap_arg *args, bool uid)
{
	char kwbuf[RD_STORE_MAX_KEYWORDS][RD_STORE_MAX_KEYWORD_LEN + 1];
	const char *kws[RD_STORE_MAX_KEYWORDS];
	struct store_flag_change ch = { .keywords = kws };
	struct imap_range *ranges;
	const char *err = NULL;
	if (args == NULL || args->next == NULL || args->next->next == NULL ||
	    args->next->type != IMAP_ARG_ATOM) {
		session_bad(s, tag, "Expected sequence set, item and flags");
		return;
	}
	const struct imap_arg *item = args->next, *fl = item->next;
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
	struct note_ctx nc = { s->sel };
	int r = STORE_OK;
	for (int i = 0; i < n && r == STORE_OK; i++)
		r = store_flags_update(s->w->store, s->sel->id, ranges[i].lo, ranges[i].hi, &ch,
				       note_cb, &nc, NULL, &err);
	struct flags_out_ctx fo = { s, uid };
	for (int i = 0; i < n && !silent && r == STORE_OK; i++)
		(void)store_fetch(s->w->store, s->sel->id, ranges[i].lo, ranges[i].hi,
				  flags_out_cb, &fo, &err);
	free(ranges);
	mbox_sync(s, uid);
	if (r == STORE_INVALID || r == STORE_LIMIT)
		out(s, "%s NO [LIMIT] %s\r\n", tag, err);
	else if (r != STORE_OK)
		out(s, "%s NO [SERVERBUG] %s\r\n", tag, err);
	else
		out(s, "%s OK %sSTORE completed\r\n", tag, uid ? "UID " : "");
}

/* ---- SEARCH ---- */

struct search_ctx {
	struct session *s;
	struct imap_search *se;
	struct buffer res;
	bool uid;
	const char *error;
};

static int search_cb(void *ctx, const struct store_message *m)
{
	struct search_ctx *sc = ctx;
	uint32_t seq = mbox_seq(sc->s->sel, m->uid);
	if (seq == 0)
		return 0;
	struct imap_search_msg sm = { .seq = seq, .uid = m->uid, .flags = m->flags,
				      .keywords = m->keywords, .internal_date = m->internal_date,
				      .size = m->size };
	uint8_t *raw = NULL;
	if (sc->se->needs_text) {
		/* FTS5 (already kept by the store) is the later speed-up */
		raw = read_message(sc->s, m->uid, 0, m->size, &sm.raw_len);
		if (raw == NULL) {
			sc->error = "Cannot read message";
			return 1;
		}
		sm.raw = raw;
	}
	if (imap_search_match(sc->se, &sm) &&
	    buffer_printf(&sc->res, " %u", sc->uid ? m->uid : seq) < 0)
		sc->error = "Result too big";
	free(raw);
	return sc->error != NULL;
}

static void count_nodes(const struct imap_arg *a, size_t *nodes, size_t *octets)
{
	for (; a != NULL; a = a->next) {
		(*nodes)++;
		*octets += a->len;
		if (a->type == IMAP_ARG_LIST)
			count_nodes(a->child, nodes, octets);
	}
}

static void cmd_search(struct session *s, const char *tag, const struct imap_arg *args, bool uid)
{
	const char *err;
	if (args != NULL && imap_arg_is(args, "CHARSET")) {
		const struct imap_arg *cs = args->next;
		if (imap_arg_is(cs, "UTF-8") || imap_arg_is(cs, "US-ASCII")) {
			args = cs->next;
		} else if (imap_arg_is_string(cs)) {
			out(s, "%s NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset\r\n", tag);
			return;
		} else {
			session_bad(s, tag, "Expected a charset");
			return;
		}
	}
	size_t nodes = 0, octets = 0;
	count_nodes(args, &nodes, &octets);
	struct imap_search_ctx ctx = {
		.keys = malloc((nodes + 2) * sizeof(struct imap_search_key)),
		.max_keys = nodes + 2,
		.ranges = malloc((octets / 2 + nodes + 1) * sizeof(struct imap_range)),
		.max_ranges = octets / 2 + nodes + 1,
		.max_depth = RD_IMAP_MAX_SEARCH_DEPTH,
		.max_seq = (uint32_t)s->sel->count,
		.max_uid = s->sel->count > 0 ? s->sel->uids[s->sel->count - 1] : 0,
	};
	struct imap_search se;
	if (ctx.keys == NULL || ctx.ranges == NULL) {
		out(s, "%s NO [SERVERBUG] Out of memory\r\n", tag);
	} else if (imap_search_compile(&ctx, args, &se, &err) < 0) {
		session_bad(s, tag, err);
	} else {
		struct search_ctx sc = { .s = s, .se = &se, .uid = uid };
		buffer_init(&sc.res, (size_t)16 * (s->sel->count + 1) + 64);
		(void)buffer_append_str(&sc.res, "* SEARCH");
		if (s->sel->count > 0 &&
		    store_fetch(s->w->store, s->sel->id, 1, ctx.max_uid, search_cb, &sc,
				&err) != STORE_OK)
			sc.error = err;
		(void)buffer_append_str(&sc.res, "\r\n");
		if (sc.error == NULL)
			out_buf(s, &sc.res);
		buffer_free(&sc.res);
		mbox_sync(s, uid);
		if (sc.error != NULL)
			out(s, "%s NO %s\r\n", tag, sc.error);
		else
			out(s, "%s OK %sSEARCH completed\r\n", tag, uid ? "UID " : "");
	}
	free(ctx.keys);
	free(ctx.ranges);
}

/* ---- COPY / MOVE ---- */

/* "1:3,7" from ascending-or-not UIDs, in the given order (COPYUID pairs
 * src[i] with dst[i], so the two sets must list them in the same order). */
static int write_uid_set(struct buffer *b, const uint32_t *u, size_t n)
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
	struct store_mailbox_info dst;
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
	int r = store_mailbox_get(s->w->store, name, &dst, &err);
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
		r = store_copy(s->w->store, s->sel->id, ranges[i].lo, ranges[i].hi, dst.id, move,
			       &res, &err);
		if (r == STORE_OK &&
		    (append_uids(&src, &nsrc, &res.src) < 0 || append_uids(&dsts, &ndst, &res.dst) < 0)) {
			r = STORE_ERROR;
			err = "Out of memory";
		}
		store_copy_result_free(&res);
	}
	free(ranges);
	struct buffer code;
	buffer_init(&code, RD_IMAP_MAX_LINE * 4);
	if (nsrc > 0 && nsrc == ndst &&
	    (buffer_printf(&code, "[COPYUID %u ", dst.uidvalidity) < 0 ||
	     write_uid_set(&code, src, nsrc) < 0 || buffer_append_u8(&code, ' ') < 0 ||
	     write_uid_set(&code, dsts, ndst) < 0 || buffer_append_str(&code, "] ") < 0))
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
	free(src);
	free(dsts);
}

/* ---- EXPUNGE / CLOSE ---- */

static int expunge_range(struct session *s, uint32_t lo, uint32_t hi, const char **error_r)
{
	for (;;) {
		struct store_uids gone = { 0 };
		int r = store_expunge(s->w->store, s->sel->id, lo, hi, &gone, error_r);
		size_t count = gone.count;
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
	if (s->sel->readonly) {
		if (ranges != &all)
			free(ranges);
		out(s, "%s NO [READ-ONLY] Mailbox is read-only\r\n", tag);
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
		if (!s->sel->readonly)
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
