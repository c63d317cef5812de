/* cli.c: dispatch of `redoubt VERB ...` and the helpers every verb shares. */
#include "cli/cli.h"
#include "cli/cli-common.h"
#include "config/config.h"
#include "master/role.h"
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static const char main_usage[] =
	"usage: redoubt VERB [options]\n"
	"\n"
	"verbs:\n"
	"  init     create a data directory (config, certificate, databases)\n"
	"  domain   add | list | remove mail domains\n"
	"  user     add | list | remove | passwd users\n"
	"  alias    add | list | remove aliases\n"
	"  grant    add | list | remove shared-mailbox rights (IMAP ACL)\n"
	"  mailbox  list | create | delete a user's mailboxes\n"
	"  import   bring mail from an mbox file or a Maildir into a mailbox\n"
	"  index    build the search text of imported mail now\n"
	"  queue    list the messages waiting for delivery\n"
	"  check    validate configuration, permissions and the data directory\n"
	"  audit    verify | query | report the audit log\n"
	"  serve    run the server in the foreground\n"
	"  sandbox-probe  show that the kernel confines a role (see --help)\n"
	"  version  print the version\n"
	"\n"
	"Every verb takes --help. Passwords are read from a prompt or\n"
	"--password-stdin, never from the command line.\n";

int cli_parse(int argc, char **argv, int first, struct cli_opt *opts,
	      struct cli_args *args, int max_positional, const char *usage)
{
	args->npositional = 0;
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			return -1;
		}
		if (a[0] == '-' && a[1] != '\0') {
			struct cli_opt *o = NULL;
			const char *eq = strchr(a, '=');
			size_t nl = eq ? (size_t)(eq - a) : strlen(a);
			for (struct cli_opt *p = opts; p && p->name; p++)
				if (strlen(p->name) == nl && strncmp(p->name, a, nl) == 0)
					o = p;
			if (o == NULL) {
				fprintf(stderr, "redoubt: unknown option %s\n\n%s", a, usage);
				return CLI_USAGE;
			}
			if (!o->takes_value) {
				if (eq) {
					fprintf(stderr, "redoubt: %s takes no value\n\n%s", o->name, usage);
					return CLI_USAGE;
				}
				*o->value = "1";
			} else if (eq) {
				*o->value = eq + 1;
			} else if (i + 1 < argc) {
				*o->value = argv[++i];
			} else {
				fprintf(stderr, "redoubt: %s needs a value\n\n%s", o->name, usage);
				return CLI_USAGE;
			}
			continue;
		}
		if (args->npositional >= max_positional || args->npositional >= 4) {
			fprintf(stderr, "redoubt: unexpected argument %s\n\n%s", a, usage);
			return CLI_USAGE;
		}
		args->positional[args->npositional++] = a;
	}
	return 0;
}

int cli_abs_data(const char *data, char *out, size_t outlen)
{
	if (data == NULL) {
		fprintf(stderr, "redoubt: --data DIR is required\n");
		return -1;
	}
	if (data[0] == '/') {
		snprintf(out, outlen, "%s", data);
	} else {
		char cwd[2048];
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return -1;
		snprintf(out, outlen, "%s/%s", cwd, data);
	}
	size_t l = strlen(out);
	while (l > 1 && out[l - 1] == '/')
		out[--l] = '\0';
	return 0;
}

int cli_become_data_owner(const char *data_dir)
{
	char path[4096];
	struct stat st;
	if (geteuid() != 0)
		return 0;
	snprintf(path, sizeof(path), "%s/directory", data_dir);
	if (stat(path, &st) < 0) {
		fprintf(stderr, "redoubt: %s: %s (is this a data directory made by redoubt init?)\n",
			path, strerror(errno));
		return -1;
	}
	if (st.st_uid == 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setresgid(st.st_gid, st.st_gid, st.st_gid) < 0 ||
	    setresuid(st.st_uid, st.st_uid, st.st_uid) < 0) {
		fprintf(stderr, "redoubt: cannot switch to the data owner: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int cli_read_password(int from_stdin, char *out, size_t outlen)
{
	if (from_stdin) {
		if (fgets(out, (int)outlen, stdin) == NULL) {
			fprintf(stderr, "redoubt: no password on standard input\n");
			return -1;
		}
		size_t l = strlen(out);
		if (l == outlen - 1 && out[l - 1] != '\n') {
			fprintf(stderr, "redoubt: password too long\n");
			return -1;
		}
		while (l > 0 && (out[l - 1] == '\n' || out[l - 1] == '\r'))
			out[--l] = '\0';
		return 0;
	}
	FILE *tty = fopen("/dev/tty", "r+");
	if (tty == NULL) {
		fprintf(stderr, "redoubt: no terminal to prompt on; use --password-stdin\n");
		return -1;
	}
	struct termios old, noecho;
	int fd = fileno(tty);
	tcgetattr(fd, &old);
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	char again[1100];
	int rc = -1;
	fputs("Password: ", tty);
	fflush(tty);
	tcsetattr(fd, TCSAFLUSH, &noecho);
	if (fgets(out, (int)outlen, tty) != NULL) {
		fputs("\nRepeat password: ", tty);
		fflush(tty);
		if (fgets(again, sizeof(again), tty) != NULL) {
			out[strcspn(out, "\r\n")] = '\0';
			again[strcspn(again, "\r\n")] = '\0';
			rc = strcmp(out, again) == 0 ? 0 : -2;
		}
	}
	tcsetattr(fd, TCSAFLUSH, &old);
	fputs("\n", tty);
	fclose(tty);
	explicit_bzero(again, sizeof(again));
	if (rc == -2)
		fprintf(stderr, "redoubt: the passwords do not match\n");
	return rc < 0 ? -1 : 0;
}

int cli_load_config(const char *data_dir, struct config *cfg)
{
	char path[4096], err[512];
	snprintf(path, sizeof(path), "%s/redoubt.conf", data_dir);
	if (config_load(cfg, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "redoubt: %s\n", err);
		return -1;
	}
	return 0;
}

int cli_main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(main_usage, stderr);
		return CLI_USAGE;
	}
	const char *verb = argv[1];
	if (strcmp(verb, "role") == 0)
		return role_main(argc, argv);
	if (strcmp(verb, "init") == 0)
		return cli_init(argc, argv);
	if (strcmp(verb, "domain") == 0)
		return cli_domain(argc, argv);
	if (strcmp(verb, "user") == 0)
		return cli_user(argc, argv);
	if (strcmp(verb, "alias") == 0)
		return cli_alias(argc, argv);
	if (strcmp(verb, "queue") == 0)
		return cli_queue(argc, argv);
	if (strcmp(verb, "grant") == 0)
		return cli_grant(argc, argv);
	if (strcmp(verb, "mailbox") == 0)
		return cli_mailbox(argc, argv);
	if (strcmp(verb, "import") == 0)
		return cli_import(argc, argv);
	if (strcmp(verb, "index") == 0)
		return cli_index(argc, argv);
	if (strcmp(verb, "check") == 0)
		return cli_check(argc, argv);
	if (strcmp(verb, "audit") == 0)
		return cli_audit(argc, argv);
	if (strcmp(verb, "serve") == 0)
		return cli_serve(argc, argv);
	if (strcmp(verb, "sandbox-probe") == 0)
		return cli_sandbox_probe(argc, argv);
	if (strcmp(verb, "version") == 0 || strcmp(verb, "--version") == 0) {
		printf("redoubt 0.1.0\n");
		return CLI_OK;
	}
	if (strcmp(verb, "help") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		fputs(main_usage, stdout);
		return CLI_OK;
	}
	fprintf(stderr, "redoubt: unknown verb \"%s\"\n\n%s", verb, main_usage);
	return CLI_USAGE;
}
