/* cli-common.h: argument parsing and helpers shared by the admin verbs.
 *
 * Every verb takes --data DIR and --help; unknown flags print the verb's
 * usage and exit 2 (CLI_USAGE). Verbs return a process exit code: 0 ok,
 * 1 failed (with a message on stderr), 2 usage. */
#ifndef RD_CLI_COMMON_H
#define RD_CLI_COMMON_H
#include <stddef.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

struct cli_opt {
	const char *name;        /* "--data" */
	int takes_value;
	const char **value;      /* set when seen (value or "1") */
};

struct cli_args {
	const char *positional[4];
	int npositional;
};

/* Parse argv[first..]; on an unknown flag, a missing value or too many
 * positionals print usage to stderr and return CLI_USAGE; "--help" prints
 * usage to stdout and returns -1 (caller exits 0). */
int cli_parse(int argc, char **argv, int first, struct cli_opt *opts,
	      struct cli_args *args, int max_positional, const char *usage);

/* Resolve DIR to an absolute path in out. */
int cli_abs_data(const char *data, char *out, size_t outlen);
/* When run as root, become the owner of DATA/directory for the rest of the
 * command, so every file the CLI creates belongs to the roles' user. */
int cli_become_data_owner(const char *data_dir);
/* Read a password: one line from stdin when from_stdin, else prompt twice
 * on the terminal with echo off. */
int cli_read_password(int from_stdin, char *out, size_t outlen);
/* Load DATA/redoubt.conf; prints the error (file:line: key: ...) on failure. */
struct config;
int cli_load_config(const char *data_dir, struct config *cfg);

/* 0 when uid/gid may traverse every ancestor of dir; else -1 and the
 * first directory that stops them in bad. */
int cli_path_reachable(const char *dir, unsigned uid, unsigned gid, char *bad, size_t badlen);

/* One user's store, opened for an admin verb (cli-mailbox.c): DATA
 * resolved and its config loaded, root dropped to the data owner, the
 * address looked up in the directory. Prints why on failure (prefixed by
 * verb) and returns -1. */
struct store;
struct audit_kv;
struct cli_user_store {
	char data[2048];
	char user[512];
	char store_id[72];
	struct store *store;
};
int cli_user_store_open(const char *data, const char *user, const char *verb,
			struct cli_user_store *us);
void cli_user_store_close(struct cli_user_store *us);
/* Records an admin event on the audit log: action, object=user, store,
 * then the extra fields; warns on stderr if it could not. */
void cli_user_store_audit(const struct cli_user_store *us, const char *action,
			  const struct audit_kv *extra, size_t nextra);

int cli_init(int argc, char **argv);
int cli_domain(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_alias(int argc, char **argv);
int cli_grant(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_sandbox_probe(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_mailbox(int argc, char **argv);
int cli_import(int argc, char **argv);
int cli_index(int argc, char **argv);
int cli_queue(int argc, char **argv);
#endif
