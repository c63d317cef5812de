/* worker.c: the per-principal role. Master starts one per logged-in
 * principal and hands it each session's channel; it is confined to that
 * principal's store (DATA/stores/<id>) and nothing else, so whatever a
 * session makes it do, it can only ever read its own user's mail.
 *
 * This file owns the sessions' I/O: bytes are framed into whole commands
 * by imap_frame() (literals included: "+ Ready" for synchronizing ones,
 * none for LITERAL+, and a literal over its cap refused from its
 * announcement, before any of it is read), parsed by imap_parse() and
 * handed to cmd_dispatch(). IDLE input ("DONE") is read here too. A
 * session whose client does not read its responses stops being served
 * until its output drains below RD_IMAP_MAX_PENDING_OUTPUT / 2. */
#include "worker/worker.h"
#include "master/role.h"
#include "master/policy.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "audit/audit-log.h"
#include "indexer/indexer.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <errno.h>
#include <malloc.h>
#include <sys/inotify.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

static void worker_maybe_trim(struct worker *w);

static void session_free(struct session *s)
{
	struct worker *w = s->w;
	char msgs[24], bytes[24];
	snprintf(msgs, sizeof(msgs), "%llu", (unsigned long long)s->msgs_read);
	snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long)s->bytes_read);
	struct audit_kv kv[] = { { AUDIT_F_ADDRESS, s->peer }, { AUDIT_F_PROTOCOL, "imap" },
				 { AUDIT_F_MESSAGES, msgs }, { AUDIT_F_BYTES, bytes } };
	role_audit(w->ctx->ipc_fd, "session_end", kv, 4);
	bufferevent_free(s->bev);
	if (s->idle_ev != NULL)
		event_free(s->idle_ev);
	if (s->close_ev != NULL)
		event_free(s->close_ev);
	fetch_job_free(s);
	mbox_unselect(s);
	buffer_free(&s->in);
	free(s->acl_line);
	if (s->prev)
		s->prev->next = s->next;
	else
		w->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	w->nsessions--;
	free(s);
	worker_maybe_trim(w);
	if (w->nsessions == 0)
		w->idle_since = time(NULL);
	if (w->stopping && w->nsessions == 0)
		event_base_loopbreak(w->base);
}

/* Everything written has left for the channel (under COMPRESS, the
 * deflated octets below the filter too). */
static bool output_flushed(struct session *s)
{
	struct bufferevent *under = bufferevent_get_underlying(s->bev);
	return evbuffer_get_length(bufferevent_get_output(s->bev)) == 0 &&
	       (under == NULL || evbuffer_get_length(bufferevent_get_output(under)) == 0);
}

/* Frees a closing session once its output is out, never from inside the
 * command that closed it (its caller still holds the session); gives up
 * waiting after RD_IMAP_IDLE_TIMEOUT_S. */
static void close_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	(void)fd;
	(void)what;
	if (output_flushed(s) || ++s->close_polls > RD_IMAP_IDLE_TIMEOUT_S * 20u) {
		session_free(s);
		return;
	}
	struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
	evtimer_add(s->close_ev, &tv);
}

void session_close(struct session *s)
{
	s->closing = true;
	bufferevent_disable(s->bev, EV_READ);
	if (s->close_ev == NULL &&
	    (s->close_ev = evtimer_new(s->w->base, close_check_cb, s)) == NULL)
		return;   /* the write callback or the timeout frees it */
	struct timeval now = { 0, 0 };
	evtimer_add(s->close_ev, &now);
}

void out(struct session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(s->bev), fmt, ap);
	va_end(ap);
}

void out_buf(struct session *s, const struct buffer *b)
{
	if (b->len > 0)
		evbuffer_add(bufferevent_get_output(s->bev), b->data, b->len);
}

size_t out_pending(struct session *s)
{
	return evbuffer_get_length(bufferevent_get_output(s->bev));
}

void session_bad(struct session *s, const char *tag, const char *why)
{
	out(s, "%s BAD %s\r\n", tag[0] ? tag : "*", why);
	if (++s->bad >= RD_IMAP_MAX_BAD) {
		out(s, "* BYE Too many invalid commands\r\n");
		session_close(s);
	}
}

static void idle_tick(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	(void)fd;
	(void)what;
	if (s->idling && !s->closing)
		mbox_sync(s, true);
}

static void index_soon(struct worker *w);

/* A store changed (SQLite appended to its WAL: a delivery, another
 * session, another worker): idling sessions learn it now, not at their
 * next poll. */
static void store_changed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	(void)what;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ev = (const void *)(buf + off);
			if (ev->len > 0 && strcmp(ev->name, "index.db-wal") == 0)
				changed = true;
			off += (ssize_t)sizeof(*ev) + ev->len;
		}
	}
	if (!changed)
		return;
	index_soon(w);     /* an import may have filed mail meanwhile */
	/* The WAL grows before the commit is visible (SQLite publishes it in
	 * the shared index after the frames are written and synced): look
	 * shortly after, and twice more in case that took longer. */
	w->change_checks = 3;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 5000 };
	event_add(w->change_timer, &tv);
}

static void change_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	(void)fd;
	(void)what;
	for (struct session *s = w->sessions; s != NULL; s = s->next)
		if (s->idling && !s->closing)
			mbox_sync(s, true);
	if (w->change_checks > 0 && --w->change_checks > 0) {
		struct timeval tv = { .tv_sec = 0, .tv_usec = w->change_checks == 2 ? 30000 : 90000 };
		event_add(w->change_timer, &tv);
	}
}

/* The blobs of removed messages, collected in every store this worker has
 * open: its principal's and the owners' it reached through grants (a
 * grantee's EXPUNGE in an owner's mailbox included). At the worker's exit
 * store_gc also walks blobs/ for crash leftovers, when alone. */
static void worker_gc(struct worker *w, bool walk)
{
	unsigned removed = 0, n;
	const char *err;
	char num[16];
	for (size_t i = 0; i <= w->nshared; i++) {
		struct store *st = i == 0 ? w->store : w->shared[i - 1].st;
		n = 0;
		if (st == NULL)
			continue;
		if ((walk ? store_gc(st, &n, &err) : store_gc_removed(st, &n, &err)) != STORE_OK)
			log_warn("blob_gc_failed", "principal", w->ctx->principal, "reason", err);
		removed += n;
	}
	if (removed > 0) {
		snprintf(num, sizeof(num), "%u", removed);
		log_info("blobs_reclaimed", "principal", w->ctx->principal, "blobs", num);
	}
}

/* Mail filed without its search text (an import) gets it here, a turn of
 * RD_WORKER_INDEX_TURN messages at a time with the sessions' commands in
 * between, in the principal's own store. (A SEARCH that needs the text
 * catches up at once: worker-search.c.) */
static void index_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	size_t done = 0;
	const char *err;
	(void)fd;
	(void)what;
	int r = indexer_step(w->store, 0, RD_WORKER_INDEX_TURN, &done, &err);
	if (r < 0) {
		log_warn("text_index_failed", "principal", w->ctx->principal, "reason", err);
		return;
	}
	w->indexed += done;
	if (r > 0) {
		struct timeval now = { 0, 0 };
		evtimer_add(w->index_timer, &now);
		return;
	}
	if (w->indexed > 0) {
		char num[24];
		snprintf(num, sizeof(num), "%llu", (unsigned long long)w->indexed);
		log_info("text_indexed", "principal", w->ctx->principal, "messages", num);
		w->indexed = 0;
	}
}

/* Starts the indexing turns when the principal's store has mail waiting
 * for its text and they are not running yet. */
static void index_soon(struct worker *w)
{
	uint64_t waiting = 0;
	const char *err;
	if (w->index_timer == NULL || evtimer_pending(w->index_timer, NULL) ||
	    store_text_pending_count(w->store, 0, &waiting, &err) != STORE_OK || waiting == 0)
		return;
	struct timeval now = { 0, 0 };
	evtimer_add(w->index_timer, &now);
}

static void gc_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	worker_gc(arg, false);
}

void worker_gc_soon(struct worker *w)
{
	w->gc_wanted = true;
	if (w->gc_timer != NULL && !evtimer_pending(w->gc_timer, NULL)) {
		struct timeval tv = { .tv_sec = RD_WORKER_GC_DELAY_MS / 1000,
				      .tv_usec = (RD_WORKER_GC_DELAY_MS % 1000) * 1000 };
		evtimer_add(w->gc_timer, &tv);
	}
}

/* Watches each store directory the worker may use. Best effort: without
 * inotify, idle sessions still see changes at RD_IMAP_IDLE_POLL_MS. */
static struct event *watch_stores(struct worker *w, const char *stores)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char path[4096 + RD_MAX_STORE_ID + 2];
	if (fd < 0) {
		log_warn("inotify_unavailable", "reason", strerror(errno));
		return NULL;
	}
	for (size_t i = 0; i <= w->nshared; i++) {
		const char *id = i == 0 ? w->ctx->store_id : w->shared[i - 1].id;
		int n = snprintf(path, sizeof(path), "%s/%s", stores, id);
		if (n < 0 || (size_t)n >= sizeof(path) || inotify_add_watch(fd, path, IN_MODIFY | IN_ONLYDIR) < 0)
			log_warn("inotify_watch_failed", "store", id, "reason", strerror(errno));
	}
	struct event *ev = event_new(w->base, fd, EV_READ | EV_PERSIST, store_changed_cb, w);
	w->change_timer = evtimer_new(w->base, change_timer_cb, w);
	if (ev == NULL || w->change_timer == NULL || event_add(ev, NULL) < 0) {
		close(fd);
		if (ev != NULL)
			event_free(ev);
		return NULL;
	}
	return ev;
}

void session_idle_start(struct session *s, const char *tag)
{
	snprintf(s->idle_tag, sizeof(s->idle_tag), "%s", tag);
	s->idling = true;
	out(s, "+ idling\r\n");
	if (s->idle_ev == NULL)
		s->idle_ev = event_new(s->w->base, -1, EV_PERSIST, idle_tick, s);
	struct timeval tv = { .tv_sec = RD_IMAP_IDLE_POLL_MS / 1000,
			      .tv_usec = (RD_IMAP_IDLE_POLL_MS % 1000) * 1000 };
	if (s->idle_ev != NULL)
		event_add(s->idle_ev, &tv);
}

/* While idling only "DONE" is expected (RFC 2177). */
static void idle_input(struct session *s)
{
	const uint8_t *nl = s->in.len > 0 ? memchr(s->in.data, '\n', s->in.len) : NULL;
	if (nl == NULL) {
		if (s->in.len > 64) {
			out(s, "* BYE Expected DONE\r\n");
			session_close(s);
		}
		return;
	}
	size_t n = (size_t)(nl - s->in.data);
	size_t l = n > 0 && s->in.data[n - 1] == '\r' ? n - 1 : n;
	bool done = l == 4 && strncasecmp((const char *)s->in.data, "DONE", 4) == 0;
	buffer_consume(&s->in, n + 1);
	s->idling = false;
	if (s->idle_ev != NULL)
		event_del(s->idle_ev);
	if (done) {
		mbox_sync(s, true);
		out(s, "%s OK IDLE terminated\r\n", s->idle_tag);
	} else {
		session_bad(s, s->idle_tag, "Expected DONE");
	}
}

/* The tag of a command whose framing failed, for the reply. */
static void frame_tag(const struct buffer *in, char *tag, size_t len)
{
	size_t i = 0;
	while (i < in->len && i + 1 < len && in->data[i] > ' ' && in->data[i] < 0x7f &&
	       in->data[i] != '{' && in->data[i] != '"' && in->data[i] != '(')
		i++;
	if (i >= in->len || in->data[i] != ' ')
		i = 0;
	memcpy(tag, in->data, i);
	tag[i] = '\0';
	if (i == 0)
		snprintf(tag, len, "*");
}

/* Once no session of the worker has a mailbox selected or a FETCH in
 * flight, what the last ones used goes back to the system: the stores'
 * page caches and the heap's free memory (a 10,000-message SELECT and
 * FETCH leave about 3 MiB behind otherwise, kept while any session of the
 * principal stays logged in). A selected or busy session keeps it all,
 * so a client working in a mailbox pays nothing. */
static void worker_maybe_trim(struct worker *w)
{
	if (!w->trim_wanted)
		return;
	for (struct session *s = w->sessions; s != NULL; s = s->next)
		if (s->sel != NULL || s->job != NULL)
			return;
	w->trim_wanted = false;
	store_release_memory(w->store);
	for (size_t i = 0; i < w->nshared; i++)
		store_release_memory(w->shared[i].st);
	malloc_trim(0);
}

/* Drops a finished command. A buffer that grew for an APPEND is given
 * back once the message is stored, so an idle session holds 50 MiB no
 * longer than one command. */
static void command_done(struct session *s, size_t len)
{
	buffer_consume(&s->in, len);
	imap_frame_init(&s->frame);
	if (s->in.cap > 4 * (size_t)RD_IMAP_MAX_LINE && s->in.len <= RD_IMAP_MAX_LINE) {
		struct buffer fresh;
		buffer_init(&fresh, s->in.max);
		if (buffer_append(&fresh, s->in.data, s->in.len) == 0) {
			buffer_free(&s->in);
			s->in = fresh;
			s->w->trim_wanted = true;
		} else {
			buffer_free(&fresh);
		}
	}
	worker_maybe_trim(s->w);
}

static void run_command(struct session *s, size_t len)
{
	struct imap_cmd cmd;
	const char *err;
	size_t nmax = (len - (size_t)s->frame.lit_total) / 2 + 8;
	if (nmax > RD_IMAP_MAX_ARGS)
		nmax = RD_IMAP_MAX_ARGS;
	struct imap_arg *nodes = malloc(nmax * sizeof(*nodes));
	if (nodes == NULL) {
		out(s, "* BYE Out of memory\r\n");
		session_close(s);
		return;
	}
	if (imap_parse(s->in.data, len, nodes, nmax, RD_IMAP_MAX_LIST_DEPTH, &cmd, &err) < 0)
		session_bad(s, cmd.tag, err);
	else
		cmd_dispatch(s, &cmd);
	free(nodes);
}

static void session_process(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	const struct imap_frame_limits lim = { RD_IMAP_MAX_LINE, s->w->max_message };
	while (!s->closing && s->acl_req == 0) {
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) >
		    RD_IMAP_MAX_PENDING_OUTPUT) {
			s->paused = true;
			return;
		}
		s->paused = false;
		if (s->job != NULL) {
			/* nothing new is read into s->in meanwhile: the job's
			 * FETCH items point into it */
			if (!fetch_job_run(s)) {
				s->paused = true;
				return;
			}
			command_done(s, s->job_len);
			continue;
		}
		size_t avail = evbuffer_get_length(in);
		size_t room = s->in.max - s->in.len;
		size_t take = avail < room ? avail : room;
		if (take > 0) {
			if (buffer_append(&s->in, evbuffer_pullup(in, (ev_ssize_t)take), take) < 0) {
				out(s, "* BYE Out of memory\r\n");
				session_close(s);
				return;
			}
			evbuffer_drain(in, take);
		}
		if (s->idling) {
			size_t before = s->in.len;
			idle_input(s);
			if (s->idling || before == s->in.len)
				return;
			continue;
		}
		const char *err;
		char tag[IMAP_PARSE_TAG_MAX + 2];
		enum imap_frame_ret r = imap_frame(&s->frame, s->in.data, s->in.len, &lim, &err);
		switch (r) {
		case IMAP_FRAME_MORE:
			return;
		case IMAP_FRAME_LITERAL:
			out(s, "+ Ready for literal data\r\n");
			continue;
		case IMAP_FRAME_TOOBIG:
			frame_tag(&s->in, tag, sizeof(tag));
			if (s->frame.lit_sync) {
				/* the client waits for "+" and sends nothing more of
				 * this command (RFC 7888 4) */
				out(s, "%s NO [TOOBIG] Literal too big\r\n", tag);
				command_done(s, s->frame.pos);
				continue;
			}
			out(s, "%s BAD Literal too big\r\n* BYE Literal too big\r\n", tag);
			session_close(s);
			return;
		case IMAP_FRAME_ERROR:
			out(s, "* BYE %s\r\n", err);
			session_close(s);
			return;
		case IMAP_FRAME_DONE: {
			size_t len = s->frame.pos;
			run_command(s, len);
			if (s->closing)
				return;
			if (s->job != NULL) {
				s->job_len = len;
				s->paused = true;
				return;
			}
			command_done(s, len);
			if (s->compress_asked) {
				/* after the tagged OK, both ways (RFC 4978 3) */
				s->compress_asked = false;
				if (compress_start(s, &err) < 0) {
					out(s, "* BYE %s\r\n", err);
					session_close(s);
					return;
				}
			}
			continue;
		}
		}
	}
}

static void session_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_process(arg);
}

static void session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	(void)bev;
	if (s->closing && output_flushed(s))
		session_free(s);
	else if (s->paused)
		session_process(s);
}

static void session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		out(s, "* BYE Autologout; idle for too long\r\n");
	session_free(s);
}

void session_attach_bev(struct session *s, struct bufferevent *bev)
{
	s->bev = bev;
	bufferevent_setcb(s->bev, session_read_cb, session_write_cb, session_event_cb, s);
	bufferevent_setwatermark(s->bev, EV_WRITE, RD_IMAP_MAX_PENDING_OUTPUT / 2, 0);
	/* stop reading from the socket while commands wait (TCP pushes back) */
	bufferevent_setwatermark(s->bev, EV_READ, 0, RD_IMAP_MAX_LINE);
	struct timeval tv = { .tv_sec = RD_IMAP_IDLE_TIMEOUT_S };
	bufferevent_set_timeouts(s->bev, &tv, NULL);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

static void session_new(struct worker *w, int fd, const char *peer)
{
	if (w->nsessions >= RD_WORKER_MAX_SESSIONS || w->stopping) {
		const char msg[] = "* BYE Too many sessions for this user\r\n";
		ssize_t n = write(fd, msg, sizeof(msg) - 1);
		(void)n;
		close(fd);
		return;
	}
	struct session *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		close(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	s->w = w;
	buffer_init(&s->in, RD_IMAP_MAX_LINE + (size_t)w->max_message + 1024);
	imap_frame_init(&s->frame);
	struct bufferevent *bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		free(s);
		return;
	}
	session_attach_bev(s, bev);
	s->next = w->sessions;
	if (w->sessions)
		w->sessions->prev = s;
	w->sessions = s;
	w->nsessions++;
	w->retire_asked = 0;
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	struct audit_kv kv[] = { { AUDIT_F_ADDRESS, s->peer }, { AUDIT_F_PROTOCOL, "imap" } };
	role_audit(w->ctx->ipc_fd, "session_start", kv, 2);
}

static void worker_ipc_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	(void)what;
	for (;;) {
		struct ipc_header h;
		struct ipc_reader r;
		const char *err;
		int sfd;
		int n = ipc_recv(fd, w->buf, IPC_RECV_BUFSIZE, &h, &r, &sfd, &err);
		if (n == -2)
			return;
		if (n <= 0) {
			event_base_loopbreak(w->base);
			return;
		}
		if (h.type == IPC_SHUTDOWN) {
			if (sfd >= 0)
				close(sfd);
			w->stopping = 1;
			for (struct session *s = w->sessions; s; s = s->next)
				out(s, "* BYE Server shutting down\r\n");
			struct session *s = w->sessions;
			while (s) {
				struct session *next = s->next;
				session_close(s);
				s = next;
			}
			if (w->nsessions == 0)
				event_base_loopbreak(w->base);
			continue;
		}
		if (h.type == IPC_GRANT_RESULT && sfd < 0) {
			uint32_t status;
			char text[256];
			if (ipc_get_u32(&r, &status, &err) < 0 ||
			    ipc_get_str(&r, text, sizeof(text), &err) < 0) {
				log_error("ipc_bad_frame", "reason", err);
				event_base_loopbreak(w->base);
				return;
			}
			for (struct session *s = w->sessions; s != NULL; s = s->next)
				if (s->acl_req == h.id && h.id != 0) {
					acl_result(s, status, text);
					if (!s->closing)
						session_process(s);
					break;
				}
			continue;
		}
		if (h.type == IPC_ACL_LIST_RESULT && sfd < 0) {
			uint32_t status;
			char text[256];
			struct session *s = w->sessions;
			if (ipc_get_u32(&r, &status, &err) < 0 ||
			    ipc_get_str(&r, text, sizeof(text), &err) < 0) {
				log_error("ipc_bad_frame", "reason", err);
				event_base_loopbreak(w->base);
				return;
			}
			while (s != NULL && (s->acl_req != h.id || h.id == 0 || s->acl_line == NULL))
				s = s->next;
			if (s == NULL)
				continue;   /* its session went meanwhile */
			if (acl_list_result(s, status, text, &r, &err) < 0) {
				log_error("ipc_bad_frame", "reason", err);
				event_base_loopbreak(w->base);
				return;
			}
			if (!s->closing)
				session_process(s);
			continue;
		}
		if (h.type == IPC_WORKER_GRANTS && sfd < 0) {
			if (grants_decode(&r, &w->grants, &err) < 0) {
				log_error("ipc_bad_frame", "reason", err);
				event_base_loopbreak(w->base);
				return;
			}
			/* a selected shared mailbox takes its new rights now;
			 * taken away: no rights at all until it is closed */
			for (struct session *s = w->sessions; s != NULL; s = s->next)
				if (s->sel != NULL && s->sel->shared)
					shared_refresh(s);
			continue;
		}
		char protocol[16], peer[64];
		if (h.type != IPC_WORKER_SESSION || sfd < 0 ||
		    ipc_get_str(&r, protocol, sizeof(protocol), &err) < 0 ||
		    ipc_get_str(&r, peer, sizeof(peer), &err) < 0 || ipc_end(&r, &err) < 0) {
			if (sfd >= 0)
				close(sfd);
			log_error("ipc_bad_frame", "reason", "unexpected frame from master");
			event_base_loopbreak(w->base);
			return;
		}
		session_new(w, sfd, peer);
	}
}

/* No session for RD_WORKER_IDLE_EXIT_S: ask master to retire us. Master
 * decides, so a session it is handing over right now is never lost. */
static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	(void)fd;
	(void)what;
	if (w->nsessions > 0 || w->retire_asked ||
	    time(NULL) - w->idle_since < (time_t)RD_WORKER_IDLE_EXIT_S)
		return;
	struct ipc_msg m;
	const char *err;
	ipc_msg_init(&m, IPC_WORKER_IDLE, 0);
	if (ipc_send(w->ctx->ipc_fd, &m, -1, &err) == 0)
		w->retire_asked = 1;
	ipc_msg_free(&m);
}

int worker_main(struct role_ctx *ctx)
{
	struct role_policy rp;
	const char *err;
	char stores[4096];
	if (role_policy_make(&rp, "worker", ctx->data_dir, ctx->store_id, ctx->run_as_user) < 0) {
		log_error("worker_bad_store", "store", ctx->store_id ? ctx->store_id : "-");
		return 1;
	}
	struct worker w = { .ctx = ctx };
	for (size_t i = 0; i < ctx->nshared; i++) {
		if (role_policy_add_store(&rp, ctx->data_dir, ctx->shared[i]) < 0) {
			log_error("worker_bad_store", "store", ctx->shared[i]);
			return 1;
		}
		w.shared[w.nshared++].id = ctx->shared[i];
	}
	/* Rule 2: confined to this principal's store (and those of owners who
	 * granted it a mailbox) before touching any. */
	if (role_confine(ctx, &rp.p) < 0)
		return 1;
	w.max_message = ctx->max_message_size > 0 && ctx->max_message_size < RD_STORE_MAX_MESSAGE ?
			ctx->max_message_size : RD_STORE_MAX_MESSAGE;
	snprintf(stores, sizeof(stores), "%s/stores", ctx->data_dir);
	struct store_params sp = { .stores_root = stores };
	if (store_open(&sp, ctx->store_id, &w.store, &err) != STORE_OK) {
		log_error("store_open_failed", "principal", ctx->principal, "reason", err);
		return 1;
	}
	w.base = event_base_new();
	w.buf = malloc(IPC_RECV_BUFSIZE);
	if (w.base == NULL || w.buf == NULL)
		return 1;
	evutil_make_socket_nonblocking(ctx->ipc_fd);
	struct event *ev = event_new(w.base, ctx->ipc_fd, EV_READ | EV_PERSIST, worker_ipc_cb, &w);
	event_add(ev, NULL);
	struct event *changes = watch_stores(&w, stores);
	w.gc_timer = evtimer_new(w.base, gc_timer_cb, &w);
	w.index_timer = evtimer_new(w.base, index_timer_cb, &w);
	index_soon(&w);
	w.idle_since = time(NULL);
	struct event *idle = event_new(w.base, -1, EV_PERSIST, idle_cb, &w);
	struct timeval tick = { .tv_sec = 10 };
	event_add(idle, &tick);
	role_send_ready(ctx);
	log_info("role_ready", "principal", ctx->principal);
	event_base_dispatch(w.base);
	while (w.sessions)
		session_free(w.sessions);
	event_free(ev);
	event_free(idle);
	if (changes != NULL) {
		close(event_get_fd(changes));
		event_free(changes);
	}
	if (w.change_timer != NULL)
		event_free(w.change_timer);
	if (w.gc_timer != NULL)
		event_free(w.gc_timer);
	w.gc_timer = NULL;
	if (w.index_timer != NULL)
		event_free(w.index_timer);
	w.index_timer = NULL;
	event_base_free(w.base);
	/* messages went this session: their blobs now, and with the store to
	 * ourselves the walk for crash leftovers (else at a later exit) */
	if (w.gc_wanted)
		worker_gc(&w, true);
	store_close(&w.store);
	shared_close_all(&w);
	grants_free(&w.grants);
	free(w.buf);
	log_info("role_stopped", "principal", ctx->principal);
	return 0;
}
