/* spawn.h: start a role process: fork, place descriptors at fixed numbers
 * (3 = IPC to master, 4.. = listeners), re-execute /proc/self/exe.
 * Returns the child's pid, or -1 with *error_r. */
#ifndef RD_SPAWN_H
#define RD_SPAWN_H
#include <sys/types.h>

struct spawn_fd {
	int fd;
	const char *kind;
	int implicit_tls;
};

pid_t spawn_role(const char *role, int ipc_fd, const struct spawn_fd *fds, int nfds,
		 const char *const *extra_args, const char **error_r);
#endif
