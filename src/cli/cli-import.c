/* cli-import.c: `redoubt import --user ADDRESS [--mailbox NAME] PATH`,
 * bringing an mbox file or a Maildir / Maildir++ tree into a user's store.
 *
 * Local only (ARCHITECTURE rule 4). The archive is untrusted: the source is
 * read as the data owner (root is dropped first, so a link to a root-only
 * file reads nothing), Maildir paths go through import/maildir.c, which
 * never follows a link, and folder names pass two checks (the walker's and
 * the store's). Each message is parsed once (mime_parse, as deliver does)
 * and appended with its caches, up to RD_STORE_MAX_PACK_BATCH messages
 * (or RD_IMPORT_BATCH_BYTES) at a time with store_append_packed() (one
 * file for the batch), so the
 * disk syncs are shared: what was committed is there after a crash, the
 * batch being filed is not (run the import again for the rest).
 *
 * The search text is not indexed here: messages are filed with text_later
 * and the index is built after (src/indexer), by the user's worker in the
 * background or before a SEARCH that needs it, or by `redoubt index`
 * (also here). The trigram index costs more than the rest of filing. */
#include "cli/cli-common.h"
#include "import/mbox.h"
#include "import/maildir.h"
#include "imap/imap-args.h"
#include "mime/mime.h"
#include "indexer/indexer.h"
#include "store/store.h"
#include "master/master-audit.h"
#include "limits.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>

#define MAX_REASONS 16
#define PROGRESS_TTY_S 0.1
#define PROGRESS_LINE_S 5.0
#define BAR_WIDTH 30

struct reason_count {
	const char *reason;
	uint64_t count;
};

struct importer {
	struct cli_user_store us;
	const char *target;          /* --mailbox, or INBOX */
	int64_t mailbox_id;          /* where messages go now */
	struct buffer msg;           /* the message being assembled (CRLF) */
	uint8_t *raw;                /* Maildir file contents */
	size_t raw_cap;
	bool oversize;
	int64_t date;
	uint64_t mbox_index;
	uint64_t imported, skipped, bytes, created;
	struct reason_count reasons[MAX_REASONS];
	/* progress */
	bool tty;
	uint64_t done, total;        /* bytes (mbox) or files (Maildir) */
	double start, last_shown;
	bool bar_shown;
	/* a store failure stops the import */
	const char *fatal;
	/* Parsed messages wait in a batch; a full batch is filed by a
	 * writer thread while the next one is parsed (two cores: parsing
	 * and the disk syncs overlap). Only the thread holding a batch
	 * touches it, and the store is used by one thread at a time. */
	struct batch {
		struct pending {
			uint8_t *data;
			size_t len;
			unsigned flags;
			int64_t date;
			struct mime_result mr;
			char what[128];
		} *pend;
		struct store_append *a;
		uint32_t *uids;
		uint64_t *modseqs;
		size_t npend, pend_bytes;
		struct store *store;
		int64_t mailbox_id;
		int r;                   /* the writer's answer */
		const char *err;
	} b[2];
	unsigned cur;                /* the batch being filled */
	pthread_t writer;
	bool writing;                /* the writer has the other batch */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bar_clear(struct importer *im)
{
	if (im->tty && im->bar_shown) {
		fputs("\r\033[K", stderr);
		im->bar_shown = false;
	}
}

static void progress(struct importer *im, bool final)
{
	double t = now_s(), el = t - im->start;
	if (!final && t - im->last_shown < (im->tty ? PROGRESS_TTY_S : PROGRESS_LINE_S))
		return;
	im->last_shown = t;
	double rate = el > 0 ? (double)im->imported / el : 0;
	unsigned pct = im->total ? (unsigned)(im->done * 100 / im->total) : 100;
	if (pct > 100)
		pct = 100;
	if (im->tty) {
		char bar[BAR_WIDTH + 1];
		unsigned fill = pct * BAR_WIDTH / 100;
		for (unsigned i = 0; i < BAR_WIDTH; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[BAR_WIDTH] = '\0';
		fprintf(stderr, "\r\033[K[%s] %3u%%  %llu messages  %.0f msg/s", bar, pct,
			(unsigned long long)im->imported, rate);
		im->bar_shown = true;
		if (final)
			bar_clear(im);
	} else if (!final) {
		fprintf(stderr, "import: %u%% done, %llu messages, %.0f msg/s\n", pct,
			(unsigned long long)im->imported, rate);
	}
	fflush(stderr);
}

static void skip(struct importer *im, const char *what, const char *reason)
{
	size_t i;
	bar_clear(im);
	fprintf(stderr, "redoubt import: skipped %s: %s\n", what, reason);
	im->skipped++;
	for (i = 0; i < MAX_REASONS - 1 && im->reasons[i].reason != NULL; i++)
		if (strcmp(im->reasons[i].reason, reason) == 0)
			break;
	if (im->reasons[i].reason == NULL)
		im->reasons[i].reason = i == MAX_REASONS - 1 ? "other reasons" : reason;
	im->reasons[i].count++;
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->npend; i++) {
		free(b->pend[i].data);
		mime_result_free(&b->pend[i].mr);
	}
	b->npend = 0;
	b->pend_bytes = 0;
}

static int batch_alloc(struct batch *b)
{
	if (b->pend != NULL)
		return 0;
	b->pend = calloc(RD_STORE_MAX_PACK_BATCH, sizeof(*b->pend));
	b->a = calloc(RD_STORE_MAX_PACK_BATCH, sizeof(*b->a));
	b->uids = calloc(RD_STORE_MAX_PACK_BATCH, sizeof(*b->uids));
	b->modseqs = calloc(RD_STORE_MAX_PACK_BATCH, sizeof(*b->modseqs));
	return b->pend && b->a && b->uids && b->modseqs ? 0 : -1;
}

static void store_append_of(const struct pending *p, struct store_append *a)
{
	const char *env, *bs, *preview;
	struct mime_result *mr = (struct mime_result *)&p->mr;
	if (buffer_cstr(&mr->envelope, &env) < 0 || buffer_cstr(&mr->bodystructure, &bs) < 0 ||
	    buffer_cstr(&mr->preview, &preview) < 0)
		env = bs = preview = NULL;
	/* the search text comes later (the top of this file) */
	*a = (struct store_append){ .data = p->data, .size = p->len, .flags = p->flags,
				    .internal_date = p->date, .envelope = env,
				    .bodystructure = bs, .preview = preview, .text_later = true };
}

/* The writer: one pack for the batch. */
static void *batch_write(void *arg)
{
	struct batch *b = arg;
	b->r = store_append_packed(b->store, b->mailbox_id, b->a, b->npend, b->uids,
				   b->modseqs, &b->err);
	return NULL;
}

/* After the writer: counts, or when the store refused the batch for one
 * of its messages (a cap), one by one, to skip just that one. -1 only
 * for a failure that stops the import. */
static int batch_done(struct importer *im, struct batch *b)
{
	const char *err;
	int rc = 0, r = b->r;
	if (r == STORE_OK) {
		im->imported += b->npend;
		im->bytes += b->pend_bytes;
	} else if (r == STORE_LIMIT || r == STORE_INVALID) {
		for (size_t i = 0; i < b->npend && rc == 0; i++) {
			r = store_append(im->us.store, b->mailbox_id, &b->a[i], &b->uids[0],
					 &b->modseqs[0], &err);
			if (r == STORE_LIMIT || r == STORE_INVALID) {
				skip(im, b->pend[i].what, err);
			} else if (r != STORE_OK) {
				im->fatal = err;
				rc = -1;
			} else {
				im->imported++;
				im->bytes += b->pend[i].len;
			}
		}
	} else {
		im->fatal = b->err;
		rc = -1;
	}
	batch_free(b);
	progress(im, false);
	return rc;
}

/* Waits for the writer, if one runs, and takes its answer. */
static int batch_wait(struct importer *im)
{
	if (!im->writing)
		return 0;
	pthread_join(im->writer, NULL);
	im->writing = false;
	return batch_done(im, &im->b[im->cur ^ 1u]);
}

/* Hands the batch being filled to a writer (the previous one done
 * first) and goes on with the other; sync: files it here and waits. */
static int batch_send(struct importer *im, bool sync)
{
	struct batch *b = &im->b[im->cur];
	if (batch_wait(im) < 0)
		return -1;
	if (b->npend == 0)
		return 0;
	for (size_t i = 0; i < b->npend; i++)
		store_append_of(&b->pend[i], &b->a[i]);
	b->store = im->us.store;
	b->mailbox_id = im->mailbox_id;
	if (!sync && pthread_create(&im->writer, NULL, batch_write, b) == 0) {
		im->writing = true;
		im->cur ^= 1u;
		return 0;
	}
	batch_write(b);
	return batch_done(im, b);
}

/* Files everything parsed so far and waits for it. */
static int pending_flush(struct importer *im)
{
	return batch_send(im, true);
}

/* Parse once and queue for the next batch. -1 only for a failure that
 * stops the import (the store cannot take more). */
static int import_one(struct importer *im, const char *what, unsigned flags, int64_t date)
{
	const char *err;
	struct batch *b = &im->b[im->cur];
	if (im->msg.len == 0) {
		skip(im, what, "empty message");
		return 0;
	}
	if (batch_alloc(b) < 0) {
		im->fatal = "out of memory";
		return -1;
	}
	struct pending *p = &b->pend[b->npend];
	memset(p, 0, sizeof(*p));
	if (mime_parse_no_text(im->msg.data, im->msg.len, &p->mr, &err) < 0) {
		mime_result_free(&p->mr);
		im->fatal = err;
		return -1;
	}
	if ((p->data = malloc(im->msg.len)) == NULL) {
		mime_result_free(&p->mr);
		im->fatal = "out of memory";
		return -1;
	}
	memcpy(p->data, im->msg.data, im->msg.len);
	p->len = im->msg.len;
	p->flags = flags;
	p->date = date;
	/* a label for messages: a long path is cut, on purpose */
	snprintf(p->what, sizeof(p->what), "%.*s", (int)sizeof(p->what) - 1, what);
	b->npend++;
	b->pend_bytes += p->len;
	if (b->npend == RD_STORE_MAX_PACK_BATCH || b->pend_bytes >= RD_IMPORT_BATCH_BYTES)
		return batch_send(im, false);
	return 0;
}

/* The mailbox named name, created when missing; what waits for the
 * previous one is filed first. */
static int use_mailbox(struct importer *im, const char *name, const char **error_r)
{
	if (pending_flush(im) < 0) {
		*error_r = im->fatal;
		return -1;
	}
	struct store_mailbox_info info;
	int r = store_mailbox_get(im->us.store, name, &info, error_r);
	if (r == STORE_OK) {
		im->mailbox_id = info.id;
		return 0;
	}
	if (r != STORE_NOT_FOUND)
		return -1;
	if (store_mailbox_create(im->us.store, name, STORE_SPECIAL_NONE, &im->mailbox_id,
				 error_r) != STORE_OK)
		return -1;
	im->created++;
	bar_clear(im);
	fprintf(stderr, "redoubt import: created mailbox %s\n", name);
	return 0;
}

/* ---- mbox ---- */

static int mbox_begin(void *ctx, int64_t date)
{
	struct importer *im = ctx;
	buffer_reset(&im->msg);
	im->oversize = false;
	im->date = date;
	im->mbox_index++;
	return 0;
}

static int mbox_data(void *ctx, const uint8_t *p, size_t n)
{
	struct importer *im = ctx;
	if (!im->oversize && buffer_append(&im->msg, p, n) < 0) {
		im->oversize = true;
		buffer_free(&im->msg);   /* give the 50 MiB back while skipping */
		buffer_init(&im->msg, RD_STORE_MAX_MESSAGE);
	}
	return 0;
}

static int mbox_end(void *ctx)
{
	struct importer *im = ctx;
	char what[64];
	snprintf(what, sizeof(what), "message %llu", (unsigned long long)im->mbox_index);
	if (im->oversize) {
		skip(im, what, "larger than the store's message cap (RD_STORE_MAX_MESSAGE)");
		return 0;
	}
	return import_one(im, what, 0, im->date) < 0 ? -1 : 0;
}

static int import_mbox(struct importer *im, int fd)
{
	const char *err;
	struct stat st;
	struct mbox_splitter *sp = malloc(sizeof(*sp));
	uint8_t *chunk = malloc(RD_IMPORT_READ_CHUNK);
	int rc = -1;
	if (sp == NULL || chunk == NULL || fstat(fd, &st) < 0) {
		fprintf(stderr, "redoubt import: out of memory\n");
		goto out;
	}
	if (use_mailbox(im, im->target, &err) < 0) {
		fprintf(stderr, "redoubt import: mailbox %s: %s\n", im->target, err);
		goto out;
	}
	im->total = (uint64_t)st.st_size;
	struct mbox_sink sink = { mbox_begin, mbox_data, mbox_end, im };
	mbox_init(sp, &sink);
	for (;;) {
		ssize_t n = read(fd, chunk, RD_IMPORT_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "redoubt import: read: %s\n", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		im->done += (uint64_t)n;
		if (mbox_feed(sp, chunk, (size_t)n) < 0)
			goto out;
		progress(im, false);
	}
	if (mbox_finish(sp) < 0)
		goto out;
	if (sp->preamble_bytes > 0) {
		bar_clear(im);
		if (sp->messages == 0) {
			fprintf(stderr, "redoubt import: not an mbox file: no \"From \" line with a date "
				"starts a message\n");
			goto out;
		}
		fprintf(stderr, "redoubt import: warning: %llu octets before the first From_ line "
			"ignored\n", (unsigned long long)sp->preamble_bytes);
	}
	rc = 0;
out:
	free(chunk);
	free(sp);
	return rc;
}

/* ---- Maildir ---- */

static void maildir_skipped(void *ctx, const char *path, const char *reason)
{
	skip(ctx, path, reason);
}

/* Reads fd (st_size octets) into im->msg with CRLF line ends. */
static const char *read_maildir_file(struct importer *im, int fd, const struct stat *st)
{
	size_t want = (size_t)st->st_size, got = 0;
	if ((uint64_t)st->st_size > RD_STORE_MAX_MESSAGE)
		return "larger than the store's message cap (RD_STORE_MAX_MESSAGE)";
	if (want > im->raw_cap) {
		uint8_t *nr = realloc(im->raw, want);
		if (nr == NULL)
			return "out of memory";
		im->raw = nr;
		im->raw_cap = want;
	}
	while (got < want) {
		ssize_t n = read(fd, im->raw + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buffer_reset(&im->msg);
	if (maildir_crlf(im->raw, got, &im->msg) < 0)
		return "larger than the store's message cap (RD_STORE_MAX_MESSAGE)";
	return NULL;
}

static int import_folder(struct importer *im, int root_fd, struct maildir_folder *f)
{
	char name[RD_STORE_MAX_MAILBOX_NAME * 2 + 8], decoded[RD_STORE_MAX_MAILBOX_NAME * 2 + 8];
	char what[4096];
	const char *err, *level = f->name;
	/* Maildir++ names are modified UTF-7 (as IMAP servers wrote them) */
	if (strchr(level, '&') != NULL && imap_mutf7_decode(level, decoded, sizeof(decoded)) == 0)
		level = decoded;
	int n;
	if (f->name[0] == '\0')
		n = snprintf(name, sizeof(name), "%s", im->target);
	else if (strcasecmp(im->target, "INBOX") == 0)
		n = snprintf(name, sizeof(name), "%s", level);
	else
		n = snprintf(name, sizeof(name), "%s/%s", im->target, level);
	err = "mailbox name too long";
	if (n < 0 || (size_t)n >= sizeof(name) || !store_mailbox_name_valid(name, &err) ||
	    use_mailbox(im, name, &err) < 0 ||
	    maildir_folder_open(root_fd, f, &err) < 0) {
		snprintf(what, sizeof(what), "folder %s (%zu messages)", f->dirname[0] ? f->dirname : ".",
			 f->nfiles);
		skip(im, what, err);
		im->done += f->nfiles;
		return 0;
	}
	int rc = 0;
	for (size_t i = 0; i < f->nfiles && rc == 0; i++) {
		const struct maildir_file *mf = &f->files[i];
		const char *reason;
		struct stat st;
		int fd;
		snprintf(what, sizeof(what), "%s%s%s/%s", f->dirname, f->dirname[0] ? "/" : "",
			 mf->sub ? "new" : "cur", mf->name);
		im->done++;
		if (maildir_message_open(f, mf, &fd, &st, &reason) < 0) {
			skip(im, what, reason);
			continue;
		}
		reason = read_maildir_file(im, fd, &st);
		close(fd);
		if (reason != NULL)
			skip(im, what, reason);
		else
			rc = import_one(im, what, maildir_info_flags(mf->name), (int64_t)st.st_mtim.tv_sec);
	}
	maildir_folder_close(f);
	return rc;
}

static int import_maildir(struct importer *im, int root_fd)
{
	struct maildir_tree tree;
	const char *err;
	int rc = 0;
	if (maildir_scan(root_fd, &tree, maildir_skipped, im, &err) < 0) {
		fprintf(stderr, "redoubt import: %s\n", err);
		maildir_tree_free(&tree);
		return -1;
	}
	im->total = tree.total_files;
	for (size_t i = 0; i < tree.nfolders && rc == 0; i++)
		rc = import_folder(im, root_fd, &tree.folders[i]);
	maildir_tree_free(&tree);
	return rc;
}

/* ---- the verb ---- */

static const char import_usage[] =
	"usage: redoubt import --data DIR --user ADDRESS [--mailbox NAME] PATH\n"
	"\n"
	"Imports the messages of PATH into the user's mailbox NAME (default\n"
	"INBOX; created if missing). PATH is an mbox file (messages start at\n"
	"\"From \" lines; \">From \" lines are unquoted, mboxrd style) or a Maildir\n"
	"(cur/ and new/, flags from the :2, suffix). A Maildir++ folder .A.B\n"
	"goes into mailbox A/B (below NAME when NAME is not INBOX), created as\n"
	"needed. The internal date is the From_ line date or the file's mtime.\n"
	"\n"
	"PATH is read as the owner of DIR (the data owner when run as root).\n"
	"Symbolic links inside a Maildir are skipped, never followed; messages\n"
	"over the store's size cap, bad folder names and other files are skipped\n"
	"and reported. A summary ends the run; the import is audited.\n"
	"\n"
	"The messages are in the mailbox when the import ends; their text for\n"
	"SEARCH is indexed after, by the user's session process in the\n"
	"background (or before a search that needs it), or at once with\n"
	"`redoubt index`.\n";

static void summary(struct importer *im, const char *path)
{
	double el = now_s() - im->start;
	progress(im, true);
	printf("Imported %llu messages (%llu octets) into %s of %s in %.2f s (%.0f msg/s)\n",
	       (unsigned long long)im->imported, (unsigned long long)im->bytes, im->target,
	       im->us.user, el, el > 0 ? (double)im->imported / el : 0.0);
	uint64_t waiting = 0;
	const char *err;
	if (store_text_pending_count(im->us.store, 0, &waiting, &err) == STORE_OK && waiting > 0)
		printf("%llu messages wait for their search text: the user's session indexes\n"
		       "them in the background, or run `redoubt index --user %s`\n",
		       (unsigned long long)waiting, im->us.user);
	if (im->skipped > 0) {
		printf("Skipped %llu:\n", (unsigned long long)im->skipped);
		for (size_t i = 0; i < MAX_REASONS && im->reasons[i].reason; i++)
			printf("  %llu\t%s\n", (unsigned long long)im->reasons[i].count,
			       im->reasons[i].reason);
	}
	char count[24], skipped[24];
	snprintf(count, sizeof(count), "%llu", (unsigned long long)im->imported);
	snprintf(skipped, sizeof(skipped), "%llu", (unsigned long long)im->skipped);
	struct audit_kv kv[] = { { "mailbox", im->target }, { "count", count },
				 { "skipped", skipped }, { "source", path } };
	cli_user_store_audit(&im->us, "import", kv, sizeof(kv) / sizeof(kv[0]));
}

int cli_import(int argc, char **argv)
{
	const char *data = NULL, *user = NULL, *mailbox = NULL;
	struct cli_opt opts[] = { { "--data", 1, &data }, { "--user", 1, &user },
				  { "--mailbox", 1, &mailbox }, { NULL, 0, NULL } };
	struct cli_args args;
	int r = cli_parse(argc, argv, 2, opts, &args, 1, import_usage);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	if (args.npositional != 1 || data == NULL || user == NULL) {
		fprintf(stderr, "redoubt import: --data, --user and one PATH are required\n\n%s",
			import_usage);
		return CLI_USAGE;
	}
	struct importer *im = calloc(1, sizeof(*im));
	if (im == NULL)
		return CLI_FAIL;
	buffer_init(&im->msg, RD_STORE_MAX_MESSAGE);
	im->target = mailbox ? mailbox : "INBOX";
	int rc = CLI_FAIL;
	if (cli_user_store_open(data, user, "import", &im->us) < 0)
		goto out;
	/* opened after the drop to the data owner, following only the link
	 * the operator may have given as PATH itself */
	const char *path = args.positional[0];
	char abspath[4096];
	if (realpath(path, abspath) == NULL)
		snprintf(abspath, sizeof(abspath), "%s", path);
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "redoubt import: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "redoubt import: %s: neither an mbox file nor a Maildir\n", path);
		close(fd);
		goto out;
	}
	if (S_ISREG(st.st_mode))
		fcntl(fd, F_SETFL, 0);   /* plain blocking reads from here on */
	im->tty = isatty(STDERR_FILENO) == 1;
	im->start = im->last_shown = now_s();
	r = S_ISDIR(st.st_mode) ? import_maildir(im, fd) : import_mbox(im, fd);
	/* the rest filed; after a failure, the writer's batch still waited for */
	if (r == 0 ? pending_flush(im) < 0 : batch_wait(im) < 0)
		r = -1;
	close(fd);
	if (im->fatal != NULL) {
		bar_clear(im);
		fprintf(stderr, "redoubt import: stopped: %s\n", im->fatal);
	}
	if (im->imported > 0 || im->skipped > 0 || r == 0)
		summary(im, abspath);
	rc = r == 0 && im->fatal == NULL ? CLI_OK : CLI_FAIL;
out:
	cli_user_store_close(&im->us);
	buffer_free(&im->msg);
	free(im->raw);
	for (size_t i = 0; i < 2; i++) {
		batch_free(&im->b[i]);
		free(im->b[i].pend);
		free(im->b[i].a);
		free(im->b[i].uids);
		free(im->b[i].modseqs);
	}
	free(im);
	return rc;
}

/* ---- redoubt index ---- */

static const char index_usage[] =
	"usage: redoubt index --data DIR --user ADDRESS\n"
	"\n"
	"Builds the search text index of the user's messages that wait for it\n"
	"(those `redoubt import` filed), now, with a progress line. The user's\n"
	"session process does the same in the background; both may run.\n";

int cli_index(int argc, char **argv)
{
	const char *data = NULL, *user = NULL, *err = NULL;
	struct cli_opt opts[] = { { "--data", 1, &data }, { "--user", 1, &user },
				  { NULL, 0, NULL } };
	struct cli_args args;
	int r = cli_parse(argc, argv, 2, opts, &args, 0, index_usage);
	if (r != 0)
		return r < 0 ? CLI_OK : r;
	if (data == NULL || user == NULL) {
		fprintf(stderr, "redoubt index: --data and --user are required\n\n%s", index_usage);
		return CLI_USAGE;
	}
	struct cli_user_store us;
	if (cli_user_store_open(data, user, "index", &us) < 0)
		return CLI_FAIL;
	uint64_t waiting = 0, done = 0;
	size_t step = 0;
	bool tty = isatty(STDERR_FILENO) == 1;
	double start = now_s(), shown = start;
	int rc = CLI_OK;
	if (store_text_pending_count(us.store, 0, &waiting, &err) != STORE_OK)
		rc = CLI_FAIL;
	while (rc == CLI_OK && (r = indexer_step(us.store, 0, RD_STORE_MAX_TEXT_BATCH, &step, &err)) > 0) {
		done += step;
		double t = now_s();
		if (t - shown >= (tty ? PROGRESS_TTY_S : PROGRESS_LINE_S)) {
			fprintf(stderr, tty ? "\rindexed %llu of %llu" : "indexed %llu of %llu\n",
				(unsigned long long)done, (unsigned long long)waiting);
			shown = t;
		}
	}
	if (tty && shown > start)
		fputc('\n', stderr);
	if (rc != CLI_OK || r < 0) {
		fprintf(stderr, "redoubt index: %s\n", err != NULL ? err : "failed");
		rc = CLI_FAIL;
	}
	double el = now_s() - start;
	printf("Indexed the text of %llu messages of %s in %.2f s (%.0f msg/s)\n",
	       (unsigned long long)done, us.user, el, el > 0 ? (double)done / el : 0.0);
	/* the operator had the user's mail read (to index it, nothing shown):
	 * on the record like the import */
	char count[24];
	snprintf(count, sizeof(count), "%llu", (unsigned long long)done);
	struct audit_kv kv[] = { { "count", count } };
	cli_user_store_audit(&us, "index", kv, 1);
	cli_user_store_close(&us);
	return rc;
}
