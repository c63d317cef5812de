/* cli-mailbox.c: `redoubt mailbox list|create|delete --user ADDRESS`, and
 * the helpers that open one user's store for it and for `redoubt import`.
 * Local only (ARCHITECTURE rule 4): no listener offers any of this. */
#include "cli/cli-common.h"
#include "config/config.h"
#include "directory/directory.h"
#include "directory/address.h"
#include "store/store.h"
#include "master/master-audit.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

int cli_user_store_open(const char *data, const char *user, const char *verb,
			struct cli_user_store *us)
{
	char path[4096];
	const char *err;
	struct config cfg;
	struct directory *dir;
	memset(us, 0, sizeof(*us));
	if (user == NULL) {
		fprintf(stderr, "redoubt %s: --user ADDRESS is required\n", verb);
		return -1;
	}
	if (cli_abs_data(data, us->data, sizeof(us->data)) < 0 ||
	    cli_load_config(us->data, &cfg) < 0 || cli_become_data_owner(us->data) < 0)
		return -1;
	if (address_canon_err(user, us->user, sizeof(us->user), &err) < 0) {
		fprintf(stderr, "redoubt %s: %s: %s\n", verb, user, err);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/directory", us->data);
	if (directory_open(path, 0, &dir, &err) < 0) {
		fprintf(stderr, "redoubt %s: %s: %s\n", verb, path, err);
		return -1;
	}
	int found = directory_user_lookup(dir, us->user, us->store_id, sizeof(us->store_id));
	directory_close(&dir);
	if (found < 0) {
		fprintf(stderr, "redoubt %s: no such user %s\n", verb, us->user);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/stores", us->data);
	struct store_params sp = { .stores_root = path };
	if (store_open(&sp, us->store_id, &us->store, &err) != STORE_OK) {
		fprintf(stderr, "redoubt %s: store %s: %s\n", verb, us->store_id, err);
		return -1;
	}
	return 0;
}

void cli_user_store_close(struct cli_user_store *us)
{
	if (us->store != NULL)
		store_close(&us->store);
}

void cli_user_store_audit(const struct cli_user_store *us, const char *action,
			  const struct audit_kv *extra, size_t nextra)
{
	struct audit_kv kv[12] = { { "action", action }, { "object", us->user },
				   { "store", us->store_id } };
	size_t n = 3;
	const char *err;
	for (size_t i = 0; i < nextra && n < sizeof(kv) / sizeof(kv[0]); i++)
		kv[n++] = extra[i];
	if (audit_admin_event(us->data, "admin", kv, n, &err) < 0)
		fprintf(stderr, "redoubt: warning: the change was made but not audited: %s\n", err);
}

static const char mailbox_usage[] =
	"usage: redoubt mailbox list   --data DIR --user ADDRESS\n"
	"       redoubt mailbox create --data DIR --user ADDRESS NAME\n"
	"       redoubt mailbox delete --data DIR --user ADDRESS NAME\n"
	"\n"
	"Manage one user's mailboxes. list prints one line per mailbox:\n"
	"NAME, messages=, unseen=, size= (octets) and special-use= when it has\n"
	"one. NAME is UTF-8 with '/' between levels. delete removes the mailbox\n"
	"and its messages (mailboxes below it stay); INBOX cannot be deleted.\n";

static int print_mailbox(void *ctx, const struct store_mailbox_info *mb)
{
	const char *su = store_special_use_name(mb->special_use);
	(void)ctx;
	printf("%s\tmessages=%llu\tunseen=%llu\tsize=%llu%s%s\n", mb->name,
	       (unsigned long long)mb->messages, (unsigned long long)mb->unseen,
	       (unsigned long long)mb->total_size, su ? "\tspecial-use=" : "", su ? su : "");
	return 0;
}

static int mailbox_change(struct cli_user_store *us, const char *sub, const char *name)
{
	const char *err;
	int64_t id;
	struct store_mailbox_info info;
	char count[24] = "0";
	if (strcmp(sub, "create") == 0) {
		int r = store_mailbox_create(us->store, name, STORE_SPECIAL_NONE, &id, &err);
		if (r != STORE_OK) {
			fprintf(stderr, "redoubt mailbox create: %s: %s\n", name, err);
			return CLI_FAIL;
		}
		printf("Created %s for %s\n", name, us->user);
	} else {
		if (strcasecmp(name, "INBOX") == 0) {
			fprintf(stderr, "redoubt mailbox delete: INBOX cannot be deleted\n");
			return CLI_FAIL;
		}
		if (store_mailbox_get(us->store, name, &info, &err) == STORE_OK)
			snprintf(count, sizeof(count), "%llu", (unsigned long long)info.messages);
		if (store_mailbox_delete(us->store, name, &err) != STORE_OK) {
			fprintf(stderr, "redoubt mailbox delete: %s: %s\n", name, err);
			return CLI_FAIL;
		}
		printf("Deleted %s of %s (%s messages)\n", name, us->user, count);
	}
	struct audit_kv kv[] = { { "mailbox", name }, { "messages", count } };
	cli_user_store_audit(us, strcmp(sub, "create") == 0 ? "mailbox_create" : "mailbox_delete",
			     kv, sub[0] == 'c' ? 1 : 2);
	return CLI_OK;
}

int cli_mailbox(int argc, char **argv)
{
	const char *data = NULL, *user = NULL, *err;
	struct cli_opt opts[] = { { "--data", 1, &data }, { "--user", 1, &user }, { NULL, 0, NULL } };
	struct cli_args args;
	if (argc < 3) {
		fputs(mailbox_usage, stderr);
		return CLI_USAGE;
	}
	int r = cli_parse(argc, argv, 2, opts, &args, 2, mailbox_usage);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	const char *sub = args.npositional > 0 ? args.positional[0] : "";
	int want = strcmp(sub, "list") == 0 ? 1 : 2;
	if (strcmp(sub, "list") != 0 && strcmp(sub, "create") != 0 && strcmp(sub, "delete") != 0) {
		fprintf(stderr, "redoubt mailbox: unknown action \"%s\"\n\n%s", sub, mailbox_usage);
		return CLI_USAGE;
	}
	if (args.npositional != want) {
		fprintf(stderr, "redoubt mailbox: wrong number of arguments\n\n%s", mailbox_usage);
		return CLI_USAGE;
	}
	if (user == NULL || data == NULL) {
		fprintf(stderr, "redoubt mailbox: --data DIR and --user ADDRESS are required\n\n%s",
			mailbox_usage);
		return CLI_USAGE;
	}
	struct cli_user_store us;
	if (cli_user_store_open(data, user, "mailbox", &us) < 0) {
		cli_user_store_close(&us);
		return CLI_FAIL;
	}
	int rc = CLI_OK;
	if (want == 1) {
		if (store_mailbox_list(us.store, print_mailbox, NULL, &err) != STORE_OK) {
			fprintf(stderr, "redoubt mailbox list: %s\n", err);
			rc = CLI_FAIL;
		}
	} else {
		rc = mailbox_change(&us, sub, args.positional[1]);
	}
	cli_user_store_close(&us);
	return rc;
}
