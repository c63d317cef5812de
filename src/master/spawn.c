#include "master/spawn.h"
#include "master/role.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define SPAWN_MAX_ARGS 48

pid_t spawn_role(const char *role, int ipc_fd, const struct spawn_fd *fds, int nfds,
		 const char *const *extra_args, const char **error_r)
{
	char *argv[SPAWN_MAX_ARGS];
	char bufs[ROLE_MAX_LISTENERS + 1][96];
	int n = 0;
	if (nfds > ROLE_MAX_LISTENERS) {
		*error_r = "too many listeners for one role";
		return -1;
	}
	argv[n++] = (char *)"redoubt";
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
	execv("/proc/self/exe", argv);
	_exit(127);
}
