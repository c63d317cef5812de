/* deliver.c: the deliver role. Master runs one per store that has mail to
 * file, confined to that store alone, and keeps it while deliveries keep
 * coming (so a busy mailbox costs one process start and one database open,
 * not one per message). Each delivery arrives as an IPC_DELIVER frame with
 * the queued message as an open descriptor - deliver cannot open the
 * spool. It adds Return-Path and Delivered-To, parses the message once
 * (ENVELOPE, BODYSTRUCTURE, preview and full text cached for IMAP),
 * enforces the quota, files it in INBOX, and answers IPC_DELIVER_DONE:
 *   0 delivered, 1 try later, 2 never, 3 over quota (try later).
 * Deliveries that queued up while it was filing are taken together and
 * filed with one store_append_batch (one set of disk syncs, one
 * transaction), each answered after that commit. Each carries the key
 * "<queue id>/<recipient>", which the store records with the message, so
 * a delivery repeated after a crash (filed, but the queue never heard) is
 * answered delivered without a second copy.
 * After RD_DELIVER_IDLE_S without work it asks master to retire it. */
#include "master/role.h"
#include "master/policy.h"
#include "store/store.h"
#include "mime/mime.h"
#include "lib/buffer.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "limits.h"
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { D_OK = 0, D_TEMP = 1, D_PERM = 2, D_FULL = 3 };

struct deliver {
	struct role_ctx *ctx;
	struct store *store;
	int64_t inbox;
};

static int add_size(void *ctx, const struct store_mailbox_info *mb)
{
	*(uint64_t *)ctx += mb->total_size;
	return 0;
}

static int read_message(int fd, struct buffer *b)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    (uint64_t)st.st_size > (uint64_t)RD_STORE_MAX_MESSAGE + 65536)
		return -1;
	size_t want = (size_t)st.st_size, base = b->len;
	if (buffer_append(b, NULL, 0) < 0)
		return -1;
	uint8_t *tmp = malloc(want);
	size_t got = 0;
	while (tmp && got < want) {
		ssize_t n = pread(fd, tmp + got, want - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	int r = tmp != NULL && got == want && buffer_append(b, tmp, want) == 0 ? 0 : -1;
	free(tmp);
	if (r < 0)
		b->len = base;
	return r;
}

/* One delivery of a batch, from its IPC_DELIVER frame to its answer. */
struct job {
	uint32_t id;
	int status;                  /* D_*, or -1 while it is to be filed */
	char qid[32], rcpt[RD_MAX_ADDRESS + 1], from[RD_MAX_ADDRESS + 1];
	char key[RD_STORE_MAX_DELIVERY_KEY + 1];
	struct buffer b;
	struct mime_result mr;
	bool parsed;
	struct store_append a;
};

/* Read, check and parse one message; status stays -1 if it is to be
 * filed. *used is the store's size plus what this batch already adds. */
static void prepare(struct deliver *d, struct job *j, int fd, uint64_t *used)
{
	const char *err;
	struct stat st;
	j->status = D_TEMP;
	if (fstat(fd, &st) < 0)
		return;
	buffer_init(&j->b, (size_t)st.st_size + 2 * RD_MAX_ADDRESS + 64);
	/* RFC 5321 4.4: the final delivery adds Return-Path */
	if (buffer_printf(&j->b, "Return-Path: <%s>\r\nDelivered-To: %s\r\n", j->from,
			  j->rcpt) < 0 || read_message(fd, &j->b) < 0) {
		log_error("deliver_read_failed", "qid", j->qid);
		return;
	}
	if (d->ctx->quota_bytes > 0 && *used + j->b.len > d->ctx->quota_bytes) {
		char u[24];
		snprintf(u, sizeof(u), "%llu", (unsigned long long)*used);
		log_warn("deliver_over_quota", "qid", j->qid, "to", j->rcpt, "used", u);
		j->status = D_FULL;
		return;
	}
	/* parse once here, so IMAP serves ENVELOPE, BODYSTRUCTURE and search
	 * from the cache and never reparses */
	if (mime_parse(j->b.data, j->b.len, &j->mr, &err) < 0) {
		log_error("deliver_parse_failed", "qid", j->qid, "reason", err);
		return;
	}
	j->parsed = true;
	const char *env, *bs, *preview, *text;
	if (buffer_cstr(&j->mr.envelope, &env) < 0 || buffer_cstr(&j->mr.bodystructure, &bs) < 0 ||
	    buffer_cstr(&j->mr.preview, &preview) < 0 || buffer_cstr(&j->mr.fulltext, &text) < 0)
		env = bs = preview = text = NULL;
	/* the store files a (queue id, recipient) once: a redelivery after a
	 * crash between its commit and the spool removal is recognised */
	snprintf(j->key, sizeof(j->key), "%s/%s", j->qid, j->rcpt);
	j->a = (struct store_append){ .data = j->b.data, .size = j->b.len,
				      .internal_date = time(NULL), .envelope = env,
				      .bodystructure = bs, .preview = preview,
				      .fulltext = text, .delivery_key = j->key };
	*used += j->b.len;
	j->status = -1;
}

static void filed(struct job *j, uint32_t uid, size_t batch)
{
	char u[16], b[16];
	if (uid == 0) {
		log_info("delivery_duplicate", "qid", j->qid, "to", j->rcpt,
			 "reason", "filed before, not acknowledged");
	} else {
		snprintf(u, sizeof(u), "%u", uid);
		snprintf(b, sizeof(b), "%zu", batch);
		log_info("filed", "qid", j->qid, "to", j->rcpt, "mailbox", "INBOX", "uid", u,
			 "batch", b);
	}
	j->status = D_OK;
}

static int append_status(struct job *j, int r, const char *err)
{
	log_error("deliver_append_failed", "qid", j->qid, "to", j->rcpt, "reason", err);
	return (r == STORE_LIMIT || r == STORE_INVALID) ? D_PERM : D_TEMP;
}

/* File every prepared job of the batch with one store_append_batch (its
 * syncs and its transaction shared). If the batch fails, each is tried on
 * its own, so one message the store refuses does not hold up the rest. */
static void file_jobs(struct deliver *d, struct job *jobs, size_t n)
{
	struct store_append a[RD_STORE_MAX_APPEND_BATCH];
	uint32_t uids[RD_STORE_MAX_APPEND_BATCH];
	uint64_t modseqs[RD_STORE_MAX_APPEND_BATCH];
	size_t idx[RD_STORE_MAX_APPEND_BATCH], k = 0;
	const char *err;
	for (size_t i = 0; i < n; i++)
		if (jobs[i].status == -1) {
			idx[k] = i;
			a[k++] = jobs[i].a;
		}
	if (k == 0)
		return;
	int r = store_append_batch(d->store, d->inbox, a, k, uids, modseqs, &err);
	for (size_t i = 0; i < k; i++) {
		struct job *j = &jobs[idx[i]];
		if (r == STORE_OK) {
			filed(j, uids[i], k);
			continue;
		}
		int r1 = k == 1 ? r : store_append(d->store, d->inbox, &j->a, &uids[i],
						   &modseqs[i], &err);
		if (r1 == STORE_OK)
			filed(j, uids[i], 1);
		else
			j->status = append_status(j, r1, err);
	}
}

static int answer(int ipc, uint32_t id, uint32_t status)
{
	struct ipc_msg m;
	const char *err;
	ipc_msg_init(&m, IPC_DELIVER_DONE, id);
	ipc_put_u32(&m, status);
	int r = ipc_send(ipc, &m, -1, &err);
	ipc_msg_free(&m);
	return r;
}

/* Decode one IPC_DELIVER frame into j; -1 on a malformed one. */
static int decode(struct deliver *d, struct ipc_header *h, struct ipc_reader *r, int fd,
		  struct job *j)
{
	char store[65];
	const char *err;
	memset(j, 0, sizeof(*j));
	j->id = h->id;
	if (fd < 0 || h->type != IPC_DELIVER ||
	    ipc_get_str(r, j->qid, sizeof(j->qid), &err) < 0 ||
	    ipc_get_str(r, store, sizeof(store), &err) < 0 ||
	    ipc_get_str(r, j->rcpt, sizeof(j->rcpt), &err) < 0 ||
	    ipc_get_str(r, j->from, sizeof(j->from), &err) < 0 || ipc_end(r, &err) < 0 ||
	    strcmp(store, d->ctx->store_id) != 0) {
		log_error("ipc_bad_frame", "reason", "malformed delivery");
		return -1;
	}
	return 0;
}

static bool readable_now(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, 0) > 0;
}

/* Take every delivery waiting on the socket right now (up to the caps),
 * file them together, answer each after the commit. Returns 1 to go on,
 * 0 on an orderly end (shutdown, master gone), -1 on a bad frame. */
static int run_batch(struct deliver *d, uint8_t *buf, struct job *jobs)
{
	const char *err;
	size_t n = 0;
	uint64_t used = 0, bytes = 0;
	int rc = 1;
	if (d->ctx->quota_bytes > 0 && store_mailbox_list(d->store, add_size, &used, &err) != STORE_OK)
		used = UINT64_MAX / 2;    /* unknown: every message is told to retry */
	do {
		struct ipc_header h;
		struct ipc_reader r;
		int fd;
		int got = ipc_recv(d->ctx->ipc_fd, buf, IPC_RECV_BUFSIZE, &h, &r, &fd, &err);
		if (got == 0 || (got == 1 && h.type == IPC_SHUTDOWN)) {
			if (fd >= 0)
				close(fd);
			rc = 0;
			break;
		}
		if (got < 0 || decode(d, &h, &r, fd, &jobs[n]) < 0) {
			if (fd >= 0)
				close(fd);
			rc = -1;
			break;
		}
		prepare(d, &jobs[n], fd, &used);
		close(fd);
		bytes += jobs[n].b.len;
		n++;
	} while (n < RD_STORE_MAX_APPEND_BATCH && bytes < RD_DELIVER_BATCH_BYTES &&
		 readable_now(d->ctx->ipc_fd));
	file_jobs(d, jobs, n);
	for (size_t i = 0; i < n; i++) {
		if (answer(d->ctx->ipc_fd, jobs[i].id, (uint32_t)jobs[i].status) < 0)
			rc = -1;
		if (jobs[i].parsed)
			mime_result_free(&jobs[i].mr);
		buffer_free(&jobs[i].b);
	}
	return rc;
}

int deliver_main(struct role_ctx *ctx)
{
	struct role_policy rp;
	const char *err;
	char stores[4096];
	if (role_policy_make(&rp, "deliver", ctx->data_dir, ctx->store_id, ctx->run_as_user) < 0) {
		log_error("deliver_bad_arguments");
		return 1;
	}
	/* confined to this one store before touching it */
	if (role_confine(ctx, &rp.p) < 0)
		return 1;
	struct deliver d = { .ctx = ctx };
	struct store_mailbox_info mb;
	snprintf(stores, sizeof(stores), "%s/stores", ctx->data_dir);
	struct store_params sp = { .stores_root = stores };
	if (store_open(&sp, ctx->store_id, &d.store, &err) != STORE_OK ||
	    store_mailbox_get(d.store, "INBOX", &mb, &err) != STORE_OK) {
		log_error("deliver_store_failed", "store", ctx->store_id, "reason", err);
		return 1;
	}
	d.inbox = mb.id;
	uint8_t *buf = malloc(IPC_RECV_BUFSIZE);
	struct job *jobs = calloc(RD_STORE_MAX_APPEND_BATCH, sizeof(*jobs));
	if (buf == NULL || jobs == NULL) {
		free(buf);
		free(jobs);
		store_close(&d.store);
		return 1;
	}
	role_send_ready(ctx);
	time_t last = time(NULL);
	int asked = 0, rc = 0;
	for (;;) {
		struct pollfd pfd = { .fd = ctx->ipc_fd, .events = POLLIN };
		int pr = poll(&pfd, 1, 1000);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0) {
			if (!asked && time(NULL) - last >= (time_t)RD_DELIVER_IDLE_S) {
				/* master decides, so no delivery it is handing over is lost */
				struct ipc_msg m;
				ipc_msg_init(&m, IPC_WORKER_IDLE, 0);
				asked = ipc_send(ctx->ipc_fd, &m, -1, &err) == 0;
				ipc_msg_free(&m);
			}
			continue;
		}
		int br = run_batch(&d, buf, jobs);
		if (br <= 0) {
			rc = br < 0;
			break;
		}
		last = time(NULL);
		asked = 0;
	}
	free(jobs);
	store_close(&d.store);
	free(buf);
	return rc;
}
