/* policy.h: the one place that says what each role may touch.
 *
 *   smtp-in, imap-login, http-front   nothing (pre-authentication)
 *   auth                               DATA/auth (credentials) only
 *   worker, deliver                    DATA/stores/<its store id> only
 *   queue                              DATA/spool and DATA/directory
 *
 * Used by the roles themselves and by `redoubt sandbox-probe`, so the
 * confinement tests exercise exactly the rules the server runs under.
 * Returns 0, or -1 for an unknown role or a bad store id. */
#ifndef RD_POLICY_H
#define RD_POLICY_H
#include "sandbox/sandbox.h"

struct role_policy {
	struct sandbox_policy p;
	char rw[2][4096];
	const char *rw_list[3];
	const char *ro_list[2];
};

int role_policy_make(struct role_policy *rp, const char *role, const char *data_dir,
		     const char *store_id, const char *run_as_user);
#endif
