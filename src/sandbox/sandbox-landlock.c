/* sandbox-landlock.c: the Landlock half of the sandbox (raw syscalls; glibc
 * has no wrappers). The ruleset handles every access right that both the
 * running kernel and this file know, so anything not explicitly allowed is
 * refused. A right added by a kernel newer than this file stays unhandled,
 * i.e. allowed, until it is added here: that is how Landlock stays
 * compatible, and why the list below is kept per ABI version. */
#include "sandbox/sandbox-private.h"
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's linux-libc-dev (6.1) stops at ABI 2; the running kernel may
 * be far newer. These values are kernel ABI and never change, so defining
 * the missing ones here is safe; a newer header simply wins. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* The ABI-6 layout of the ruleset attribute. The installed header declares
 * only the first field, hence our own name. The kernel takes the size we
 * pass and treats missing trailing fields as zero, so passing only the
 * fields the running ABI knows keeps older kernels happy. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

/* Rights of ABI 1. */
#define LL_FS_ABI1 \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
	 LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)

/* What a store directory needs: SQLite (journal/WAL create, truncate,
 * unlink) and blobs (tmp file, rename into place, fsync the directory).
 * Deliberately absent: EXECUTE (nothing a role writes may become code),
 * MAKE_SYM (no planting links for a later, less confined reader), device,
 * socket and fifo nodes, and device ioctls. */
#define LL_FS_RW \
	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	 LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR | \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REFER | \
	 LANDLOCK_ACCESS_FS_TRUNCATE)

#define LL_FS_RO (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

/* The rights that make sense on a file rather than a directory; the kernel
 * rejects a rule on a file that names any other. */
#define LL_FS_FILE_ONLY \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

int sandbox_landlock_version(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, (size_t)0,
			 (uint32_t)LANDLOCK_CREATE_RULESET_VERSION);
	if (v < 1)
		return -1;
	return v > 1000 ? 1000 : (int)v;
}

static uint64_t fs_rights_for_abi(int abi)
{
	uint64_t r = LL_FS_ABI1;
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

static void log_path_error(const struct sandbox_policy *p, const char *path,
			   const char *what, int err)
{
	log_error("sandbox_path_error", "role", p->role ? p->role : "?",
		  "path", path, "step", what, "error", strerror(err));
}

/* One path_beneath rule. Opened O_PATH: the fd only names the inode, so
 * opening needs no read permission on it and reads nothing. */
static int add_path_rule(const struct sandbox_policy *p, int ruleset_fd,
			 const char *path, uint64_t access, int must_be_dir,
			 const char **error_r)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		log_path_error(p, path, "open", errno);
		*error_r = "Landlock: cannot open an allowed path";
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		log_path_error(p, path, "fstat", errno);
		close(fd);
		*error_r = "Landlock: cannot stat an allowed path";
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (must_be_dir) {
			log_path_error(p, path, "not a directory", ENOTDIR);
			close(fd);
			*error_r = "Landlock: a read-write path is not a directory";
			return -1;
		}
		access &= LL_FS_FILE_ONLY;
	}
	struct landlock_path_beneath_attr rule = {
		.allowed_access = access,
		.parent_fd = fd,
	};
	long ret = syscall(SYS_landlock_add_rule, ruleset_fd,
			   LANDLOCK_RULE_PATH_BENEATH, &rule, (uint32_t)0);
	int err = errno;
	close(fd);
	if (ret < 0) {
		log_path_error(p, path, "landlock_add_rule", err);
		*error_r = "Landlock: cannot add a path rule";
		return -1;
	}
	return 0;
}

static int add_path_list(const struct sandbox_policy *p, int ruleset_fd,
			 const char *const *paths, uint64_t access,
			 int must_be_dir, const char **error_r)
{
	for (size_t i = 0; paths != NULL && paths[i] != NULL; i++) {
		if (add_path_rule(p, ruleset_fd, paths[i], access, must_be_dir,
				  error_r) < 0)
			return -1;
	}
	return 0;
}

int sandbox_landlock_build(const struct sandbox_policy *p, int abi,
			   const char **error_r)
{
	uint64_t handled_fs = fs_rights_for_abi(abi);
	struct ll_ruleset_attr attr = { .handled_access_fs = handled_fs };
	size_t attr_size = offsetof(struct ll_ruleset_attr, handled_access_net);

	if (abi >= 4) {
		/* No rule ever allows a port: bind is never needed (master
		 * hands out listening sockets) and connect is needed only by
		 * the relay, which must reach any port, so for it connect is
		 * left unhandled rather than listed port by port. */
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP;
		if (!p->allow_connect)
			attr.handled_access_net |=
				LANDLOCK_ACCESS_NET_CONNECT_TCP;
		attr_size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		/* Signal scoping stops this process signalling anything
		 * outside its domain (master, other roles); master, outside
		 * the domain, can still signal us. Abstract unix scoping stops
		 * it reaching abstract sockets of processes outside. */
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET |
			      LANDLOCK_SCOPE_SIGNAL;
		attr_size = sizeof(attr);
	}

	int ruleset_fd = (int)syscall(SYS_landlock_create_ruleset, &attr,
				      attr_size, (uint32_t)0);
	if (ruleset_fd < 0) {
		*error_r = "Landlock: landlock_create_ruleset failed";
		return -1;
	}
	if (p->fs == SANDBOX_FS_PATHS) {
		if (add_path_list(p, ruleset_fd, p->rw_dirs,
				  LL_FS_RW & handled_fs, 1, error_r) < 0 ||
		    add_path_list(p, ruleset_fd, p->ro_paths,
				  LL_FS_RO & handled_fs, 0, error_r) < 0) {
			close(ruleset_fd);
			return -1;
		}
	}
	/* SANDBOX_FS_NONE: every right handled, no rule: nothing opens. */
	return ruleset_fd;
}

int sandbox_landlock_enforce(int ruleset_fd, const char **error_r)
{
	long ret = syscall(SYS_landlock_restrict_self, ruleset_fd, (uint32_t)0);
	close(ruleset_fd);
	if (ret < 0) {
		*error_r = "Landlock: landlock_restrict_self failed";
		return -1;
	}
	return 0;
}
