/* sandbox.c: sandbox_apply() runs the fixed sequence described in sandbox.h;
 * the Landlock and seccomp details live in sandbox-landlock.c and
 * sandbox-seccomp.c. */
#include "sandbox/sandbox-private.h"
#include "lib/log.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

/* What step 1 resolved, so later steps touch no files. */
struct sandbox_ids {
	int drop;
	uid_t uid;
	gid_t gid;
};

int sandbox_landlock_abi(void)
{
	return sandbox_landlock_version();
}

int sandbox_probe(const char **why_r)
{
	if (sandbox_landlock_version() < 1) {
		*why_r = "Landlock is not available (kernel older than 5.13, "
			 "or landlock missing from the lsm= boot parameter)";
		return -1;
	}
	/* API level 3 means the kernel has the seccomp() syscall, filter
	 * mode, thread sync and SECCOMP_RET_KILL_PROCESS, which execve
	 * refusal relies on. */
	if (seccomp_api_get() < 3) {
		*why_r = "seccomp filters with KILL_PROCESS are not available";
		return -1;
	}
	return 0;
}

static int list_is_empty(const char *const *list)
{
	return list == NULL || list[0] == NULL;
}

static int check_policy(const struct sandbox_policy *p, const char **error_r)
{
	if (p == NULL) {
		*error_r = "sandbox: no policy";
		return -1;
	}
	switch (p->fs) {
	case SANDBOX_FS_NONE:
		if (!list_is_empty(p->rw_dirs) || !list_is_empty(p->ro_paths)) {
			*error_r = "sandbox: a no-filesystem policy lists paths";
			return -1;
		}
		return 0;
	case SANDBOX_FS_PATHS:
		return 0;
	}
	*error_r = "sandbox: unknown filesystem policy";
	return -1;
}

/* Landlock restricts only the calling thread; any other thread would run
 * on unconfined, so there must be none. */
static int check_single_threaded(const char **error_r)
{
	DIR *dir = opendir("/proc/self/task");
	if (dir == NULL) {
		*error_r = "sandbox: cannot list /proc/self/task to check "
			   "the process is single-threaded";
		return -1;
	}
	unsigned int threads = 0;
	const struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] != '.')
			threads++;
	}
	closedir(dir);
	if (threads != 1) {
		*error_r = "sandbox: process is multi-threaded; Landlock "
			   "would confine only one thread";
		return -1;
	}
	return 0;
}

/* Step 1. "Root" is any of real, effective or saved uid 0: each lets the
 * process become root again, so each means there is something to drop. */
static int resolve_ids(const struct sandbox_policy *p, struct sandbox_ids *ids,
		       const char **error_r)
{
	uid_t ruid, euid, suid;
	ids->drop = 0;
	if (getresuid(&ruid, &euid, &suid) < 0) {
		*error_r = "sandbox: getresuid failed";
		return -1;
	}
	if (p->run_as_user == NULL || (ruid != 0 && euid != 0 && suid != 0))
		return 0;

	errno = 0;
	const struct passwd *pw = getpwnam(p->run_as_user);
	if (pw == NULL) {
		*error_r = errno != 0 ? "sandbox: cannot look up run_as_user"
				      : "sandbox: run_as_user does not exist";
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		*error_r = "sandbox: run_as_user has uid 0 or gid 0";
		return -1;
	}
	ids->uid = pw->pw_uid;
	ids->gid = pw->pw_gid;
	ids->drop = 1;
	return 0;
}

/* Step 4. Groups first, then gids, then uids: after setresuid the process
 * no longer has the capabilities to change the other two. */
static int drop_ids(const struct sandbox_ids *ids, const char **error_r)
{
	if (setgroups(1, &ids->gid) < 0) {
		*error_r = "sandbox: setgroups failed";
		return -1;
	}
	if (setresgid(ids->gid, ids->gid, ids->gid) < 0) {
		*error_r = "sandbox: setresgid failed";
		return -1;
	}
	if (setresuid(ids->uid, ids->uid, ids->uid) < 0) {
		*error_r = "sandbox: setresuid failed";
		return -1;
	}
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	if (getresuid(&ruid, &euid, &suid) < 0 ||
	    getresgid(&rgid, &egid, &sgid) < 0 ||
	    ruid != ids->uid || euid != ids->uid || suid != ids->uid ||
	    rgid != ids->gid || egid != ids->gid || sgid != ids->gid) {
		*error_r = "sandbox: ids did not change as requested";
		return -1;
	}
	/* Trust, but verify: the kernel must now refuse the way back. If any
	 * of these succeeds, the caller exits (sandbox_apply returns -1). */
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 ||
	    setegid(0) == 0) {
		*error_r = "sandbox: root could be regained after the drop";
		return -1;
	}
	return 0;
}

int sandbox_apply(const struct sandbox_policy *p, const char **error_r)
{
	struct sandbox_ids ids;

	if (check_policy(p, error_r) < 0 ||
	    check_single_threaded(error_r) < 0)
		return -1;
	/* 1. resolve the user while /etc/passwd can still be read */
	if (resolve_ids(p, &ids, error_r) < 0)
		return -1;
	int abi = sandbox_landlock_version();
	if (abi < 1) {
		*error_r = "sandbox: Landlock is not available";
		return -1;
	}
	/* 2. open the allowed paths (still with our current ids) */
	int ruleset_fd = sandbox_landlock_build(p, abi, error_r);
	if (ruleset_fd < 0)
		return -1;
	/* 3. no new privileges: required by steps 5 and 6 once root is gone */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0) {
		close(ruleset_fd);
		*error_r = "sandbox: PR_SET_NO_NEW_PRIVS failed";
		return -1;
	}
	/* 4. drop ids */
	if (ids.drop && drop_ids(&ids, error_r) < 0) {
		close(ruleset_fd);
		return -1;
	}
	/* 5. enter the Landlock domain */
	if (sandbox_landlock_enforce(ruleset_fd, error_r) < 0)
		return -1;
	/* 6. seccomp, last */
	if (sandbox_seccomp_load(p, error_r) < 0)
		return -1;

	char abi_str[16];
	snprintf(abi_str, sizeof(abi_str), "%d", abi);
	log_info("sandbox_applied", "role", p->role != NULL ? p->role : "?",
		 "landlock_abi", abi_str,
		 "fs", p->fs == SANDBOX_FS_NONE ? "none" : "paths",
		 "connect", p->allow_connect ? "yes" : "no",
		 "dropped_to", ids.drop ? p->run_as_user : "-");
	return 0;
}
