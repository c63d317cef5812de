/* child.c: the child half of the role protocol (see role.h). */
#include "master/role.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "lib/tls.h"
#include "master/policy.h"
#include "audit/audit-event.h"
#include "limits.h"
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>
#include <openssl/crypto.h>

static int parse_fd(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || v < 3 || v > 1024)
		return -1;
	return (int)v;
}

static int read_role_config(struct role_ctx *ctx)
{
	uint8_t *buf = malloc(IPC_RECV_BUFSIZE);
	struct ipc_header h;
	struct ipc_reader r;
	const char *err = "out of memory";
	int fd = -1, ret = -1;
	if (buf == NULL)
		goto out;
	int n = ipc_recv(ctx->ipc_fd, buf, IPC_RECV_BUFSIZE, &h, &r, &fd, &err);
	if (n != 1) {
		if (n == 0)
			err = "master closed the channel";
		goto out;
	}
	if (fd >= 0)
		close(fd);
	const uint8_t *cert, *key;
	size_t cl, kl;
	uint32_t delay;
	if (h.type != IPC_ROLE_CONFIG) {
		err = "expected role configuration";
		goto out;
	}
	if (ipc_get_str(&r, ctx->hostname, sizeof(ctx->hostname), &err) < 0 ||
	    ipc_get_u32(&r, &delay, &err) < 0 ||
	    ipc_get_u64(&r, &ctx->argon2_ops, &err) < 0 ||
	    ipc_get_u64(&r, &ctx->argon2_mem, &err) < 0 ||
	    ipc_get_u64(&r, &ctx->max_message_size, &err) < 0 ||
	    ipc_get_u32(&r, &ctx->max_recipients, &err) < 0 ||
	    ipc_get_u64(&r, &ctx->quota_bytes, &err) < 0 ||
	    ipc_get_bytes(&r, &cert, &cl, RD_IPC_MAX_PAYLOAD, &err) < 0 ||
	    ipc_get_bytes(&r, &key, &kl, RD_IPC_MAX_PAYLOAD, &err) < 0 ||
	    ipc_end(&r, &err) < 0)
		goto out;
	ctx->fail_delay_ms = delay;
	ctx->cert_pem = cl ? malloc(cl) : NULL;
	ctx->key_pem = kl ? malloc(kl) : NULL;
	if ((cl && !ctx->cert_pem) || (kl && !ctx->key_pem))
		goto out;
	if (cl)
		memcpy(ctx->cert_pem, cert, cl);
	if (kl)
		memcpy(ctx->key_pem, key, kl);
	ctx->cert_len = cl;
	ctx->key_len = kl;
	ret = 0;
out:
	if (ret < 0)
		log_error("role_config_failed", "reason", err);
	if (buf) {
		explicit_bzero(buf, IPC_RECV_BUFSIZE);
		free(buf);
	}
	return ret;
}

int role_confine(const struct role_ctx *ctx, const struct sandbox_policy *p)
{
	const char *err;
	if (!ctx->sandbox_on) {
		log_warn("sandbox_off", "reason", "configuration says sandbox = off");
		/* without the sandbox a role still never keeps root */
		if (p->run_as_user != NULL && geteuid() == 0) {
			struct passwd *pw = getpwnam(p->run_as_user);
			if (pw == NULL || pw->pw_uid == 0 || setgroups(0, NULL) < 0 ||
			    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
			    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
				log_error("privilege_drop_failed", "user", p->run_as_user);
				return -1;
			}
		}
		return 0;
	}
	if (sandbox_apply(p, &err) < 0) {
		log_error("sandbox_failed", "reason", err);
		return -1;
	}
	return 0;
}

int role_send_ready(const struct role_ctx *ctx)
{
	struct ipc_msg m;
	const char *err;
	ipc_msg_init(&m, IPC_READY, 0);
	ipc_put_str(&m, ctx->name);
	int r = ipc_send(ctx->ipc_fd, &m, -1, &err);
	ipc_msg_free(&m);
	return r;
}

int role_audit(int ipc_fd, const char *kind, const struct audit_kv *kv, size_t n)
{
	struct ipc_msg m;
	const char *err;
	ipc_msg_init(&m, IPC_AUDIT_EVENT, 0);
	int r = audit_event_put(&m, kind, kv, n, &err);
	if (r == 0)
		r = ipc_send(ipc_fd, &m, -1, &err);
	if (r < 0)
		log_error("audit_send_failed", "kind", kind, "reason", err);
	ipc_msg_free(&m);
	return r;
}

int role_main(int argc, char **argv)
{
	struct role_ctx ctx = { .ipc_fd = -1, .msg_fd = -1, .sandbox_on = 1 };
	if (argc < 3) {
		fprintf(stderr, "redoubt role: started by master only\n");
		return 2;
	}
	ctx.name = argv[2];
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL) {
			fprintf(stderr, "redoubt role: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--ipc") == 0) {
			ctx.ipc_fd = parse_fd(v);
		} else if (strcmp(a, "--listen") == 0) {
			/* FD:KIND:TLS */
			if (ctx.nlisteners >= ROLE_MAX_LISTENERS)
				return 2;
			struct front_listener_spec *l = &ctx.listeners[ctx.nlisteners++];
			char *copy = strdup(v), *save = NULL;
			char *fd = strtok_r(copy, ":", &save);
			char *kind = strtok_r(NULL, ":", &save);
			char *tls = strtok_r(NULL, ":", &save);
			if (!fd || !kind || !tls || (l->fd = parse_fd(fd)) < 0)
				return 2;
			l->kind = kind;
			l->implicit_tls = strcmp(tls, "1") == 0;
		} else if (strcmp(a, "--data") == 0) {
			ctx.data_dir = v;
		} else if (strcmp(a, "--sandbox") == 0) {
			ctx.sandbox_on = strcmp(v, "off") != 0;
		} else if (strcmp(a, "--user") == 0) {
			ctx.run_as_user = v;
		} else if (strcmp(a, "--principal") == 0) {
			ctx.principal = v;
		} else if (strcmp(a, "--store") == 0) {
			ctx.store_id = v;
		} else if (strcmp(a, "--shared") == 0) {
			if (ctx.nshared >= RD_MAX_SHARED_STORES)
				return 2;
			ctx.shared[ctx.nshared++] = v;
		} else if (strcmp(a, "--fd") == 0) {
			ctx.msg_fd = parse_fd(v);
		} else if (strcmp(a, "--rcpt") == 0) {
			ctx.rcpt = v;
		} else if (strcmp(a, "--from") == 0) {
			ctx.from = v;
		} else if (strcmp(a, "--qid") == 0) {
			ctx.qid = v;
		} else {
			fprintf(stderr, "redoubt role: unknown option %s\n", a);
			return 2;
		}
	}
	if (ctx.ipc_fd < 0) {
		fprintf(stderr, "redoubt role: no IPC channel\n");
		return 2;
	}
	log_set_role(ctx.name);
	/* a role's memory holds mail and keys: never write it to a core file */
	struct rlimit nocore = { 0, 0 };
	setrlimit(RLIMIT_CORE, &nocore);
	/* master's signals reach us through IPC_SHUTDOWN; SIGINT from a
	 * terminal goes to the whole group and master handles it */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* OpenSSL reads its configuration file at first use: do that now,
	 * before the sandbox forbids every open */
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL);
	if (read_role_config(&ctx) < 0)
		return 1;
	int rc;
	if (strcmp(ctx.name, "smtp-in") == 0)
		rc = smtp_in_main(&ctx);
	else if (strcmp(ctx.name, "imap-login") == 0)
		rc = imap_login_main(&ctx);
	else if (strcmp(ctx.name, "http-front") == 0)
		rc = http_front_main(&ctx);
	else if (strcmp(ctx.name, "auth") == 0)
		rc = auth_role_main(&ctx);
	else if (strcmp(ctx.name, "worker") == 0)
		rc = worker_main(&ctx);
	else if (strcmp(ctx.name, "queue") == 0)
		rc = queue_main(&ctx);
	else if (strcmp(ctx.name, "deliver") == 0)
		rc = deliver_main(&ctx);
	else {
		log_error("unknown_role", "role", ctx.name);
		rc = 2;
	}
	if (ctx.key_pem)
		explicit_bzero(ctx.key_pem, ctx.key_len);
	free(ctx.cert_pem);
	free(ctx.key_pem);
	return rc;
}

/* ---- the shared loop of the pre-auth roles ---- */

struct front_run {
	struct role_ctx *ctx;
	struct front *front;
	struct event_base *base;
	uint8_t *buf;
	int stopping;
	struct event *grace;
};

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct front_run *fr = arg;
	(void)fd;
	(void)what;
	event_base_loopbreak(fr->base);
}

static void check_done(struct front_run *fr)
{
	if (fr->stopping && front_conn_count(fr->front) == 0)
		event_base_loopbreak(fr->base);
}

static void front_ipc_cb(evutil_socket_t fd, short what, void *arg)
{
	struct front_run *fr = arg;
	struct ipc_header h;
	struct ipc_reader r;
	const char *err;
	int pfd;
	(void)what;
	for (;;) {
		int n = ipc_recv(fd, fr->buf, IPC_RECV_BUFSIZE, &h, &r, &pfd, &err);
		if (n == -2)
			break;
		if (n <= 0) {
			/* master is gone: nobody can answer logins; stop */
			if (n < 0)
				log_error("ipc_error", "reason", err);
			event_base_loopbreak(fr->base);
			return;
		}
		if (h.type == IPC_SHUTDOWN) {
			if (pfd >= 0)
				close(pfd);
			if (!fr->stopping) {
				fr->stopping = 1;
				front_shutdown(fr->front);
				struct timeval tv = { .tv_sec = RD_SHUTDOWN_GRACE_S };
				evtimer_add(fr->grace, &tv);
			}
			continue;
		}
		front_ipc_frame(fr->front, h.type, h.id, &r, pfd);
	}
	check_done(fr);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	check_done(arg);
}

int front_role_run(struct role_ctx *ctx, const struct front_proto *proto,
		   size_t max_line, unsigned idle_timeout_s, unsigned conn_deadline_s)
{
	const char *err;
	SSL_CTX *tls = NULL;
	if (ctx->cert_len > 0) {
		tls = tls_server_ctx(ctx->cert_pem, ctx->cert_len, ctx->key_pem,
				     ctx->key_len, &err);
		if (tls == NULL) {
			log_error("tls_setup_failed", "reason", err);
			return 1;
		}
	}
	/* the PEM copies are no longer needed: the key lives in the SSL_CTX */
	explicit_bzero(ctx->key_pem, ctx->key_len);
	struct front_run fr = { .ctx = ctx };
	fr.base = event_base_new();
	fr.buf = malloc(IPC_RECV_BUFSIZE);
	struct front_config fc = {
		.base = fr.base, .tls = tls, .ipc_fd = ctx->ipc_fd,
		.hostname = ctx->hostname, .proto = proto,
		.max_line = max_line, .idle_timeout_s = idle_timeout_s,
		.conn_deadline_s = conn_deadline_s,
		.limits = { .max_message_size = ctx->max_message_size,
			    .max_recipients = ctx->max_recipients },
	};
	if (fr.base == NULL || fr.buf == NULL ||
	    front_create(&fc, ctx->listeners, ctx->nlisteners, &fr.front, &err) < 0) {
		log_error("front_setup_failed", "reason", "cannot create event loop");
		return 1;
	}
	void *role = proto->role_init ? proto->role_init(fr.front, fr.base) : NULL;
	front_set_role(fr.front, role);
	/* Rule 1: code that runs before login cannot open any file. */
	struct role_policy rp;
	if (role_policy_make(&rp, ctx->name, NULL, NULL, ctx->run_as_user) < 0 ||
	    rp.p.fs != SANDBOX_FS_NONE || role_confine(ctx, &rp.p) < 0)
		return 1;
	evutil_make_socket_nonblocking(ctx->ipc_fd);
	struct event *ipc_ev = event_new(fr.base, ctx->ipc_fd, EV_READ | EV_PERSIST,
					 front_ipc_cb, &fr);
	fr.grace = evtimer_new(fr.base, grace_cb, &fr);
	struct event *tick = event_new(fr.base, -1, EV_PERSIST, tick_cb, &fr);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	event_add(ipc_ev, NULL);
	event_add(tick, &tv);
	role_send_ready(ctx);
	log_info("role_ready", "listeners", ctx->nlisteners ? "yes" : "none");
	event_base_dispatch(fr.base);
	front_free(&fr.front);
	if (proto->role_free)
		proto->role_free(role);
	event_free(ipc_ev);
	event_free(tick);
	event_free(fr.grace);
	event_base_free(fr.base);
	SSL_CTX_free(tls);
	free(fr.buf);
	log_info("role_stopped");
	return 0;
}
