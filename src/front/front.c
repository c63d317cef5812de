#include "front/front.h"
#include "lib/ipc.h"
#include "audit/audit-log.h"
#include "master/role.h"
#include "lib/log.h"
#include "lib/tls.h"
#include "limits.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>

/* Output queued towards one side of a proxied session before we stop
 * reading from the other side (backpressure). */
#define PROXY_HIGH_WATER (1024u * 1024u)

struct listener {
	struct front *f;
	struct evconnlistener *l;
	const char *kind;
	int implicit_tls;
};

struct conn {
	struct front *f;
	struct conn *prev, *next;
	struct bufferevent *bev;
	struct bufferevent *worker;      /* proxy mode */
	struct listener *ls;
	void *proto_data;
	int fd;                          /* the client's TCP socket */
	uint32_t id;
	char peer[INET6_ADDRSTRLEN];
	int tls;
	int paused;
	int raw;
	int closing;
	int opened;                      /* on_open was called */
	int in_handler;
	int free_pending;
	struct event *close_ev;          /* waits for a TLS filter to drain */
	struct event *deadline_ev;       /* whole-request deadline (HTTP) */
	char client_id[64];
	unsigned close_polls;
};

struct front {
	struct front_config cfg;
	struct listener *ls;
	size_t nls;
	struct conn *conns;
	size_t nconns;
	uint32_t next_id;
	int stopping;
	void *role;
};

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_write_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

static void conn_free(struct conn *c)
{
	struct front *f = c->f;
	if (c->in_handler) {
		c->free_pending = 1;
		return;
	}
	if (c->opened && f->cfg.proto->on_close)
		f->cfg.proto->on_close(c);
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->worker)
		bufferevent_free(c->worker);
	if (c->close_ev)
		event_free(c->close_ev);
	if (c->deadline_ev)
		event_free(c->deadline_ev);
	if (c->prev)
		c->prev->next = c->next;
	else
		f->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	f->nconns--;
	free(c);
}

void *conn_proto_data(struct conn *c) { return c->proto_data; }
void conn_set_proto_data(struct conn *c, void *d) { c->proto_data = d; }
const char *conn_listener_kind(const struct conn *c) { return c->ls->kind; }
const char *conn_peer(const struct conn *c) { return c->peer; }
const char *conn_hostname(const struct conn *c) { return c->f->cfg.hostname; }
int conn_is_tls(const struct conn *c) { return c->tls; }
int conn_tls_available(const struct conn *c) { return c->f->cfg.tls != NULL; }
size_t front_conn_count(const struct front *f) { return f->nconns; }
void front_set_role(struct front *f, void *role) { f->role = role; }
void *conn_role(struct conn *c) { return c->f->role; }
unsigned conn_id(const struct conn *c) { return c->id; }
const struct front_limits *conn_limits(const struct conn *c) { return &c->f->cfg.limits; }

void conn_audit(struct conn *c, const char *kind, const struct audit_kv *kv, size_t n)
{
	struct audit_kv all[RD_AUDIT_MAX_FIELDS];
	size_t k = n < RD_AUDIT_MAX_FIELDS - 3 ? n : RD_AUDIT_MAX_FIELDS - 3;
	memcpy(all, kv, k * sizeof(*kv));
	all[k].key = AUDIT_F_ADDRESS;
	all[k++].value = c->peer;
	role_audit(c->f->cfg.ipc_fd, kind, all, k);
}
void conn_set_raw(struct conn *c, int raw) { c->raw = raw; }

struct conn *front_conn_by_id(struct front *f, unsigned id)
{
	for (struct conn *c = f->conns; c != NULL; c = c->next)
		if (c->id == id)
			return c->closing ? NULL : c;
	return NULL;
}

void conn_tls_describe(struct conn *c, char *out, size_t outlen)
{
	SSL *ssl = c->tls ? bufferevent_openssl_get_ssl(c->bev) : NULL;
	if (ssl == NULL)
		snprintf(out, outlen, "none");
	else
		tls_describe(ssl, out, outlen);
}

int conn_write(struct conn *c, const void *p, size_t len)
{
	if (c->bev == NULL)
		return -1;
	return bufferevent_write(c->bev, p, len);
}

int conn_printf(struct conn *c, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	return conn_write(c, line, (size_t)n);
}

/* Octets still queued towards the client, including those a STARTTLS
 * filter has encrypted but its underlying socket has not yet sent. */
static size_t conn_pending_output(struct conn *c)
{
	size_t n = evbuffer_get_length(bufferevent_get_output(c->bev));
	struct bufferevent *u = bufferevent_get_underlying(c->bev);
	if (u != NULL)
		n += evbuffer_get_length(bufferevent_get_output(u));
	return n;
}

static void close_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 20000 };
	(void)fd;
	(void)what;
	/* give a slow reader at most 10 s to take the last reply */
	if (conn_pending_output(c) == 0 || ++c->close_polls > 500)
		conn_free(c);
	else
		evtimer_add(c->close_ev, &tv);
}

static void conn_try_free_closing(struct conn *c)
{
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
		return;    /* the write callback comes back here */
	if (conn_pending_output(c) == 0) {
		conn_free(c);
		return;
	}
	if (c->close_ev == NULL) {
		c->close_ev = evtimer_new(c->f->cfg.base, close_poll_cb, c);
		if (c->close_ev == NULL) {
			conn_free(c);
			return;
		}
		struct timeval tv = { .tv_sec = 0, .tv_usec = 20000 };
		evtimer_add(c->close_ev, &tv);
	}
}

void conn_close_after_flush(struct conn *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	conn_try_free_closing(c);
}

static void set_callbacks(struct conn *c)
{
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	struct timeval tv = { .tv_sec = c->f->cfg.idle_timeout_s };
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

int conn_starttls(struct conn *c)
{
	if (c->tls || c->f->cfg.tls == NULL)
		return -1;
	SSL *ssl = SSL_new(c->f->cfg.tls);
	if (ssl == NULL)
		return -1;
	/* RFC 3207 4.2 / RFC 9051 6.2.1: anything the client sent behind the
	 * STARTTLS command was sent in plaintext and must not be executed
	 * under TLS. */
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t junk = evbuffer_get_length(in);
	if (junk > 0) {
		char n[32];
		snprintf(n, sizeof(n), "%zu", junk);
		log_warn("starttls_discard", "peer", c->peer, "octets", n);
		evbuffer_drain(in, junk);
	}
	struct bufferevent *tb = bufferevent_openssl_filter_new(
		c->f->cfg.base, c->bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
		BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (tb == NULL) {
		SSL_free(ssl);
		return -1;
	}
	c->bev = tb;
	c->tls = 1;
	set_callbacks(c);
	return 0;
}

void conn_pause(struct conn *c)
{
	c->paused = 1;
	/* stop reading the socket too: a paused client's bytes wait in the
	 * kernel (TCP pushes back), not in our memory */
	if (c->bev)
		bufferevent_disable(c->bev, EV_READ);
}

static void process_lines(struct conn *c)
{
	struct front *f = c->f;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	char *line = NULL;
	c->in_handler = 1;
	while (!c->paused && !c->closing && c->worker == NULL && !c->free_pending) {
		if (c->raw) {
			size_t avail = evbuffer_get_length(in);
			if (avail == 0)
				break;
			size_t take = avail < 65536 ? avail : 65536;
			unsigned char *p = evbuffer_pullup(in, (ev_ssize_t)take);
			size_t used = f->cfg.proto->on_raw(c, p, take);
			evbuffer_drain(in, used);
			if (used == 0)
				break;
			continue;
		}
		size_t eol_len = 0;
		struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		size_t avail = evbuffer_get_length(in);
		if (p.pos < 0) {
			if (avail > f->cfg.max_line) {
				f->cfg.proto->on_line_too_long(c);
				evbuffer_drain(in, avail);
				if (!c->closing)
					conn_close_after_flush(c);
			}
			break;
		}
		size_t len = (size_t)p.pos;
		if (len > f->cfg.max_line) {
			f->cfg.proto->on_line_too_long(c);
			evbuffer_drain(in, avail);
			if (!c->closing)
				conn_close_after_flush(c);
			break;
		}
		char *nl = realloc(line, len + 1);
		if (nl == NULL)
			break;
		line = nl;
		evbuffer_remove(in, line, len);
		evbuffer_drain(in, eol_len);
		line[len] = '\0';
		f->cfg.proto->on_line(c, line, len);
		if (c->tls && c->bev != NULL && in != bufferevent_get_input(c->bev))
			break;  /* switched to TLS: the old buffer is gone */
	}
	free(line);
	c->in_handler = 0;
	if (c->free_pending) {
		c->free_pending = 0;
		conn_free(c);
	}
}

void conn_resume(struct conn *c)
{
	c->paused = 0;
	if (c->bev && !c->closing)
		bufferevent_enable(c->bev, EV_READ);
	process_lines(c);
}

static void proxy_client_to_worker(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	bufferevent_write_buffer(c->worker, in);
	if (evbuffer_get_length(bufferevent_get_output(c->worker)) > PROXY_HIGH_WATER)
		bufferevent_disable(c->bev, EV_READ);
}

/* Acknowledge what was just read now rather than after the delayed-ACK
 * timer. A client whose own Nagle holds back the tail of a write (the
 * "\r\n" behind an APPEND literal that imaplib sends separately, or the
 * last TLS record of a literal over 16 KiB) sends it only when everything
 * before it is acknowledged; a server that has just sent "+ Ready" is in
 * Linux's interactive mode and delays that ACK by 40 ms, so every such
 * APPEND took 44 ms instead of 1. One setsockopt per read event; the
 * kernel drops back to delayed ACKs on its own, hence every time. */
static void ack_now(const struct conn *c)
{
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	ack_now(c);
	if (c->worker) {
		proxy_client_to_worker(c);
		return;
	}
	process_lines(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (c->closing) {
		conn_try_free_closing(c);
		return;
	}
	if (c->worker)
		bufferevent_enable(c->worker, EV_READ);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		/* implicit TLS handshake done */
		if (!c->opened) {
			c->opened = 1;
			if (c->f->cfg.proto->on_open(c) < 0)
				conn_close_after_flush(c);
		}
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && !c->closing && c->worker == NULL) {
		if (c->opened && c->f->cfg.proto->on_timeout)
			c->f->cfg.proto->on_timeout(c);
		conn_close_after_flush(c);
		return;
	}
	conn_free(c);
}

static void worker_read_cb(struct bufferevent *wb, void *arg)
{
	struct conn *c = arg;
	bufferevent_write_buffer(c->bev, bufferevent_get_input(wb));
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > PROXY_HIGH_WATER)
		bufferevent_disable(wb, EV_READ);
}

static void worker_write_cb(struct bufferevent *wb, void *arg)
{
	struct conn *c = arg;
	(void)wb;
	if (!c->closing)
		bufferevent_enable(c->bev, EV_READ);
}

static void worker_event_cb(struct bufferevent *wb, short what, void *arg)
{
	struct conn *c = arg;
	char tail[4096];
	ssize_t n;
	(void)what;
	/* the worker ended the session: deliver what it sent, then close.
	 * When it closed on a line it refused, our failed write is reported
	 * before its last reply was read: take that reply from the socket. */
	bufferevent_write_buffer(c->bev, bufferevent_get_input(wb));
	evutil_socket_t wfd = bufferevent_getfd(wb);
	for (int i = 0; wfd >= 0 && i < 16 && (n = read(wfd, tail, sizeof(tail))) > 0; i++)
		bufferevent_write(c->bev, tail, (size_t)n);
	bufferevent_free(c->worker);
	c->worker = NULL;
	conn_close_after_flush(c);
}

int conn_proxy(struct conn *c, int worker_fd)
{
	evutil_make_socket_nonblocking(worker_fd);
	c->worker = bufferevent_socket_new(c->f->cfg.base, worker_fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->worker == NULL) {
		close(worker_fd);
		return -1;
	}
	bufferevent_setcb(c->worker, worker_read_cb, worker_write_cb, worker_event_cb, c);
	bufferevent_enable(c->worker, EV_READ | EV_WRITE);
	/* after login the worker applies its own (longer) timeouts */
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	/* anything the client pipelined behind the login goes to the worker */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		proxy_client_to_worker(c);
	return 0;
}

void conn_set_client_id(struct conn *c, const char *id)
{
	snprintf(c->client_id, sizeof(c->client_id), "%s", id);
}

int conn_login(struct conn *c, const char *protocol, const char *mechanism,
	       const char *user, const char *password)
{
	struct ipc_msg m;
	const char *err;
	ipc_msg_init(&m, IPC_AUTH_REQUEST, c->id);
	int r = ipc_put_str(&m, protocol) | ipc_put_str(&m, user) |
		ipc_put_str(&m, password) | ipc_put_str(&m, c->peer) |
		ipc_put_u32(&m, (uint32_t)c->tls) | ipc_put_str(&m, mechanism) |
		ipc_put_str(&m, c->client_id);
	if (r == 0)
		r = ipc_send(c->f->cfg.ipc_fd, &m, -1, &err);
	explicit_bzero(m.payload.data, m.payload.len);
	ipc_msg_free(&m);
	if (r == 0)
		conn_pause(c);
	return r;
}

void front_ipc_frame(struct front *f, int type, unsigned id, void *reader, int fd)
{
	struct ipc_reader *r = reader;
	const char *err;
	if (type != IPC_LOGIN_RESULT) {
		if (f->cfg.proto->on_master_frame)
			f->cfg.proto->on_master_frame(f->role, type, id, reader, fd);
		else if (fd >= 0)
			close(fd);
		return;
	}
	uint32_t result;
	char principal[RD_MAX_ADDRESS + 1];
	if (ipc_get_u32(r, &result, &err) < 0 ||
	    ipc_get_str(r, principal, sizeof(principal), &err) < 0 ||
	    ipc_end(r, &err) < 0) {
		log_error("ipc_bad_frame", "reason", err);
		if (fd >= 0)
			close(fd);
		return;
	}
	struct conn *c;
	for (c = f->conns; c != NULL && c->id != id; c = c->next)
		;
	if (c == NULL || c->closing) {
		/* the client left while master was answering */
		if (fd >= 0)
			close(fd);
		return;
	}
	c->paused = 0;
	if (c->bev && !c->closing)
		bufferevent_enable(c->bev, EV_READ);
	c->in_handler = 1;
	f->cfg.proto->on_login(c, (int)result, principal, result == 1 ? fd : -1);
	c->in_handler = 0;
	if (result != 1 && fd >= 0)
		close(fd);
	if (c->free_pending) {
		c->free_pending = 0;
		conn_free(c);
		return;
	}
	if (c->worker == NULL && !c->closing)
		process_lines(c);
}

static size_t conns_from(struct front *f, const char *peer)
{
	size_t n = 0;
	for (struct conn *c = f->conns; c != NULL; c = c->next)
		n += strcmp(c->peer, peer) == 0;
	return n;
}

/* A deadline that trickling bytes cannot push back (slow-loris): when it
 * passes, the connection ends whatever it is doing. */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	(void)fd;
	(void)what;
	if (c->closing)
		return;
	if (c->opened && c->f->cfg.proto->on_timeout)
		c->f->cfg.proto->on_timeout(c);
	conn_close_after_flush(c);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct listener *ls = arg;
	struct front *f = ls->f;
	char peer[INET6_ADDRSTRLEN] = "unknown";
	(void)l;
	(void)salen;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, peer, sizeof(peer));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, peer, sizeof(peer));
	if (f->stopping || f->nconns >= RD_MAX_CONNECTIONS ||
	    conns_from(f, peer) >= RD_MAX_CONN_PER_ADDR) {
		log_warn("connection_refused", "peer", peer, "reason", "too many connections");
		close(fd);
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	/* replies are small and complete: send them now, not after the
	 * client's delayed ACK (Nagle would add ~40 ms per round trip) */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->f = f;
	c->ls = ls;
	c->fd = fd;
	c->id = ++f->next_id;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	if (ls->implicit_tls && f->cfg.tls != NULL) {
		SSL *ssl = SSL_new(f->cfg.tls);
		c->bev = ssl ? bufferevent_openssl_socket_new(f->cfg.base, fd, ssl,
				BUFFEREVENT_SSL_ACCEPTING,
				BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS) : NULL;
		c->tls = 1;
	} else {
		c->bev = bufferevent_socket_new(f->cfg.base, fd,
				BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	}
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	c->next = f->conns;
	if (f->conns)
		f->conns->prev = c;
	f->conns = c;
	f->nconns++;
	set_callbacks(c);
	if (f->cfg.conn_deadline_s > 0) {
		struct timeval dl = { .tv_sec = f->cfg.conn_deadline_s };
		c->deadline_ev = evtimer_new(f->cfg.base, deadline_cb, c);
		if (c->deadline_ev)
			evtimer_add(c->deadline_ev, &dl);
	}
	if (c->tls) {
		struct timeval tv = { .tv_sec = RD_TLS_HANDSHAKE_TIMEOUT_S };
		bufferevent_set_timeouts(c->bev, &tv, &tv);
		return;   /* on_open after the handshake (BEV_EVENT_CONNECTED) */
	}
	c->opened = 1;
	if (f->cfg.proto->on_open(c) < 0)
		conn_close_after_flush(c);
}

int front_create(const struct front_config *cfg, const struct front_listener_spec *ls,
		 size_t nls, struct front **front_r, const char **error_r)
{
	struct front *f = calloc(1, sizeof(*f));
	if (f == NULL || (nls && (f->ls = calloc(nls, sizeof(*f->ls))) == NULL)) {
		free(f);
		*error_r = "out of memory";
		return -1;
	}
	f->cfg = *cfg;
	for (size_t i = 0; i < nls; i++) {
		struct listener *l = &f->ls[i];
		l->f = f;
		l->kind = ls[i].kind;
		l->implicit_tls = ls[i].implicit_tls;
		evutil_make_socket_nonblocking(ls[i].fd);
		l->l = evconnlistener_new(cfg->base, accept_cb, l, LEV_OPT_CLOSE_ON_FREE, -1,
					  ls[i].fd);
		if (l->l == NULL) {
			*error_r = "cannot watch listening socket";
			f->nls = i;
			front_free(&f);
			return -1;
		}
		f->nls = i + 1;
	}
	*front_r = f;
	return 0;
}

void front_set_accepting(struct front *f, int on)
{
	if (f->stopping)
		return;
	for (size_t i = 0; i < f->nls; i++) {
		if (on)
			evconnlistener_enable(f->ls[i].l);
		else
			evconnlistener_disable(f->ls[i].l);
	}
}

size_t front_shutdown(struct front *f)
{
	f->stopping = 1;
	for (size_t i = 0; i < f->nls; i++)
		evconnlistener_disable(f->ls[i].l);
	struct conn *c = f->conns;
	while (c != NULL) {
		struct conn *next = c->next;
		if (!c->closing) {
			if (c->worker == NULL && c->opened && f->cfg.proto->on_shutdown)
				f->cfg.proto->on_shutdown(c);
			if (c->worker == NULL)
				conn_close_after_flush(c);
		}
		c = next;
	}
	return f->nconns;
}

void front_free(struct front **fp)
{
	struct front *f = *fp;
	if (f == NULL)
		return;
	while (f->conns)
		conn_free(f->conns);
	for (size_t i = 0; i < f->nls; i++)
		evconnlistener_free(f->ls[i].l);
	free(f->ls);
	free(f);
	*fp = NULL;
}
