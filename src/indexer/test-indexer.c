/* test-indexer.c: mail filed without its search text (text_later, as
 * `redoubt import` files it) is listed as waiting, is not found by the
 * index until the indexer has read it, and is found afterwards; copies
 * wait with their original, removed messages leave the list, a batch cap
 * is kept, and a store with nothing waiting costs the indexer nothing. */
#include "indexer/indexer.h"
#include "store/store.h"
#include "store/store-fs.h"
#include "limits.h"
#include "lib/test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[64];

static struct store *open_new(const char *id)
{
	struct store_params p = { NULL, root, { STORE_STEP_NONE } };
	struct store *s = NULL;
	const char *err = "ok";
	CHECK(store_create(&p, id, &err) == STORE_OK, "create %s (%s)", id, err);
	CHECK(store_open(&p, id, &s, &err) == STORE_OK, "open %s (%s)", id, err);
	return s;
}

static int64_t mailbox_id(struct store *s, const char *name)
{
	struct store_mailbox_info mb;
	const char *err;
	return store_mailbox_get(s, name, &mb, &err) == STORE_OK ? mb.id : -1;
}

/* A real message (mime parses it), filed with its text to come later. */
static uint32_t add_later(struct store *s, int64_t mb, const char *subject, const char *body)
{
	char msg[2048];
	struct store_append a = { 0 };
	const char *err = "ok";
	uint32_t uid = 0;
	uint64_t modseq;
	snprintf(msg, sizeof(msg),
		 "From: Ann <ann@example.org>\r\nTo: bob@example.org\r\n"
		 "Subject: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		 subject, body);
	a.data = msg;
	a.size = strlen(msg);
	a.internal_date = 1700000000;
	a.text_later = true;
	if (store_append(s, mb, &a, &uid, &modseq, &err) != STORE_OK)
		printf("# append: %s\n", err);
	return uid;
}

static const char *found(struct store *s, int64_t mb, enum store_text_part part,
			 const char *needle)
{
	static char out[256];
	struct store_uids u;
	const char *err;
	size_t o = 0;
	out[0] = '\0';
	if (store_search_text(s, mb, part, needle, strlen(needle), &u, &err) != STORE_OK)
		return "ERR";
	for (size_t i = 0; i < u.count && o + 12 < sizeof(out); i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%u", i > 0 ? " " : "",
				      u.uids[i]);
	store_uids_free(&u);
	return out;
}

static uint64_t waiting(struct store *s, int64_t mb)
{
	uint64_t n = 999;
	const char *err;
	/* (no CHECK here: it is called inside CHECK conditions) */
	if (store_text_pending_count(s, mb, &n, &err) != STORE_OK)
		printf("# pending count: %s\n", err);
	return n;
}

static void test_later_then_found(void)
{
	struct store *s = open_new("alice");
	int64_t inbox = mailbox_id(s, "INBOX"), arch = mailbox_id(s, "Archive");
	const char *err = "ok";
	size_t done = 0;
	uint32_t u1 = add_later(s, inbox, "Quarterly figures", "The zanzibar shipment is late.");
	uint32_t u2 = add_later(s, inbox, "Lunch", "Soup at noon.");
	CHECK(u1 == 1 && u2 == 2, "two messages filed");
	CHECK(waiting(s, inbox) == 2 && waiting(s, 0) == 2, "both wait for their text");
	CHECK(strcmp(found(s, inbox, STORE_TEXT_ALL, "zanzibar"), "") == 0,
	      "the index does not know a waiting message yet");

	/* a copy waits with its original; an expunged message leaves */
	struct store_copy_result cr;
	CHECK(store_copy(s, inbox, u1, u1, arch, false, &cr, &err) == STORE_OK, "copy (%s)", err);
	store_copy_result_free(&cr);
	CHECK(waiting(s, arch) == 1 && waiting(s, 0) == 3, "the copy waits too");
	struct store_flag_change del = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_DELETED };
	struct store_uids gone;
	CHECK(store_flags_update(s, inbox, u2, u2, &del, NULL, NULL, NULL, &err) == STORE_OK &&
	      store_expunge(s, inbox, u2, u2, &gone, &err) == STORE_OK && gone.count == 1,
	      "expunge the second");
	store_uids_free(&gone);
	CHECK(waiting(s, inbox) == 1 && waiting(s, 0) == 2, "an expunged message waits no more");

	CHECK(indexer_step(s, arch, 1, &done, &err) == 1 && done == 1, "a step of one does one");
	CHECK(waiting(s, 0) == 1, "one left");
	CHECK(waiting(s, arch) == 0 && waiting(s, inbox) == 1,
	      "a step in Archive took Archive's, not INBOX's older one");
	CHECK(indexer_catch_up(s, arch, &done, &err) == 0 && done == 0 && waiting(s, inbox) == 1,
	      "catching up a mailbox with nothing waiting reads no other mailbox");
	CHECK(indexer_catch_up(s, 0, &done, &err) == 0 && done == 1, "catch up does the rest");
	CHECK(waiting(s, 0) == 0, "nothing waits");
	CHECK(indexer_step(s, 0, 0, &done, &err) == 0 && done == 0, "a step with nothing to do");
	CHECK(strcmp(found(s, inbox, STORE_TEXT_ALL, "zanzibar"), "1") == 0, "found in INBOX");
	CHECK(strcmp(found(s, arch, STORE_TEXT_ALL, "ZANZIBAR"), "1") == 0, "and its copy");
	CHECK(strcmp(found(s, inbox, STORE_TEXT_BODY, "quarterly"), "") == 0,
	      "the subject is header text, not body");
	CHECK(strcmp(found(s, inbox, STORE_TEXT_ALL, "quarterly"), "1") == 0,
	      "but TEXT finds it");
	store_close(&s);
}

/* More than a batch: every message is indexed once, in turns. */
static void test_many(void)
{
	struct store *s = open_new("bob");
	int64_t inbox = mailbox_id(s, "INBOX");
	const char *err = "ok";
	size_t done = 0, total = 0, turns = 0;
	char subj[64];
	size_t n = RD_STORE_MAX_TEXT_BATCH + 37;
	for (size_t i = 0; i < n; i++) {
		snprintf(subj, sizeof(subj), "number %zu", i);
		add_later(s, inbox, subj, i == n - 1 ? "the last one says marmalade" : "plain");
	}
	CHECK(waiting(s, inbox) == n, "all wait");
	int r;
	while ((r = indexer_step(s, 0, RD_STORE_MAX_TEXT_BATCH, &done, &err)) == 1 && turns < 10) {
		total += done;
		turns++;
	}
	CHECK(r == 0 && total == n && turns == 2, "two turns index %zu messages (%zu in %zu)", n,
	      total, turns);
	CHECK(strcmp(found(s, inbox, STORE_TEXT_BODY, "marmalade"), "") != 0, "the last is found");
	store_close(&s);
}

int main(void)
{
	const char *err;
	snprintf(root, sizeof(root), "/tmp/test-indexer-XXXXXX");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_later_then_found();
	test_many();
	int parent = open("/tmp", O_RDONLY | O_DIRECTORY);
	if (parent < 0 || fs_remove_tree(parent, root + 5, 6, &err) < 0)
		printf("# cleanup of %s failed\n", root);
	if (parent >= 0)
		close(parent);
	return TEST_DONE();
}
