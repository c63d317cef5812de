/* sandbox-seccomp.c: the seccomp half of the sandbox (libseccomp).
 *
 * This filter is a deny-list: the default action is ALLOW and only named
 * syscalls are refused. An allow-list would be tighter in theory, but every
 * role runs glibc, libevent, OpenSSL, SQLite and, in test builds,
 * ASan/UBSan, which between them call a long and version-dependent tail of
 * syscalls (sanitizer runtimes especially: mmap variants, sigaltstack,
 * madvise, sched_*, getrusage, ...). A missing entry in an allow-list kills a
 * role in production for no security gain. The filesystem and network
 * boundary is Landlock's job; this filter removes what Landlock cannot: code
 * execution (execve), other processes' memory (ptrace, process_vm_*),
 * kernel attack surface reachable without privileges (bpf, userfaultfd,
 * perf, keyrings, namespaces, io_uring, whose operations never pass through
 * seccomp), new listeners, and, for pre-auth roles, every call that opens,
 * creates or removes by path, as a second wall behind Landlock's.
 *
 * Argument checks compare only the low 32 bits of int arguments, because
 * the kernel truncates them to int and a caller could otherwise hide
 * AF_INET behind garbage in the upper half of the register. */
#include "sandbox/sandbox-private.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/socket.h>

/* Refused with EPERM in every role. */
static const char *const deny_always[] = {
	/* other processes, and the kernel itself */
	"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
	"process_madvise",
	"kexec_load", "kexec_file_load", "init_module", "finit_module",
	"delete_module", "uselib", "reboot", "swapon", "swapoff", "acct",
	"quotactl", "iopl", "ioperm", "personality",
	/* mounts and namespaces, old and new mount API */
	"mount", "umount2", "pivot_root", "chroot", "setns", "unshare",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
	"mount_setattr",
	/* unprivileged kernel attack surface no role needs */
	"bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key",
	"request_key", "io_uring_setup", "io_uring_enter", "io_uring_register",
	/* file handles bypass path lookup (and so Landlock) */
	"open_by_handle_at", "name_to_handle_at",
	/* listening sockets come from master; no role makes its own */
	"listen", "bind",
	NULL,
};

/* Path-taking calls that change metadata. Landlock does not govern
 * metadata at all, and every store belongs to the same system user, so
 * without this a worker could chmod, chown, touch or set xattrs on another
 * principal's files. Refused with EACCES in every role; the fd forms
 * (fchmod, fchown, futimens, fsetxattr) stay allowed because SQLite uses
 * them on files it has legitimately opened. */
static const char *const deny_path_metadata[] = {
	"chmod", "fchmodat", "fchmodat2", "chown", "lchown", "fchownat",
	"utime", "utimes", "futimesat", "setxattr", "lsetxattr",
	"removexattr", "lremovexattr",
	NULL,
};

/* For SANDBOX_FS_NONE: every call that opens, creates, links or removes by
 * path fails with EACCES, the same answer Landlock gives, so code that
 * tries (glibc's fopen uses openat) sees one consistent error. */
static const char *const deny_fs_none[] = {
	"open", "openat", "openat2", "creat", "mkdir", "mkdirat", "unlink",
	"unlinkat", "rmdir", "rename", "renameat", "renameat2", "link",
	"linkat", "symlink", "symlinkat", "truncate", "mknod", "mknodat",
	NULL,
};

/* Socket families any role may create: AF_UNIX only (libevent makes
 * socketpairs; IPC is unix sockets). The relay also gets IP and netlink
 * (glibc's getaddrinfo asks netlink which address families are
 * configured). AF_PACKET is never allowed. Families are small integers;
 * every one below this bound that is not allowed gets a rule, and the
 * kernel itself rejects any family at or above its AF_MAX, which is well
 * below this bound. */
#define SOCKET_FAMILY_BOUND 64

static int family_allowed(int family, int allow_connect)
{
	if (family == AF_UNIX)
		return 1;
	return allow_connect &&
	       (family == AF_INET || family == AF_INET6 ||
		family == AF_NETLINK);
}

/* Namespace-creating clone flags: a user namespace makes the caller root
 * inside it, which opens up much of the kernel to an unprivileged process.
 * (unshare and setns are refused outright above.) */
static const unsigned long clone_ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
	CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};

static int rule_error(int rc, const char **error_r)
{
	(void)rc; /* libseccomp's -errno says no more than this */
	*error_r = "seccomp: cannot add a filter rule";
	return -1;
}

/* Adds an unconditional rule. A name this libseccomp build does not know
 * is skipped: there is then no number to put in the filter (see the
 * deny-list caveat at the top). */
static int add_by_name(scmp_filter_ctx ctx, uint32_t action, const char *name,
		       const char **error_r)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0;
	int rc = seccomp_rule_add(ctx, action, nr, 0);
	return rc < 0 ? rule_error(rc, error_r) : 0;
}

static int add_list(scmp_filter_ctx ctx, uint32_t action,
		    const char *const *names, const char **error_r)
{
	for (size_t i = 0; names[i] != NULL; i++)
		if (add_by_name(ctx, action, names[i], error_r) < 0)
			return -1;
	return 0;
}

static int add_socket_rules(scmp_filter_ctx ctx, int allow_connect,
			    const char **error_r)
{
	for (int family = 0; family < SOCKET_FAMILY_BOUND; family++) {
		if (family_allowed(family, allow_connect))
			continue;
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
					  SCMP_SYS(socket), 1,
					  SCMP_A0(SCMP_CMP_MASKED_EQ,
						  0xffffffffu,
						  (scmp_datum_t)family));
		if (rc < 0)
			return rule_error(rc, error_r);
	}
	if (!allow_connect)
		return add_by_name(ctx, SCMP_ACT_ERRNO(EPERM), "connect",
				   error_r);
	return 0;
}

static int add_clone_rules(scmp_filter_ctx ctx, const char **error_r)
{
	/* clone3 passes its flags in memory, out of the filter's sight, so it
	 * answers "not implemented": glibc then falls back to clone. */
	if (add_by_name(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", error_r) < 0)
		return -1;
#if defined(__s390__) || defined(__s390x__)
	/* clone's flags are its second argument here; not handled (yet). */
	return 0;
#else
	for (size_t i = 0; i < sizeof(clone_ns_flags) / sizeof(clone_ns_flags[0]);
	     i++) {
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
					  SCMP_SYS(clone), 1,
					  SCMP_A0(SCMP_CMP_MASKED_EQ,
						  clone_ns_flags[i],
						  clone_ns_flags[i]));
		if (rc < 0)
			return rule_error(rc, error_r);
	}
	return 0;
#endif
}

static int add_rules(scmp_filter_ctx ctx, const struct sandbox_policy *p,
		     const char **error_r)
{
	/* KILL_PROCESS, not ERRNO: an execve attempt means the process is
	 * compromised, and dying by SIGSYS lets master log exactly that. */
	if (add_by_name(ctx, SCMP_ACT_KILL_PROCESS, "execve", error_r) < 0 ||
	    add_by_name(ctx, SCMP_ACT_KILL_PROCESS, "execveat", error_r) < 0 ||
	    add_list(ctx, SCMP_ACT_ERRNO(EPERM), deny_always, error_r) < 0 ||
	    add_list(ctx, SCMP_ACT_ERRNO(EACCES), deny_path_metadata,
		     error_r) < 0 ||
	    add_socket_rules(ctx, p->allow_connect, error_r) < 0 ||
	    add_clone_rules(ctx, error_r) < 0)
		return -1;
	/* utimensat with a path changes another file's times; with a NULL
	 * path it is futimens on an open fd, which stays allowed. */
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
				  SCMP_SYS(utimensat), 1,
				  SCMP_A1(SCMP_CMP_NE, 0, 0));
	if (rc < 0)
		return rule_error(rc, error_r);
	if (p->fs == SANDBOX_FS_NONE &&
	    add_list(ctx, SCMP_ACT_ERRNO(EACCES), deny_fs_none, error_r) < 0)
		return -1;
	return 0;
}

int sandbox_seccomp_load(const struct sandbox_policy *p, const char **error_r)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL) {
		*error_r = "seccomp: seccomp_init failed";
		return -1;
	}
	/* The filter is built for the native architecture only. A syscall
	 * made through another ABI (i386 via int 0x80, or x32 on x86_64,
	 * whose numbers carry bit 30) would dodge every rule, so it kills the
	 * process instead; libseccomp emits the x32 check for a native x86_64
	 * filter when this action is set. TSYNC puts the filter on every
	 * thread, though sandbox_apply() has already checked there is one. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			     SCMP_ACT_KILL_PROCESS) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) < 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0) {
		seccomp_release(ctx);
		*error_r = "seccomp: cannot set filter attributes";
		return -1;
	}
	/* A binary-tree filter keeps the per-syscall cost low with the ~60
	 * socket-family rules; older libseccomp lacks it, which is harmless. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

	if (add_rules(ctx, p, error_r) < 0) {
		seccomp_release(ctx);
		return -1;
	}
	int rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		*error_r = "seccomp: seccomp_load failed";
		return -1;
	}
	return 0;
}
