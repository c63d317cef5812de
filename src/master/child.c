/* child.c: the roles of the main redoubt executable (see role.h): the
 * pre-auth fronts with their shared TLS loop, auth and queue. The start
 * every role shares is role.c; worker and deliver are in redoubt-store
 * (store-main.c), which links no TLS library. */
#include "master/role.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "lib/tls.h"
#include "master/policy.h"
#include "limits.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>
#include <openssl/crypto.h>

int role_main(int argc, char **argv)
{
	struct role_ctx ctx;
	int rc = role_start(&ctx, argc, argv, 1);
	if (rc != 0)
		return rc;
	/* OpenSSL reads its configuration file at first use: do that now,
	 * before the sandbox forbids every open */
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL);
	if (strcmp(ctx.name, "smtp-in") == 0)
		rc = smtp_in_main(&ctx);
	else if (strcmp(ctx.name, "imap-login") == 0)
		rc = imap_login_main(&ctx);
	else if (strcmp(ctx.name, "http-front") == 0)
		rc = http_front_main(&ctx);
	else if (strcmp(ctx.name, "auth") == 0)
		rc = auth_role_main(&ctx);
	else if (strcmp(ctx.name, "queue") == 0)
		rc = queue_main(&ctx);
	else {
		/* worker and deliver run in redoubt-store (store_role_main) */
		log_error("unknown_role", "role", ctx.name);
		rc = 2;
	}
	role_ctx_clear(&ctx);
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
