/* auth-role.c: the auth role. It owns DATA/auth (credentials) and nothing
 * else, has no network socket, and answers master's "is this principal who
 * it says?" with yes, no or "try later". Unknown users and wrong passwords
 * take the same Argon2id work and get the same answer; the refusal delay is
 * added by master so this process stays free for the next request. */
#include "master/role.h"
#include "master/policy.h"
#include "auth/accounts.h"
#include "auth/throttle.h"
#include "directory/address.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "limits.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int answer(int fd, uint32_t id, uint32_t result, const char *principal,
		  const struct throttle_verdict *v)
{
	struct ipc_msg m;
	const char *err;
	ipc_msg_init(&m, IPC_AUTH_REPLY, id);
	ipc_put_u32(&m, result);
	ipc_put_str(&m, principal);
	ipc_put_u32(&m, v->delay_ms);
	ipc_put_u32(&m, (uint32_t)v->locked);
	ipc_put_u32(&m, v->account_fails);
	int r = ipc_send(fd, &m, -1, &err);
	ipc_msg_free(&m);
	return r;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int handle(struct accounts *acc, struct throttle *th, const struct password_params *pp,
		  int fd, uint32_t id, struct ipc_reader *r)
{
	char protocol[8], user[RD_MAX_ADDRESS + 1], pass[RD_MAX_PASSWORD + 1], peer[64];
	char canon[RD_MAX_ADDRESS + 1];
	uint32_t tls;
	const char *err;
	if (ipc_get_str(r, protocol, sizeof(protocol), &err) < 0 ||
	    ipc_get_str(r, user, sizeof(user), &err) < 0 ||
	    ipc_get_str(r, pass, sizeof(pass), &err) < 0 ||
	    ipc_get_str(r, peer, sizeof(peer), &err) < 0 ||
	    ipc_get_u32(r, &tls, &err) < 0 || ipc_end(r, &err) < 0) {
		log_error("ipc_bad_frame", "reason", err);
		return -1;
	}
	/* throttling keys on the canonical name when there is one, so
	 * "Alice@X" and "alice@x" share a count */
	if (address_canon(user, canon, sizeof(canon)) < 0)
		snprintf(canon, sizeof(canon), "%.*s", (int)sizeof(canon) - 1, user);
	struct throttle_verdict v;
	uint64_t now = now_ms();
	throttle_check(th, canon, peer, now, &v);
	if (v.locked) {
		explicit_bzero(pass, sizeof(pass));
		return answer(fd, id, 0, "", &v);
	}
	/* accounts_verify spends the same work on an unknown or invalid name */
	int ok = accounts_verify(acc, user, pass, pp);
	explicit_bzero(pass, sizeof(pass));
	throttle_result(th, canon, peer, ok == 1, now, &v);
	return answer(fd, id, ok == 1 ? 1 : 0, ok == 1 ? canon : "", &v);
}

int auth_role_main(struct role_ctx *ctx)
{
	struct role_policy rp;
	const char *err;
	char dir[4096];
	if (role_policy_make(&rp, "auth", ctx->data_dir, NULL, ctx->run_as_user) < 0 ||
	    role_confine(ctx, &rp.p) < 0)
		return 1;
	struct accounts *acc;
	snprintf(dir, sizeof(dir), "%s/auth", ctx->data_dir);
	if (accounts_open(dir, 0, &acc, &err) < 0) {
		log_error("accounts_open_failed", "reason", err);
		return 1;
	}
	struct password_params pp = { .opslimit = ctx->argon2_ops,
				      .memlimit = (size_t)ctx->argon2_mem };
	uint8_t *buf = malloc(IPC_RECV_BUFSIZE);
	struct throttle *th = throttle_new(ctx->fail_delay_ms);
	if (buf == NULL || th == NULL)
		return 1;
	role_send_ready(ctx);
	log_info("role_ready");
	int rc = 0;
	for (;;) {
		struct ipc_header h;
		struct ipc_reader r;
		int fd;
		int n = ipc_recv(ctx->ipc_fd, buf, IPC_RECV_BUFSIZE, &h, &r, &fd, &err);
		if (n == 0)
			break;
		if (n < 0 || fd >= 0) {
			if (fd >= 0)
				close(fd);
			log_error("ipc_error", "reason", n < 0 ? err : "unexpected descriptor");
			rc = 1;
			break;
		}
		if (h.type == IPC_SHUTDOWN)
			break;
		if (h.type != IPC_AUTH_REQUEST || handle(acc, th, &pp, ctx->ipc_fd, h.id, &r) < 0) {
			rc = 1;
			break;
		}
		explicit_bzero(buf, IPC_HEADER_SIZE + h.length);
	}
	accounts_close(&acc);
	throttle_free(&th);
	free(buf);
	log_info("role_stopped");
	return rc;
}
