/* test-maildir.c: Maildir flags, Maildir++ folder names, CRLF, and a scan
 * of a tree holding links, fifos and hostile names. */
#include "import/maildir.h"
#include "store/store.h"
#include "lib/test.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_flags(void)
{
	CHECK(maildir_info_flags("1.M1.host") == 0, "no info: no flags");
	CHECK(maildir_info_flags("1.M1.host:2,S") == STORE_FLAG_SEEN, "S");
	CHECK(maildir_info_flags("1.M1.host:2,DFPRST") ==
	      (STORE_FLAG_SEEN | STORE_FLAG_ANSWERED | STORE_FLAG_FLAGGED | STORE_FLAG_DELETED |
	       STORE_FLAG_DRAFT), "every letter");
	CHECK(maildir_info_flags("1.M1.host:2,abS") == STORE_FLAG_SEEN, "keyword letters ignored");
	CHECK(maildir_info_flags("1.M1.host:1,S") == 0, "experimental info ignored");
	CHECK(maildir_info_flags("1.M1:2,F.host:2,R") == STORE_FLAG_ANSWERED, "the last info counts");
}

static void test_names(void)
{
	static const struct { const char *in, *out; } ok[] = {
		{ ".Sent", "Sent" }, { ".A.B", "A/B" }, { ".Sub.Folder.Deep", "Sub/Folder/Deep" },
		{ ".caf\xc3\xa9", "caf\xc3\xa9" }, { ".&AOQ-", "&AOQ-" },
	};
	static const char *const bad[] = {
		"..", "..evil", ".a..b", ".a.", ".", "Sent", "", ".a\tb", ".a\x7f", ".\x1b[31m",
	};
	char out[256];
	const char *err;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		CHECK(maildir_folder_name(ok[i].in, out, sizeof(out), &err) == 0 &&
		      strcmp(out, ok[i].out) == 0, "folder %s", ok[i].in);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(maildir_folder_name(bad[i], out, sizeof(out), &err) == -1,
		      "folder name %zu refused", i);
	CHECK(maildir_folder_name(".abcdef", out, 4, &err) == -1, "too long for the buffer");
}

static void test_crlf(void)
{
	struct buffer b;
	buffer_init(&b, 64);
	CHECK(maildir_crlf((const uint8_t *)"a\nb\r\n\nc\rd", 9, &b) == 0 && b.len == 11 &&
	      memcmp(b.data, "a\r\nb\r\n\r\nc\rd", 11) == 0, "LF to CRLF, CRLF and bare CR kept");
	buffer_reset(&b);
	CHECK(maildir_crlf((const uint8_t *)"\n", 1, &b) == 0 && b.len == 2, "lone LF");
	buffer_free(&b);
	buffer_init(&b, 5);
	CHECK(maildir_crlf((const uint8_t *)"a\nb\nc", 5, &b) == -1, "cap counts the added CRs");
	buffer_free(&b);
}

struct skips {
	int n;
	char seen[16][256];
};

static void on_skip(void *ctx, const char *path, const char *reason)
{
	struct skips *s = ctx;
	if (s->n < 16)
		snprintf(s->seen[s->n++], 256, "%s", path);
	(void)reason;
}

static int skipped(const struct skips *s, const char *path)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->seen[i], path) == 0)
			return 1;
	return 0;
}

static void put(const char *dir, const char *rel, const char *text)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void sub(const char *dir, const char *rel)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	mkdir(p, 0700);
}

static void test_scan(void)
{
	char dir[] = "/tmp/test-maildir-XXXXXX", p[1024];
	if (mkdtemp(dir) == NULL)
		return;
	const char *dirs[] = { "cur", "new", "tmp", ".Sub", ".Sub/cur", ".Sub.Folder",
			       ".Sub.Folder/new", "..evil", "..evil/cur", ".nocur", "plain" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		sub(dir, dirs[i]);
	put(dir, "cur/2.M2.h:2,S", "B: 2\n\nb\n");
	put(dir, "new/1.M1.h", "A: 1\n\na\n");
	put(dir, "tmp/3.M3.h", "not yet\n");
	put(dir, "cur/.hidden", "x\n");
	put(dir, ".Sub/cur/4.M4.h:2,FR", "C: 3\n\nc\n");
	put(dir, ".Sub.Folder/new/5.M5.h", "D: 4\n\nd\n");
	put(dir, "..evil/cur/6.M6.h", "E: 5\n\ne\n");
	put(dir, "dovecot-uidlist", "3 V1 N1\n");
	snprintf(p, sizeof(p), "%s/cur/7.M7.h:2,S", dir);
	symlink("/etc/shadow", p);
	snprintf(p, sizeof(p), "%s/.Link", dir);
	symlink("/etc", p);
	snprintf(p, sizeof(p), "%s/.Sub.Folder/cur", dir);
	symlink("/etc", p);
	snprintf(p, sizeof(p), "%s/new/8.M8.h", dir);
	mkfifo(p, 0600);

	struct maildir_tree t;
	struct skips s;
	const char *err;
	memset(&s, 0, sizeof(s));
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(maildir_scan(root, &t, on_skip, &s, &err) == 0, "scan");
	CHECK(t.nfolders == 3 && strcmp(t.folders[0].name, "") == 0 &&
	      strcmp(t.folders[1].name, "Sub") == 0 && strcmp(t.folders[2].name, "Sub/Folder") == 0,
	      "root, Sub, Sub/Folder (%zu folders)", t.nfolders);
	CHECK(t.total_files == 4 && t.folders[0].nfiles == 2 &&
	      strcmp(t.folders[0].files[0].name, "1.M1.h") == 0 && t.folders[0].files[0].sub == 1,
	      "messages in name order, tmp/, dot files, links and fifos left out");
	CHECK(skipped(&s, "cur/7.M7.h:2,S") && skipped(&s, ".Link") && skipped(&s, "..evil") &&
	      skipped(&s, ".Sub.Folder/cur") && skipped(&s, "new/8.M8.h") && skipped(&s, "plain"),
	      "links, fifo, ..evil and a non-dot directory reported (%d skips)", s.n);
	struct maildir_folder *f = &t.folders[0];
	CHECK(maildir_folder_open(root, f, &err) == 0, "open the root folder");
	int fd;
	struct stat st;
	const char *reason;
	CHECK(maildir_message_open(f, &f->files[1], &fd, &st, &reason) == 0 && st.st_size == 8,
	      "open cur/2.M2.h:2,S");
	close(fd);
	/* swapped for a link between scan and open */
	snprintf(p, sizeof(p), "%s/cur/2.M2.h:2,S", dir);
	unlink(p);
	symlink("/etc/shadow", p);
	CHECK(maildir_message_open(f, &f->files[1], &fd, &st, &reason) == -1 &&
	      strstr(reason, "symbolic link") != NULL, "a link swapped in later is not followed");
	maildir_tree_free(&t);
	close(root);

	int empty = open("/tmp", O_RDONLY | O_DIRECTORY);
	char e2[] = "/tmp/test-maildir-empty-XXXXXX";
	if (mkdtemp(e2) != NULL) {
		close(empty);
		empty = open(e2, O_RDONLY | O_DIRECTORY);
		CHECK(maildir_scan(empty, &t, NULL, NULL, &err) == -1, "an empty directory is no Maildir");
		maildir_tree_free(&t);
		rmdir(e2);
	}
	close(empty);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	CHECK(system(p) == 0, "cleanup");
}

int main(void)
{
	test_flags();
	test_names();
	test_crlf();
	test_scan();
	return TEST_DONE();
}
