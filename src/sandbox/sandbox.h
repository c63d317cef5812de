/* sandbox.h: the confinement every role applies to itself, in one fixed order.
 *
 * A role calls sandbox_apply() once, early, while still single-threaded,
 * after it has received everything it needs from master (listening sockets,
 * IPC channels, keys) and opened anything that lives outside its policy.
 * From then on the kernel, not our code, decides what the process may touch:
 *
 *   Landlock  which files it may open, create, rename or remove (nothing at
 *             all for pre-auth roles), that it may not bind TCP ports or
 *             connect out (unless allowed), that it may not reach abstract
 *             unix sockets or signal processes outside its own domain;
 *   seccomp   that it may not execve (the process is killed with SIGSYS, so
 *             master can report it), ptrace, load modules, mount, create
 *             namespaces, use io_uring, listen, bind or open network sockets.
 *
 * The order inside sandbox_apply() is fixed, and each step is where it is for
 * a reason:
 *
 *   1. resolve run_as_user   getpwnam() reads /etc/passwd and nsswitch.conf,
 *                            which neither Landlock policy allows, and after
 *                            the drop it might not be readable either.
 *   2. open Landlock paths   each allowed path is opened (O_PATH) while the
 *                            process is still root, so a store directory that
 *                            only root may traverse can still be named, and a
 *                            missing path is a clean error before anything
 *                            irreversible has happened.
 *   3. PR_SET_NO_NEW_PRIVS   landlock_restrict_self() and seccomp filters
 *                            need either NO_NEW_PRIVS or CAP_SYS_ADMIN; step 4
 *                            throws the capability away, so this must come
 *                            first. It also makes setuid binaries inert.
 *   4. drop ids              setgroups, setresgid, setresuid; then setuid(0)
 *                            and setgid(0) must fail, or we stop. Done before
 *                            seccomp so the filter need not allow the set*id
 *                            family, and before Landlock restriction so the
 *                            domain is never entered holding root's
 *                            capabilities.
 *   5. landlock_restrict_self  from here no path outside the policy opens.
 *   6. seccomp filter        last, because it may forbid syscalls the earlier
 *                            steps use (prctl, landlock_*, set*id).
 *
 * If any step fails sandbox_apply() returns -1 and the process may already
 * be partly confined: the caller must log error_r and exit, never continue.
 * There is no "degraded" mode: a kernel without Landlock or seccomp filter
 * support makes every role refuse to start (sandbox_probe() says why).
 *
 * Landlock confines only the calling thread (and whatever it creates later);
 * an already running second thread would stay free. So sandbox_apply()
 * refuses to run in a multi-threaded process. Children of a confined process
 * inherit both Landlock and seccomp and cannot shed them.
 *
 * Before calling, do whatever reads files outside the policy: initialise
 * OpenSSL (it reads openssl.cnf, may dlopen providers), load keys, read
 * resolver configuration. SQLite seeds its PRNG from /dev/urandom on first
 * use: list "/dev/urandom" in ro_paths for roles that open databases, or
 * it silently falls back to a time-and-pid seed.
 *
 * ASan/LeakSanitizer builds: LSan stops the world with ptrace at exit, which
 * the filter refuses; confined processes should end with _exit() or run with
 * ASAN_OPTIONS=detect_leaks=0.
 *
 * Functions return 0 on success, -1 with *error_r set to a static string. */
#ifndef RD_SANDBOX_H
#define RD_SANDBOX_H

enum sandbox_fs {
	/* No file may be opened, created or removed at all (pre-auth roles).
	 * Landlock handles every right with no rule, and seccomp additionally
	 * fails every path-taking open/create/remove call with EACCES. */
	SANDBOX_FS_NONE,
	/* Only the listed paths, as described by rw_dirs and ro_paths. */
	SANDBOX_FS_PATHS,
};

struct sandbox_policy {
	/* Role name, for log lines only. */
	const char *role;
	enum sandbox_fs fs;
	/* NULL-terminated, or NULL for none. Each must be a directory; beneath
	 * it the role may read, write, truncate, create and remove regular
	 * files and directories and rename between them. Not granted: execute,
	 * device/socket/fifo nodes, symlinks, device ioctls. Must be empty for
	 * SANDBOX_FS_NONE. */
	const char *const *rw_dirs;
	/* NULL-terminated, or NULL for none. Files or directories; read-only
	 * beneath each. Must be empty for SANDBOX_FS_NONE. */
	const char *const *ro_paths;
	/* Non-zero: the role may create AF_INET/AF_INET6/AF_NETLINK sockets and
	 * connect(2) out (only the relay role). It still cannot bind or listen. */
	int allow_connect;
	/* When running as root: switch to this user (its uid, its primary gid
	 * as the only group). Resolving to uid 0 or gid 0 is an error. NULL =
	 * keep the current ids. Ignored when not root (nothing to drop). */
	const char *run_as_user;
};

/* 0 if this kernel offers both Landlock (any ABI) and seccomp filters with
 * SECCOMP_RET_KILL_PROCESS; otherwise -1 and *why_r says which is missing. */
int sandbox_probe(const char **why_r);

/* The Landlock ABI version of the running kernel, or -1 if Landlock is
 * unavailable (not built, or disabled at boot). For log lines. */
int sandbox_landlock_abi(void);

/* Confine the calling process by policy p, in the order described above.
 * 0 on success; -1 with *error_r on failure, after which the caller must
 * exit (the process may be half-confined). */
int sandbox_apply(const struct sandbox_policy *p, const char **error_r);

#endif
