/* cli-serve.c: `redoubt serve` and `redoubt sandbox-probe`. */
#include "cli/cli-common.h"
#include "config/config.h"
#include "master/master.h"
#include "master/policy.h"
#include "master/spawn.h"
#include "sandbox/sandbox.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char serve_usage[] =
	"usage: redoubt serve --data DIR\n"
	"\n"
	"Run the server in the foreground. Logs go to standard error, one\n"
	"key=value line per event. SIGTERM or SIGINT stop it cleanly (open\n"
	"sessions are told goodbye and closed); SIGHUP reloads redoubt.conf\n"
	"(listener changes take effect at the next start).\n"
	"Refuses to start if the kernel lacks Landlock or seccomp, unless the\n"
	"configuration says sandbox = off.\n";

int cli_serve(int argc, char **argv)
{
	const char *data = NULL;
	struct cli_opt opts[] = { { "--data", 1, &data }, { NULL, 0, NULL } };
	struct cli_args args;
	int r = cli_parse(argc, argv, 2, opts, &args, 0, serve_usage);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	char dir[2048], conf[4096];
	struct config cfg;
	if (cli_abs_data(data, dir, sizeof(dir)) < 0 || cli_load_config(dir, &cfg) < 0)
		return CLI_FAIL;
	const char *why;
	if (cfg.sandbox && sandbox_probe(&why) < 0) {
		fprintf(stderr, "redoubt serve: refusing to start: %s\n"
			"  (set \"sandbox = off\" in %s/redoubt.conf to run unconfined, at your own risk)\n",
			why, dir);
		return CLI_FAIL;
	}
	/* workers and deliver run in the second executable: without it the
	 * server could not serve a login, so say so now, not at the first */
	char store_exe[4096];
	int store_exe_fd;
	if (spawn_store_exe_open(store_exe, sizeof(store_exe), &store_exe_fd, &why) < 0) {
		fprintf(stderr, "redoubt serve: refusing to start: %s (%s)\n"
			"  (install both executables from one build in the same directory)\n",
			why, store_exe[0] ? store_exe : "-");
		return CLI_FAIL;
	}
	snprintf(conf, sizeof(conf), "%s/redoubt.conf", dir);
	struct master_opts mo = { .data_dir = dir, .config_path = conf,
				  .store_exe_fd = store_exe_fd };
	return master_run(&mo);
}

static const char probe_usage[] =
	"usage: redoubt sandbox-probe --data DIR --role ROLE [--store ID]\n"
	"                             [--shared ID] [--user USER] --try-open PATH\n"
	"\n"
	"Confine this process exactly as ROLE is confined when serving, then try\n"
	"to open PATH for reading. Prints \"refused: REASON\" and exits 0 when\n"
	"the kernel refuses, prints \"opened\" and exits 1 when it does not.\n"
	"Shows an operator (and the test suite) that the sandbox holds.\n"
	"--shared adds a granting owner's store, as for a worker whose principal\n"
	"holds a grant there.\n";

int cli_sandbox_probe(int argc, char **argv)
{
	const char *data = NULL, *role = NULL, *store = NULL, *path = NULL, *user = NULL;
	const char *shared = NULL;
	struct cli_opt opts[] = {
		{ "--data", 1, &data }, { "--role", 1, &role }, { "--store", 1, &store },
		{ "--shared", 1, &shared },
		{ "--try-open", 1, &path }, { "--user", 1, &user }, { NULL, 0, NULL },
	};
	struct cli_args args;
	int r = cli_parse(argc, argv, 2, opts, &args, 0, probe_usage);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	if (role == NULL || path == NULL) {
		fputs(probe_usage, stderr);
		return CLI_USAGE;
	}
	char dir[2048];
	if (data && cli_abs_data(data, dir, sizeof(dir)) < 0)
		return CLI_FAIL;
	struct role_policy rp;
	const char *err;
	if (role_policy_make(&rp, role, data ? dir : NULL, store, user) < 0 ||
	    (shared != NULL && (strcmp(role, "worker") != 0 ||
				role_policy_add_store(&rp, data ? dir : NULL, shared) < 0))) {
		fprintf(stderr, "redoubt sandbox-probe: no policy for role %s\n", role);
		return CLI_USAGE;
	}
	if (sandbox_apply(&rp.p, &err) < 0) {
		fprintf(stderr, "redoubt sandbox-probe: sandbox failed: %s\n", err);
		return CLI_FAIL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("refused: %s\n", strerror(errno));
		fflush(stdout);
		_exit(0);
	}
	printf("opened\n");
	fflush(stdout);
	_exit(1);
}
