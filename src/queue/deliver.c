/* deliver.c: the deliver role. Master runs one per store that has mail to
 * file, confined to that store alone, and keeps it while deliveries keep
 * coming (so a busy mailbox costs one process start and one database open,
 * not one per message). Each delivery arrives as an IPC_DELIVER frame with
 * the queued message as an open descriptor - deliver cannot open the
 * spool. It adds Return-Path and Delivered-To, parses the message once
 * (ENVELOPE, BODYSTRUCTURE, preview and full text cached for IMAP),
 * enforces the quota, files it in INBOX, and answers IPC_DELIVER_DONE:
 *   0 delivered, 1 try later, 2 never, 3 over quota (try later).
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

static int deliver_one(struct deliver *d, int fd, const char *qid, const char *rcpt,
		       const char *from)
{
	const char *err;
	struct buffer b;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return D_TEMP;
	buffer_init(&b, (size_t)st.st_size + 2 * RD_MAX_ADDRESS + 64);
	/* RFC 5321 4.4: the final delivery adds Return-Path */
	if (buffer_printf(&b, "Return-Path: <%s>\r\nDelivered-To: %s\r\n", from, rcpt) < 0 ||
	    read_message(fd, &b) < 0) {
		log_error("deliver_read_failed", "qid", qid);
		buffer_free(&b);
		return D_TEMP;
	}
	if (d->ctx->quota_bytes > 0) {
		uint64_t used = 0;
		if (store_mailbox_list(d->store, add_size, &used, &err) != STORE_OK) {
			buffer_free(&b);
			return D_TEMP;
		}
		if (used + b.len > d->ctx->quota_bytes) {
			char u[24];
			snprintf(u, sizeof(u), "%llu", (unsigned long long)used);
			log_warn("deliver_over_quota", "qid", qid, "to", rcpt, "used", u);
			buffer_free(&b);
			return D_FULL;
		}
	}
	/* parse once here, so IMAP serves ENVELOPE, BODYSTRUCTURE and search
	 * from the cache and never reparses */
	struct mime_result mr;
	if (mime_parse(b.data, b.len, &mr, &err) < 0) {
		log_error("deliver_parse_failed", "qid", qid, "reason", err);
		buffer_free(&b);
		return D_TEMP;
	}
	const char *env, *bs, *preview, *text;
	if (buffer_cstr(&mr.envelope, &env) < 0 || buffer_cstr(&mr.bodystructure, &bs) < 0 ||
	    buffer_cstr(&mr.preview, &preview) < 0 || buffer_cstr(&mr.fulltext, &text) < 0)
		env = bs = preview = text = NULL;
	struct store_append a = { .data = b.data, .size = b.len, .internal_date = time(NULL),
				  .envelope = env, .bodystructure = bs, .preview = preview,
				  .fulltext = text };
	uint32_t uid;
	uint64_t modseq;
	int r = store_append(d->store, d->inbox, &a, &uid, &modseq, &err);
	int rc;
	if (r == STORE_OK) {
		char u[16];
		snprintf(u, sizeof(u), "%u", uid);
		log_info("filed", "qid", qid, "to", rcpt, "mailbox", "INBOX", "uid", u);
		rc = D_OK;
	} else {
		log_error("deliver_append_failed", "qid", qid, "to", rcpt, "reason", err);
		rc = (r == STORE_LIMIT || r == STORE_INVALID) ? D_PERM : D_TEMP;
	}
	mime_result_free(&mr);
	buffer_free(&b);
	return rc;
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

static int handle(struct deliver *d, struct ipc_header *h, struct ipc_reader *r, int fd)
{
	char qid[32], store[65], rcpt[RD_MAX_ADDRESS + 1], from[RD_MAX_ADDRESS + 1];
	const char *err;
	if (fd < 0 || ipc_get_str(r, qid, sizeof(qid), &err) < 0 ||
	    ipc_get_str(r, store, sizeof(store), &err) < 0 ||
	    ipc_get_str(r, rcpt, sizeof(rcpt), &err) < 0 ||
	    ipc_get_str(r, from, sizeof(from), &err) < 0 || ipc_end(r, &err) < 0 ||
	    strcmp(store, d->ctx->store_id) != 0) {
		log_error("ipc_bad_frame", "reason", "malformed delivery");
		return -1;
	}
	int status = deliver_one(d, fd, qid, rcpt, from);
	return answer(d->ctx->ipc_fd, h->id, (uint32_t)status);
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
	if (buf == NULL)
		return 1;
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
		struct ipc_header h;
		struct ipc_reader r;
		int fd;
		int n = ipc_recv(ctx->ipc_fd, buf, IPC_RECV_BUFSIZE, &h, &r, &fd, &err);
		if (n == 0 || (n == 1 && h.type == IPC_SHUTDOWN)) {
			if (fd >= 0)
				close(fd);
			break;
		}
		if (n < 0 || h.type != IPC_DELIVER || handle(&d, &h, &r, fd) < 0) {
			if (fd >= 0)
				close(fd);
			rc = 1;
			break;
		}
		close(fd);
		last = time(NULL);
		asked = 0;
	}
	store_close(&d.store);
	free(buf);
	return rc;
}
