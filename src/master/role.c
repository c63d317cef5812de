/* role.c: the start every role shares, in both executables (see role.h):
 * the command line master wrote, process settings, the configuration
 * frame, confinement, and the frames every role sends to master. */
#include "master/role.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "master/policy.h"
#include "audit/audit-event.h"
#include "limits.h"
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse_fd(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || v < 3 || v > 1024)
		return -1;
	return (int)v;
}

static int read_role_config(struct role_ctx *ctx, int keep_tls)
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
	/* Master sends the certificate and key to the TLS fronts only; a role
	 * that terminates no TLS refuses a configuration carrying them rather
	 * than hold a key it has no use for. */
	if (!keep_tls && (cl > 0 || kl > 0)) {
		err = "configuration carries a TLS key this role must not hold";
		goto out;
	}
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

int role_start(struct role_ctx *ctx, int argc, char **argv, int keep_tls)
{
	*ctx = (struct role_ctx){ .ipc_fd = -1, .msg_fd = -1, .sandbox_on = 1 };
	if (argc < 3) {
		fprintf(stderr, "redoubt role: started by master only\n");
		return 2;
	}
	ctx->name = argv[2];
	/* roles are exec'd through /proc/self/exe (or redoubt-store's
	 * descriptor), which would name every one of them "exe" in ps and
	 * top: an operator sees rd-smtp-in, rd-worker, rd-queue instead */
	char comm[16];
	snprintf(comm, sizeof(comm), "rd-%s", ctx->name);
	prctl(PR_SET_NAME, comm, 0, 0, 0);
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL) {
			fprintf(stderr, "redoubt role: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (strcmp(a, "--ipc") == 0) {
			ctx->ipc_fd = parse_fd(v);
		} else if (strcmp(a, "--listen") == 0) {
			/* FD:KIND:TLS */
			if (ctx->nlisteners >= ROLE_MAX_LISTENERS)
				return 2;
			struct front_listener_spec *l = &ctx->listeners[ctx->nlisteners++];
			char *copy = strdup(v), *save = NULL;
			if (copy == NULL)
				return 1;
			char *fd = strtok_r(copy, ":", &save);
			char *kind = strtok_r(NULL, ":", &save);
			char *tls = strtok_r(NULL, ":", &save);
			if (!fd || !kind || !tls || (l->fd = parse_fd(fd)) < 0)
				return 2;
			l->kind = kind;
			l->implicit_tls = strcmp(tls, "1") == 0;
		} else if (strcmp(a, "--data") == 0) {
			ctx->data_dir = v;
		} else if (strcmp(a, "--sandbox") == 0) {
			ctx->sandbox_on = strcmp(v, "off") != 0;
		} else if (strcmp(a, "--user") == 0) {
			ctx->run_as_user = v;
		} else if (strcmp(a, "--principal") == 0) {
			ctx->principal = v;
		} else if (strcmp(a, "--store") == 0) {
			ctx->store_id = v;
		} else if (strcmp(a, "--shared") == 0) {
			if (ctx->nshared >= RD_MAX_SHARED_STORES)
				return 2;
			ctx->shared[ctx->nshared++] = v;
		} else if (strcmp(a, "--fd") == 0) {
			ctx->msg_fd = parse_fd(v);
		} else if (strcmp(a, "--rcpt") == 0) {
			ctx->rcpt = v;
		} else if (strcmp(a, "--from") == 0) {
			ctx->from = v;
		} else if (strcmp(a, "--qid") == 0) {
			ctx->qid = v;
		} else {
			fprintf(stderr, "redoubt role: unknown option %s\n", a);
			return 2;
		}
	}
	if (ctx->ipc_fd < 0) {
		fprintf(stderr, "redoubt role: no IPC channel\n");
		return 2;
	}
	log_set_role(ctx->name);
	/* a role's memory holds mail and keys: never write it to a core file */
	struct rlimit nocore = { 0, 0 };
	setrlimit(RLIMIT_CORE, &nocore);
	/* master's signals reach us through IPC_SHUTDOWN; SIGINT from a
	 * terminal goes to the whole group and master handles it */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (read_role_config(ctx, keep_tls) < 0)
		return 1;
	return 0;
}

void role_ctx_clear(struct role_ctx *ctx)
{
	if (ctx->key_pem)
		explicit_bzero(ctx->key_pem, ctx->key_len);
	free(ctx->cert_pem);
	free(ctx->key_pem);
	ctx->cert_pem = ctx->key_pem = NULL;
	ctx->cert_len = ctx->key_len = 0;
}
