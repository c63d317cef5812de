/* spawn.h: start a role process: fork, place descriptors at fixed numbers
 * (3 = IPC to master, 4.. = listeners), execute the role's binary: worker
 * and deliver run in redoubt-store (no TLS library mapped, see
 * store-main.c), every other role re-executes /proc/self/exe.
 * Functions return 0 (spawn_role: the child's pid), or -1 with *error_r. */
#ifndef RD_SPAWN_H
#define RD_SPAWN_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The second executable; `meson install` puts it beside redoubt (bindir)
 * and a build directory has both side by side. */
#define SPAWN_STORE_EXE "redoubt-store"

struct spawn_fd {
	int fd;
	const char *kind;
	int implicit_tls;
};

/* Find redoubt-store in the directory of this executable and hold it open
 * (O_PATH): every worker and deliver then runs the very file found here,
 * as the other roles run /proc/self/exe, even if an upgrade replaces the
 * files while master runs (no mix of versions on one IPC channel). Once,
 * in master, before the first spawn_role. path_r receives the path looked
 * at (for the operator's error message); *fd_r the O_PATH descriptor,
 * which master keeps for its lifetime and hands to every spawn_role. */
int spawn_store_exe_open(char *path_r, size_t size, int *fd_r, const char **error_r);
/* Whether role runs in redoubt-store. */
bool spawn_role_in_store_exe(const char *role);

/* store_exe_fd: from spawn_store_exe_open (used for worker and deliver). */
pid_t spawn_role(const char *role, int store_exe_fd, int ipc_fd, const struct spawn_fd *fds,
		 int nfds, const char *const *extra_args, const char **error_r);
#endif
