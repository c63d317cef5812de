#include "master/master.h"
#include "master/spawn.h"
#include "master/role.h"
#include "master/policy.h"
#include "master/master-audit.h"
#include "master/grants.h"
#include "audit/audit-event.h"
#include "config/config.h"
#include "directory/directory.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "limits.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

enum child_kind { CK_SMTP, CK_IMAP, CK_HTTP, CK_AUTH, CK_QUEUE, CK_WORKER, CK_DELIVER };
#define NFIXED 5
#define MAX_DELIVERIES 64
/* Deliveries held for a deliver process that is still starting: all the
 * queue may have in flight, since after a restart or a crash its whole
 * window goes to one store at once; fewer, and the rest were answered
 * "try later" and waited RD_QUEUE_RETRY_S for nothing. */
#define DELIVER_MAX_PENDING ((int)RD_QUEUE_DELIVERY_WINDOW)
_Static_assert(RD_QUEUE_DELIVERY_WINDOW <= MAX_DELIVERIES,
	       "master tracks every delivery the queue may have in flight");

#define WORKER_MAX_PENDING 16

struct child {
	enum child_kind kind;
	const char *role;
	pid_t pid;
	int ipc;
	int ready;
	struct event *ev;
	struct event *restart_ev;
	unsigned backoff_ms;
	time_t started;
	struct spawn_fd fds[ROLE_MAX_LISTENERS];
	int nfds;
	/* worker only */
	char principal[RD_MAX_ADDRESS + 1];
	char store_id[65];
	int pending[WORKER_MAX_PENDING];
	char pending_peer[WORKER_MAX_PENDING][64];
	int npending;
	int retiring;                /* asked to stop: gets no new sessions */
	int stale;                   /* its grants changed: new logins go to a
					fresh worker, this one ends with its sessions */
	struct grant_set grants;
	/* deliver only: deliveries waiting for the process to be ready */
	struct {
		int fd;
		uint32_t id;
		char qid[32], rcpt[RD_MAX_ADDRESS + 1], from[RD_MAX_ADDRESS + 1];
	} *dpend;
	int ndpend;
	struct child *next;          /* workers list */
	struct master *m;
};

struct auth_req {
	int used;
	uint32_t id;
	struct child *front;
	pid_t front_pid;
	uint32_t session;
	char protocol[8];
	char peer[64];
	char user[RD_MAX_ADDRESS + 1];   /* as typed, for the record */
	uint32_t tls;
	char mech[16];
	char client_id[64];
};

struct delayed_reply {
	struct master *m;
	struct child *front;
	pid_t front_pid;
	uint32_t session;
	struct event *ev;
};

struct master {
	const struct master_opts *opts;
	struct config cfg;
	struct event_base *base;
	struct child fixed[NFIXED];  /* smtp-in, imap-login, http-front, auth, queue */
	/* deliveries in flight: the queue's id, the deliver process doing it */
	struct {
		struct child *by;
		uint32_t id;
		pid_t queue_pid;
	} deliveries[MAX_DELIVERIES];
	struct child *deliverers;    /* one long-lived deliver per busy store */
	struct child *workers;
	unsigned nworkers;
	struct auth_req reqs[RD_AUTH_MAX_PENDING];
	uint32_t next_req;
	int listen_fds[6];
	uint8_t *cert;
	size_t cert_len;
	uint8_t *key;
	size_t key_len;
	uint8_t *buf;
	int stopping;
	struct event *kill_ev;
	struct master_audit *audit;
	/* successful logins whose records are written but not yet synced:
	 * one fdatasync lets a whole burst through (group commit) */
	struct auth_req *login_batch;
	char (*login_principal)[RD_MAX_ADDRESS + 1];
	unsigned nlogin_batch;
	struct event *login_flush_ev;
};

static void child_spawn(struct master *m, struct child *c);
static void child_ipc_cb(evutil_socket_t fd, short what, void *arg);
static void send_shutdown(struct child *c);

static const char *sandbox_arg(const struct master *m)
{
	return m->cfg.sandbox ? "on" : "off";
}

static int read_file(const char *data_dir, const char *path, uint8_t **out, size_t *len)
{
	char full[4096];
	if (path[0] == '/')
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "%s/%s", data_dir, path);
	int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)RD_IPC_MAX_PAYLOAD / 2) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	*out = malloc((size_t)st.st_size + 1);
	ssize_t n = *out ? read(fd, *out, (size_t)st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

static int bind_listener(const struct config_listen *l, const char *name, int *fd_r)
{
	char port[8];
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai;
	snprintf(port, sizeof(port), "%u", l->port);
	if (getaddrinfo(l->host, port, &hints, &ai) != 0) {
		log_error("listen_failed", "listener", name, "address", l->host,
			  "reason", "cannot resolve the listen address");
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 512) < 0) {
		log_error("listen_failed", "listener", name, "address", l->host, "port", port,
			  "reason", strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	log_info("listening", "listener", name, "address", l->host, "port", port);
	*fd_r = fd;
	return 0;
}

static void send_role_config(struct master *m, struct child *c)
{
	struct ipc_msg msg;
	const char *err;
	int tls = c->kind == CK_SMTP || c->kind == CK_IMAP || c->kind == CK_HTTP;
	ipc_msg_init(&msg, IPC_ROLE_CONFIG, 0);
	ipc_put_str(&msg, m->cfg.hostname);
	ipc_put_u32(&msg, m->cfg.fail_delay_ms);
	ipc_put_u64(&msg, m->cfg.argon2_opslimit);
	ipc_put_u64(&msg, m->cfg.argon2_memlimit_kib * 1024u);
	ipc_put_u64(&msg, m->cfg.max_message_size);
	ipc_put_u32(&msg, m->cfg.max_recipients);
	ipc_put_u64(&msg, m->cfg.mailbox_quota_mib * 1024u * 1024u);
	/* only the TLS-terminating fronts receive the key */
	ipc_put_bytes(&msg, tls ? m->cert : NULL, tls ? m->cert_len : 0);
	ipc_put_bytes(&msg, tls ? m->key : NULL, tls ? m->key_len : 0);
	if (ipc_send(c->ipc, &msg, -1, &err) < 0)
		log_error("ipc_send_failed", "role", c->role, "reason", err);
	explicit_bzero(msg.payload.data, msg.payload.len);
	ipc_msg_free(&msg);
}

static void restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;
	(void)fd;
	(void)what;
	if (!c->m->stopping)
		child_spawn(c->m, c);
}

static void child_spawn(struct master *m, struct child *c)
{
	int sv[2];
	const char *err;
	char pid_s[16];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_error("spawn_failed", "role", c->role, "reason", strerror(errno));
		return;
	}
	const char *args[16 + 2 * RD_MAX_SHARED_STORES];
	int n = 0;
	args[n++] = "--sandbox";
	args[n++] = sandbox_arg(m);
	if (geteuid() == 0) {
		args[n++] = "--user";
		args[n++] = c->kind != CK_SMTP && c->kind != CK_IMAP && c->kind != CK_HTTP ?
			    m->cfg.user : m->cfg.front_user;
	}
	if (c->kind == CK_AUTH || c->kind == CK_WORKER || c->kind == CK_QUEUE ||
	    c->kind == CK_DELIVER) {
		args[n++] = "--data";
		args[n++] = m->opts->data_dir;
	}
	if (c->kind == CK_WORKER) {
		args[n++] = "--principal";
		args[n++] = c->principal;
	}
	if (c->kind == CK_WORKER || c->kind == CK_DELIVER) {
		args[n++] = "--store";
		args[n++] = c->store_id;
	}
	if (c->kind == CK_WORKER) {
		const char *ids[RD_MAX_SHARED_STORES];
		size_t ns = grants_stores(&c->grants, c->store_id, ids, RD_MAX_SHARED_STORES);
		for (size_t i = 0; i < ns; i++) {
			args[n++] = "--shared";
			args[n++] = ids[i];
		}
	}
	args[n] = NULL;
	c->pid = spawn_role(c->role, m->opts->store_exe_fd, sv[1], c->fds, c->nfds, args,
			    &err);
	close(sv[1]);
	if (c->pid < 0) {
		close(sv[0]);
		log_error("spawn_failed", "role", c->role, "reason", err);
		return;
	}
	c->ipc = sv[0];
	c->ready = 0;
	c->started = time(NULL);
	evutil_make_socket_nonblocking(c->ipc);
	c->ev = event_new(m->base, c->ipc, EV_READ | EV_PERSIST, child_ipc_cb, c);
	event_add(c->ev, NULL);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)c->pid);
	log_info("role_started", "role", c->role, "child", pid_s,
		 "principal", c->kind == CK_WORKER ? c->principal : "-",
		 "store", c->kind == CK_DELIVER ? c->store_id : "-");
	send_role_config(m, c);
	if (c->kind == CK_WORKER) {
		struct ipc_msg gm;
		ipc_msg_init(&gm, IPC_WORKER_GRANTS, 0);
		if (grants_encode(&c->grants, &gm) < 0 || ipc_send(c->ipc, &gm, -1, &err) < 0)
			log_error("ipc_send_failed", "role", c->role, "reason", "grants");
		ipc_msg_free(&gm);
	}
}

static void child_drop_channel(struct child *c)
{
	if (c->ev) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->ipc >= 0) {
		close(c->ipc);
		c->ipc = -1;
	}
}

static void child_kill(struct child *c, const char *why)
{
	log_error("role_killed", "role", c->role, "reason", why);
	if (c->pid > 0)
		kill(c->pid, SIGKILL);
	child_drop_channel(c);
}

static void send_login_result(struct child *front, uint32_t session, uint32_t result,
			      const char *principal, int fd)
{
	struct ipc_msg msg;
	const char *err;
	if (front == NULL || front->ipc < 0)
		return;
	ipc_msg_init(&msg, IPC_LOGIN_RESULT, session);
	ipc_put_u32(&msg, result);
	ipc_put_str(&msg, principal);
	if (ipc_send(front->ipc, &msg, fd, &err) < 0)
		log_error("ipc_send_failed", "role", front->role, "reason", err);
	ipc_msg_free(&msg);
}

static void delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delayed_reply *d = arg;
	(void)fd;
	(void)what;
	/* the front may have been restarted meanwhile: only answer the same process */
	if (d->front->pid == d->front_pid)
		send_login_result(d->front, d->session, 0, "", -1);
	event_free(d->ev);
	free(d);
}

static struct child *worker_find(struct master *m, const char *principal)
{
	for (struct child *w = m->workers; w != NULL; w = w->next)
		if (strcmp(w->principal, principal) == 0 && w->pid > 0 && !w->retiring &&
		    !w->stale)
			return w;
	return NULL;
}

static struct child *worker_get(struct master *m, const char *principal)
{
	/* The grants are read at every login, so a grant given or taken
	 * since the worker started reaches this session: a worker whose
	 * grants differ serves its open sessions to the end, new ones go to
	 * a fresh worker confined to the new set. */
	struct grant_set gs;
	char store[sizeof(((struct child *)0)->store_id)];
	const char *err;
	if (grants_load(m->opts->data_dir, principal, store, &gs, &err) < 0) {
		log_error("worker_no_store", "principal", principal, "reason", err);
		return NULL;
	}
	struct child *w = worker_find(m, principal);
	if (w != NULL && memcmp(w->grants.sig, gs.sig, sizeof(gs.sig)) == 0) {
		grants_free(&gs);
		return w;
	}
	if (w != NULL) {
		log_info("worker_grants_changed", "principal", principal);
		w->stale = 1;
	}
	if (m->nworkers >= RD_MAX_WORKERS || (w = calloc(1, sizeof(*w))) == NULL) {
		grants_free(&gs);
		return NULL;
	}
	memcpy(w->store_id, store, sizeof(store));
	w->grants = gs;
	w->kind = CK_WORKER;
	w->role = "worker";
	w->m = m;
	w->ipc = -1;
	snprintf(w->principal, sizeof(w->principal), "%s", principal);
	child_spawn(m, w);
	if (w->pid <= 0) {
		grants_free(&w->grants);
		free(w);
		return NULL;
	}
	w->next = m->workers;
	m->workers = w;
	m->nworkers++;
	return w;
}

static int worker_give_session(struct child *w, int fd, const char *protocol, const char *peer)
{
	struct ipc_msg msg;
	const char *err;
	ipc_msg_init(&msg, IPC_WORKER_SESSION, 0);
	ipc_put_str(&msg, protocol);
	ipc_put_str(&msg, peer);
	int r = ipc_send(w->ipc, &msg, fd, &err);
	ipc_msg_free(&msg);
	return r;
}

static void login_succeeded(struct master *m, struct auth_req *q, const char *principal)
{
	if (strcmp(q->protocol, "imap") != 0) {
		send_login_result(q->front, q->session, 1, principal, -1);
		return;
	}
	/* Rule 3: master, not the client, decides which worker serves this
	 * connection: the one bound to the principal auth just confirmed. */
	struct child *w = worker_get(m, principal);
	int sv[2];
	if (w == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		send_login_result(q->front, q->session, 2, "", -1);
		return;
	}
	if (w->ready) {
		if (worker_give_session(w, sv[0], q->protocol, q->peer) < 0) {
			close(sv[0]);
			close(sv[1]);
			send_login_result(q->front, q->session, 2, "", -1);
			return;
		}
		close(sv[0]);
	} else if (w->npending < WORKER_MAX_PENDING) {
		snprintf(w->pending_peer[w->npending], sizeof(w->pending_peer[0]), "%s", q->peer);
		w->pending[w->npending++] = sv[0];
	} else {
		close(sv[0]);
		close(sv[1]);
		send_login_result(q->front, q->session, 2, "", -1);
		return;
	}
	send_login_result(q->front, q->session, 1, principal, sv[1]);
	close(sv[1]);
}

static struct auth_req *req_find(struct master *m, uint32_t id)
{
	for (size_t i = 0; i < RD_AUTH_MAX_PENDING; i++)
		if (m->reqs[i].used && m->reqs[i].id == id)
			return &m->reqs[i];
	return NULL;
}

static int handle_auth_request(struct master *m, struct child *front, uint32_t session,
			       struct ipc_reader *r, const char **err)
{
	char protocol[8], user[RD_MAX_ADDRESS + 1], pass[RD_MAX_PASSWORD + 1], peer[64];
	char mech[16], client_id[64];
	uint32_t tls;
	if (ipc_get_str(r, protocol, sizeof(protocol), err) < 0)
		return -1;
	/* user names longer than an address can never match: answer "no"
	 * the same way as for any wrong login, but keep the frame valid */
	if (ipc_get_str(r, user, sizeof(user), err) < 0 ||
	    ipc_get_str(r, pass, sizeof(pass), err) < 0 ||
	    ipc_get_str(r, peer, sizeof(peer), err) < 0 ||
	    ipc_get_u32(r, &tls, err) < 0 || ipc_get_str(r, mech, sizeof(mech), err) < 0 ||
	    ipc_get_str(r, client_id, sizeof(client_id), err) < 0 || ipc_end(r, err) < 0) {
		explicit_bzero(pass, sizeof(pass));
		return -1;
	}
	struct child *auth = &m->fixed[CK_AUTH];
	struct auth_req *q = NULL;
	for (size_t i = 0; i < RD_AUTH_MAX_PENDING && q == NULL; i++)
		if (!m->reqs[i].used)
			q = &m->reqs[i];
	if (q == NULL || !auth->ready || m->stopping) {
		explicit_bzero(pass, sizeof(pass));
		send_login_result(front, session, 2, "", -1);
		return 0;
	}
	q->used = 1;
	q->id = ++m->next_req;
	q->front = front;
	q->front_pid = front->pid;
	q->session = session;
	snprintf(q->protocol, sizeof(q->protocol), "%s", protocol);
	snprintf(q->peer, sizeof(q->peer), "%s", peer);
	snprintf(q->user, sizeof(q->user), "%s", user);
	snprintf(q->mech, sizeof(q->mech), "%s", mech);
	snprintf(q->client_id, sizeof(q->client_id), "%s", client_id);
	q->tls = tls;
	struct ipc_msg msg;
	ipc_msg_init(&msg, IPC_AUTH_REQUEST, q->id);
	ipc_put_str(&msg, protocol);
	ipc_put_str(&msg, user);
	ipc_put_str(&msg, pass);
	ipc_put_str(&msg, peer);
	ipc_put_u32(&msg, tls);
	explicit_bzero(pass, sizeof(pass));
	const char *serr;
	if (ipc_send(auth->ipc, &msg, -1, &serr) < 0) {
		q->used = 0;
		send_login_result(front, session, 2, "", -1);
	}
	explicit_bzero(msg.payload.data, msg.payload.len);
	ipc_msg_free(&msg);
	return 0;
}

static int handle_auth_reply(struct master *m, uint32_t id, struct ipc_reader *r,
			     const char **err)
{
	uint32_t result, delay_ms, locked, fails;
	char principal[RD_MAX_ADDRESS + 1];
	if (ipc_get_u32(r, &result, err) < 0 ||
	    ipc_get_str(r, principal, sizeof(principal), err) < 0 ||
	    ipc_get_u32(r, &delay_ms, err) < 0 || ipc_get_u32(r, &locked, err) < 0 ||
	    ipc_get_u32(r, &fails, err) < 0 || ipc_end(r, err) < 0)
		return -1;
	if (delay_ms > RD_AUTH_MAX_DELAY_MS)
		delay_ms = RD_AUTH_MAX_DELAY_MS;
	if (result > 2) {
		*err = "result out of range";
		return -1;
	}
	struct auth_req *q = req_find(m, id);
	if (q == NULL)
		return 0;    /* answer for a front that restarted */
	q->used = 0;
	if (q->front->pid != q->front_pid)
		return 0;
	log_info("login", "protocol", q->protocol, "peer", q->peer,
		 "result", result == 1 ? "ok" : result == 2 ? "tempfail" : "refused",
		 "user", q->user, "principal", result == 1 ? principal : "-",
		 "tls", q->tls ? "yes" : "no");
	struct audit_kv akv[] = {
		{ AUDIT_F_USER, q->user }, { AUDIT_F_ADDRESS, q->peer },
		{ AUDIT_F_PROTOCOL, q->protocol }, { AUDIT_F_TLS, q->tls ? "yes" : "no" },
		{ AUDIT_F_MECH, q->mech }, { AUDIT_F_CLIENT_ID, q->client_id },
		{ AUDIT_F_PRINCIPAL, principal },
	};
	size_t nkv = q->client_id[0] ? 6 : 5;
	if (!q->client_id[0])
		akv[5] = akv[6];
	if (result == 1) {
		/* Rule 5: no login proceeds unless its record is durable. The
		 * record is written now and synced with the others of this
		 * burst in login_flush_cb, before any of them proceeds. */
		if (m->nlogin_batch >= RD_AUTH_MAX_PENDING ||
		    master_audit_write(m->audit, "login", akv, nkv + 1, 0) < 0) {
			log_error("login_refused", "reason", "audit log cannot be written",
				  "peer", q->peer);
			result = 2;
		} else {
			m->login_batch[m->nlogin_batch] = *q;
			snprintf(m->login_principal[m->nlogin_batch], RD_MAX_ADDRESS + 1, "%s",
				 principal);
			m->nlogin_batch++;
			event_active(m->login_flush_ev, EV_TIMEOUT, 0);
			return 0;
		}
	} else {
		master_audit_write(m->audit, result == 2 ? "login_tempfail" : "login_failed",
				   akv, nkv, 0);
	}
	if (result == 1) {
		login_succeeded(m, q, principal);
	} else if (result == 2) {
		send_login_result(q->front, q->session, 2, "", -1);
	} else {
		/* Every refusal waits the same time, whether the user exists or
		 * not; the wait happens here so auth stays free for others. */
		struct delayed_reply *d = calloc(1, sizeof(*d));
		if (d == NULL) {
			send_login_result(q->front, q->session, 0, "", -1);
			return 0;
		}
		d->m = m;
		d->front = q->front;
		d->front_pid = q->front_pid;
		d->session = q->session;
		d->ev = evtimer_new(m->base, delayed_cb, d);
		/* auth chose the delay (it grows with failures); never less
		 * than the configured floor */
		uint32_t ms = delay_ms > m->cfg.fail_delay_ms ? delay_ms : m->cfg.fail_delay_ms;
		char ms_s[16], fails_s[16];
		snprintf(ms_s, sizeof(ms_s), "%u", ms);
		snprintf(fails_s, sizeof(fails_s), "%u", fails);
		struct audit_kv dkv[] = {
			{ AUDIT_F_USER, q->user }, { AUDIT_F_ADDRESS, q->peer },
			{ AUDIT_F_PROTOCOL, q->protocol }, { "delay_ms", ms_s }, { "failures", fails_s },
		};
		if (locked) {
			log_warn("login_locked_out", "protocol", q->protocol, "peer", q->peer,
				 "delay_ms", ms_s, "failures", fails_s);
			master_audit_write(m->audit, "lockout", dkv, 5, 0);
		} else if (ms > m->cfg.fail_delay_ms) {
			log_warn("login_delayed", "protocol", q->protocol, "peer", q->peer,
				 "delay_ms", ms_s, "failures", fails_s);
			master_audit_write(m->audit, "delay", dkv, 5, 0);
		}
		struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
		evtimer_add(d->ev, &tv);
	}
	return 0;
}

static void worker_ready(struct child *w)
{
	for (int i = 0; i < w->npending; i++) {
		if (worker_give_session(w, w->pending[i], "imap", w->pending_peer[i]) < 0)
			log_error("worker_session_lost", "principal", w->principal);
		close(w->pending[i]);
	}
	w->npending = 0;
}

/* A fresh link between smtp-in and queue whenever either (re)starts: the
 * two never find each other by name. */
static void queue_link(struct master *m)
{
	struct child *smtp = &m->fixed[CK_SMTP], *queue = &m->fixed[CK_QUEUE];
	int sv[2];
	struct ipc_msg msg;
	const char *err;
	if (!smtp->ready || !queue->ready ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	ipc_msg_init(&msg, IPC_QUEUE_LINK, 0);
	if (ipc_send(queue->ipc, &msg, sv[0], &err) < 0 ||
	    ipc_send(smtp->ipc, &msg, sv[1], &err) < 0)
		log_error("queue_link_failed", "reason", err);
	ipc_msg_free(&msg);
	close(sv[0]);
	close(sv[1]);
}

static void deliver_done(struct master *m, uint32_t id, uint32_t status)
{
	struct ipc_msg msg;
	const char *err;
	struct child *queue = &m->fixed[CK_QUEUE];
	if (queue->ipc < 0)
		return;   /* the queue restarted: it redelivers from its spool */
	ipc_msg_init(&msg, IPC_DELIVER_DONE, id);
	ipc_put_u32(&msg, status);
	if (ipc_send(queue->ipc, &msg, -1, &err) < 0)
		log_error("ipc_send_failed", "role", "queue", "reason", err);
	ipc_msg_free(&msg);
}

static int deliver_send(struct child *d, uint32_t id, const char *qid, const char *rcpt,
			const char *from, int fd)
{
	struct ipc_msg msg;
	const char *err;
	ipc_msg_init(&msg, IPC_DELIVER, id);
	ipc_put_str(&msg, qid);
	ipc_put_str(&msg, d->store_id);
	ipc_put_str(&msg, rcpt);
	ipc_put_str(&msg, from);
	int r = ipc_send(d->ipc, &msg, fd, &err);
	ipc_msg_free(&msg);
	return r;
}

static int delivery_slot(struct master *m)
{
	for (int i = 0; i < MAX_DELIVERIES; i++)
		if (m->deliveries[i].by == NULL)
			return i;
	return -1;
}

/* A deliver process ended (crash or retirement): whatever it had not
 * answered is retried by the queue; nothing is lost, at worst delivered
 * twice if it died between filing and answering. */
static void deliverer_gone(struct master *m, struct child *d)
{
	for (int i = 0; i < MAX_DELIVERIES; i++)
		if (m->deliveries[i].by == d) {
			m->deliveries[i].by = NULL;
			if (m->deliveries[i].queue_pid == m->fixed[CK_QUEUE].pid)
				deliver_done(m, m->deliveries[i].id, 1);
		}
	for (int i = 0; i < d->ndpend; i++) {
		close(d->dpend[i].fd);
		deliver_done(m, d->dpend[i].id, 1);
	}
	d->ndpend = 0;
	free(d->dpend);
	d->dpend = NULL;
}

static void deliverer_ready(struct master *m, struct child *d)
{
	for (int i = 0; i < d->ndpend; i++) {
		if (deliver_send(d, d->dpend[i].id, d->dpend[i].qid, d->dpend[i].rcpt,
				 d->dpend[i].from, d->dpend[i].fd) < 0) {
			for (int k = 0; k < MAX_DELIVERIES; k++)
				if (m->deliveries[k].by == d && m->deliveries[k].id == d->dpend[i].id)
					m->deliveries[k].by = NULL;
			deliver_done(m, d->dpend[i].id, 1);
		}
		close(d->dpend[i].fd);
	}
	d->ndpend = 0;
}

static struct child *deliverer_get(struct master *m, const char *store)
{
	for (struct child *d = m->deliverers; d != NULL; d = d->next)
		if (strcmp(d->store_id, store) == 0 && d->pid > 0 && !d->retiring)
			return d;
	struct child *d = calloc(1, sizeof(*d));
	if (d == NULL || (d->dpend = calloc(DELIVER_MAX_PENDING, sizeof(*d->dpend))) == NULL) {
		free(d);
		return NULL;
	}
	d->kind = CK_DELIVER;
	d->role = "deliver";
	d->m = m;
	d->ipc = -1;
	snprintf(d->store_id, sizeof(d->store_id), "%s", store);
	child_spawn(m, d);
	if (d->pid <= 0) {
		free(d->dpend);
		free(d);
		return NULL;
	}
	d->next = m->deliverers;
	m->deliverers = d;
	return d;
}

/* The queue asks for one delivery. Master hands it, with the message as a
 * descriptor, to the deliver process of that store - started on demand,
 * confined to that one store, kept while it has work. */
static int handle_deliver(struct master *m, struct child *q, uint32_t id,
			  struct ipc_reader *r, int fd, const char **err)
{
	char qid[32], store[65], rcpt[RD_MAX_ADDRESS + 1], from[RD_MAX_ADDRESS + 1];
	if (ipc_get_str(r, qid, sizeof(qid), err) < 0 ||
	    ipc_get_str(r, store, sizeof(store), err) < 0 ||
	    ipc_get_str(r, rcpt, sizeof(rcpt), err) < 0 ||
	    ipc_get_str(r, from, sizeof(from), err) < 0 || ipc_end(r, err) < 0)
		return -1;
	if (fd < 0) {
		*err = "delivery without a message";
		return -1;
	}
	struct role_policy rp;
	int slot = delivery_slot(m);
	struct child *d = NULL;
	if (slot < 0 || m->stopping ||
	    role_policy_make(&rp, "deliver", m->opts->data_dir, store, NULL) < 0 ||
	    (d = deliverer_get(m, store)) == NULL) {
		deliver_done(m, id, 1);
		return 0;
	}
	if (d->ready) {
		if (deliver_send(d, id, qid, rcpt, from, fd) < 0) {
			deliver_done(m, id, 1);
			return 0;
		}
	} else if (d->ndpend < DELIVER_MAX_PENDING) {
		int keep = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (keep < 0) {
			deliver_done(m, id, 1);
			return 0;
		}
		d->dpend[d->ndpend].fd = keep;
		d->dpend[d->ndpend].id = id;
		snprintf(d->dpend[d->ndpend].qid, sizeof(d->dpend[0].qid), "%s", qid);
		snprintf(d->dpend[d->ndpend].rcpt, sizeof(d->dpend[0].rcpt), "%s", rcpt);
		snprintf(d->dpend[d->ndpend].from, sizeof(d->dpend[0].from), "%s", from);
		d->ndpend++;
	} else {
		deliver_done(m, id, 1);
		return 0;
	}
	m->deliveries[slot].by = d;
	m->deliveries[slot].id = id;
	m->deliveries[slot].queue_pid = q->pid;
	return 0;
}

static int handle_deliver_done(struct master *m, struct child *d, uint32_t id,
			       struct ipc_reader *r, const char **err)
{
	uint32_t status;
	if (ipc_get_u32(r, &status, err) < 0 || ipc_end(r, err) < 0)
		return -1;
	if (status > 3) {
		*err = "delivery status out of range";
		return -1;
	}
	for (int i = 0; i < MAX_DELIVERIES; i++)
		if (m->deliveries[i].by == d && m->deliveries[i].id == id) {
			m->deliveries[i].by = NULL;
			if (m->deliveries[i].queue_pid == m->fixed[CK_QUEUE].pid)
				deliver_done(m, id, status);
			return 0;
		}
	*err = "answer for a delivery it was not given";
	return -1;
}

static void login_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	(void)fd;
	(void)what;
	if (m->nlogin_batch == 0)
		return;
	int ok = master_audit_flush(m->audit) == 0;
	for (unsigned i = 0; i < m->nlogin_batch; i++) {
		struct auth_req *q = &m->login_batch[i];
		if (q->front->pid != q->front_pid)
			continue;
		if (ok) {
			login_succeeded(m, q, m->login_principal[i]);
		} else {
			log_error("login_refused", "reason", "audit log cannot be written",
				  "peer", q->peer);
			send_login_result(q->front, q->session, 2, "", -1);
		}
	}
	m->nlogin_batch = 0;
}

/* Running workers of principal learn its grants now (revocations and
 * changed rights take effect at once; a store they are not confined to
 * stays out of reach until the principal's next worker). */
static void grants_push(struct master *m, const char *principal)
{
	for (struct child *w = m->workers; w != NULL; w = w->next) {
		struct grant_set gs;
		char store[sizeof(w->store_id)];
		const char *err;
		struct ipc_msg msg;
		if (w->pid <= 0 || w->ipc < 0 || strcmp(w->principal, principal) != 0 ||
		    grants_load(m->opts->data_dir, principal, store, &gs, &err) < 0)
			continue;
		ipc_msg_init(&msg, IPC_WORKER_GRANTS, 0);
		if (grants_encode(&gs, &msg) < 0 || ipc_send(w->ipc, &msg, -1, &err) < 0)
			log_error("ipc_send_failed", "role", w->role, "reason", "grants");
		ipc_msg_free(&msg);
		grants_free(&gs);
	}
}

/* SETACL / DELETEACL from a worker: the principal comes from the channel,
 * the directory decides whether it may (grants.c), the change is audited
 * like the admin command's, and the workers of both parties are told. */
static int handle_grant_set(struct master *m, struct child *c, uint32_t id,
			    struct ipc_reader *r, const char **err)
{
	char owner[RD_MAX_ADDRESS + 1], mailbox[RD_STORE_MAX_MAILBOX_NAME + 1];
	char grantee[RD_MAX_ADDRESS + 1], rights[RD_RIGHTS_BUF * 2], now[RD_RIGHTS_BUF];
	uint32_t mode;
	const char *reply = NULL;
	if (ipc_get_str(r, owner, sizeof(owner), err) < 0 ||
	    ipc_get_str(r, mailbox, sizeof(mailbox), err) < 0 ||
	    ipc_get_str(r, grantee, sizeof(grantee), err) < 0 ||
	    ipc_get_str(r, rights, sizeof(rights), err) < 0 || ipc_get_u32(r, &mode, err) < 0 ||
	    ipc_end(r, err) < 0)
		return -1;
	int ok = grants_apply_request(m->opts->data_dir, c->principal, owner, mailbox, grantee,
				      rights, mode, now, sizeof(now), &reply);
	if (ok == 0) {
		char object[RD_MAX_ADDRESS + RD_STORE_MAX_MAILBOX_NAME + 2];
		char detail[RD_MAX_ADDRESS + RD_RIGHTS_BUF + 2];
		snprintf(object, sizeof(object), "%s/%s", owner, mailbox);
		snprintf(detail, sizeof(detail), "%s%s%s", grantee, now[0] ? " " : "", now);
		struct audit_kv kv[] = { { "action", now[0] ? "grant_set" : "grant_remove" },
					 { "object", object }, { "detail", detail },
					 { "role", c->role }, { AUDIT_F_PRINCIPAL, c->principal } };
		master_audit_write(m->audit, "admin", kv, 5, 0);
	}
	/* the workers learn first, so whatever the client does after the
	 * OK already sees the change */
	if (ok == 0) {
		grants_push(m, owner);
		grants_push(m, grantee);
	}
	struct ipc_msg msg;
	const char *serr;
	ipc_msg_init(&msg, IPC_GRANT_RESULT, id);
	ipc_put_u32(&msg, ok == 0 ? 0 : 1);
	ipc_put_str(&msg, ok == 0 ? "" : reply);
	if (ipc_send(c->ipc, &msg, -1, &serr) < 0)
		log_error("ipc_send_failed", "role", c->role, "reason", serr);
	ipc_msg_free(&msg);
	return 0;
}

/* GETACL of another owner's mailbox: the principal comes from the channel,
 * the directory decides whether it may see the list (grants.c). */
static int handle_acl_list(struct master *m, struct child *c, uint32_t id,
			   struct ipc_reader *r, const char **err)
{
	char owner[RD_MAX_ADDRESS + 1], mailbox[RD_STORE_MAX_MAILBOX_NAME + 1];
	const char *reply = NULL, *serr;
	struct ipc_msg msg;
	if (ipc_get_str(r, owner, sizeof(owner), err) < 0 ||
	    ipc_get_str(r, mailbox, sizeof(mailbox), err) < 0 || ipc_end(r, err) < 0)
		return -1;
	ipc_msg_init(&msg, IPC_ACL_LIST_RESULT, id);
	ipc_put_u32(&msg, 0);
	ipc_put_str(&msg, "");
	if (grants_acl_list(m->opts->data_dir, c->principal, owner, mailbox, &msg, &reply) < 0) {
		ipc_msg_free(&msg);
		ipc_msg_init(&msg, IPC_ACL_LIST_RESULT, id);
		ipc_put_u32(&msg, 1);
		ipc_put_str(&msg, reply);
	}
	if (ipc_send(c->ipc, &msg, -1, &serr) < 0)
		log_error("ipc_send_failed", "role", c->role, "reason", serr);
	ipc_msg_free(&msg);
	return 0;
}

/* An event a role reports. Which kinds a role may report is fixed here,
 * and who reported it comes from the channel: a worker's events always
 * carry the principal master bound it to. */
static int role_audit_event(struct master *m, struct child *c, struct ipc_reader *r,
			    const char **err)
{
	static const struct { enum child_kind kind; const char *event; } allowed[] = {
		{ CK_SMTP, "send_as_refused" }, { CK_SMTP, "session_start" },
		{ CK_SMTP, "session_end" }, { CK_WORKER, "session_start" },
		{ CK_WORKER, "session_end" }, { CK_WORKER, "store_access" },
	};
	struct audit_event *ev = malloc(sizeof(*ev));
	if (ev == NULL)
		return 0;
	if (audit_event_get(r, ev, err) < 0) {
		free(ev);
		return -1;
	}
	int ok = 0;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		ok |= allowed[i].kind == c->kind && strcmp(allowed[i].event, ev->kind) == 0;
	if (!ok || ev->n + 2 > RD_AUDIT_MAX_FIELDS) {
		*err = "audit event not allowed from this role";
		free(ev);
		return -1;
	}
	/* a worker names the owner of a store it opened: its principal's or
	 * one that granted it a mailbox, nothing else */
	for (size_t i = 0; c->kind == CK_WORKER && i < ev->n; i++)
		if (strcmp(ev->kv[i].key, AUDIT_F_OWNER) == 0 &&
		    strcmp(ev->kv[i].value, c->principal) != 0 &&
		    !grants_has_owner(&c->grants, ev->kv[i].value)) {
			*err = "audit event names an owner this worker has no grant from";
			free(ev);
			return -1;
		}
	/* drop any field that claims an identity; the channel supplies it */
	size_t k = 0;
	for (size_t i = 0; i < ev->n; i++)
		if (strcmp(ev->kv[i].key, "role") != 0 &&
		    !(c->kind == CK_WORKER && strcmp(ev->kv[i].key, AUDIT_F_PRINCIPAL) == 0))
			ev->kv[k++] = ev->kv[i];
	ev->kv[k].key = "role";
	ev->kv[k++].value = c->role;
	if (c->kind == CK_WORKER) {
		ev->kv[k].key = AUDIT_F_PRINCIPAL;
		ev->kv[k++].value = c->principal;
	}
	master_audit_write(m->audit, ev->kind, ev->kv, k, 0);
	free(ev);
	return 0;
}

static void child_ipc_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;
	struct master *m = c->m;
	struct ipc_header h;
	struct ipc_reader r;
	const char *err = NULL;
	int pfd;
	(void)what;
	for (int budget = 0; budget < 64; budget++) {
		int n = ipc_recv(fd, m->buf, IPC_RECV_BUFSIZE, &h, &r, &pfd, &err);
		if (n == -2)
			return;
		if (n == 0) {
			child_drop_channel(c);
			return;
		}
		if (n < 0) {
			child_kill(c, err);
			return;
		}
		int pfd_keep = -1;
		if (pfd >= 0 && !(c->kind == CK_QUEUE && h.type == IPC_DELIVER)) {
			close(pfd);   /* only the queue hands master a descriptor */
			child_kill(c, "unexpected descriptor");
			return;
		}
		pfd_keep = pfd;
		int ok = -1;
		switch (h.type) {
		case IPC_READY: {
			char role[32];
			if (ipc_get_str(&r, role, sizeof(role), &err) == 0 &&
			    ipc_end(&r, &err) == 0 && strcmp(role, c->role) == 0) {
				c->ready = 1;
				ok = 0;
				if (c->kind == CK_WORKER)
					worker_ready(c);
				if (c->kind == CK_DELIVER)
					deliverer_ready(m, c);
				/* smtp-in starts once the queue can take mail, so
				 * its first clients never see "try again later" */
				if (c->kind == CK_QUEUE && m->fixed[CK_SMTP].pid == 0 &&
				    m->fixed[CK_SMTP].nfds > 0 && !m->stopping &&
				    !evtimer_pending(m->fixed[CK_SMTP].restart_ev, NULL))
					child_spawn(m, &m->fixed[CK_SMTP]);
				if (c->kind == CK_SMTP || c->kind == CK_QUEUE)
					queue_link(m);
			} else if (err == NULL) {
				err = "role name mismatch";
			}
			break;
		}
		case IPC_AUTH_REQUEST:
			if (c->kind == CK_SMTP || c->kind == CK_IMAP || c->kind == CK_HTTP)
				ok = handle_auth_request(m, c, h.id, &r, &err);
			else
				err = "this role may not ask for logins";
			break;
		case IPC_AUDIT_EVENT:
			ok = role_audit_event(m, c, &r, &err);
			break;
		case IPC_GRANT_SET:
			if (c->kind == CK_WORKER)
				ok = handle_grant_set(m, c, h.id, &r, &err);
			else
				err = "only workers change grants";
			break;
		case IPC_ACL_LIST:
			if (c->kind == CK_WORKER)
				ok = handle_acl_list(m, c, h.id, &r, &err);
			else
				err = "only workers ask for access lists";
			break;
		case IPC_DELIVER:
			if (c->kind == CK_QUEUE)
				ok = handle_deliver(m, c, h.id, &r, pfd_keep, &err);
			else
				err = "only the queue asks for deliveries";
			pfd_keep = -1;
			break;
		case IPC_DELIVER_DONE:
			if (c->kind == CK_DELIVER)
				ok = handle_deliver_done(m, c, h.id, &r, &err);
			else
				err = "only deliver answers deliveries";
			break;
		case IPC_WORKER_IDLE:
			if ((c->kind != CK_WORKER && c->kind != CK_DELIVER) || ipc_end(&r, &err) < 0) {
				if (err == NULL)
					err = "only workers and deliver retire";
				break;
			}
			ok = 0;
			int busy = c->npending > 0 || c->ndpend > 0;
			for (int i = 0; i < MAX_DELIVERIES && !busy; i++)
				busy = m->deliveries[i].by == c;
			if (!busy && !c->retiring) {
				c->retiring = 1;
				send_shutdown(c);
			}
			break;
		case IPC_AUTH_REPLY:
			if (c->kind == CK_AUTH)
				ok = handle_auth_reply(m, h.id, &r, &err);
			else
				err = "only auth answers logins";
			break;
		default:
			err = "frame type not accepted from a child";
		}
		if (pfd_keep >= 0)
			close(pfd_keep);
		if (ok < 0) {
			child_kill(c, err ? err : "malformed frame");
			return;
		}
	}
}

/* Auth died with logins in flight: answer them "try later" now, rather
 * than leave each client waiting for its idle timeout and the slot taken. */
static void fail_pending_logins(struct master *m)
{
	for (size_t i = 0; i < RD_AUTH_MAX_PENDING; i++) {
		struct auth_req *q = &m->reqs[i];
		if (!q->used)
			continue;
		q->used = 0;
		if (q->front->pid == q->front_pid)
			send_login_result(q->front, q->session, 2, "", -1);
	}
}

static void reap(struct master *m)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child *c = NULL;
		for (int i = 0; i < NFIXED; i++)
			if (m->fixed[i].pid == pid)
				c = &m->fixed[i];
		struct child **wp = &m->workers;
		while (c == NULL && *wp != NULL) {
			if ((*wp)->pid == pid)
				c = *wp;
			else
				wp = &(*wp)->next;
		}
		struct child **dp = &m->deliverers;
		while (c == NULL && *dp != NULL) {
			if ((*dp)->pid == pid)
				c = *dp;
			else
				dp = &(*dp)->next;
		}
		if (c == NULL)
			continue;
		char st[64], pid_s[16];
		snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
		if (WIFSIGNALED(status))
			snprintf(st, sizeof(st), "signal %d%s", WTERMSIG(status),
				 WTERMSIG(status) == SIGSYS ? " (seccomp: forbidden system call)" : "");
		else
			snprintf(st, sizeof(st), "exit %d", WEXITSTATUS(status));
		int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		if (m->stopping || clean)
			log_info("role_exited", "role", c->role, "child", pid_s, "status", st);
		else {
			log_error("role_crashed", "role", c->role, "child", pid_s, "status", st);
			struct audit_kv ckv[] = { { "role", c->role }, { "status", st },
						  { AUDIT_F_PRINCIPAL, c->kind == CK_WORKER ? c->principal : "" } };
			master_audit_write(m->audit, "role_crashed", ckv, 3, 0);
		}
		child_drop_channel(c);
		c->pid = 0;
		c->ready = 0;
		if (c->kind == CK_AUTH)
			fail_pending_logins(m);
		if (c->kind == CK_WORKER) {
			for (int i = 0; i < c->npending; i++)
				close(c->pending[i]);
			*wp = c->next;
			m->nworkers--;
			grants_free(&c->grants);
			free(c);
			continue;
		}
		if (c->kind == CK_DELIVER) {
			deliverer_gone(m, c);
			*dp = c->next;
			free(c);
			continue;
		}
		if (m->stopping)
			continue;
		/* restart with backoff; a role that ran a while starts fresh */
		if (time(NULL) - c->started > 60)
			c->backoff_ms = 0;
		c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : RD_RESTART_BACKOFF_MIN_MS;
		if (c->backoff_ms > RD_RESTART_BACKOFF_MAX_MS)
			c->backoff_ms = RD_RESTART_BACKOFF_MAX_MS;
		char ms[16];
		snprintf(ms, sizeof(ms), "%u", c->backoff_ms);
		log_info("role_restart_scheduled", "role", c->role, "delay_ms", ms);
		struct timeval tv = { .tv_sec = c->backoff_ms / 1000,
				      .tv_usec = (c->backoff_ms % 1000) * 1000 };
		evtimer_add(c->restart_ev, &tv);
	}
}

static int all_exited(struct master *m)
{
	for (int i = 0; i < NFIXED; i++)
		if (m->fixed[i].pid > 0)
			return 0;
	return m->workers == NULL && m->deliverers == NULL;
}

static void sigchld_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	(void)fd;
	(void)what;
	reap(m);
	if (m->stopping && all_exited(m))
		event_base_loopbreak(m->base);
}

static void kill_all_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	(void)fd;
	(void)what;
	log_warn("shutdown_forced", "reason", "roles did not stop within the grace period");
	for (int i = 0; i < NFIXED; i++)
		if (m->fixed[i].pid > 0)
			kill(m->fixed[i].pid, SIGKILL);
	for (struct child *w = m->workers; w; w = w->next)
		kill(w->pid, SIGKILL);
	for (struct child *d = m->deliverers; d; d = d->next)
		kill(d->pid, SIGKILL);
}

static void send_shutdown(struct child *c)
{
	struct ipc_msg msg;
	const char *err;
	if (c->pid <= 0)
		return;
	if (c->ipc < 0 || !c->ready) {
		kill(c->pid, SIGTERM);
		return;
	}
	ipc_msg_init(&msg, IPC_SHUTDOWN, 0);
	if (ipc_send(c->ipc, &msg, -1, &err) < 0)
		kill(c->pid, SIGTERM);
	ipc_msg_free(&msg);
}

static void sigterm_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	(void)fd;
	(void)what;
	if (m->stopping)
		return;
	m->stopping = 1;
	log_info("shutdown", "reason", "signal");
	for (int i = 0; i < 6; i++)
		if (m->listen_fds[i] >= 0) {
			close(m->listen_fds[i]);
			m->listen_fds[i] = -1;
		}
	for (int i = 0; i < NFIXED; i++) {
		evtimer_del(m->fixed[i].restart_ev);
		send_shutdown(&m->fixed[i]);
	}
	for (struct child *w = m->workers; w; w = w->next)
		send_shutdown(w);
	for (struct child *d = m->deliverers; d; d = d->next)
		send_shutdown(d);
	struct timeval tv = { .tv_sec = RD_SHUTDOWN_GRACE_S + 2 };
	evtimer_add(m->kill_ev, &tv);
	if (all_exited(m))
		event_base_loopbreak(m->base);
}

static void sighup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;
	struct config c;
	char err[512];
	(void)fd;
	(void)what;
	if (config_load(&c, m->opts->config_path, err, sizeof(err)) < 0) {
		log_error("reload_failed", "reason", err, "keeping", "previous configuration");
		return;
	}
	int listeners_changed =
		memcmp(&c.smtp, &m->cfg.smtp, sizeof(c.smtp)) != 0 ||
		memcmp(&c.submission, &m->cfg.submission, sizeof(c.smtp)) != 0 ||
		memcmp(&c.submissions, &m->cfg.submissions, sizeof(c.smtp)) != 0 ||
		memcmp(&c.imap, &m->cfg.imap, sizeof(c.smtp)) != 0 ||
		memcmp(&c.imaps, &m->cfg.imaps, sizeof(c.smtp)) != 0 ||
		memcmp(&c.https, &m->cfg.https, sizeof(c.smtp)) != 0;
	/* Listeners, users, the sandbox switch and TLS files are bound at
	 * start (a reload must not turn the sandbox off behind the start-up
	 * probe); the rest applies to roles started from now on. */
	struct config keep = m->cfg;
	m->cfg = c;
	m->cfg.sandbox = keep.sandbox;
	memcpy(m->cfg.user, keep.user, sizeof(m->cfg.user));
	memcpy(m->cfg.front_user, keep.front_user, sizeof(m->cfg.front_user));
	memcpy(m->cfg.tls_certificate, keep.tls_certificate, sizeof(m->cfg.tls_certificate));
	memcpy(m->cfg.tls_key, keep.tls_key, sizeof(m->cfg.tls_key));
	m->cfg.smtp = keep.smtp;
	m->cfg.submission = keep.submission;
	m->cfg.submissions = keep.submissions;
	m->cfg.imap = keep.imap;
	m->cfg.imaps = keep.imaps;
	m->cfg.https = keep.https;
	log_set_min_level(m->cfg.log_level);
	struct audit_kv rkv[] = { { "file", m->opts->config_path } };
	master_audit_write(m->audit, "config_reload", rkv, 1, 0);
	log_info("config_reloaded", "file", m->opts->config_path,
		 "note", listeners_changed ? "listener changes take effect at the next start" : "-");
}

static void child_init(struct master *m, struct child *c, enum child_kind kind, const char *role)
{
	c->kind = kind;
	c->role = role;
	c->m = m;
	c->ipc = -1;
	c->restart_ev = evtimer_new(m->base, restart_cb, c);
}

static int add_listener(struct master *m, struct child *c, const struct config_listen *l,
			const char *name, const char *kind, int tls, int slot)
{
	if (!l->enabled)
		return 0;
	if (bind_listener(l, name, &m->listen_fds[slot]) < 0)
		return -1;
	c->fds[c->nfds].fd = m->listen_fds[slot];
	c->fds[c->nfds].kind = kind;
	c->fds[c->nfds].implicit_tls = tls;
	c->nfds++;
	return 0;
}

static int check_users(const struct master *m)
{
	if (geteuid() != 0)
		return 0;
	const char *users[2] = { m->cfg.user, m->cfg.front_user };
	for (int i = 0; i < 2; i++) {
		if (getpwnam(users[i]) == NULL) {
			log_error("user_missing", "user", users[i],
				  "reason", "started as root, roles drop to this user; create it (scripts/install-deps does)");
			return -1;
		}
	}
	return 0;
}

int master_run(const struct master_opts *opts)
{
	struct master *m = calloc(1, sizeof(*m));
	char err[512];
	int rc = 1;
	if (m == NULL)
		return 1;
	m->opts = opts;
	for (int i = 0; i < 6; i++)
		m->listen_fds[i] = -1;
	log_set_role("master");
	if (config_load(&m->cfg, opts->config_path, err, sizeof(err)) < 0) {
		log_error("config_invalid", "reason", err);
		goto out;
	}
	log_set_min_level(m->cfg.log_level);
	if (!m->cfg.sandbox)
		log_warn("sandbox_off", "reason", "configuration says sandbox = off",
			 "risk", "a bug in any role can read every mailbox");
	if (check_users(m) < 0)
		goto out;
	if (read_file(opts->data_dir, m->cfg.tls_certificate, &m->cert, &m->cert_len) < 0 ||
	    read_file(opts->data_dir, m->cfg.tls_key, &m->key, &m->key_len) < 0) {
		log_error("tls_files_unreadable", "certificate", m->cfg.tls_certificate,
			  "key", m->cfg.tls_key, "reason", strerror(errno));
		goto out;
	}
	m->buf = malloc(IPC_RECV_BUFSIZE);
	m->base = event_base_new();
	if (m->buf == NULL || m->base == NULL)
		goto out;
	signal(SIGPIPE, SIG_IGN);
	m->audit = master_audit_new(opts->data_dir, m->base);
	m->login_batch = calloc(RD_AUTH_MAX_PENDING, sizeof(*m->login_batch));
	m->login_principal = calloc(RD_AUTH_MAX_PENDING, sizeof(*m->login_principal));
	m->login_flush_ev = event_new(m->base, -1, 0, login_flush_cb, m);
	if (m->login_batch == NULL || m->login_principal == NULL || m->login_flush_ev == NULL)
		goto out;
	{
		struct audit_kv skv[] = { { "hostname", m->cfg.hostname },
					  { "sandbox", m->cfg.sandbox ? "on" : "off" } };
		if (master_audit_write(m->audit, "server_start", skv, 2, 1) < 0)
			log_error("audit_unavailable", "reason", "cannot record the start",
				  "effect", "logins are refused until the audit log can be written");
	}
	child_init(m, &m->fixed[CK_SMTP], CK_SMTP, "smtp-in");
	child_init(m, &m->fixed[CK_IMAP], CK_IMAP, "imap-login");
	child_init(m, &m->fixed[CK_HTTP], CK_HTTP, "http-front");
	child_init(m, &m->fixed[CK_AUTH], CK_AUTH, "auth");
	child_init(m, &m->fixed[CK_QUEUE], CK_QUEUE, "queue");
	if (add_listener(m, &m->fixed[CK_SMTP], &m->cfg.smtp, "smtp", "mx", 0, 0) < 0 ||
	    add_listener(m, &m->fixed[CK_SMTP], &m->cfg.submission, "submission", "submission", 0, 1) < 0 ||
	    add_listener(m, &m->fixed[CK_SMTP], &m->cfg.submissions, "submissions", "submissions", 1, 2) < 0 ||
	    add_listener(m, &m->fixed[CK_IMAP], &m->cfg.imap, "imap", "imap", 0, 3) < 0 ||
	    add_listener(m, &m->fixed[CK_IMAP], &m->cfg.imaps, "imaps", "imaps", 1, 4) < 0 ||
	    add_listener(m, &m->fixed[CK_HTTP], &m->cfg.https, "https", "https", 1, 5) < 0)
		goto out;
	struct event *ev_chld = evsignal_new(m->base, SIGCHLD, sigchld_cb, m);
	struct event *ev_term = evsignal_new(m->base, SIGTERM, sigterm_cb, m);
	struct event *ev_int = evsignal_new(m->base, SIGINT, sigterm_cb, m);
	struct event *ev_hup = evsignal_new(m->base, SIGHUP, sighup_cb, m);
	m->kill_ev = evtimer_new(m->base, kill_all_cb, m);
	event_add(ev_chld, NULL);
	event_add(ev_term, NULL);
	event_add(ev_int, NULL);
	event_add(ev_hup, NULL);
	child_spawn(m, &m->fixed[CK_AUTH]);
	child_spawn(m, &m->fixed[CK_QUEUE]);
	for (int i = 0; i < 3; i++)
		if (m->fixed[i].nfds > 0 && i != CK_SMTP)
			child_spawn(m, &m->fixed[i]);
	/* master keeps no listening socket of its own once the roles hold them,
	 * but it keeps the descriptors to hand them to a restarted role */
	log_info("serving", "data", opts->data_dir, "hostname", m->cfg.hostname);
	event_base_dispatch(m->base);
	reap(m);
	master_audit_free(&m->audit, "signal");
	log_info("stopped");
	rc = 0;
	event_free(ev_chld);
	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	for (int i = 0; i < NFIXED; i++)
		if (m->fixed[i].restart_ev != NULL)
			event_free(m->fixed[i].restart_ev);
	if (m->kill_ev != NULL)
		event_free(m->kill_ev);
out:
	for (int i = 0; i < 6; i++)
		if (m->listen_fds[i] >= 0)
			close(m->listen_fds[i]);
	if (m->key)
		explicit_bzero(m->key, m->key_len);
	free(m->key);
	free(m->cert);
	free(m->buf);
	free(m->login_batch);
	free(m->login_principal);
	if (m->login_flush_ev != NULL)
		event_free(m->login_flush_ev);
	free(m);
	return rc;
}
