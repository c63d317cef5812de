/* cli-queue.c: `redoubt queue list`: what the queue holds, read from the
 * spool's envelopes (DATA/spool/q/<qid>.env) without touching them, like
 * Postfix's mailq. Messages are there until every local recipient has its
 * copy: normally for milliseconds, longer when a store is full or broken.
 * Local only; reading needs no running server. */
#include "cli/cli-common.h"
#include "config/config.h"
#include "queue/spool.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char queue_usage[] =
	"usage: redoubt queue list --data DIR\n"
	"\n"
	"List the messages waiting in the queue: id, arrival, size, sender, and\n"
	"each recipient with its state (pending, delivered, failed), delivery\n"
	"attempts and the DSN parameters it came with (NOTIFY, ORCPT).\n";

static void notify_text(uint32_t n, char *out, size_t len)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ 0x1, "NEVER" }, { 0x2, "SUCCESS" }, { 0x4, "FAILURE" }, { 0x8, "DELAY" },
	};
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((n & names[i].bit) && o < len)
			o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "," : "", names[i].name);
}

static void print_env(const struct spool_env *e)
{
	/* a filing is not written to the envelope (the message leaves the
	 * queue when every recipient has its copy), so "pending" may be a
	 * recipient filed since the envelope was last written */
	static const char *const states[] = { "pending", "delivered", "failed" };
	char when[32];
	time_t t = (time_t)e->arrived;
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", gmtime_r(&t, &tm));
	printf("%s  %s  %llu octets  from <%s>  %s\n", e->qid, when,
	       (unsigned long long)e->size, e->from, e->params);
	for (uint32_t i = 0; i < e->nrcpt; i++) {
		const struct spool_rcpt *r = &e->rcpt[i];
		char notify[48];
		notify_text(r->notify, notify, sizeof(notify));
		printf("    <%s>  %s  attempts=%u%s%s%s%s\n", r->address,
		       r->state <= SPOOL_FAILED ? states[r->state] : "?", r->attempts,
		       notify[0] ? "  NOTIFY=" : "", notify, r->orcpt[0] ? "  ORCPT=" : "",
		       r->orcpt);
	}
}

int cli_queue(int argc, char **argv)
{
	const char *data = NULL;
	struct cli_opt opts[] = { { "--data", 1, &data }, { NULL, 0, NULL } };
	struct cli_args args;
	if (argc < 3 || strcmp(argv[2], "list") != 0) {
		if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
			fputs(queue_usage, stdout);
			return CLI_OK;
		}
		fputs(queue_usage, stderr);
		return CLI_USAGE;
	}
	int r = cli_parse(argc, argv, 3, opts, &args, 0, queue_usage);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	char dir[2048], path[4200];
	struct config cfg;
	if (data == NULL) {
		fputs(queue_usage, stderr);
		return CLI_USAGE;
	}
	if (cli_abs_data(data, dir, sizeof(dir)) < 0 || cli_load_config(dir, &cfg) < 0 ||
	    cli_become_data_owner(dir) < 0)
		return CLI_FAIL;
	snprintf(path, sizeof(path), "%s/spool", dir);
	int spool = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/spool/q", dir);
	DIR *d = spool < 0 ? NULL : opendir(path);
	if (d == NULL && errno == ENOENT) {
		/* never served: the queue role makes spool/ at its first start */
		if (spool >= 0)
			close(spool);
		printf("0 messages in the queue\n");
		return CLI_OK;
	}
	if (d == NULL) {
		fprintf(stderr, "redoubt queue: %s: cannot read it\n", path);
		if (spool >= 0)
			close(spool);
		return CLI_FAIL;
	}
	unsigned n = 0;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		size_t len = strlen(de->d_name);
		char qid[SPOOL_QID_LEN + 1];
		if (len != SPOOL_QID_LEN + 4 || strcmp(de->d_name + SPOOL_QID_LEN, ".env") != 0)
			continue;
		memcpy(qid, de->d_name, SPOOL_QID_LEN);
		qid[SPOOL_QID_LEN] = '\0';
		struct spool_env e;
		const char *err;
		if (spool_env_read(spool, qid, &e, &err) < 0) {
			printf("%s  unreadable envelope: %s\n", qid, err);
			continue;
		}
		print_env(&e);
		spool_env_free(&e);
		n++;
	}
	closedir(d);
	close(spool);
	printf("%u message%s in the queue\n", n, n == 1 ? "" : "s");
	if (n > 0)
		printf("(a recipient filed since the envelope was last written still shows "
		       "pending; the message leaves the queue when all are filed)\n");
	return CLI_OK;
}
