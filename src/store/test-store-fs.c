/* test-store-fs.c: blob ids are the SHA-256 of the bytes in lower-case hex.
 * Blob names are on disk in every existing store, so the digest must never
 * change whatever library computes it: checked against the published test
 * vectors (FIPS 180-2 examples and the empty string), through both the
 * single and the batched write, and by the file name each write leaves. */
#include "store/store-fs.h"
#include "lib/test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct vector {
	const char *what;
	const char *data;   /* NULL: one million 'a' */
	const char *hex;
};

static const struct vector vectors[] = {
	{ "empty", "",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "abc",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "two blocks", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "a million a", NULL,
	  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};
#define NVECTORS (sizeof(vectors) / sizeof(vectors[0]))
#define MILLION 1000000u

static const void *vector_data(const struct vector *v, const char *million, size_t *size_r)
{
	if (v->data == NULL) {
		*size_r = MILLION;
		return million;
	}
	*size_r = strlen(v->data);
	return v->data;
}

/* The blob is where its id says: blobs/<first two>/<other 62>. */
static int blob_on_disk(int blobs_fd, const char *hex, size_t size)
{
	char rel[STORE_BLOB_ID_LEN + 2];
	struct stat st;

	snprintf(rel, sizeof(rel), "%.2s/%s", hex, hex + 2);
	return fstatat(blobs_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) && (size_t)st.st_size == size;
}

static void run(int blobs_fd, int tmp_fd, const char *million)
{
	const struct store_faults none = { .crash_after_step = STORE_STEP_NONE };
	struct fs_blob batch[NVECTORS];
	const char *err = NULL;
	size_t i, size;

	for (i = 0; i < NVECTORS; i++) {
		char id[STORE_BLOB_ID_LEN + 1] = "";
		const void *data = vector_data(&vectors[i], million, &size);

		CHECK(fs_blob_put(blobs_fd, tmp_fd, data, size, &none, id, &err) == STORE_OK,
		      "put %s", vectors[i].what);
		CHECK_STR(id, vectors[i].hex, "id of %s is its SHA-256", vectors[i].what);
		CHECK(fs_blob_id_valid(id), "id of %s is a valid blob id", vectors[i].what);
		CHECK(blob_on_disk(blobs_fd, vectors[i].hex, size),
		      "%s stored under its SHA-256 name", vectors[i].what);
	}
	/* the batch path hashes separately: same ids, in order */
	for (i = 0; i < NVECTORS; i++) {
		batch[i].data = vector_data(&vectors[NVECTORS - 1 - i], million, &batch[i].size);
		memset(batch[i].id, 0, sizeof(batch[i].id));
	}
	CHECK(fs_blob_put_many(blobs_fd, tmp_fd, batch, NVECTORS, &none, &err) == STORE_OK,
	      "batched put");
	for (i = 0; i < NVECTORS; i++)
		CHECK_STR(batch[i].id, vectors[NVECTORS - 1 - i].hex,
			  "batched id of %s", vectors[NVECTORS - 1 - i].what);
}

int main(void)
{
	char root[] = "/tmp/redoubt-test-store-fs-XXXXXX";
	const char *err = NULL;
	char *million = malloc(MILLION);

	if (million == NULL || mkdtemp(root) == NULL) {
		CHECK(0, "setup");
		return TEST_DONE();
	}
	memset(million, 'a', MILLION);
	int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ok = root_fd >= 0 && mkdirat(root_fd, "blobs", 0700) == 0 &&
		 mkdirat(root_fd, "tmp", 0700) == 0;
	int blobs_fd = ok ? openat(root_fd, "blobs", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	int tmp_fd = ok ? openat(root_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	CHECK(blobs_fd >= 0 && tmp_fd >= 0 && fs_blob_dirs_create(blobs_fd, &err) == 0,
	      "blob directories made");
	if (blobs_fd >= 0 && tmp_fd >= 0)
		run(blobs_fd, tmp_fd, million);
	if (blobs_fd >= 0)
		close(blobs_fd);
	if (tmp_fd >= 0)
		close(tmp_fd);
	if (root_fd >= 0)
		close(root_fd);
	int parent_fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(parent_fd >= 0 && fs_remove_tree(parent_fd, root + strlen("/tmp/"), 4, &err) == 0,
	      "test directory removed");
	if (parent_fd >= 0)
		close(parent_fd);
	free(million);
	return TEST_DONE();
}
