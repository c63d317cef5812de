/* worker-thread.c: THREAD=REFERENCES for cmd_sort (see worker-thread.h).
 *
 * Each match's ids are normalised as they are read and kept re-written,
 * at most RD_IMAP_THREAD_MAX_ID_OCTETS per match, in one arena: the raw
 * headers (up to RD_IMAP_THREAD_HEADER_READ each) are freed at once, so
 * memory follows the match count, not what senders put in headers. */
#include "worker/worker-thread.h"
#include "worker/worker.h"
#include "imap/imap-fetch.h"
#include "imap/imap-thread.h"
#include "limits.h"
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* First read of a message: most headers end well within it, so the full
 * RD_IMAP_THREAD_HEADER_READ is read only for the few that do not. */
#define FIRST_READ (16u * 1024u)

/* One match's ids in the arena (offsets, as the arena moves as it grows). */
struct kept {
	size_t mid, mid_len, irt, irt_len, refs, refs_len;
	bool reply;
};

struct thread_job {
	struct buffer arena;    /* ids re-written as <"..."> */
	struct buffer val;      /* one header value */
	struct buffer id;       /* one normalised id */
	struct buffer all;      /* every References id, re-written */
	size_t *starts;         /* where each id starts in all */
	size_t max_starts;
};

/* The header's length: through its empty line, or all of p when the read
 * stopped inside it. */
static size_t header_len(const uint8_t *p, size_t n)
{
	if (n > 0 && (p[0] == '\n' || (n > 1 && p[0] == '\r' && p[1] == '\n')))
		return 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (p[i] == '\n' && (p[i + 1] == '\n' ||
				     (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')))
			return i + 1;
	return n;
}

/* id as <"..."> with '"' and '\' escaped: imap_msgid_next gives back the
 * very same octets, whatever quotes or brackets the id holds. */
static int put_id(struct buffer *b, const struct buffer *id)
{
	if (buffer_append_str(b, "<\"") < 0)
		return -1;
	for (size_t i = 0; i < id->len; i++) {
		uint8_t c = id->data[i];
		if (((c == '"' || c == '\\') && buffer_append_u8(b, '\\') < 0) ||
		    buffer_append_u8(b, c) < 0)
			return -1;
	}
	return buffer_append_str(b, "\">");
}

/* The first valid id of field into the arena if it fits in *budget;
 * returns 1 if the field held a valid id, 0 if not, -1 on memory. */
static int keep_first(struct thread_job *j, const uint8_t *h, size_t hlen, const char *field,
		      size_t *budget, size_t *off_r, size_t *len_r)
{
	size_t n, pos = 0;
	const uint8_t *v = imap_header_value(h, hlen, field, &j->val, &n);
	*off_r = j->arena.len;
	*len_r = 0;
	int r = v != NULL ? imap_msgid_next(v, n, &pos, &j->id) : 0;
	if (r != 1 || j->id.len * 2 + 4 > *budget)
		return r;
	if (put_id(&j->arena, &j->id) < 0)
		return -1;
	*len_r = j->arena.len - *off_r;
	*budget -= *len_r;
	return 1;
}

/* References' ids, the last ones that fit in budget; 1 if it held any. */
static int keep_refs(struct thread_job *j, const uint8_t *h, size_t hlen, size_t budget,
		     struct kept *k)
{
	size_t n, pos = 0, nstarts = 0;
	const uint8_t *v = imap_header_value(h, hlen, "References", &j->val, &n);
	int r;
	k->refs = j->arena.len;
	k->refs_len = 0;
	buffer_reset(&j->all);
	while (v != NULL && nstarts < j->max_starts &&
	       (r = imap_msgid_next(v, n, &pos, &j->id)) != 0) {
		if (r < 0)
			return -1;
		j->starts[nstarts++] = j->all.len;
		if (put_id(&j->all, &j->id) < 0)
			return -1;
	}
	size_t first = nstarts;
	while (first > 0 && j->all.len - j->starts[first - 1] <= budget)
		first--;
	if (first < nstarts) {
		size_t from = j->starts[first];
		if (buffer_append(&j->arena, j->all.data + from, j->all.len - from) < 0)
			return -1;
		k->refs_len = j->all.len - from;
	}
	return nstarts > 0;
}

static int keep_message(struct session *s, struct thread_job *j, const struct imap_sort_msg *m,
			struct kept *k)
{
	size_t len = 0, budget = RD_IMAP_THREAD_MAX_ID_OCTETS;
	uint64_t want = m->size < FIRST_READ ? m->size : FIRST_READ;
	uint8_t *raw = read_message(s, m->uid, 0, want, &len);
	size_t hlen = raw != NULL ? header_len(raw, len) : 0;
	if (raw != NULL && hlen == len && len < m->size && len < RD_IMAP_THREAD_HEADER_READ) {
		free(raw);
		want = m->size < RD_IMAP_THREAD_HEADER_READ ? m->size : RD_IMAP_THREAD_HEADER_READ;
		raw = read_message(s, m->uid, 0, want, &len);
		hlen = raw != NULL ? header_len(raw, len) : 0;
	}
	/* an unreadable message (expunged meanwhile) threads by subject */
	*k = (struct kept){ .mid = j->arena.len, .irt = j->arena.len, .refs = j->arena.len };
	int r = 0;
	if (raw != NULL) {
		const uint8_t *h = raw;
		r = keep_first(j, h, hlen, "Message-ID", &budget, &k->mid, &k->mid_len);
		if (r >= 0)
			r = keep_refs(j, h, hlen, budget, k);
		if (r == 0)
			r = keep_first(j, h, hlen, "In-Reply-To", &budget, &k->irt, &k->irt_len);
		size_t n;
		const uint8_t *subj = imap_header_value(h, hlen, "Subject", &j->val, &n);
		struct buffer base;
		buffer_init(&base, SIZE_MAX);
		if (r >= 0 && subj != NULL && imap_thread_subject(subj, n, &base, &k->reply) < 0)
			r = -1;
		buffer_free(&base);
	}
	free(raw);
	return r < 0 ? -1 : 0;
}

static void thread_key(uint8_t key[IMAP_THREAD_KEY_SIZE])
{
	if (getrandom(key, IMAP_THREAD_KEY_SIZE, GRND_NONBLOCK) == (ssize_t)IMAP_THREAD_KEY_SIZE)
		return;
	/* without entropy the tables still work, only less surprising */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	memset(key, 0, IMAP_THREAD_KEY_SIZE);
	memcpy(key, &ts.tv_nsec, sizeof(ts.tv_nsec));
}

int worker_thread_references(struct session *s, const struct imap_sort_msg *keys, size_t n,
			     bool uid, struct buffer *out)
{
	struct thread_job j = { .max_starts = RD_IMAP_THREAD_HEADER_READ / 5 + 1 };
	buffer_init(&j.arena, SIZE_MAX);
	buffer_init(&j.val, RD_IMAP_THREAD_HEADER_READ);
	buffer_init(&j.id, RD_IMAP_THREAD_HEADER_READ);
	buffer_init(&j.all, SIZE_MAX);   /* bounded by the value read */
	j.starts = calloc(j.max_starts, sizeof(*j.starts));
	struct kept *k = calloc(n + 1, sizeof(*k));
	struct imap_thread_msg *v = calloc(n + 1, sizeof(*v));
	int r = j.starts != NULL && k != NULL && v != NULL ? 0 : -1;
	for (size_t i = 0; i < n && r == 0; i++)
		r = keep_message(s, &j, &keys[i], &k[i]);
	if (r == 0) {
		const uint8_t *a = j.arena.data;
		for (size_t i = 0; i < n; i++) {
			v[i] = (struct imap_thread_msg){
				.seq = keys[i].seq, .uid = keys[i].uid, .date = keys[i].date,
				.subject = keys[i].subject, .reply = k[i].reply,
				.message_id = k[i].mid_len > 0 ? a + k[i].mid : NULL,
				.message_id_len = k[i].mid_len,
				.in_reply_to = k[i].irt_len > 0 ? a + k[i].irt : NULL,
				.in_reply_to_len = k[i].irt_len,
				.references = k[i].refs_len > 0 ? a + k[i].refs : NULL,
				.references_len = k[i].refs_len,
			};
		}
		uint8_t key[IMAP_THREAD_KEY_SIZE];
		thread_key(key);
		r = imap_thread_references(v, n, uid, key, out);
	}
	free(v);
	free(k);
	free(j.starts);
	buffer_free(&j.arena);
	buffer_free(&j.val);
	buffer_free(&j.id);
	buffer_free(&j.all);
	return r;
}
