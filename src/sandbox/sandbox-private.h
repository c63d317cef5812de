/* sandbox-private.h: the two kernel mechanisms behind sandbox_apply(), split
 * so each file holds one of them. Not for use outside src/sandbox/.
 *
 * Functions return 0 / a file descriptor on success, -1 with *error_r set to
 * a static string on failure. */
#ifndef RD_SANDBOX_PRIVATE_H
#define RD_SANDBOX_PRIVATE_H
#include "sandbox/sandbox.h"

/* Landlock ABI version, or -1 if unavailable. */
int sandbox_landlock_version(void);

/* Build (but do not enforce) the Landlock ruleset for p on ABI abi: every
 * access right the ABI knows is handled, and only p's paths get rules. The
 * path fds are opened and closed inside; the returned ruleset fd is what
 * sandbox_landlock_enforce() takes. */
int sandbox_landlock_build(const struct sandbox_policy *p, int abi,
			   const char **error_r);

/* landlock_restrict_self(ruleset_fd); closes ruleset_fd in every case.
 * Requires NO_NEW_PRIVS (or CAP_SYS_ADMIN). */
int sandbox_landlock_enforce(int ruleset_fd, const char **error_r);

/* Build and load the seccomp filter for p (all threads). */
int sandbox_seccomp_load(const struct sandbox_policy *p, const char **error_r);

#endif
