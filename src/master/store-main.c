/* store-main.c: main() of redoubt-store, the second executable.
 *
 * It runs the two roles that open a principal's store after login: worker
 * (IMAP and the other protocols after login) and deliver (files one queued
 * message). Neither terminates TLS (the fronts do and hand over plaintext),
 * so this executable is linked without libssl, libcrypto and
 * libevent_openssl: a worker maps no TLS code and no relocated libcrypto
 * pages (about 0.5 MiB of private memory per worker, and one worker runs
 * per logged-in principal), and a bug in a worker has no TLS library or
 * key material to reach. Master starts it as
 *   redoubt-store role worker|deliver --ipc FD ...
 * with the same arguments the main executable's roles take (role.h). */
#include "master/role.h"
#include "lib/log.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct role_ctx ctx;
	if (argc < 3 || strcmp(argv[1], "role") != 0) {
		fprintf(stderr, "redoubt-store: runs the worker and deliver roles; "
			"started by `redoubt serve` only\n");
		return 2;
	}
	int rc = role_start(&ctx, argc, argv, 0);
	if (rc != 0)
		return rc;
	/* before confinement, like OpenSSL's setup in the main executable:
	 * the audit chain (libsodium) may probe the system at first use */
	if (sodium_init() < 0) {
		log_error("sodium_init_failed");
		role_ctx_clear(&ctx);
		return 1;
	}
	if (strcmp(ctx.name, "worker") == 0)
		rc = worker_main(&ctx);
	else if (strcmp(ctx.name, "deliver") == 0)
		rc = deliver_main(&ctx);
	else {
		log_error("unknown_role", "role", ctx.name,
			  "reason", "redoubt-store runs worker and deliver only");
		rc = 2;
	}
	role_ctx_clear(&ctx);
	return rc;
}
