/* deliver.c: the deliver role: one short-lived process per recipient
 * store, confined to that store alone. It gets the queued message as an
 * open descriptor (it cannot open the spool), adds Return-Path and
 * Delivered-To, files the message in INBOX and exits:
 *   0 delivered, 75 (EX_TEMPFAIL) try later, 65 (EX_DATAERR) never. */
#include "master/role.h"
#include "master/policy.h"
#include "store/store.h"
#include "mime/mime.h"
#include "lib/buffer.h"
#include "lib/log.h"
#include "limits.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EX_OK_ 0
#define EX_DATAERR_ 65
#define EX_TEMPFAIL_ 75
#define EX_OVERQUOTA_ 73   /* EX_CANTCREAT: master reports it as "full" */

static int add_size(void *ctx, const struct store_mailbox_info *mb)
{
	*(uint64_t *)ctx += mb->total_size;
	return 0;
}

int deliver_main(struct role_ctx *ctx)
{
	struct role_policy rp;
	const char *err;
	char stores[4096];
	if (ctx->msg_fd < 0 || ctx->rcpt == NULL || ctx->from == NULL || ctx->qid == NULL ||
	    role_policy_make(&rp, "deliver", ctx->data_dir, ctx->store_id, ctx->run_as_user) < 0) {
		log_error("deliver_bad_arguments");
		return EX_DATAERR_;
	}
	if (role_confine(ctx, &rp.p) < 0)
		return EX_TEMPFAIL_;
	struct stat st;
	if (fstat(ctx->msg_fd, &st) < 0 || st.st_size <= 0 ||
	    (uint64_t)st.st_size > (uint64_t)RD_STORE_MAX_MESSAGE + 65536) {
		log_error("deliver_bad_message", "qid", ctx->qid);
		return EX_DATAERR_;
	}
	struct buffer b;
	buffer_init(&b, (size_t)st.st_size + 2 * RD_MAX_ADDRESS + 64);
	/* RFC 5321 4.4: the final delivery adds Return-Path */
	if (buffer_printf(&b, "Return-Path: <%s>\r\nDelivered-To: %s\r\n", ctx->from, ctx->rcpt) < 0)
		return EX_TEMPFAIL_;
	size_t head = b.len;
	if (buffer_append(&b, NULL, 0) < 0)
		return EX_TEMPFAIL_;
	/* read the whole message after the new headers */
	{
		size_t want = (size_t)st.st_size;
		uint8_t *tmp = malloc(want);
		size_t got = 0;
		while (tmp && got < want) {
			ssize_t n = pread(ctx->msg_fd, tmp + got, want - got, (off_t)got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (tmp == NULL || got != want || buffer_append(&b, tmp, want) < 0) {
			free(tmp);
			log_error("deliver_read_failed", "qid", ctx->qid);
			return EX_TEMPFAIL_;
		}
		free(tmp);
	}
	(void)head;
	snprintf(stores, sizeof(stores), "%s/stores", ctx->data_dir);
	struct store_params sp = { .stores_root = stores };
	struct store *s;
	struct store_mailbox_info mb;
	if (store_open(&sp, ctx->store_id, &s, &err) != STORE_OK) {
		log_error("deliver_store_failed", "qid", ctx->qid, "reason", err);
		return EX_TEMPFAIL_;
	}
	int rc = EX_TEMPFAIL_;
	uint32_t uid;
	uint64_t modseq;
	/* quota: what the store holds now, plus this message */
	if (ctx->quota_bytes > 0) {
		uint64_t used = 0;
		if (store_mailbox_list(s, add_size, &used, &err) != STORE_OK) {
			store_close(&s);
			buffer_free(&b);
			return EX_TEMPFAIL_;
		}
		if (used + b.len > ctx->quota_bytes) {
			char u[24];
			snprintf(u, sizeof(u), "%llu", (unsigned long long)used);
			log_warn("deliver_over_quota", "qid", ctx->qid, "to", ctx->rcpt, "used", u);
			store_close(&s);
			buffer_free(&b);
			return EX_OVERQUOTA_;
		}
	}
	/* parse once here, so IMAP serves ENVELOPE, BODYSTRUCTURE and search
	 * from the cache and never reparses */
	struct mime_result mr;
	if (mime_parse(b.data, b.len, &mr, &err) < 0) {
		log_error("deliver_parse_failed", "qid", ctx->qid, "reason", err);
		store_close(&s);
		buffer_free(&b);
		return EX_TEMPFAIL_;
	}
	const char *env, *bs, *preview, *text;
	if (buffer_cstr(&mr.envelope, &env) < 0 || buffer_cstr(&mr.bodystructure, &bs) < 0 ||
	    buffer_cstr(&mr.preview, &preview) < 0 || buffer_cstr(&mr.fulltext, &text) < 0)
		env = bs = preview = text = NULL;
	struct store_append a = { .data = b.data, .size = b.len, .internal_date = time(NULL),
				  .envelope = env, .bodystructure = bs, .preview = preview,
				  .fulltext = text };
	int r = store_mailbox_get(s, "INBOX", &mb, &err);
	if (r == STORE_OK)
		r = store_append(s, mb.id, &a, &uid, &modseq, &err);
	if (r == STORE_OK) {
		char u[16];
		snprintf(u, sizeof(u), "%u", uid);
		log_info("filed", "qid", ctx->qid, "to", ctx->rcpt, "mailbox", "INBOX", "uid", u);
		rc = EX_OK_;
	} else {
		log_error("deliver_append_failed", "qid", ctx->qid, "to", ctx->rcpt, "reason", err);
		rc = (r == STORE_LIMIT || r == STORE_INVALID) ? EX_DATAERR_ : EX_TEMPFAIL_;
	}
	mime_result_free(&mr);
	store_close(&s);
	buffer_free(&b);
	return rc;
}
