/* indexer.c: the search text of messages filed without it (indexer.h). */
#include "indexer/indexer.h"
#include "limits.h"
#include "mime/mime.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The whole message into a fresh buffer; NULL when it cannot be read. */
static uint8_t *message_read(struct store *st, const struct store_text_pending *p,
			     size_t *len_r)
{
	uint64_t base, size;
	const char *err;
	int fd;
	if (store_message_open(st, p->mailbox_id, p->uid, &fd, &base, &size, &err) != STORE_OK)
		return NULL;
	uint8_t *data = size <= RD_STORE_MAX_MESSAGE ? malloc(size > 0 ? (size_t)size : 1) : NULL;
	size_t got = 0;
	while (data != NULL && got < size) {
		ssize_t n = pread(fd, data + got, (size_t)size - got, (off_t)(base + got));
		if (n <= 0) {
			free(data);
			data = NULL;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	*len_r = got;
	return data;
}

/* The text mime_parse finds in the message, malloc'd; NULL if none. */
static char *message_text(struct store *st, const struct store_text_pending *p)
{
	size_t len = 0;
	uint8_t *data = message_read(st, p, &len);
	struct mime_result mr;
	const char *text = NULL, *err;
	char *copy = NULL;
	if (data == NULL)
		return NULL;
	if (mime_parse(data, len, &mr, &err) == 0 && buffer_cstr(&mr.fulltext, &text) == 0)
		copy = strdup(text);
	mime_result_free(&mr);
	free(data);
	return copy;
}

int indexer_step(struct store *st, int64_t mailbox_id, size_t max, size_t *done_r,
		 const char **error_r)
{
	struct store_text_pending pend[RD_STORE_MAX_TEXT_BATCH];
	struct store_text_add add[RD_STORE_MAX_TEXT_BATCH];
	size_t n = 0, bytes = 0, i;
	*done_r = 0;
	if (max == 0 || max > RD_STORE_MAX_TEXT_BATCH)
		max = RD_STORE_MAX_TEXT_BATCH;
	if (store_text_pending(st, mailbox_id, max, pend, &n, error_r) != STORE_OK)
		return -1;
	if (n == 0)
		return 0;
	/* texts held for one transaction: the turn ends early past the cap */
	for (i = 0; i < n && bytes < RD_INDEXER_BATCH_BYTES; i++) {
		add[i].id = pend[i].id;
		add[i].fulltext = message_text(st, &pend[i]);
		bytes += add[i].fulltext != NULL ? strlen(add[i].fulltext) : 0;
	}
	int r = store_text_add(st, add, i, error_r);
	for (size_t j = 0; j < i; j++)
		free((char *)add[j].fulltext);
	if (r != STORE_OK)
		return -1;
	*done_r = i;
	return 1;
}

int indexer_catch_up(struct store *st, int64_t mailbox_id, size_t *done_r,
		     const char **error_r)
{
	uint64_t waiting;
	size_t done;
	*done_r = 0;
	for (;;) {
		if (store_text_pending_count(st, mailbox_id, &waiting, error_r) != STORE_OK)
			return -1;
		if (waiting == 0)
			return 0;
		int r = indexer_step(st, mailbox_id, RD_STORE_MAX_TEXT_BATCH, &done, error_r);
		if (r < 0)
			return -1;
		*done_r += done;
		if (r == 0 || done == 0) {
			*error_r = "messages wait for their text but none can be indexed";
			return -1;
		}
	}
}
