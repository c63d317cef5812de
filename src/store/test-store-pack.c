/* test-store-pack.c: messages filed in packs (store_append_packed, what
 * `redoubt import` uses): read back at their offsets, shared by a copy,
 * the pack collected only when its last message is removed, leftovers of
 * a crash at every step of the write order removed by the walk (and a
 * committed pack kept), the batch cap, and a truncated pack refused. */
#include "store/store.h"
#include "store/store-fs.h"
#include "limits.h"
#include "lib/test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char root[64];

static struct store *open_store(const char *id, enum store_step crash)
{
	struct store_params p = { .stores_root = root, .faults = { .crash_after_step = crash } };
	struct store *s = NULL;
	const char *err = "ok";
	if (store_open(&p, id, &s, &err) != STORE_OK)
		printf("# open %s: %s\n", id, err);
	return s;
}

static struct store *create_store(const char *id)
{
	struct store_params p = { .stores_root = root };
	const char *err = "ok";
	if (store_create(&p, id, &err) != STORE_OK)
		printf("# create %s: %s\n", id, err);
	return open_store(id, STORE_STEP_NONE);
}

static int64_t mailbox_id(struct store *s, const char *name)
{
	struct store_mailbox_info mb;
	const char *err;
	return store_mailbox_get(s, name, &mb, &err) == STORE_OK ? mb.id : -1;
}

static size_t packs(const char *id)
{
	char path[256];
	struct dirent *de;
	size_t n = 0;
	snprintf(path, sizeof(path), "%s/%s/packs", root, id);
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Files texts[0..n) as one pack; the store's answer. */
static int put(struct store *s, int64_t mb, const char *const *texts, size_t n, uint32_t *uids)
{
	struct store_append a[8];
	uint64_t modseqs[8];
	const char *err = "ok";
	for (size_t i = 0; i < n; i++)
		a[i] = (struct store_append){ .data = texts[i], .size = strlen(texts[i]),
					      .internal_date = 1700000000 };
	int r = store_append_packed(s, mb, a, n, uids, modseqs, &err);
	if (r != STORE_OK)
		printf("# append_packed: %s\n", err);
	return r;
}

static bool reads(struct store *s, int64_t mb, uint32_t uid, const char *want)
{
	uint64_t base = 0, size = 0;
	const char *err;
	int fd;
	char buf[256];
	if (store_message_open(s, mb, uid, &fd, &base, &size, &err) != STORE_OK)
		return false;
	bool ok = size == strlen(want) && size < sizeof(buf) &&
		  pread(fd, buf, size, (off_t)base) == (ssize_t)size &&
		  memcmp(buf, want, size) == 0;
	close(fd);
	return ok;
}

static bool expunge(struct store *s, int64_t mb, uint32_t uid)
{
	struct store_flag_change ch = { STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0 };
	struct store_uids ex = { 0 };
	const char *err;
	bool ok = store_flags_update(s, mb, uid, uid, &ch, NULL, NULL, NULL, &err) == STORE_OK &&
		  store_expunge(s, mb, uid, uid, &ex, &err) == STORE_OK && ex.count == 1;
	store_uids_free(&ex);
	return ok;
}

static void test_life(void)
{
	static const char *const t[] = { "Subject: one\r\n\r\nfirst\r\n",
					 "Subject: two\r\n\r\nsecond, longer\r\n",
					 "Subject: three\r\n\r\nthird\r\n" };
	struct store *holder = create_store("life");
	struct store *s = open_store("life", STORE_STEP_NONE);
	int64_t inbox = mailbox_id(s, "INBOX"), arch = mailbox_id(s, "Archive");
	uint32_t uids[3] = { 0 };
	unsigned removed = 9;
	const char *err;
	struct store_copy_result cr;
	CHECK(put(s, inbox, t, 3, uids) == STORE_OK && uids[0] == 1 && uids[2] == 3,
	      "three messages in one pack");
	CHECK(packs("life") == 1, "one file for the three");
	CHECK(reads(s, inbox, 1, t[0]) && reads(s, inbox, 2, t[1]) && reads(s, inbox, 3, t[2]),
	      "each read back at its offset");
	CHECK(store_copy(s, inbox, 2, 2, arch, false, &cr, &err) == STORE_OK &&
	      reads(s, arch, cr.dst.uids[0], t[1]), "a copy reads the same pack");
	store_copy_result_free(&cr);
	CHECK(expunge(s, inbox, 1) && store_gc_removed(s, &removed, &err) == STORE_OK &&
	      packs("life") == 1 && reads(s, inbox, 3, t[2]),
	      "one message gone: the pack stays for the others");
	CHECK(expunge(s, inbox, 2) && expunge(s, inbox, 3) &&
	      store_gc_removed(s, &removed, &err) == STORE_OK && packs("life") == 1 &&
	      reads(s, arch, 1, t[1]), "the copy still names it");
	CHECK(expunge(s, arch, 1) && store_gc_removed(s, &removed, &err) == STORE_OK &&
	      removed >= 1 && packs("life") == 0,
	      "the last message gone: the pack is collected, with another handle open");
	store_close(&holder);
	store_close(&s);
}

/* A crash after each step of the pack's write order: the next opener
 * finds no row without its pack, and once alone the walk removes a pack
 * no row names; a committed pack stays and reads back. */
static void test_crash(enum store_step step)
{
	static const char *const t[] = { "Subject: a\r\n\r\ncrash a\r\n",
					 "Subject: b\r\n\r\ncrash b\r\n" };
	char id[16];
	unsigned removed = 0;
	const char *err;
	uint32_t uids[2];
	snprintf(id, sizeof(id), "crash%d", (int)step);
	struct store *s = create_store(id);
	store_close(&s);
	s = open_store(id, step);
	int64_t inbox = mailbox_id(s, "INBOX");
	struct store_append a[2];
	uint64_t modseqs[2];
	for (size_t i = 0; i < 2; i++)
		a[i] = (struct store_append){ .data = t[i], .size = strlen(t[i]),
					      .internal_date = 1700000000 };
	CHECK(store_append_packed(s, inbox, a, 2, uids, modseqs, &err) == STORE_CRASHED,
	      "step %d: crashed", (int)step);
	store_close(&s);
	s = open_store(id, STORE_STEP_NONE);
	CHECK(s != NULL && store_gc(s, &removed, &err) == STORE_OK, "step %d: reopen, gc",
	      (int)step);
	if (step == STORE_STEP_INDEX_COMMITTED)
		CHECK(packs(id) == 1 && reads(s, inbox, 1, t[0]) && reads(s, inbox, 2, t[1]),
		      "step %d: committed: the pack stays and reads", (int)step);
	else
		CHECK(packs(id) == 0 && !reads(s, inbox, 1, t[0]),
		      "step %d: no row, and the leftover pack is gone (%u)", (int)step, removed);
	store_close(&s);
}

static void test_caps_and_damage(void)
{
	struct store *s = create_store("caps");
	int64_t inbox = mailbox_id(s, "INBOX");
	size_t n = RD_STORE_MAX_PACK_BATCH + 1;
	struct store_append *a = calloc(n, sizeof(*a));
	uint32_t *uids = calloc(n, sizeof(*uids));
	uint64_t *modseqs = calloc(n, sizeof(*modseqs));
	const char *err = "ok";
	static const char msg[] = "Subject: x\r\n\r\nx\r\n";
	for (size_t i = 0; a != NULL && i < n; i++)
		a[i] = (struct store_append){ .data = msg, .size = sizeof(msg) - 1 };
	CHECK(a && uids && modseqs &&
	      store_append_packed(s, inbox, a, n, uids, modseqs, &err) == STORE_LIMIT &&
	      packs("caps") == 0, "over the pack batch cap: refused, nothing written");
	CHECK(store_append_packed(s, inbox, a, n - 1, uids, modseqs, &err) == STORE_OK &&
	      uids[n - 2] == n - 1 && packs("caps") == 1, "at the cap: one pack");
	/* cut the pack short: the last message no longer fits */
	char path[512];
	snprintf(path, sizeof(path), "%s/caps/packs", root);
	DIR *d = opendir(path);
	struct dirent *de;
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/caps/packs/%.64s", root, de->d_name);
		CHECK(truncate(path, (off_t)((n - 1) * (sizeof(msg) - 1) - 1)) == 0, "truncate");
	}
	if (d != NULL)
		closedir(d);
	int fd;
	uint64_t base, size;
	CHECK(store_message_open(s, inbox, (uint32_t)(n - 1), &fd, &base, &size, &err) ==
	      STORE_ERROR && strcmp(err, "message blob damaged") == 0,
	      "a message past the end of its pack is refused as damaged");
	CHECK(reads(s, inbox, 1, msg), "the first still reads");
	free(a);
	free(uids);
	free(modseqs);
	store_close(&s);
}

int main(void)
{
	const char *err;
	snprintf(root, sizeof(root), "/tmp/test-store-pack-XXXXXX");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_life();
	for (enum store_step st = STORE_STEP_TMP_WRITTEN; st <= STORE_STEP_INDEX_COMMITTED; st++)
		test_crash(st);
	test_caps_and_damage();
	int parent = open("/tmp", O_RDONLY | O_DIRECTORY);
	if (parent < 0 || fs_remove_tree(parent, root + 5, 6, &err) < 0)
		printf("# cleanup of %s failed\n", root);
	if (parent >= 0)
		close(parent);
	return TEST_DONE();
}
