/* role.h: what a role process is given at start, and the entry points.
 *
 * Master re-executes a redoubt binary as
 *   redoubt role NAME --ipc FD [--listen FD:KIND:TLS]... [--data DIR]
 *                [--sandbox on|off] [--user U] [--principal P --store ID]
 *                [--shared ID]...
 * Two executables: `redoubt` (role_main, child.c) runs smtp-in, imap-login,
 * http-front, auth and queue; `redoubt-store` (store-main.c) runs worker
 * and deliver and links no TLS library. argv comes from master only (never
 * from a client). The role then reads its IPC_ROLE_CONFIG frame (hostname,
 * limits, TLS PEM for the fronts only) from master, builds what it needs,
 * confines itself (sandbox_apply), tells master IPC_READY, and serves.
 * Every role entry point returns a process exit code. */
#ifndef RD_ROLE_H
#define RD_ROLE_H
#include <stddef.h>
#include <stdint.h>
#include "front/front.h"
#include "limits.h"

#define ROLE_MAX_LISTENERS 8

struct role_ctx {
	const char *name;
	int ipc_fd;
	struct front_listener_spec listeners[ROLE_MAX_LISTENERS];
	size_t nlisteners;
	const char *data_dir;
	const char *run_as_user;     /* NULL: stay (not root) */
	int sandbox_on;
	const char *principal;       /* worker */
	const char *store_id;        /* worker, deliver */
	/* worker: other owners' stores it holds grants on (master decides) */
	const char *shared[RD_MAX_SHARED_STORES];
	size_t nshared;
	int msg_fd;                  /* deliver: the queued message */
	const char *rcpt;            /* deliver */
	const char *from;            /* deliver */
	const char *qid;             /* deliver */
	/* from IPC_ROLE_CONFIG */
	char hostname[256];
	uint32_t fail_delay_ms;
	uint64_t argon2_ops;
	uint64_t argon2_mem;
	uint64_t max_message_size;
	uint32_t max_recipients;
	uint64_t quota_bytes;        /* per store; 0: none */
	uint8_t *cert_pem;
	size_t cert_len;
	uint8_t *key_pem;
	size_t key_len;
};

/* The main executable's `redoubt role ...`. */
int role_main(int argc, char **argv);
/* The start both executables share (role.c): parse argv (as above), set
 * up the process (log role, no core files, signals) and read the
 * IPC_ROLE_CONFIG frame. keep_tls 0: refuse a frame that carries TLS PEM
 * (redoubt-store never holds a key). Returns 0, or the exit code to end
 * with. */
int role_start(struct role_ctx *ctx, int argc, char **argv, int keep_tls);
/* Wipe and free what role_start allocated (the key is zeroed first). */
void role_ctx_clear(struct role_ctx *ctx);
/* Confine this process per policy unless the sandbox is off; logs and
 * returns -1 on failure (the caller exits). */
struct sandbox_policy;
int role_confine(const struct role_ctx *ctx, const struct sandbox_policy *p);
int role_send_ready(const struct role_ctx *ctx);
/* Report an audit event to master (IPC_AUDIT_EVENT); master adds who we
 * are. Best effort: -1 if the frame could not be sent. */
struct audit_kv;
int role_audit(int ipc_fd, const char *kind, const struct audit_kv *kv, size_t n);

/* Pre-auth roles run the shared front loop with their protocol. */
int front_role_run(struct role_ctx *ctx, const struct front_proto *proto,
		   size_t max_line, unsigned idle_timeout_s, unsigned conn_deadline_s);

int smtp_in_main(struct role_ctx *ctx);
int imap_login_main(struct role_ctx *ctx);
int http_front_main(struct role_ctx *ctx);
int auth_role_main(struct role_ctx *ctx);
int worker_main(struct role_ctx *ctx);
int queue_main(struct role_ctx *ctx);
int deliver_main(struct role_ctx *ctx);

#endif
