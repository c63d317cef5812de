/* cli-admin.c: `redoubt domain|user|alias|grant add|list|remove` and
 * `redoubt user passwd`. Local only: none of this exists on a listener. */
#include "cli/cli-common.h"
#include "config/config.h"
#include "directory/directory.h"
#include "directory/address.h"
#include "auth/accounts.h"
#include "auth/password.h"
#include "store/store.h"
#include "master/master-audit.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct admin {
	char data[2048];
	struct config cfg;
	struct directory *dir;
};

static int admin_open(struct admin *a, const char *data)
{
	char path[4096];
	const char *err;
	if (cli_abs_data(data, a->data, sizeof(a->data)) < 0)
		return -1;
	if (cli_load_config(a->data, &a->cfg) < 0)
		return -1;
	if (cli_become_data_owner(a->data) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/directory", a->data);
	if (directory_open(path, 0, &a->dir, &err) < 0) {
		fprintf(stderr, "redoubt: %s: %s\n", path, err);
		return -1;
	}
	return 0;
}

static void admin_close(struct admin *a)
{
	directory_close(&a->dir);
}

/* Every admin change goes on the audit record (rule 5). */
static void admin_audit(struct admin *a, const char *action, const char *object,
			const char *detail)
{
	const char *err;
	struct audit_kv kv[] = { { "action", action }, { "object", object },
				 { "detail", detail ? detail : "" } };
	if (audit_admin_event(a->data, "admin", kv, detail ? 3 : 2, &err) < 0)
		fprintf(stderr, "redoubt: warning: the change was made but not audited: %s\n", err);
}

static int print_domain(void *ctx, const char *domain)
{
	(void)ctx;
	printf("%s\n", domain);
	return 0;
}

static int print_user(void *ctx, const char *address, const char *store_id)
{
	(void)ctx;
	printf("%s\tstore=%s\n", address, store_id);
	return 0;
}

static int print_alias(void *ctx, const char *alias, const char *target)
{
	(void)ctx;
	printf("%s\t-> %s\n", alias, target);
	return 0;
}

static const char domain_usage[] =
	"usage: redoubt domain add    --data DIR DOMAIN\n"
	"       redoubt domain list   --data DIR\n"
	"       redoubt domain remove --data DIR DOMAIN\n"
	"\n"
	"Manage the mail domains this server receives mail for. A domain\n"
	"cannot be removed while it has users or aliases.\n";

static const char user_usage[] =
	"usage: redoubt user add    --data DIR ADDRESS [--password-stdin]\n"
	"       redoubt user list   --data DIR [DOMAIN]\n"
	"       redoubt user remove --data DIR ADDRESS\n"
	"       redoubt user passwd --data DIR ADDRESS [--password-stdin]\n"
	"\n"
	"Manage users. The password is prompted for twice, or read as one\n"
	"line from standard input with --password-stdin; never from argv.\n"
	"add creates the user's store with INBOX, Sent, Drafts, Trash, Junk\n"
	"and Archive. remove deletes the login and the directory entry but\n"
	"keeps the store on disk (DATA/stores/ID) until you delete it.\n";

static const char alias_usage[] =
	"usage: redoubt alias add    --data DIR ALIAS TARGET\n"
	"       redoubt alias list   --data DIR [DOMAIN]\n"
	"       redoubt alias remove --data DIR ALIAS [TARGET]\n"
	"\n"
	"Manage aliases: mail to ALIAS is delivered to TARGET (a user, another\n"
	"alias, or an outside address). An alias may have several targets.\n";

static const char grant_usage[] =
	"usage: redoubt grant add    --data DIR OWNER MAILBOX GRANTEE RIGHTS\n"
	"       redoubt grant list   --data DIR [OWNER]\n"
	"       redoubt grant remove --data DIR OWNER MAILBOX GRANTEE\n"
	"\n"
	"Share a mailbox: GRANTEE (a user) may use OWNER's MAILBOX with RIGHTS,\n"
	"IMAP ACL letters (RFC 4314): l see it, r read, s keep \\Seen, w other\n"
	"flags, i add messages, t flag \\Deleted, e expunge, a change its rights\n"
	"(k x p are accepted and kept). \"lrs\" is read-only delegation, \"lrswite\"\n"
	"full. The grantee sees it as Shared/OWNER/MAILBOX at the next login;\n"
	"every open of it is on the audit record under the owner.\n";

/* Parse "VERB SUBVERB [positional...] --data DIR [flags]" for one family. */
static int parse_sub(int argc, char **argv, const char *usage, const char **data,
		     const char **pw_stdin, struct cli_args *args, int maxpos)
{
	struct cli_opt opts[] = {
		{ "--data", 1, data }, { "--password-stdin", 0, pw_stdin }, { NULL, 0, NULL },
	};
	if (pw_stdin == NULL)
		opts[1].name = NULL;
	if (argc < 3) {
		fputs(usage, stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
		fputs(usage, stdout);
		return -1;
	}
	return cli_parse(argc, argv, 3, opts, args, maxpos, usage);
}

static int need_args(const struct cli_args *args, int min, int max, const char *usage)
{
	if (args->npositional < min || args->npositional > max) {
		fprintf(stderr, "redoubt: wrong number of arguments\n\n%s", usage);
		return -1;
	}
	return 0;
}

int cli_domain(int argc, char **argv)
{
	const char *data = NULL, *err;
	struct cli_args args;
	int r = parse_sub(argc, argv, domain_usage, &data, NULL, &args, 1);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	const char *sub = argv[2];
	int maxa = strcmp(sub, "list") == 0 ? 0 : 1;
	if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "remove") != 0) {
		fprintf(stderr, "redoubt domain: unknown action \"%s\"\n\n%s", sub, domain_usage);
		return CLI_USAGE;
	}
	if (need_args(&args, maxa, maxa, domain_usage) < 0)
		return CLI_USAGE;
	struct admin a;
	if (admin_open(&a, data) < 0)
		return CLI_FAIL;
	int rc = CLI_OK;
	if (strcmp(sub, "add") == 0)
		r = directory_domain_add(a.dir, args.positional[0], &err);
	else if (strcmp(sub, "remove") == 0)
		r = directory_domain_remove(a.dir, args.positional[0], &err);
	else
		r = directory_domain_list(a.dir, print_domain, NULL, &err);
	if (r < 0) {
		fprintf(stderr, "redoubt domain %s: %s\n", sub, err);
		rc = CLI_FAIL;
	} else if (strcmp(sub, "list") != 0) {
		printf("%s %s\n", strcmp(sub, "add") == 0 ? "Added" : "Removed", args.positional[0]);
		admin_audit(&a, strcmp(sub, "add") == 0 ? "domain_add" : "domain_remove",
			    args.positional[0], NULL);
	}
	admin_close(&a);
	return rc;
}

static int set_password(struct admin *a, const char *address, int from_stdin)
{
	char pw[RD_MAX_PASSWORD + 2], path[4096];
	const char *err;
	struct accounts *acc;
	if (cli_read_password(from_stdin, pw, sizeof(pw)) < 0)
		return -1;
	struct password_params params = {
		.opslimit = a->cfg.argon2_opslimit,
		.memlimit = (size_t)a->cfg.argon2_memlimit_kib * 1024u,
	};
	snprintf(path, sizeof(path), "%s/auth", a->data);
	int r = accounts_open(path, 0, &acc, &err);
	if (r == 0) {
		r = accounts_set_password(acc, address, pw, &params, &err);
		accounts_close(&acc);
	}
	explicit_bzero(pw, sizeof(pw));
	if (r < 0)
		fprintf(stderr, "redoubt: password: %s\n", err);
	return r;
}

static int user_add(struct admin *a, const char *address, int from_stdin)
{
	char store_id[DIRECTORY_STORE_ID_BUF], stores[4096], canon[RD_MAX_ADDRESS + 1];
	const char *err;
	if (address_canon_err(address, canon, sizeof(canon), &err) < 0) {
		fprintf(stderr, "redoubt user add: %s: %s\n", address, err);
		return -1;
	}
	if (directory_user_lookup(a->dir, canon, store_id, sizeof(store_id)) == 0) {
		fprintf(stderr, "redoubt user add: %s already exists\n", canon);
		return -1;
	}
	if (directory_user_add(a->dir, canon, store_id, sizeof(store_id), &err) < 0) {
		fprintf(stderr, "redoubt user add: %s: %s\n", canon, err);
		return -1;
	}
	snprintf(stores, sizeof(stores), "%s/stores", a->data);
	struct store_params sp = { .stores_root = stores };
	if (store_create(&sp, store_id, &err) != STORE_OK) {
		fprintf(stderr, "redoubt user add: store: %s\n", err);
		directory_user_remove(a->dir, canon, &err);
		return -1;
	}
	if (set_password(a, canon, from_stdin) < 0) {
		directory_user_remove(a->dir, canon, &err);
		fprintf(stderr, "redoubt user add: %s not added (store %s left empty)\n", canon, store_id);
		return -1;
	}
	printf("Added %s (store %s)\n", canon, store_id);
	admin_audit(a, "user_add", canon, store_id);
	return 0;
}

static int user_remove(struct admin *a, const char *address)
{
	char store_id[DIRECTORY_STORE_ID_BUF], path[4096], canon[RD_MAX_ADDRESS + 1];
	const char *err;
	struct accounts *acc;
	if (address_canon_err(address, canon, sizeof(canon), &err) < 0 ||
	    directory_user_lookup(a->dir, canon, store_id, sizeof(store_id)) < 0) {
		fprintf(stderr, "redoubt user remove: no such user %s\n", address);
		return -1;
	}
	if (directory_user_remove(a->dir, canon, &err) < 0) {
		fprintf(stderr, "redoubt user remove: %s\n", err);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/auth", a->data);
	if (accounts_open(path, 0, &acc, &err) == 0) {
		accounts_remove(acc, canon, &err);
		accounts_close(&acc);
	}
	printf("Removed %s; the store is kept at %s/stores/%s\n", canon, a->data, store_id);
	admin_audit(a, "user_remove", canon, store_id);
	return 0;
}

int cli_user(int argc, char **argv)
{
	const char *data = NULL, *pw_stdin = NULL, *err;
	struct cli_args args;
	int r = parse_sub(argc, argv, user_usage, &data, &pw_stdin, &args, 1);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	const char *sub = argv[2];
	int is_list = strcmp(sub, "list") == 0;
	if (!is_list && strcmp(sub, "add") != 0 && strcmp(sub, "remove") != 0 &&
	    strcmp(sub, "passwd") != 0) {
		fprintf(stderr, "redoubt user: unknown action \"%s\"\n\n%s", sub, user_usage);
		return CLI_USAGE;
	}
	if (need_args(&args, is_list ? 0 : 1, 1, user_usage) < 0)
		return CLI_USAGE;
	struct admin a;
	if (admin_open(&a, data) < 0)
		return CLI_FAIL;
	int rc = CLI_OK;
	if (strcmp(sub, "add") == 0) {
		rc = user_add(&a, args.positional[0], pw_stdin != NULL) < 0 ? CLI_FAIL : CLI_OK;
	} else if (strcmp(sub, "remove") == 0) {
		rc = user_remove(&a, args.positional[0]) < 0 ? CLI_FAIL : CLI_OK;
	} else if (strcmp(sub, "passwd") == 0) {
		char store_id[DIRECTORY_STORE_ID_BUF], canon[RD_MAX_ADDRESS + 1];
		if (address_canon_err(args.positional[0], canon, sizeof(canon), &err) < 0 ||
		    directory_user_lookup(a.dir, canon, store_id, sizeof(store_id)) < 0) {
			fprintf(stderr, "redoubt user passwd: no such user %s\n", args.positional[0]);
			rc = CLI_FAIL;
		} else if (set_password(&a, canon, pw_stdin != NULL) < 0) {
			rc = CLI_FAIL;
		} else {
			printf("Password changed for %s\n", canon);
			admin_audit(&a, "user_passwd", canon, NULL);
		}
	} else if (directory_user_list(a.dir, args.npositional ? args.positional[0] : NULL,
				       print_user, NULL, &err) < 0) {
		fprintf(stderr, "redoubt user list: %s\n", err);
		rc = CLI_FAIL;
	}
	admin_close(&a);
	return rc;
}

int cli_alias(int argc, char **argv)
{
	const char *data = NULL, *err;
	struct cli_args args;
	int r = parse_sub(argc, argv, alias_usage, &data, NULL, &args, 2);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	const char *sub = argv[2];
	int min, max;
	if (strcmp(sub, "add") == 0) {
		min = max = 2;
	} else if (strcmp(sub, "remove") == 0) {
		min = 1;
		max = 2;
	} else if (strcmp(sub, "list") == 0) {
		min = 0;
		max = 1;
	} else {
		fprintf(stderr, "redoubt alias: unknown action \"%s\"\n\n%s", sub, alias_usage);
		return CLI_USAGE;
	}
	if (need_args(&args, min, max, alias_usage) < 0)
		return CLI_USAGE;
	struct admin a;
	if (admin_open(&a, data) < 0)
		return CLI_FAIL;
	if (strcmp(sub, "add") == 0)
		r = directory_alias_add(a.dir, args.positional[0], args.positional[1], &err);
	else if (strcmp(sub, "remove") == 0)
		r = directory_alias_remove(a.dir, args.positional[0],
					   args.npositional > 1 ? args.positional[1] : NULL, &err);
	else
		r = directory_alias_list(a.dir, args.npositional ? args.positional[0] : NULL,
					 print_alias, NULL, &err);
	if (r < 0)
		fprintf(stderr, "redoubt alias %s: %s\n", sub, err);
	else if (strcmp(sub, "add") == 0) {
		printf("Added %s -> %s\n", args.positional[0], args.positional[1]);
		admin_audit(&a, "alias_add", args.positional[0], args.positional[1]);
	} else if (strcmp(sub, "remove") == 0) {
		printf("Removed %s\n", args.positional[0]);
		admin_audit(&a, "alias_remove", args.positional[0],
			    args.npositional > 1 ? args.positional[1] : NULL);
	}
	admin_close(&a);
	return r < 0 ? CLI_FAIL : CLI_OK;
}

static int print_grant(void *ctx, const struct directory_grant *g)
{
	(void)ctx;
	printf("%s\t%s\t%s\t%s\n", g->owner, g->mailbox, g->grantee, g->rights);
	return 0;
}

int cli_grant(int argc, char **argv)
{
	const char *data = NULL, *err;
	struct cli_args args;
	int r = parse_sub(argc, argv, grant_usage, &data, NULL, &args, 4);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	const char *sub = argv[2];
	int min, max;
	if (strcmp(sub, "add") == 0) {
		min = max = 4;
	} else if (strcmp(sub, "remove") == 0) {
		min = max = 3;
	} else if (strcmp(sub, "list") == 0) {
		min = 0;
		max = 1;
	} else {
		fprintf(stderr, "redoubt grant: unknown action \"%s\"\n\n%s", sub, grant_usage);
		return CLI_USAGE;
	}
	if (need_args(&args, min, max, grant_usage) < 0)
		return CLI_USAGE;
	if (min > 0 && !store_mailbox_name_valid(args.positional[1], &err) &&
	    strcasecmp(args.positional[1], "INBOX") != 0) {
		fprintf(stderr, "redoubt grant %s: mailbox: %s\n", sub, err);
		return CLI_FAIL;
	}
	char mailbox[RD_STORE_MAX_MAILBOX_NAME + 1];
	if (min > 0)
		snprintf(mailbox, sizeof(mailbox), "%s",
			 strcasecmp(args.positional[1], "INBOX") == 0 ? "INBOX" : args.positional[1]);
	struct admin a;
	if (admin_open(&a, data) < 0)
		return CLI_FAIL;
	char object[ADDRESS_BUF_SIZE + RD_STORE_MAX_MAILBOX_NAME + 2], detail[ADDRESS_BUF_SIZE + 32];
	char rights[RD_RIGHTS_BUF] = "";
	if (strcmp(sub, "add") == 0) {
		r = directory_rights_canon(args.positional[3], rights, sizeof(rights), &err);
		if (r == 0 && rights[0] == '\0') {
			err = "no rights given (use grant remove to take a grant back)";
			r = -1;
		}
		if (r == 0)
			r = directory_grant_set(a.dir, args.positional[0], mailbox,
						args.positional[2], rights, &err);
	} else if (strcmp(sub, "remove") == 0) {
		r = directory_grant_remove(a.dir, args.positional[0], mailbox, args.positional[2],
					   &err);
	} else {
		r = directory_grant_list(a.dir, args.npositional ? args.positional[0] : NULL, NULL,
					 print_grant, NULL, &err);
	}
	if (r < 0) {
		fprintf(stderr, "redoubt grant %s: %s\n", sub, err);
	} else if (min > 0) {
		snprintf(object, sizeof(object), "%s/%s", args.positional[0], mailbox);
		snprintf(detail, sizeof(detail), "%s %s", args.positional[2], rights);
		if (strcmp(sub, "add") == 0)
			printf("Granted %s on %s to %s\n", rights, object, args.positional[2]);
		else
			printf("Removed the grant on %s to %s\n", object, args.positional[2]);
		admin_audit(&a, strcmp(sub, "add") == 0 ? "grant_set" : "grant_remove", object,
			    detail);
	}
	admin_close(&a);
	return r < 0 ? CLI_FAIL : CLI_OK;
}
