/* worker-search.c: SEARCH, SORT and THREAD (with their UID forms) on the
 * selected mailbox.
 *
 * The keys are compiled by src/imap/imap-search (pure) and evaluated here
 * against every message the store lists; TEXT and BODY are answered first
 * by the store's full-text index, so only HEADER keys read messages.
 * Results come back as the classic "* SEARCH" or, with RETURN (...), as
 * "* ESEARCH" (RFC 4731: MIN MAX ALL COUNT); RETURN (SAVE) keeps the result for "$" (RFC 5182); a MODSEQ key
 * adds the highest MODSEQ of the matches (RFC 7162 3.1.5). SORT and
 * THREAD=ORDEREDSUBJECT (RFC 5256) order the matches by keys taken from
 * the cached ENVELOPE (src/imap/imap-sort). */
#include "worker/worker.h"
#include "imap/imap-fetch.h"
#include "imap/imap-search.h"
#include "imap/imap-sort.h"
#include "worker/worker-thread.h"
#include "indexer/indexer.h"
#include "lib/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum search_return {
	RET_MIN = 1u << 0, RET_MAX = 1u << 1, RET_ALL = 1u << 2, RET_COUNT = 1u << 3,
	RET_SAVE = 1u << 4,
};

struct search_ctx {
	struct session *s;
	struct imap_search *se;
	uint32_t *seqs, *uids;  /* the matches, ascending */
	size_t n, cap;
	uint64_t modseq;        /* highest among the matches */
	bool has_modseq;
	bool sorting;           /* SORT/THREAD: keep each match's sort keys */
	struct imap_sort_msg *sort;   /* parallel to seqs/uids */
	const char *error;
};

/* A match's sort keys, from the cached envelope or, without one, from the
 * message's own header (imap_fetch_simple). */
static int sort_keys(struct search_ctx *sc, const struct store_message *m,
		     struct imap_sort_msg *k)
{
	*k = (struct imap_sort_msg){ .seq = mbox_seq(sc->s->sel, m->uid), .uid = m->uid,
				     .arrival = m->internal_date, .size = m->size };
	if (m->envelope != NULL)
		return imap_sort_msg_fill(k, m->envelope);
	size_t len = 0;
	uint8_t *raw = read_message(sc->s, m->uid, 0, m->size, &len);
	struct imap_fetch_simple simple;
	const char *env = NULL;
	int r;
	if (raw != NULL && imap_fetch_simple(raw, len, &simple) == 0 &&
	    buffer_cstr(&simple.envelope, &env) == 0)
		r = imap_sort_msg_fill(k, env);
	else
		r = imap_sort_msg_fill(k, NULL);
	if (raw != NULL)
		imap_fetch_simple_free(&simple);
	free(raw);
	return r;
}

static int search_cb(void *ctx, const struct store_message *m)
{
	struct search_ctx *sc = ctx;
	uint32_t seq = mbox_seq(sc->s->sel, m->uid);
	if (seq == 0)
		return 0;
	struct imap_search_msg sm = { .seq = seq, .uid = m->uid,
				      .flags = m->flags | mbox_recent_bit(sc->s, m->uid),
				      .keywords = m->keywords, .internal_date = m->internal_date,
				      .size = m->size, .modseq = m->modseq };
	uint8_t *raw = NULL;
	if (sc->se->needs_text) {
		/* HEADER keys, and TEXT/BODY the index could not answer */
		raw = read_message(sc->s, m->uid, 0, m->size, &sm.raw_len);
		if (raw == NULL) {
			sc->error = "Cannot read message";
			return 1;
		}
		sm.raw = raw;
	}
	if (imap_search_match(sc->se, &sm)) {
		if (sc->n == sc->cap) {
			size_t ncap = sc->cap ? sc->cap * 2 : 64;
			uint32_t *a = realloc(sc->seqs, ncap * sizeof(*a));
			if (a != NULL)
				sc->seqs = a;
			uint32_t *b = a != NULL ? realloc(sc->uids, ncap * sizeof(*b)) : NULL;
			if (b != NULL)
				sc->uids = b;
			struct imap_sort_msg *k = b != NULL && sc->sorting ?
				realloc(sc->sort, ncap * sizeof(*k)) : NULL;
			if (k != NULL)
				sc->sort = k;
			if (b == NULL || (sc->sorting && k == NULL)) {
				sc->error = "Out of memory";
				free(raw);
				return 1;
			}
			sc->cap = ncap;
		}
		if (sc->sorting && sort_keys(sc, m, &sc->sort[sc->n]) < 0) {
			sc->error = "Out of memory";
			free(raw);
			return 1;
		}
		sc->seqs[sc->n] = seq;
		sc->uids[sc->n++] = m->uid;
		if (m->modseq > sc->modseq)
			sc->modseq = m->modseq;
	}
	free(raw);
	return 0;
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

/* RETURN (...) into *ret (0 when absent); an empty list means ALL. */
static int parse_return(const struct imap_arg **ap, unsigned *ret, bool *esearch)
{
	static const struct { const char *name; unsigned bit; } opts[] = {
		{ "MIN", RET_MIN }, { "MAX", RET_MAX }, { "ALL", RET_ALL },
		{ "COUNT", RET_COUNT }, { "SAVE", RET_SAVE },
	};
	const struct imap_arg *a = *ap;
	*ret = 0;
	*esearch = false;
	if (a == NULL || !imap_arg_is(a, "RETURN"))
		return 0;
	if (a->next == NULL || a->next->type != IMAP_ARG_LIST)
		return -1;
	for (const struct imap_arg *o = a->next->child; o != NULL; o = o->next) {
		size_t i = 0;
		while (i < sizeof(opts) / sizeof(opts[0]) && !imap_arg_is(o, opts[i].name))
			i++;
		if (i == sizeof(opts) / sizeof(opts[0]))
			return -1;
		*ret |= opts[i].bit;
	}
	if (*ret == 0)
		*ret = RET_ALL;
	*esearch = true;
	*ap = a->next->next;
	return 0;
}

/* Replaces the saved result (RFC 5182 2.4: with MIN and/or MAX but
 * neither ALL nor COUNT, only those are kept). */
static void save_result(struct selected *sel, const struct search_ctx *sc, unsigned ret)
{
	free(sel->saved);
	sel->saved = NULL;
	sel->nsaved = 0;
	if (sc == NULL || sc->n == 0)
		return;
	struct imap_range *r = malloc(sc->n * sizeof(*r));
	if (r == NULL)
		return;   /* "$" is then empty, the safe side */
	size_t n = 0;
	if ((ret & (RET_MIN | RET_MAX)) != 0 && (ret & (RET_ALL | RET_COUNT)) == 0) {
		if (ret & RET_MIN)
			r[n++] = (struct imap_range){ sc->uids[0], sc->uids[0] };
		if ((ret & RET_MAX) && (n == 0 || sc->uids[sc->n - 1] != r[0].lo))
			r[n++] = (struct imap_range){ sc->uids[sc->n - 1], sc->uids[sc->n - 1] };
	} else {
		for (size_t i = 0; i < sc->n; i++) {
			if (n > 0 && r[n - 1].hi + 1 == sc->uids[i])
				r[n - 1].hi = sc->uids[i];
			else
				r[n++] = (struct imap_range){ sc->uids[i], sc->uids[i] };
		}
	}
	sel->saved = r;
	sel->nsaved = n;
}

static int write_result(const char *tag, const struct search_ctx *sc,
			unsigned ret, bool esearch, bool uid, struct buffer *b)
{
	const uint32_t *v = uid ? sc->uids : sc->seqs;
	if (!esearch) {
		if (buffer_append_str(b, "* SEARCH") < 0)
			return -1;
		for (size_t i = 0; i < sc->n; i++)
			if (buffer_printf(b, " %u", v[i]) < 0)
				return -1;
		if (sc->has_modseq && sc->n > 0 &&
		    buffer_printf(b, " (MODSEQ %llu)", (unsigned long long)sc->modseq) < 0)
			return -1;
		return buffer_append_str(b, "\r\n");
	}
	if (ret == RET_SAVE)
		return 0;   /* SAVE alone answers nothing (RFC 5182 2.4) */
	if (buffer_printf(b, "* ESEARCH (TAG \"%s\")%s", tag, uid ? " UID" : "") < 0)
		return -1;
	if (sc->n > 0 && (ret & RET_MIN) && buffer_printf(b, " MIN %u", v[0]) < 0)
		return -1;
	if (sc->n > 0 && (ret & RET_MAX) && buffer_printf(b, " MAX %u", v[sc->n - 1]) < 0)
		return -1;
	if (sc->n > 0 && (ret & RET_ALL) &&
	    (buffer_append_str(b, " ALL ") < 0 || write_uid_set(b, v, sc->n) < 0))
		return -1;
	if ((ret & RET_COUNT) && buffer_printf(b, " COUNT %zu", sc->n) < 0)
		return -1;
	if (sc->has_modseq && sc->n > 0 &&
	    buffer_printf(b, " MODSEQ %llu", (unsigned long long)sc->modseq) < 0)
		return -1;
	return buffer_append_str(b, "\r\n");
}

/* TEXT and BODY from the store's full-text index: decoded text (transfer
 * encodings, charsets, RFC 2047) and no message read. Each such key gets
 * the UIDs it matches; a key the index cannot answer (a needle past
 * RD_STORE_MAX_SEARCH_NEEDLE, a store error) stays a scan of the raw
 * messages. Returns the UID sets to free after matching (*n_r of them). */
static struct store_uids *resolve_text_keys(struct session *s, struct imap_search *se,
					    size_t *n_r)
{
	size_t n = imap_search_text_keys(se, NULL, 0);
	*n_r = 0;
	if (n == 0)
		return NULL;
	struct imap_search_key **keys = calloc(n, sizeof(*keys));
	struct store_uids *hits = calloc(n, sizeof(*hits));
	if (keys == NULL || hits == NULL) {
		free(keys);
		free(hits);
		return NULL;   /* every key is then a raw scan: slow, not wrong */
	}
	(void)imap_search_text_keys(se, keys, n);
	/* Mail filed without its text (an import the background turns have
	 * not finished) gets it now: the index must know every message
	 * before it may answer for the mailbox. */
	size_t done = 0;
	const char *ierr;
	if (indexer_catch_up(s->sel->store, s->sel->id, &done, &ierr) < 0) {
		log_warn("text_index_failed", "reason", ierr);
		free(keys);
		free(hits);
		return NULL;   /* raw scan, as above */
	}
	for (size_t i = 0; i < n; i++) {
		const char *err;
		enum store_text_part part = keys[i]->op == SK_BODY ? STORE_TEXT_BODY :
			STORE_TEXT_ALL;
		if (store_search_text(s->sel->store, s->sel->id, part,
				      (const char *)keys[i]->str, keys[i]->str_len,
				      &hits[i], &err) == STORE_OK)
			imap_search_resolve(se, keys[i], hits[i].uids, hits[i].count);
		else
			log_warn("search_index_unused", "reason", err);
	}
	free(keys);
	*n_r = n;
	return hits;
}

/* Runs search_cb over the messages that can match: when a resolved key
 * bounds the result and holds few UIDs (a rare word), only the runs of
 * consecutive UIDs in it, so a search of a big mailbox reads a handful of
 * rows; otherwise every message up to max_uid in one pass. */
static int fetch_candidates(struct session *s, struct search_ctx *sc,
			    const struct imap_search *se, uint32_t max_uid,
			    const char **error_r)
{
	const struct imap_search_key *k = imap_search_narrowest(se);
	if (k == NULL || k->nuids > s->sel->count / 8)
		return store_fetch(s->sel->store, s->sel->id, 1, max_uid, search_cb, sc,
				   error_r);
	for (size_t i = 0; i < k->nuids && k->uids[i] <= max_uid && sc->error == NULL;) {
		size_t j = i;
		while (j + 1 < k->nuids && k->uids[j + 1] == k->uids[j] + 1 &&
		       k->uids[j + 1] <= max_uid)
			j++;
		int r = store_fetch(s->sel->store, s->sel->id, k->uids[i], k->uids[j],
				    search_cb, sc, error_r);
		if (r != STORE_OK)
			return r;
		i = j + 1;
	}
	return STORE_OK;
}

/* Compiles the keys at args (after an optional CHARSET, required when
 * charset_required) and collects the matches in sc. Returns 0, or -1
 * after replying BAD or NO. */
static int search_exec(struct session *s, const char *tag, const struct imap_arg *args,
		       bool charset_required, struct search_ctx *sc)
{
	const char *err;
	if (args != NULL && (charset_required || imap_arg_is(args, "CHARSET"))) {
		const struct imap_arg *cs = charset_required ? args : args->next;
		if (imap_arg_is(cs, "UTF-8") || imap_arg_is(cs, "US-ASCII")) {
			args = cs->next;
		} else if (imap_arg_is_string(cs)) {
			out(s, "%s NO [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset\r\n", tag);
			return -1;
		} else {
			session_bad(s, tag, "Expected a charset");
			return -1;
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
		.saved = s->sel->saved,
		.nsaved = s->sel->nsaved,
	};
	struct imap_search se;
	struct store_uids *hits = NULL;
	size_t nhits = 0;
	int r = -1;
	if (ctx.keys == NULL || ctx.ranges == NULL) {
		out(s, "%s NO [SERVERBUG] Out of memory\r\n", tag);
	} else if (imap_search_compile(&ctx, args, &se, &err) < 0) {
		session_bad(s, tag, err);
	} else {
		sc->s = s;
		sc->se = &se;
		if (se.has_modseq)
			s->condstore = true;   /* RFC 7162 3.1: CONDSTORE-enabling */
		if (s->sel->count > 0)
			hits = resolve_text_keys(s, &se, &nhits);
		if (s->sel->count > 0 &&
		    fetch_candidates(s, sc, &se, ctx.max_uid, &err) != STORE_OK &&
		    sc->error == NULL)
			sc->error = err;
		sc->has_modseq = se.has_modseq;
		sc->se = NULL;
		r = 0;
	}
	for (size_t i = 0; i < nhits; i++)
		store_uids_free(&hits[i]);
	free(hits);
	free(ctx.keys);
	free(ctx.ranges);
	return r;
}

static void search_ctx_free(struct search_ctx *sc)
{
	for (size_t i = 0; i < sc->n && sc->sort != NULL; i++)
		imap_sort_msg_free(&sc->sort[i]);
	free(sc->sort);
	free(sc->seqs);
	free(sc->uids);
}

void cmd_search(struct session *s, const char *tag, const struct imap_arg *args, bool uid)
{
	unsigned ret;
	bool esearch;
	struct search_ctx sc = { 0 };
	if (parse_return(&args, &ret, &esearch) < 0) {
		session_bad(s, tag, "Invalid RETURN options");
		return;
	}
	if (s->rev2 && !esearch) {
		/* RFC 9051 6.4.4: no SEARCH response in rev2, RETURN (ALL) */
		esearch = true;
		ret = RET_ALL;
	}
	if (search_exec(s, tag, args, false, &sc) < 0) {
		if (ret & RET_SAVE)
			save_result(s->sel, NULL, 0);   /* RFC 5182 2.1: "$" is empty */
		return;
	}
	struct buffer b;
	buffer_init(&b, (size_t)12 * (sc.n + 1) + 256);
	if (sc.error == NULL && write_result(tag, &sc, ret, esearch, uid, &b) < 0)
		sc.error = "Result too big";
	if (sc.error == NULL)
		out_buf(s, &b);
	buffer_free(&b);
	if (ret & RET_SAVE)
		save_result(s->sel, sc.error == NULL ? &sc : NULL, ret);
	search_ctx_free(&sc);
	mbox_sync(s, uid);
	if (sc.error != NULL)
		out(s, "%s NO %s\r\n", tag, sc.error);
	else
		out(s, "%s OK %sSEARCH completed\r\n", tag, uid ? "UID " : "");
}

/* SORT (criteria) charset keys, THREAD ORDEREDSUBJECT|REFERENCES charset
 * keys (RFC 5256; REFERENCES in worker-thread.c). */
void cmd_sort(struct session *s, const char *tag, const struct imap_arg *args, bool uid,
	      bool thread)
{
	struct imap_sort_key keys[RD_IMAP_MAX_SORT_KEYS];
	size_t nkeys = 0;
	const char *err = "Expected sort criteria, charset and search keys";
	if (args == NULL || args->next == NULL ||
	    (thread ? !imap_arg_is(args, "ORDEREDSUBJECT") && !imap_arg_is(args, "REFERENCES") :
	     imap_sort_parse(args, keys, RD_IMAP_MAX_SORT_KEYS, &nkeys, &err) < 0)) {
		session_bad(s, tag, thread && args != NULL ? "Unknown threading algorithm" : err);
		return;
	}
	struct search_ctx sc = { .sorting = true };
	if (search_exec(s, tag, args->next, true, &sc) < 0)
		return;
	struct buffer b;
	buffer_init(&b, (size_t)16 * (sc.n + 1) + 256);   /* "(" 10 digits ")" and a dummy's share */
	if (sc.error == NULL) {
		int r;
		if (thread) {
			r = buffer_append_str(&b, "* THREAD ") < 0 ||
			    (imap_arg_is(args, "REFERENCES") ?
			     worker_thread_references(s, sc.sort, sc.n, uid, &b) :
			     imap_thread_orderedsubject(sc.sort, sc.n, uid, &b)) < 0 ? -1 : 0;
		} else {
			imap_sort(sc.sort, sc.n, keys, nkeys);
			r = buffer_append_str(&b, "* SORT");
			for (size_t i = 0; i < sc.n && r == 0; i++)
				r = buffer_printf(&b, " %u", uid ? sc.sort[i].uid : sc.sort[i].seq);
		}
		if (r < 0 || buffer_append_str(&b, "\r\n") < 0)
			sc.error = "Result too big";
	}
	if (sc.error == NULL)
		out_buf(s, &b);
	buffer_free(&b);
	search_ctx_free(&sc);
	mbox_sync(s, uid);
	const char *what = thread ? "THREAD" : "SORT";
	if (sc.error != NULL)
		out(s, "%s NO %s\r\n", tag, sc.error);
	else
		out(s, "%s OK %s%s completed\r\n", tag, uid ? "UID " : "", what);
}
