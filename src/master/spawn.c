#include "master/spawn.h"
#include "master/role.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPAWN_MAX_ARGS 48

extern char **environ;

bool spawn_role_in_store_exe(const char *role)
{
	return strcmp(role, "worker") == 0 || strcmp(role, "deliver") == 0;
}

int spawn_store_exe_open(char *path_r, size_t size, int *fd_r, const char **error_r)
{
	char self[4096];
	struct stat st;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	path_r[0] = '\0';
	*fd_r = -1;
	if (n <= 0 || (size_t)n >= sizeof(self) - 1) {
		*error_r = "cannot read /proc/self/exe";
		return -1;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash == NULL) {
		*error_r = "/proc/self/exe is not an absolute path";
		return -1;
	}
	*slash = '\0';
	int len = snprintf(path_r, size, "%s/%s", self, SPAWN_STORE_EXE);
	if (len < 0 || (size_t)len >= size) {
		*error_r = "path of " SPAWN_STORE_EXE " too long";
		return -1;
	}
	if (access(path_r, X_OK) < 0) {
		*error_r = errno == ENOENT ? SPAWN_STORE_EXE " is missing beside redoubt" :
			   "cannot execute " SPAWN_STORE_EXE;
		return -1;
	}
	int fd = open(path_r, O_PATH | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*error_r = SPAWN_STORE_EXE " is not a regular file";
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*fd_r = fd;
	return 0;
}

pid_t spawn_role(const char *role, int store_exe_fd, int ipc_fd, const struct spawn_fd *fds,
		 int nfds, const char *const *extra_args, const char **error_r)
{
	char *argv[SPAWN_MAX_ARGS];
	char bufs[ROLE_MAX_LISTENERS + 1][96];
	int n = 0;
	bool in_store = spawn_role_in_store_exe(role);
	if (nfds > ROLE_MAX_LISTENERS) {
		*error_r = "too many listeners for one role";
		return -1;
	}
	if (in_store && store_exe_fd < 0) {
		*error_r = SPAWN_STORE_EXE " was not opened at start";
		return -1;
	}
	argv[n++] = (char *)(in_store ? SPAWN_STORE_EXE : "redoubt");
	argv[n++] = (char *)"role";
	argv[n++] = (char *)role;
	argv[n++] = (char *)"--ipc";
	snprintf(bufs[0], sizeof(bufs[0]), "3");
	argv[n++] = bufs[0];
	for (int i = 0; i < nfds; i++) {
		snprintf(bufs[i + 1], sizeof(bufs[i + 1]), "%d:%s:%d", 4 + i, fds[i].kind,
			 fds[i].implicit_tls);
		argv[n++] = (char *)"--listen";
		argv[n++] = bufs[i + 1];
	}
	for (int i = 0; extra_args && extra_args[i] != NULL; i++) {
		if (n >= SPAWN_MAX_ARGS - 1) {
			*error_r = "too many arguments";
			return -1;
		}
		argv[n++] = (char *)extra_args[i];
	}
	argv[n] = NULL;

	pid_t pid = fork();
	if (pid < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	if (pid > 0)
		return pid;

	/* child: move every descriptor we pass out of the way first, so the
	 * dup2 calls below cannot clobber one another */
	int high_ipc = fcntl(ipc_fd, F_DUPFD_CLOEXEC, 200);
	/* the store executable's descriptor too: it may be 3 or 4 itself */
	int exe_fd = in_store ? fcntl(store_exe_fd, F_DUPFD_CLOEXEC, 200) : -1;
	if (in_store && exe_fd < 0)
		_exit(127);
	int high[ROLE_MAX_LISTENERS];
	for (int i = 0; i < nfds; i++)
		high[i] = fcntl(fds[i].fd, F_DUPFD_CLOEXEC, 200);
	if (high_ipc < 0 || dup2(high_ipc, 3) < 0)
		_exit(127);
	for (int i = 0; i < nfds; i++)
		if (high[i] < 0 || dup2(high[i], 4 + i) < 0)
			_exit(127);
	/* a role dies with master rather than living on unsupervised */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (in_store)
		fexecve(exe_fd, argv, environ);
	else
		execv("/proc/self/exe", argv);
	_exit(127);
}
