/* policy.h: the one place that says what each role may touch.
 *
 *   smtp-in, imap-login, http-front   nothing (pre-authentication)
 *   auth                               DATA/auth (credentials) only
 *   worker, deliver                    DATA/stores/<its store id> only
 *   (a worker also: DATA/stores/<id> of each owner that granted its
 *    principal a mailbox, added with role_policy_add_store)
 *   queue                              DATA/spool and DATA/directory
 *
 * Used by the roles themselves and by `redoubt sandbox-probe`, so the
 * confinement tests exercise exactly the rules the server runs under.
 * Returns 0, or -1 for an unknown role or a bad store id. */
#ifndef RD_POLICY_H
#define RD_POLICY_H
#include "sandbox/sandbox.h"
#include "limits.h"

struct role_policy {
	struct sandbox_policy p;
	char rw[2 + RD_MAX_SHARED_STORES][4096];
	const char *rw_list[3 + RD_MAX_SHARED_STORES];
	const char *ro_list[2];
};

int role_policy_make(struct role_policy *rp, const char *role, const char *data_dir,
		     const char *store_id, const char *run_as_user);
/* A worker's further store (a grant); -1 for a bad id or when full. */
int role_policy_add_store(struct role_policy *rp, const char *data_dir, const char *store_id);
#endif
