/* worker.c: the per-principal role. Master starts one per logged-in
 * principal and hands it each session's channel; it is confined to that
 * principal's store (DATA/stores/<id>) and nothing else, so whatever a
 * session makes it do, it can only ever read its own user's mail.
 *
 * The foundation's IMAP here is the minimum after login: CAPABILITY,
 * NOOP, LOGOUT, LIST, SELECT/EXAMINE (counts and UID state from the store),
 * UNSELECT/CLOSE; the IMAP issue brings the rest. */
#include "master/role.h"
#include "master/policy.h"
#include "store/store.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "limits.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

struct worker;

struct session {
	struct worker *w;
	struct session *prev, *next;
	struct bufferevent *bev;
	int selected;
	int closing;
	char mailbox[RD_STORE_MAX_MAILBOX_NAME + 1];
};

struct worker {
	struct role_ctx *ctx;
	struct event_base *base;
	struct store *store;
	struct session *sessions;
	unsigned nsessions;
	uint8_t *buf;
	int stopping;
	time_t idle_since;           /* last time the session count hit 0 */
	int retire_asked;
};

static const char post_caps[] = "IMAP4rev2 IMAP4rev1 ID ENABLE UNSELECT SPECIAL-USE";

static void session_free(struct session *s)
{
	struct worker *w = s->w;
	bufferevent_free(s->bev);
	if (s->prev)
		s->prev->next = s->next;
	else
		w->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	w->nsessions--;
	free(s);
	if (w->nsessions == 0)
		w->idle_since = time(NULL);
	if (w->stopping && w->nsessions == 0)
		event_base_loopbreak(w->base);
}

static void session_close(struct session *s)
{
	s->closing = 1;
	bufferevent_disable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		session_free(s);
}

static void out(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(s->bev), fmt, ap);
	va_end(ap);
}

/* Parse one astring (atom or quoted) from p; returns the end or NULL. */
static const char *astring(const char *p, char *dst, size_t dstlen)
{
	size_t o = 0;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			if (o + 1 >= dstlen)
				return NULL;
			dst[o++] = *p;
		}
		if (*p != '"')
			return NULL;
		p++;
	} else {
		for (; *p && *p != ' ' && *p != '(' && *p != ')' && *p != '{' &&
		       *p != '"' && (unsigned char)*p > 0x20; p++) {
			if (o + 1 >= dstlen)
				return NULL;
			dst[o++] = *p;
		}
		if (o == 0)
			return NULL;
	}
	dst[o] = '\0';
	return p;
}

struct list_ctx {
	struct session *s;
};

static int list_cb(void *arg, const struct store_mailbox_info *mb)
{
	struct list_ctx *lc = arg;
	const char *su = "";
	switch (mb->special_use) {
	case STORE_SPECIAL_SENT: su = " \\Sent"; break;
	case STORE_SPECIAL_DRAFTS: su = " \\Drafts"; break;
	case STORE_SPECIAL_TRASH: su = " \\Trash"; break;
	case STORE_SPECIAL_JUNK: su = " \\Junk"; break;
	case STORE_SPECIAL_ARCHIVE: su = " \\Archive"; break;
	default: break;
	}
	out(lc->s, "* LIST (\\HasNoChildren%s) \"/\" \"%s\"\r\n", su, mb->name);
	return 0;
}

static void cmd_select(struct session *s, const char *tag, const char *args, int readonly)
{
	char name[RD_STORE_MAX_MAILBOX_NAME + 1];
	struct store_mailbox_info mb;
	const char *err;
	if (astring(args, name, sizeof(name)) == NULL) {
		out(s, "%s BAD Expected a mailbox name\r\n", tag);
		return;
	}
	if (strcasecmp(name, "INBOX") == 0)
		snprintf(name, sizeof(name), "INBOX");
	s->selected = 0;
	if (store_mailbox_get(s->w->store, name, &mb, &err) != STORE_OK) {
		out(s, "%s NO [NONEXISTENT] No such mailbox\r\n", tag);
		return;
	}
	snprintf(s->mailbox, sizeof(s->mailbox), "%s", name);
	s->selected = 1;
	out(s, "* %llu EXISTS\r\n", (unsigned long long)mb.messages);
	out(s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n");
	out(s, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted\r\n");
	out(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n", mb.uidvalidity);
	out(s, "* OK [UIDNEXT %u] Predicted next UID\r\n", mb.uidnext);
	out(s, "* LIST () \"/\" \"%s\"\r\n", name);
	out(s, "%s OK [%s] %s completed\r\n", tag, readonly ? "READ-ONLY" : "READ-WRITE",
	    readonly ? "EXAMINE" : "SELECT");
}

static void session_line(struct session *s, char *line)
{
	char tag[65];
	const char *err;
	char *sp = strchr(line, ' ');
	if (sp == NULL || sp == line || (size_t)(sp - line) >= sizeof(tag)) {
		out(s, "* BAD Missing tag\r\n");
		return;
	}
	memcpy(tag, line, (size_t)(sp - line));
	tag[sp - line] = '\0';
	char *cmd = sp + 1;
	char *args = strchr(cmd, ' ');
	if (args)
		*args++ = '\0';
	else
		args = cmd + strlen(cmd);
	if (strcasecmp(cmd, "CAPABILITY") == 0) {
		out(s, "* CAPABILITY %s\r\n%s OK CAPABILITY completed\r\n", post_caps, tag);
	} else if (strcasecmp(cmd, "NOOP") == 0) {
		out(s, "%s OK NOOP completed\r\n", tag);
	} else if (strcasecmp(cmd, "LOGOUT") == 0) {
		out(s, "* BYE Logging out\r\n%s OK LOGOUT completed\r\n", tag);
		session_close(s);
	} else if (strcasecmp(cmd, "ID") == 0) {
		out(s, "* ID (\"name\" \"redoubt\")\r\n%s OK ID completed\r\n", tag);
	} else if (strcasecmp(cmd, "ENABLE") == 0) {
		out(s, "* ENABLED\r\n%s OK ENABLE completed\r\n", tag);
	} else if (strcasecmp(cmd, "LIST") == 0) {
		struct list_ctx lc = { s };
		if (store_mailbox_list(s->w->store, list_cb, &lc, &err) != STORE_OK)
			out(s, "%s NO [SERVERBUG] %s\r\n", tag, err);
		else
			out(s, "%s OK LIST completed\r\n", tag);
	} else if (strcasecmp(cmd, "SELECT") == 0 || strcasecmp(cmd, "EXAMINE") == 0) {
		cmd_select(s, tag, args, strcasecmp(cmd, "EXAMINE") == 0);
	} else if (strcasecmp(cmd, "UNSELECT") == 0 || strcasecmp(cmd, "CLOSE") == 0) {
		if (!s->selected) {
			out(s, "%s BAD No mailbox selected\r\n", tag);
		} else {
			s->selected = 0;
			out(s, "%s OK %s completed\r\n", tag, cmd);
		}
	} else if (strcasecmp(cmd, "LOGIN") == 0 || strcasecmp(cmd, "AUTHENTICATE") == 0) {
		out(s, "%s BAD Already logged in\r\n", tag);
	} else {
		out(s, "%s BAD Command not implemented yet\r\n", tag);
	}
}

static void session_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (!s->closing) {
		size_t eol_len;
		struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		if (p.pos < 0) {
			if (evbuffer_get_length(in) > RD_IMAP_MAX_LINE) {
				out(s, "* BYE Line too long\r\n");
				session_close(s);
			}
			return;
		}
		if ((size_t)p.pos > RD_IMAP_MAX_LINE) {
			out(s, "* BYE Line too long\r\n");
			session_close(s);
			return;
		}
		char *line = malloc((size_t)p.pos + 1);
		if (line == NULL) {
			session_close(s);
			return;
		}
		evbuffer_remove(in, line, (size_t)p.pos);
		evbuffer_drain(in, eol_len);
		line[p.pos] = '\0';
		session_line(s, line);
		free(line);
	}
}

static void session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	if (s->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		session_free(s);
}

static void session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		out(s, "* BYE Autologout; idle for too long\r\n");
	session_free(s);
}

static void session_new(struct worker *w, int fd)
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
	s->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		close(fd);
		free(s);
		return;
	}
	bufferevent_setcb(s->bev, session_read_cb, session_write_cb, session_event_cb, s);
	struct timeval tv = { .tv_sec = RD_IMAP_IDLE_TIMEOUT_S };
	bufferevent_set_timeouts(s->bev, &tv, NULL);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	s->next = w->sessions;
	if (w->sessions)
		w->sessions->prev = s;
	w->sessions = s;
	w->nsessions++;
	w->retire_asked = 0;
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
		session_new(w, sfd);
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
	/* Rule 2: confined to this principal's store before touching it. */
	if (role_confine(ctx, &rp.p) < 0)
		return 1;
	struct worker w = { .ctx = ctx };
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
	event_base_free(w.base);
	store_close(&w.store);
	free(w.buf);
	log_info("role_stopped", "principal", ctx->principal);
	return 0;
}
