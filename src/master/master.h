/* master.h: `redoubt serve`, the parent of every role.
 *
 * Master binds the listening sockets, reads the TLS key, starts each role
 * by re-executing this binary (role.h), restarts a role that dies (with
 * backoff, and says why), relays login requests between fronts and auth,
 * starts one worker per logged-in principal and creates the channel
 * between a front connection and that worker. It parses no network input:
 * it reads only fixed-schema IPC frames from its children, and a child that
 * sends anything malformed is killed and restarted.
 * master_run() returns the process exit code. */
#ifndef RD_MASTER_H
#define RD_MASTER_H

struct master_opts {
	const char *data_dir;        /* absolute */
	const char *config_path;
	int store_exe_fd;            /* redoubt-store, from spawn_store_exe_open */
};

int master_run(const struct master_opts *opts);
#endif
