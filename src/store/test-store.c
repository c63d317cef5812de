/* test-store.c: the SQLite store end to end, in a mkdtemp directory:
 * creation and ids, UID/MODSEQ allocation, flags, expunge, copy/move,
 * mailbox rename/delete, large messages, symlink refusal, and recovery
 * after a crash injected after every step of the append write order. */
#include "store/store.h"
#include "store/store-fs.h"
#include "store/sha256.h"
#include "limits.h"
#include "lib/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

static struct store_params params_for(enum store_step crash)
{
	struct store_params p = { .stores_root = root, .faults = { .crash_after_step = crash } };
	return p;
}

static struct store *open_store(const char *id, enum store_step crash)
{
	struct store_params p = params_for(crash);
	struct store *s = NULL;
	const char *err = NULL;
	int ret = store_open(&p, id, &s, &err);

	if (ret != STORE_OK)
		printf("# open %s: %d %s\n", id, ret, err);
	return s;
}

static int64_t mailbox_id(struct store *s, const char *name)
{
	struct store_mailbox_info mb;
	const char *err;

	return store_mailbox_get(s, name, &mb, &err) == STORE_OK ? mb.id : -1;
}

static struct store_mailbox_info mailbox_info(struct store *s, const char *name)
{
	struct store_mailbox_info mb = { 0 };
	const char *err;

	(void)store_mailbox_get(s, name, &mb, &err);
	return mb;
}

static int append_text(struct store *s, int64_t mb, const char *text,
		       unsigned flags, uint32_t *uid_r, uint64_t *modseq_r)
{
	struct store_append a = { 0 };
	const char *err = NULL;
	uint32_t uid = 0;
	uint64_t modseq = 0;
	int ret;

	a.data = text;
	a.size = strlen(text);
	a.flags = flags;
	a.internal_date = 1700000000;
	a.envelope = "(\"env\")";
	a.preview = "preview text";
	a.fulltext = text;
	ret = store_append(s, mb, &a, &uid, &modseq, &err);
	if (ret != STORE_OK && ret != STORE_CRASHED)
		printf("# append: %d %s\n", ret, err);
	if (uid_r != NULL)
		*uid_r = uid;
	if (modseq_r != NULL)
		*modseq_r = modseq;
	return ret;
}

struct collect {
	uint32_t uids[64];
	uint64_t modseqs[64];
	unsigned flags[64];
	char keywords[64][128];
	char blob[64][STORE_BLOB_ID_LEN + 1];
	size_t n;
};

static int collect_cb(void *ctx, const struct store_message *m)
{
	struct collect *c = ctx;

	if (c->n < 64) {
		c->uids[c->n] = m->uid;
		c->modseqs[c->n] = m->modseq;
		c->flags[c->n] = m->flags;
		snprintf(c->keywords[c->n], sizeof(c->keywords[0]), "%s",
			 m->keywords);
		snprintf(c->blob[c->n], sizeof(c->blob[0]), "%s", m->blob_id);
	}
	c->n++;
	return 0;
}

static struct collect fetch_all(struct store *s, int64_t mb)
{
	struct collect c = { .n = 0 };
	const char *err;

	if (store_fetch(s, mb, 1, UINT32_MAX, collect_cb, &c, &err) != STORE_OK)
		printf("# fetch: %s\n", err);
	return c;
}

static size_t count_dir(const char *id, const char *sub)
{
	char path[256];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s/%s", root, id, sub);
	if ((d = opendir(path)) == NULL)
		return (size_t)-1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n;
}

static bool read_back(struct store *s, int64_t mb, uint32_t uid,
		      const void *want, size_t want_len)
{
	const char *err;
	uint64_t size = 0, base = 0;
	uint8_t *got;
	bool same;
	int fd = -1;

	if (store_message_open(s, mb, uid, &fd, &base, &size, &err) != STORE_OK) {
		printf("# message_open: %s\n", err);
		return false;
	}
	if (size != want_len) {
		close(fd);
		return false;
	}
	/* the message's octets start at base (a pack holds several) */
	got = malloc(size > 0 ? size : 1);
	same = got != NULL && pread(fd, got, size, (off_t)base) == (ssize_t)size &&
	       memcmp(got, want, want_len) == 0;
	free(got);
	close(fd);
	return same;
}

static void test_create_and_ids(void)
{
	struct store_params p = params_for(STORE_STEP_NONE);
	static const char *const bad_ids[] = {
		"a/b", "..", "../x", "", ".", "A", "x\n", "/etc",
	};
	struct store *s = NULL;
	const char *err;
	size_t i;

	CHECK(store_create(&p, "alice", &err) == STORE_OK, "create alice");
	CHECK(store_create(&p, "alice", &err) == STORE_EXISTS, "create twice");
	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		CHECK(store_create(&p, bad_ids[i], &err) == STORE_INVALID,
		      "create with bad id %zu refused", i);
		CHECK(store_open(&p, bad_ids[i], &s, &err) == STORE_INVALID &&
		      s == NULL, "open with bad id %zu refused", i);
	}
	CHECK(store_open(&p, "nobody", &s, &err) == STORE_NOT_FOUND,
	      "open of a missing store");
	CHECK(count_dir("", "") == 1, "only the store directory in root");
	CHECK(count_dir("alice", "blobs") == 256, "blob fan-out made");
	/* the SQLite header's page size (octets 16-17, big-endian) */
	char path[256];
	unsigned char hdr[18] = { 0 };
	snprintf(path, sizeof(path), "%s/alice/index.db", root);
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && read(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr) &&
	      (hdr[16] << 8 | hdr[17]) == 16384, "a new index.db has 16 KiB pages");
	if (fd >= 0)
		close(fd);
}

struct list_ctx { size_t n; unsigned special; bool inbox; };

static int list_cb(void *ctx, const struct store_mailbox_info *mb)
{
	struct list_ctx *l = ctx;

	l->n++;
	if (mb->special_use != STORE_SPECIAL_NONE)
		l->special |= 1u << mb->special_use;
	if (strcmp(mb->name, "INBOX") == 0)
		l->inbox = mb->uidnext == 1 && mb->highestmodseq >= 1 &&
			mb->uidvalidity != 0;
	return 0;
}

static void test_defaults(void)
{
	struct store *s = open_store("alice", STORE_STEP_NONE);
	struct list_ctx l = { 0, 0, false };
	struct store_mailbox_info mb;
	const char *err;

	CHECK(s != NULL, "open alice");
	if (s == NULL)
		return;
	CHECK(store_mailbox_list(s, list_cb, &l, &err) == STORE_OK, "list");
	CHECK(l.n == 6, "six default mailboxes (%zu)", l.n);
	CHECK(l.special == 0x3e, "\\Sent \\Drafts \\Trash \\Junk \\Archive set");
	CHECK(l.inbox, "INBOX is empty and has counters");
	CHECK(store_mailbox_get(s, "inbox", &mb, &err) == STORE_OK &&
	      strcmp(mb.name, "INBOX") == 0, "INBOX is case-insensitive");
	CHECK(store_mailbox_get(s, "Trash", &mb, &err) == STORE_OK &&
	      mb.special_use == STORE_SPECIAL_TRASH, "Trash is \\Trash");
	store_close(&s);
	CHECK(s == NULL, "close sets NULL");
}

static void test_uid_modseq(void)
{
	struct store *s = open_store("alice", STORE_STEP_NONE);
	const char *kw_fwd[] = { "$Forwarded" }, *kw_two[] = { "b", "A" };
	struct store_flag_change ch = { STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, 0 };
	struct store_mailbox_info before, after;
	struct store_uids ex;
	struct collect c;
	uint32_t uid[4] = { 0 }, uidv;
	uint64_t ms[4] = { 0 }, hm = 0;
	const char *err;
	int64_t inbox;

	if (s == NULL)
		return;
	inbox = mailbox_id(s, "INBOX");
	CHECK(append_text(s, inbox, "m1", 0, &uid[0], &ms[0]) == STORE_OK &&
	      append_text(s, inbox, "m2", 0, &uid[1], &ms[1]) == STORE_OK &&
	      append_text(s, inbox, "m3", 0, &uid[2], &ms[2]) == STORE_OK,
	      "three appends");
	CHECK(uid[0] == 1 && uid[1] == 2 && uid[2] == 3, "UIDs 1, 2, 3");
	CHECK(ms[0] < ms[1] && ms[1] < ms[2], "MODSEQ ascending");
	before = mailbox_info(s, "INBOX");
	CHECK(before.uidnext == 4 && before.highestmodseq == ms[2] &&
	      before.messages == 3 && before.unseen == 3 &&
	      before.total_size == 6, "counters after append");

	c.n = 0;
	CHECK(store_flags_update(s, inbox, 2, 2, &ch, collect_cb, &c, &hm,
				 &err) == STORE_OK, "add \\Seen to uid 2");
	CHECK(c.n == 1 && c.uids[0] == 2 && c.modseqs[0] == ms[2] + 1 &&
	      c.flags[0] == STORE_FLAG_SEEN, "changed message reported with new MODSEQ");
	CHECK(hm == ms[2] + 1, "HIGHESTMODSEQ bumped by the flag change");
	CHECK(mailbox_info(s, "INBOX").unseen == 2, "unseen count follows");
	c.n = 0;
	CHECK(store_flags_update(s, inbox, 2, 2, &ch, collect_cb, &c, &hm,
				 &err) == STORE_OK && c.n == 0 &&
	      hm == ms[2] + 1, "no-op flag change bumps nothing");

	ch = (struct store_flag_change){ STORE_FLAGS_ADD, 0, kw_fwd, 1 };
	CHECK(store_flags_update(s, inbox, 1, UINT32_MAX, &ch, NULL, NULL, &hm,
				 &err) == STORE_OK && hm == ms[2] + 2,
	      "keyword add on all bumps once");
	ch = (struct store_flag_change){ STORE_FLAGS_SET, STORE_FLAG_FLAGGED,
					 kw_two, 2 };
	CHECK(store_flags_update(s, inbox, 1, 1, &ch, NULL, NULL, &hm, &err) ==
	      STORE_OK, "set flags and keywords");
	c = fetch_all(s, inbox);
	CHECK(c.n == 3 && c.flags[0] == STORE_FLAG_FLAGGED &&
	      strcmp(c.keywords[0], "A b") == 0 && c.modseqs[0] == hm,
	      "SET replaced flags, keywords sorted (%s)", c.keywords[0]);
	CHECK(strcmp(c.keywords[1], "$Forwarded") == 0, "other keywords kept");
	ch = (struct store_flag_change){ STORE_FLAGS_REMOVE, 0, kw_fwd, 1 };
	CHECK(store_flags_update(s, inbox, 1, UINT32_MAX, &ch, NULL, NULL, &hm,
				 &err) == STORE_OK, "keyword remove");
	c = fetch_all(s, inbox);
	CHECK(c.keywords[1][0] == '\0' && c.keywords[2][0] == '\0' &&
	      strcmp(c.keywords[0], "A b") == 0, "keyword removed where set");
	{
		/* the narrow listing SELECT uses agrees with the full one */
		struct collect st = { .n = 0 };
		CHECK(store_fetch_state(s, inbox, collect_cb, &st, &err) == STORE_OK &&
		      st.n == c.n, "fetch_state lists every message");
		bool same = st.n == c.n;
		for (size_t i = 0; same && i < c.n && i < 64; i++)
			same = st.uids[i] == c.uids[i] && st.modseqs[i] == c.modseqs[i] &&
				st.flags[i] == c.flags[i] && st.keywords[i][0] == '\0';
		CHECK(same, "fetch_state: same UIDs, MODSEQs and flags, no keywords");
	}
	ch = (struct store_flag_change){ STORE_FLAGS_ADD, 0x40, NULL, 0 };
	CHECK(store_flags_update(s, inbox, 1, 1, &ch, NULL, NULL, NULL, &err) ==
	      STORE_INVALID, "unknown flag bit refused");

	/* Expunge the highest UID: the next append must not reuse it. */
	ch = (struct store_flag_change){ STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0 };
	CHECK(store_flags_update(s, inbox, 3, 3, &ch, NULL, NULL, &hm, &err) ==
	      STORE_OK, "\\Deleted on uid 3");
	CHECK(store_expunge(s, inbox, 1, UINT32_MAX, &ex, &err) == STORE_OK &&
	      ex.count == 1 && ex.uids[0] == 3, "expunge returns uid 3");
	store_uids_free(&ex);
	CHECK(ex.uids == NULL, "uid list freed");
	after = mailbox_info(s, "INBOX");
	CHECK(after.highestmodseq > hm && after.messages == 2 &&
	      after.uidnext == 4, "expunge bumps HIGHESTMODSEQ, keeps UIDNEXT");
	uidv = after.uidvalidity;
	store_close(&s);

	s = open_store("alice", STORE_STEP_NONE);
	if (s == NULL)
		return;
	CHECK(mailbox_info(s, "INBOX").uidvalidity == uidv, "UIDVALIDITY stable across reopen");
	CHECK(append_text(s, inbox, "m4", 0, &uid[3], &ms[3]) == STORE_OK &&
	      uid[3] == 4, "UID after expunge and reopen is 4, not 3");
	CHECK(store_expunge(s, inbox, 1, UINT32_MAX, &ex, &err) == STORE_OK &&
	      ex.count == 0, "expunge without \\Deleted removes nothing");
	store_uids_free(&ex);
	store_close(&s);
}

static void test_mailboxes(void)
{
	struct store *s = open_store("alice", STORE_STEP_NONE);
	struct store_mailbox_info mb;
	const char *err;
	uint32_t uv1, uv2;
	int64_t id, id2;

	if (s == NULL)
		return;
	CHECK(store_mailbox_create(s, "Work", STORE_SPECIAL_NONE, &id, &err) ==
	      STORE_OK, "create Work");
	CHECK(store_mailbox_create(s, "Work/A", STORE_SPECIAL_NONE, &id2, &err) ==
	      STORE_OK && store_mailbox_create(s, "Work/A/B", STORE_SPECIAL_NONE,
					       &id2, &err) == STORE_OK,
	      "create children");
	CHECK(store_mailbox_create(s, "WorkX", STORE_SPECIAL_NONE, &id2, &err) ==
	      STORE_OK, "create a sibling sharing the prefix");
	CHECK(store_mailbox_create(s, "Work", STORE_SPECIAL_NONE, &id2, &err) ==
	      STORE_EXISTS, "duplicate refused");
	CHECK(store_mailbox_create(s, "a//b", STORE_SPECIAL_NONE, &id2, &err) ==
	      STORE_INVALID && store_mailbox_create(s, "x/../y",
		      STORE_SPECIAL_NONE, &id2, &err) == STORE_INVALID,
	      "invalid names refused");
	uv1 = mailbox_info(s, "Work").uidvalidity;
	CHECK(store_mailbox_rename(s, "Work", "Projects/Old", &err) == STORE_OK,
	      "rename Work with children");
	CHECK(mailbox_id(s, "Projects/Old") == id &&
	      mailbox_info(s, "Projects/Old").uidvalidity == uv1,
	      "renamed mailbox keeps id and UIDVALIDITY");
	CHECK(mailbox_id(s, "Projects/Old/A") > 0 &&
	      mailbox_id(s, "Projects/Old/A/B") > 0 && mailbox_id(s, "Work/A") < 0,
	      "children renamed");
	CHECK(mailbox_id(s, "WorkX") > 0, "prefix sibling untouched");
	CHECK(store_mailbox_rename(s, "Projects/Old", "WorkX", &err) ==
	      STORE_EXISTS, "rename onto existing refused");
	CHECK(store_mailbox_rename(s, "Projects/Old", "Projects/Old/A/C", &err) ==
	      STORE_INVALID, "rename under itself refused");
	CHECK(store_mailbox_rename(s, "INBOX", "Old", &err) == STORE_INVALID,
	      "INBOX rename refused");
	CHECK(store_mailbox_rename(s, "Nope", "Yes", &err) == STORE_NOT_FOUND,
	      "rename of a missing mailbox");
	CHECK(store_mailbox_delete(s, "INBOX", &err) == STORE_INVALID,
	      "INBOX delete refused");
	CHECK(append_text(s, id, "in projects", 0, NULL, NULL) == STORE_OK,
	      "append to Projects/Old");
	CHECK(store_mailbox_delete(s, "Projects/Old", &err) == STORE_OK &&
	      mailbox_id(s, "Projects/Old") < 0, "delete with messages");
	CHECK(mailbox_id(s, "Projects/Old/A") > 0, "children survive parent delete");
	CHECK(store_mailbox_delete(s, "Projects/Old", &err) == STORE_NOT_FOUND,
	      "delete twice");
	CHECK(append_text(s, id, "gone", 0, NULL, NULL) == STORE_NOT_FOUND,
	      "append to a deleted mailbox id");
	CHECK(store_mailbox_create(s, "Projects/Old", STORE_SPECIAL_NONE, &id2,
				   &err) == STORE_OK, "re-create");
	uv2 = mailbox_info(s, "Projects/Old").uidvalidity;
	CHECK(uv2 != uv1 && id2 != id, "re-created mailbox has a new UIDVALIDITY");
	CHECK(store_mailbox_get(s, "Nope", &mb, &err) == STORE_NOT_FOUND,
	      "get of a missing mailbox");
	store_close(&s);
}

static void test_copy_move(void)
{
	struct store *s = open_store("alice", STORE_STEP_NONE);
	const char *kw[] = { "$Label1" };
	struct store_flag_change ch = { STORE_FLAGS_ADD, STORE_FLAG_SEEN, kw, 1 };
	struct store_copy_result res;
	struct store_mailbox_info arch_before, src_after;
	struct collect c, d;
	const char *err;
	int64_t inbox, arch;

	if (s == NULL)
		return;
	inbox = mailbox_id(s, "INBOX");
	arch = mailbox_id(s, "Archive");
	(void)store_flags_update(s, inbox, 1, 1, &ch, NULL, NULL, NULL, &err);
	c = fetch_all(s, inbox);
	arch_before = mailbox_info(s, "Archive");
	CHECK(store_copy(s, inbox, 1, UINT32_MAX, arch, false, &res, &err) ==
	      STORE_OK, "copy INBOX to Archive");
	CHECK(res.src.count == c.n && res.dst.count == c.n &&
	      res.dst.uids[0] == arch_before.uidnext &&
	      res.dst_uidvalidity == arch_before.uidvalidity, "COPYUID data");
	store_copy_result_free(&res);
	d = fetch_all(s, arch);
	CHECK(d.n == c.n && strcmp(d.blob[0], c.blob[0]) == 0 &&
	      d.flags[0] == c.flags[0] && strcmp(d.keywords[0], c.keywords[0]) == 0,
	      "copy shares the blob and keeps flags and keywords");
	CHECK(fetch_all(s, inbox).n == c.n, "source unchanged by copy");
	CHECK(read_back(s, arch, d.uids[0], "m1", 2), "copied message readable");

	CHECK(store_copy(s, inbox, 1, UINT32_MAX, inbox, false, &res, &err) ==
	      STORE_OK && res.dst.count == c.n, "copy into the same mailbox ends");
	store_copy_result_free(&res);

	CHECK(store_copy(s, arch, 1, UINT32_MAX, mailbox_id(s, "Trash"), true,
			 &res, &err) == STORE_OK && res.src.count == d.n,
	      "move Archive to Trash");
	store_copy_result_free(&res);
	src_after = mailbox_info(s, "Archive");
	CHECK(src_after.messages == 0 && src_after.uidnext == arch_before.uidnext + d.n &&
	      src_after.highestmodseq > arch_before.highestmodseq,
	      "move empties the source, bumps its HIGHESTMODSEQ, keeps UIDNEXT");
	CHECK(mailbox_info(s, "Trash").messages == d.n, "move fills Trash");
	CHECK(store_copy(s, inbox, 1, 1, 9999, false, &res, &err) ==
	      STORE_NOT_FOUND, "copy to a missing mailbox");
	store_close(&s);
}

static void test_large(void)
{
	struct store *s = open_store("alice", STORE_STEP_NONE);
	size_t size = 6u * 1024u * 1024u + 123u, i;
	struct store_append a = { 0 };
	unsigned char *data = malloc(size);
	struct collect c;
	char path[512];
	struct stat st;
	uint32_t uid = 0;
	uint64_t modseq;
	const char *err;
	int64_t mb;

	if (s == NULL || data == NULL) {
		free(data);
		store_close(&s);
		return;
	}
	for (i = 0; i < size; i++)
		data[i] = (unsigned char)((i * 2654435761u) >> 13);
	mb = mailbox_id(s, "Sent");
	a.data = data;
	a.size = size;
	a.internal_date = 1;
	CHECK(store_append(s, mb, &a, &uid, &modseq, &err) == STORE_OK,
	      "append %zu octets", size);
	CHECK(read_back(s, mb, uid, data, size), "large message reads back");
	c = fetch_all(s, mb);
	snprintf(path, sizeof(path), "%s/alice/blobs/%.2s/%.62s", root, c.blob[0],
		 c.blob[0] + 2);
	CHECK(c.n == 1 && stat(path, &st) == 0 && (size_t)st.st_size == size &&
	      (st.st_mode & 0777) == 0600, "blob stored content-addressed, 0600");
	a.size = RD_STORE_MAX_MESSAGE + 1u;
	CHECK(store_append(s, mb, &a, &uid, &modseq, &err) == STORE_LIMIT,
	      "message over the cap refused before reading it");
	free(data);
	store_close(&s);
}

/* Earlier tests expunged "m3" and deleted a mailbox holding one message:
 * both blobs are unreferenced now and only GC removes them. */
static void test_gc_baseline(void)
{
	struct store *s = open_store("alice", STORE_STEP_NONE);
	unsigned removed = 0;
	const char *err;

	if (s == NULL)
		return;
	CHECK(store_gc(s, &removed, &err) == STORE_OK && removed == 2,
	      "gc reclaims blobs of expunged and deleted messages (%u)", removed);
	CHECK(store_gc(s, &removed, &err) == STORE_OK && removed == 0,
	      "second gc finds nothing");
	CHECK(read_back(s, mailbox_id(s, "INBOX"), 1, "m1", 2),
	      "referenced blobs survive gc");
	store_close(&s);
}

static void test_crash_step(enum store_step step)
{
	struct store *s = open_store("alice", step);
	struct store_mailbox_info before, after;
	char text[64];
	struct collect c;
	unsigned removed = 0, found = 0;
	const char *err;
	size_t i;
	int64_t mb;

	if (s == NULL)
		return;
	mb = mailbox_id(s, "Junk");
	before = mailbox_info(s, "Junk");
	snprintf(text, sizeof(text), "crash test message, step %d", (int)step);
	CHECK(append_text(s, mb, text, 0, NULL, NULL) == STORE_CRASHED,
	      "step %d: append stops with STORE_CRASHED", (int)step);
	CHECK(count_dir("alice", "tmp") == (step <= STORE_STEP_TMP_FSYNCED ? 1u : 0u),
	      "step %d: on-disk state left as the crash left it", (int)step);
	store_close(&s);

	s = open_store("alice", STORE_STEP_NONE);
	CHECK(s != NULL, "step %d: reopen after crash", (int)step);
	if (s == NULL)
		return;
	CHECK(count_dir("alice", "tmp") == 0, "step %d: no tmp file left", (int)step);
	after = mailbox_info(s, "Junk");
	c = fetch_all(s, mb);
	for (i = 0; i < c.n && i < 64; i++) {
		if (read_back(s, mb, c.uids[i], text, strlen(text)))
			found++;
	}
	if (step == STORE_STEP_INDEX_COMMITTED) {
		CHECK(after.messages == before.messages + 1 && found == 1,
		      "step %d: committed message there exactly once", (int)step);
	} else {
		CHECK(after.messages == before.messages && found == 0 &&
		      after.uidnext == before.uidnext,
		      "step %d: no partial message visible", (int)step);
	}
	CHECK(append_text(s, mb, "after the crash", 0, NULL, NULL) == STORE_OK,
	      "step %d: store usable", (int)step);
	CHECK(store_gc(s, &removed, &err) == STORE_OK, "step %d: gc", (int)step);
	CHECK(removed == (step == STORE_STEP_RENAMED ||
			  step == STORE_STEP_DIR_FSYNCED ? 1u : 0u),
	      "step %d: gc removed %u orphan blob(s)", (int)step, removed);
	c = fetch_all(s, mb);
	found = 0;
	for (i = 0; i < c.n && i < 64; i++) {
		int fd = -1;
		uint64_t sz, base;
		if (store_message_open(s, mb, c.uids[i], &fd, &base, &sz, &err) == STORE_OK) {
			found++;
			close(fd);
		}
	}
	CHECK(found == c.n, "step %d: every indexed message has its blob", (int)step);
	store_close(&s);
}

/* Recovery and GC must leave a store alone while another handle (another
 * process, in real life) has it open: its append may be in flight. */
static void test_concurrent_open(void)
{
	struct store *holder = open_store("alice", STORE_STEP_NONE);
	struct store *s = open_store("alice", STORE_STEP_TMP_WRITTEN);
	struct store_uids ex;
	struct store_flag_change ch = { STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0 };
	unsigned removed = 99;
	const char *err;
	int64_t mb;

	if (holder == NULL || s == NULL) {
		store_close(&holder);
		store_close(&s);
		return;
	}
	mb = mailbox_id(s, "Drafts");
	CHECK(append_text(s, mb, "in flight", 0, NULL, NULL) == STORE_CRASHED,
	      "crash while another handle is open");
	store_close(&s);
	s = open_store("alice", STORE_STEP_NONE);
	CHECK(s != NULL && count_dir("alice", "tmp") == 1,
	      "recovery skipped while the store is shared");
	CHECK(append_text(s, mb, "to expunge", 0, NULL, NULL) == STORE_OK &&
	      store_flags_update(s, mb, 1, UINT32_MAX, &ch, NULL, NULL, NULL,
				 &err) == STORE_OK &&
	      store_expunge(s, mb, 1, UINT32_MAX, &ex, &err) == STORE_OK &&
	      ex.count == 1, "expunge while shared");
	store_uids_free(&ex);
	CHECK(store_gc(s, &removed, &err) == STORE_OK && removed == 1,
	      "gc while shared reclaims the expunged message's blob (%u)", removed);
	CHECK(append_text(s, mb, "still works", 0, NULL, NULL) == STORE_OK,
	      "lock retaken after refused walk");
	store_close(&s);
	store_close(&holder);
	s = open_store("alice", STORE_STEP_NONE);
	CHECK(s != NULL && count_dir("alice", "tmp") == 0,
	      "recovery runs once the store is ours alone");
	CHECK(s != NULL && store_gc(s, &removed, &err) == STORE_OK &&
	      removed == 0, "nothing left to reclaim");
	store_close(&s);
}

/* Whether the blob holding exactly text is in alice's store. */
static bool blob_there(const char *text)
{
	uint8_t md[SHA256_DIGEST_LEN];
	char path[256];
	struct stat st;
	int o;

	sha256(text, strlen(text), md);
	o = snprintf(path, sizeof(path), "%s/alice/blobs/%02x/", root, md[0]);
	for (int i = 1; i < SHA256_DIGEST_LEN; i++)
		o += snprintf(path + o, sizeof(path) - (size_t)o, "%02x", md[i]);
	return stat(path, &st) == 0;
}

static int expunge_uid(struct store *s, int64_t mb, uint32_t uid)
{
	struct store_flag_change ch = { STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0 };
	struct store_uids ex = { 0 };
	const char *err;
	int ok = store_flags_update(s, mb, uid, uid, &ch, NULL, NULL, NULL, &err) == STORE_OK &&
		 store_expunge(s, mb, uid, uid, &ex, &err) == STORE_OK && ex.count == 1;

	store_uids_free(&ex);
	return ok;
}

/* While another handle (another process) has the store open, the blobs of
 * removed messages are still collected: an expunged one, the source of a
 * MOVE, those of a deleted mailbox; a blob another message still names
 * stays, and so does an orphan of an append in flight (only the walk,
 * with the store to ourselves, may take that). */
static void test_gc_live(void)
{
	struct store *holder = open_store("alice", STORE_STEP_NONE);
	struct store *s = open_store("alice", STORE_STEP_NONE);
	struct store *crashing = open_store("alice", STORE_STEP_RENAMED);
	struct store_copy_result cr = { 0 };
	unsigned removed = 0;
	uint32_t u1 = 0, u2 = 0, u3 = 0, u4 = 0;
	const char *err;
	int64_t mb, dst;

	if (holder == NULL || s == NULL || crashing == NULL) {
		CHECK(0, "gc live: open three handles");
		store_close(&holder);
		store_close(&s);
		store_close(&crashing);
		return;
	}
	CHECK(store_mailbox_create(s, "GcLive", STORE_SPECIAL_NONE, &mb, &err) == STORE_OK &&
	      store_mailbox_create(s, "GcLive2", STORE_SPECIAL_NONE, &dst, &err) == STORE_OK,
	      "gc live: mailboxes");
	CHECK(append_text(s, mb, "gc live one", 0, &u1, NULL) == STORE_OK &&
	      append_text(s, mb, "gc live kept", 0, &u2, NULL) == STORE_OK &&
	      append_text(s, mb, "gc live kept", 0, &u3, NULL) == STORE_OK &&
	      append_text(s, mb, "gc live moved", 0, &u4, NULL) == STORE_OK,
	      "gc live: four messages, two with the same octets");
	CHECK(expunge_uid(s, mb, u1) && store_gc(s, &removed, &err) == STORE_OK &&
	      removed == 1 && !blob_there("gc live one"),
	      "gc live: expunged message's blob collected while shared (%u)", removed);
	CHECK(expunge_uid(s, mb, u2) && store_gc(s, &removed, &err) == STORE_OK &&
	      removed == 0 && blob_there("gc live kept") &&
	      read_back(s, mb, u3, "gc live kept", 12),
	      "gc live: a blob another message names stays (%u)", removed);
	CHECK(store_copy(s, mb, u4, u4, dst, true, &cr, &err) == STORE_OK &&
	      store_gc(s, &removed, &err) == STORE_OK && removed == 0 &&
	      blob_there("gc live moved"), "gc live: a moved message keeps its blob");
	store_copy_result_free(&cr);
	CHECK(append_text(crashing, dst, "gc live orphan", 0, NULL, NULL) == STORE_CRASHED &&
	      blob_there("gc live orphan"), "gc live: an append in flight left its blob");
	store_close(&crashing);
	CHECK(store_mailbox_delete(s, "GcLive", &err) == STORE_OK &&
	      store_mailbox_delete(s, "GcLive2", &err) == STORE_OK &&
	      store_gc(s, &removed, &err) == STORE_OK && removed == 2 &&
	      !blob_there("gc live kept") && !blob_there("gc live moved"),
	      "gc live: deleted mailboxes' blobs collected (%u)", removed);
	CHECK(blob_there("gc live orphan"), "gc live: the in-flight orphan stays while shared");
	store_close(&holder);
	CHECK(store_gc_removed(s, &removed, &err) == STORE_OK && removed == 0 &&
	      blob_there("gc live orphan"), "gc live: store_gc_removed never walks, even alone");
	CHECK(store_gc(s, &removed, &err) == STORE_OK && removed == 1 &&
	      !blob_there("gc live orphan"), "gc live: the walk takes it once alone (%u)",
	      removed);
	store_close(&s);
}

/* Another handle's store_gc runs between an append's blob write and its
 * index transaction, and collects that very blob (the same octets had
 * been expunged): the append writes it again and files the message. */
struct race {
	struct store *collector;
	unsigned removed, calls;
};

static void race_gc(void *arg)
{
	struct race *r = arg;
	unsigned n = 0;
	const char *err;

	r->calls++;
	if (store_gc(r->collector, &n, &err) == STORE_OK)
		r->removed += n;
}

static void test_gc_race(void)
{
	struct race r = { 0 };
	struct store_params p = params_for(STORE_STEP_NONE);
	struct store *appender = NULL;
	const char *err, *text = "raced with a collector";
	uint32_t uid = 0;
	int64_t mb;

	r.collector = open_store("alice", STORE_STEP_NONE);
	p.faults.before_index = race_gc;
	p.faults.before_index_arg = &r;
	if (r.collector == NULL || store_open(&p, "alice", &appender, &err) != STORE_OK) {
		CHECK(0, "gc race: open two handles");
		store_close(&r.collector);
		return;
	}
	mb = mailbox_id(r.collector, "INBOX");
	CHECK(append_text(r.collector, mb, text, 0, &uid, NULL) == STORE_OK &&
	      expunge_uid(r.collector, mb, uid) && blob_there(text),
	      "gc race: the octets stored and expunged, blob not yet collected");
	CHECK(append_text(appender, mb, text, 0, &uid, NULL) == STORE_OK && uid > 0,
	      "gc race: the append succeeds");
	CHECK(r.removed == 1 && r.calls == 2,
	      "gc race: collected under it once, written again (%u, %u calls)", r.removed,
	      r.calls);
	CHECK(blob_there(text) && read_back(appender, mb, uid, text, strlen(text)),
	      "gc race: the filed message has its blob");
	store_close(&appender);
	store_close(&r.collector);
}

static void test_symlinks(void)
{
	struct store_params p = params_for(STORE_STEP_NONE);
	struct store *s = NULL;
	char link[256], target[256];
	const char *err;

	snprintf(link, sizeof(link), "%s/evil", root);
	CHECK(symlink("/tmp", link) == 0, "plant a symlinked store");
	CHECK(store_open(&p, "evil", &s, &err) != STORE_OK && s == NULL,
	      "symlinked store directory refused");
	CHECK(store_create(&p, "bob", &err) == STORE_OK, "create bob");
	snprintf(link, sizeof(link), "%s/bob/tmp", root);
	snprintf(target, sizeof(target), "%s/bob/tmp-real", root);
	CHECK(rename(link, target) == 0 && symlink(target, link) == 0,
	      "swap bob/tmp for a symlink");
	CHECK(store_open(&p, "bob", &s, &err) != STORE_OK && s == NULL,
	      "symlinked tmp directory refused");
}

static void test_keyword_cap(void)
{
	struct store *s = open_store("alice", STORE_STEP_NONE);
	struct store_flag_change ch = { STORE_FLAGS_ADD, 0, NULL, 1 };
	char name[32];
	const char *kw = name, *err;
	int64_t mb;
	unsigned i;
	int ret = STORE_OK;

	if (s == NULL)
		return;
	mb = mailbox_id(s, "Projects/Old/A");
	(void)append_text(s, mb, "kw", 0, NULL, NULL);
	ch.keywords = &kw;
	for (i = 0; i < RD_STORE_MAX_KEYWORDS && ret == STORE_OK; i++) {
		snprintf(name, sizeof(name), "k%u", i);
		ret = store_flags_update(s, mb, 1, UINT32_MAX, &ch, NULL, NULL,
					 NULL, &err);
	}
	CHECK(ret == STORE_OK, "%u keywords in one mailbox", RD_STORE_MAX_KEYWORDS);
	snprintf(name, sizeof(name), "one-too-many");
	CHECK(store_flags_update(s, mb, 1, UINT32_MAX, &ch, NULL, NULL, NULL,
				 &err) == STORE_LIMIT, "keyword over the cap refused");
	snprintf(name, sizeof(name), "bad keyword");
	CHECK(store_flags_update(s, mb, 1, UINT32_MAX, &ch, NULL, NULL, NULL,
				 &err) == STORE_INVALID, "invalid keyword refused");
	store_close(&s);
}

/* n messages "batch <tag> <i>" keyed "<tag>-<i>" (keys[i] NULL: no key). */
static int append_batch(struct store *s, int64_t mb, const char *tag, size_t n,
			const bool *keyed, uint32_t *uids, uint64_t *modseqs)
{
	struct store_append a[8] = { { 0 } };
	char text[8][64], key[8][64];
	const char *err = NULL;
	size_t i;
	int ret;

	for (i = 0; i < n && i < 8; i++) {
		snprintf(text[i], sizeof(text[i]), "batch %s %zu", tag, i);
		snprintf(key[i], sizeof(key[i]), "%s-%zu", tag, i);
		a[i].data = text[i];
		a[i].size = strlen(text[i]);
		a[i].internal_date = 1700000000;
		a[i].fulltext = text[i];
		a[i].delivery_key = keyed == NULL || keyed[i] ? key[i] : NULL;
	}
	ret = store_append_batch(s, mb, a, n, uids, modseqs, &err);
	if (ret != STORE_OK && ret != STORE_CRASHED)
		printf("# append batch: %d %s\n", ret, err);
	return ret;
}

/* Batch append: one transaction, one MODSEQ, consecutive UIDs; delivery
 * keys make a repeated delivery a no-op (UID 0), in the same or a later
 * batch and through store_append too. */
static void test_batch(void)
{
	struct store *s = open_store("alice", STORE_STEP_NONE);
	struct store_append bad[2] = { { .data = "x", .size = 1 }, { .data = "", .size = 0 } };
	uint32_t uids[8] = { 0 };
	uint64_t modseqs[8] = { 0 };
	struct store_mailbox_info info;
	const char *err;
	char text[64];
	int64_t mb;
	size_t i;

	if (s == NULL)
		return;
	CHECK(store_mailbox_create(s, "Batch", STORE_SPECIAL_NONE, &mb, &err) == STORE_OK,
	      "create Batch");
	CHECK(append_batch(s, mb, "a", 5, NULL, uids, modseqs) == STORE_OK, "batch of 5");
	for (i = 1; i < 5; i++)
		CHECK(uids[i] == uids[0] + i && modseqs[i] == modseqs[0],
		      "batch message %zu: next UID, same MODSEQ", i);
	for (i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "batch a %zu", i);
		CHECK(read_back(s, mb, uids[i], text, strlen(text)), "batch message %zu read back", i);
	}
	info = mailbox_info(s, "Batch");
	CHECK(info.messages == 5 && info.uidnext == uids[4] + 1 &&
	      info.highestmodseq == modseqs[0], "mailbox counters after the batch");
	/* a redelivery of the whole batch files nothing */
	CHECK(append_batch(s, mb, "a", 5, NULL, uids, modseqs) == STORE_OK &&
	      uids[0] == 0 && uids[4] == 0 && mailbox_info(s, "Batch").messages == 5,
	      "known delivery keys: nothing filed twice");
	/* a batch holding known and new keys files the new ones only */
	CHECK(append_batch(s, mb, "a", 7, NULL, uids, modseqs) == STORE_OK &&
	      uids[4] == 0 && uids[5] == info.uidnext && uids[6] == info.uidnext + 1 &&
	      mailbox_info(s, "Batch").messages == 7, "mixed batch: only new keys filed");
	/* store_append honours keys too; no key means no check */
	struct store_append one = { .data = "batch a 0", .size = 9, .delivery_key = "a-0" };
	CHECK(store_append(s, mb, &one, &uids[0], &modseqs[0], &err) == STORE_OK && uids[0] == 0,
	      "store_append with a known key files nothing");
	bool nokey[2] = { false, false };
	CHECK(append_batch(s, mb, "a", 2, nokey, uids, modseqs) == STORE_OK &&
	      uids[0] != 0 && uids[1] == uids[0] + 1, "without keys the same bytes are filed again");
	/* all or nothing */
	info = mailbox_info(s, "Batch");
	CHECK(store_append_batch(s, mb, bad, 2, uids, modseqs, &err) == STORE_INVALID &&
	      mailbox_info(s, "Batch").messages == info.messages, "a bad message fails the whole batch");
	CHECK(store_append_batch(s, mb, bad, RD_STORE_MAX_APPEND_BATCH + 1, uids, modseqs,
				 &err) == STORE_LIMIT, "batch over the cap refused");
	one.delivery_key = "";
	CHECK(store_append(s, mb, &one, &uids[0], &modseqs[0], &err) == STORE_INVALID,
	      "empty delivery key refused");
	store_close(&s);
}

/* A batch crashed after each step: all of it or none of it is there, no
 * row without its blob, and a redelivery after the commit files nothing. */
static void test_batch_crash_step(enum store_step step)
{
	struct store *s = open_store("alice", step);
	uint32_t uids[8];
	uint64_t modseqs[8];
	struct store_mailbox_info before, after;
	unsigned removed = 0;
	char tag[16];
	const char *err;
	int64_t mb;

	if (s == NULL)
		return;
	mb = mailbox_id(s, "Batch");
	before = mailbox_info(s, "Batch");
	snprintf(tag, sizeof(tag), "crash%d", (int)step);
	CHECK(append_batch(s, mb, tag, 3, NULL, uids, modseqs) == STORE_CRASHED,
	      "batch step %d: stops with STORE_CRASHED", (int)step);
	CHECK(count_dir("alice", "tmp") == (step <= STORE_STEP_TMP_FSYNCED ? 3u : 0u),
	      "batch step %d: on-disk state left as the crash left it", (int)step);
	store_close(&s);
	s = open_store("alice", STORE_STEP_NONE);
	if (s == NULL)
		return;
	after = mailbox_info(s, "Batch");
	if (step == STORE_STEP_INDEX_COMMITTED)
		CHECK(after.messages == before.messages + 3, "batch step %d: all three there",
		      (int)step);
	else
		CHECK(after.messages == before.messages && after.uidnext == before.uidnext,
		      "batch step %d: none of them visible", (int)step);
	CHECK(store_gc(s, &removed, &err) == STORE_OK &&
	      removed == (step == STORE_STEP_RENAMED || step == STORE_STEP_DIR_FSYNCED ? 3u : 0u),
	      "batch step %d: gc removed %u orphan blob(s)", (int)step, removed);
	/* the queue redelivers what it never heard about */
	CHECK(append_batch(s, mb, tag, 3, NULL, uids, modseqs) == STORE_OK,
	      "batch step %d: redelivery", (int)step);
	CHECK(mailbox_info(s, "Batch").messages == before.messages + 3 &&
	      (step == STORE_STEP_INDEX_COMMITTED) == (uids[0] == 0 && uids[2] == 0),
	      "batch step %d: exactly one copy of each after the redelivery", (int)step);
	struct collect c = fetch_all(s, mb);
	size_t found = 0;
	for (size_t i = 0; i < c.n && i < 64; i++) {
		int fd = -1;
		uint64_t sz, base;
		if (store_message_open(s, mb, c.uids[i], &fd, &base, &sz, &err) == STORE_OK) {
			found++;
			close(fd);
		}
	}
	CHECK(found == c.n, "batch step %d: every indexed message has its blob", (int)step);
	store_close(&s);
}

int main(void)
{
	enum store_step step;
	const char *err;
	int parent;

	snprintf(root, sizeof(root), "/tmp/test-store-XXXXXX");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_create_and_ids();
	test_defaults();
	test_uid_modseq();
	test_mailboxes();
	test_copy_move();
	test_large();
	test_gc_baseline();
	for (step = STORE_STEP_TMP_WRITTEN; step <= STORE_STEP_INDEX_COMMITTED; step++)
		test_crash_step(step);
	test_batch();
	for (step = STORE_STEP_TMP_WRITTEN; step <= STORE_STEP_INDEX_COMMITTED; step++)
		test_batch_crash_step(step);
	test_concurrent_open();
	test_gc_live();
	test_gc_race();
	test_keyword_cap();
	test_symlinks();

	parent = open("/tmp", O_RDONLY | O_DIRECTORY);
	if (parent < 0 || fs_remove_tree(parent, root + 5, 6, &err) < 0)
		printf("# cleanup of %s failed\n", root);
	if (parent >= 0)
		close(parent);
	return TEST_DONE();
}
