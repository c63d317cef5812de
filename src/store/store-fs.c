/* store-fs.c: directory-fd-relative file access and the crash-safe blob
 * write order (see store-fs.h). */
#include "store/store-fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "store/sha256.h"

/* Longest relative path we ever open: "xx/<64 hex>". */
#define FS_MAX_RELPATH 128

/* Fallback when openat2 is missing (old kernel) or filtered by seccomp:
 * walk the components one openat(O_NOFOLLOW) at a time. */
static int open_walk(int dirfd, const char *relpath, int flags, mode_t mode)
{
	char buf[FS_MAX_RELPATH];
	char *comp, *slash;
	int cur = dirfd, fd;

	if (strlen(relpath) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, relpath, strlen(relpath) + 1);
	comp = buf;
	while ((slash = strchr(comp, '/')) != NULL) {
		*slash = '\0';
		fd = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		if (cur != dirfd)
			close(cur);
		if (fd < 0)
			return -1;
		cur = fd;
		comp = slash + 1;
	}
	fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if (cur != dirfd) {
		int saved = errno;
		close(cur);
		errno = saved;
	}
	return fd;
}

static bool relpath_safe(const char *relpath)
{
	const char *p = relpath;

	if (*p == '\0' || *p == '/')
		return false;
	while (*p != '\0') {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
		if (*p == '\0' && p[-1] == '/')
			return false;
	}
	return true;
}

int fs_open_beneath(int dirfd, const char *relpath, int flags, mode_t mode)
{
	struct open_how how;
	long fd;

	if (!relpath_safe(relpath)) {
		errno = EINVAL;
		return -1;
	}
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC);
	how.mode = (flags & O_CREAT) != 0 ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, dirfd, relpath, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno != ENOSYS && errno != EPERM)
		return -1;
	return open_walk(dirfd, relpath, flags, mode);
}

int fs_fsync_dir(int dirfd, const char **error_r)
{
	if (fsync(dirfd) < 0) {
		*error_r = "fsync of directory failed";
		return -1;
	}
	return 0;
}

int fs_blob_dirs_create(int blobs_fd, const char **error_r)
{
	char name[3];
	unsigned i;

	for (i = 0; i < 256; i++) {
		snprintf(name, sizeof(name), "%02x", i);
		if (mkdirat(blobs_fd, name, 0700) < 0 && errno != EEXIST) {
			*error_r = "cannot create blob directory";
			return -1;
		}
	}
	return fs_fsync_dir(blobs_fd, error_r);
}

bool fs_blob_id_valid(const char *id)
{
	size_t i;

	for (i = 0; i < STORE_BLOB_ID_LEN; i++) {
		char c = id[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return id[STORE_BLOB_ID_LEN] == '\0';
}

/* The store's own SHA-256 (sha256.c: SHA extensions where the CPU has
 * them), the same digest as ever, so blob names on disk are unchanged
 * (test-store-fs checks known vectors through the writes). */
static void sha256_hex(const void *data, size_t size, char *hex_r)
{
	uint8_t md[SHA256_DIGEST_LEN];
	static const char digits[] = "0123456789abcdef";
	size_t i;

	_Static_assert(SHA256_DIGEST_LEN * 2 == STORE_BLOB_ID_LEN,
		       "blob ids are hex SHA-256");
	sha256(data, size, md);
	for (i = 0; i < sizeof(md); i++) {
		hex_r[2 * i] = digits[md[i] >> 4];
		hex_r[2 * i + 1] = digits[md[i] & 0x0f];
	}
	hex_r[2 * sizeof(md)] = '\0';
}

static int write_all(int fd, const void *data, size_t size)
{
	const unsigned char *p = data;

	while (size > 0) {
		ssize_t n = write(fd, p, size);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

static int tmp_create(int tmp_fd, char *name_r, size_t name_size)
{
	unsigned char rnd[16];
	size_t i;
	int fd;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	if (name_size < sizeof(rnd) * 2 + 5)
		return -1;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(name_r + 2 * i, 3, "%02x", rnd[i]);
	memcpy(name_r + 2 * sizeof(rnd), ".tmp", 5);
	fd = openat(tmp_fd, name_r, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	return fd;
}

/* Open (creating if needed) blobs/xx; *created_r says whether blobs/ got a
 * new entry that must be fsynced. */
static int open_fanout_dir(int blobs_fd, const char *id, bool *created_r)
{
	char xx[3] = { id[0], id[1], '\0' };

	*created_r = false;
	if (mkdirat(blobs_fd, xx, 0700) == 0)
		*created_r = true;
	else if (errno != EEXIST)
		return -1;
	return fs_open_beneath(blobs_fd, xx, O_RDONLY | O_DIRECTORY, 0);
}

#define CRASH_AT(step) (faults != NULL && faults->crash_after_step == (step))

/* Work state of one blob in fs_blob_put_many. */
struct blob_job {
	int fd, xx_fd;
	bool created;                  /* blobs/xx was made for it */
	bool skip;                     /* already stored: nothing to write */
	bool renamed;
	char tmpname[64];
};

static void jobs_close(struct blob_job *jobs, size_t n, int tmp_fd,
		       bool unlink_tmp)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (jobs[i].fd >= 0) {
			close(jobs[i].fd);
			if (unlink_tmp && !jobs[i].renamed)
				(void)unlinkat(tmp_fd, jobs[i].tmpname, 0);
		}
		if (jobs[i].xx_fd >= 0)
			close(jobs[i].xx_fd);
	}
}

/* Make every written tmp file durable. Writeback of all of them is started
 * first, so their blocks are allocated in the same journal transaction:
 * the first fsync commits it and the others mostly find their data on
 * disk already - about one commit for the batch where n plain fsyncs
 * force n. (syncfs() would do it in one call, but flushes every other
 * file of the file system too: the spool, other stores.) */
static int jobs_sync_data(struct blob_job *jobs, size_t n, size_t todo,
			  const char **error_r)
{
	size_t i;

	for (i = 0; i < n && todo > 1; i++) {
		if (!jobs[i].skip)
			(void)sync_file_range(jobs[i].fd, 0, 0,
					      SYNC_FILE_RANGE_WRITE);
	}
	for (i = 0; i < n; i++) {
		if (!jobs[i].skip && fsync(jobs[i].fd) < 0) {
			*error_r = "fsync of tmp file failed";
			return -1;
		}
	}
	return 0;
}

/* Value of a lower-case hex digit (the id came from sha256_hex). */
static unsigned hex_digit(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10) & 0xfu;
}

/* fsync each blobs/xx that got a new entry once, and blobs/ if a fan-out
 * directory had to be created. */
static int jobs_sync_dirs(struct blob_job *jobs, size_t n, int blobs_fd,
			  const struct fs_blob *blobs, const char **error_r)
{
	bool done[256] = { false }, created = false;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned xx;

		if (jobs[i].skip)
			continue;
		created |= jobs[i].created;
		xx = hex_digit(blobs[i].id[0]) << 4 | hex_digit(blobs[i].id[1]);
		if (done[xx])
			continue;
		done[xx] = true;
		if (fs_fsync_dir(jobs[i].xx_fd, error_r) < 0)
			return -1;
	}
	return created ? fs_fsync_dir(blobs_fd, error_r) : 0;
}

int fs_blob_put_many(int blobs_fd, int tmp_fd, struct fs_blob *blobs, size_t n,
		     const struct store_faults *faults, const char **error_r)
{
	struct blob_job *jobs;
	struct stat st;
	size_t i, todo = 0;
	int ret = STORE_ERROR;

	if (n == 0)
		return STORE_OK;
	if ((jobs = calloc(n, sizeof(*jobs))) == NULL) {
		*error_r = "out of memory";
		return STORE_ERROR;
	}
	for (i = 0; i < n; i++)
		jobs[i].fd = jobs[i].xx_fd = -1;
	for (i = 0; i < n; i++) {
		struct blob_job *j = &jobs[i];

		sha256_hex(blobs[i].data, blobs[i].size, blobs[i].id);
		if ((j->xx_fd = open_fanout_dir(blobs_fd, blobs[i].id,
						&j->created)) < 0) {
			*error_r = "cannot open blob directory";
			goto fail;
		}
		/* Content addressing makes an existing blob with this name
		 * the same bytes, already durable; skipping the write is
		 * dedup, not risk. (Two equal blobs in one batch are both
		 * written; the second rename replaces the first with the
		 * same bytes.) */
		if (!j->created &&
		    fstatat(j->xx_fd, blobs[i].id + 2, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && (uint64_t)st.st_size == blobs[i].size) {
			j->skip = true;
			continue;
		}
		if ((j->fd = tmp_create(tmp_fd, j->tmpname, sizeof(j->tmpname))) < 0) {
			*error_r = "cannot create tmp file";
			goto fail;
		}
		if (write_all(j->fd, blobs[i].data, blobs[i].size) < 0) {
			*error_r = errno == ENOSPC ? "disk full" : "write of tmp file failed";
			goto fail;
		}
		todo++;
	}
	if (CRASH_AT(STORE_STEP_TMP_WRITTEN))
		goto crash;
	if (jobs_sync_data(jobs, n, todo, error_r) < 0)
		goto fail;
	if (CRASH_AT(STORE_STEP_TMP_FSYNCED))
		goto crash;
	for (i = 0; i < n; i++) {
		if (jobs[i].skip)
			continue;
		if (renameat(tmp_fd, jobs[i].tmpname, jobs[i].xx_fd,
			     blobs[i].id + 2) < 0) {
			*error_r = "rename of blob failed";
			goto fail;
		}
		jobs[i].renamed = true;
	}
	if (CRASH_AT(STORE_STEP_RENAMED))
		goto crash;
	/* A blob renamed but not yet synced is unreferenced if this fails:
	 * store_gc() reclaims it. */
	if (jobs_sync_dirs(jobs, n, blobs_fd, blobs, error_r) < 0)
		goto out;
	if (CRASH_AT(STORE_STEP_DIR_FSYNCED))
		goto crash;
	ret = STORE_OK;
	goto out;

crash:
	*error_r = "fault injected: crashed";
	ret = STORE_CRASHED;
	goto out;
fail:
	jobs_close(jobs, n, tmp_fd, true);
	free(jobs);
	return ret;
out:
	jobs_close(jobs, n, tmp_fd, false);
	free(jobs);
	return ret;
}

int fs_blob_put(int blobs_fd, int tmp_fd, const void *data, size_t size,
		const struct store_faults *faults, char *id_r,
		const char **error_r)
{
	struct fs_blob b = { .data = data, .size = size };
	int ret = fs_blob_put_many(blobs_fd, tmp_fd, &b, 1, faults, error_r);

	memcpy(id_r, b.id, sizeof(b.id));
	return ret;
}

/* blobs/xx/<rest> of a valid id, into rel (STORE_BLOB_ID_LEN + 2). */
static int blob_rel(const char *id, char *rel)
{
	if (!fs_blob_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	rel[0] = id[0];
	rel[1] = id[1];
	rel[2] = '/';
	memcpy(rel + 3, id + 2, STORE_BLOB_ID_LEN - 2 + 1);
	return 0;
}

unsigned fs_blob_fanout(const char *id)
{
	return hex_digit(id[0]) << 4 | hex_digit(id[1]);
}

int fs_blob_open(int blobs_fd, const char *id)
{
	char rel[STORE_BLOB_ID_LEN + 2];

	if (blob_rel(id, rel) < 0)
		return -1;
	return fs_open_beneath(blobs_fd, rel, O_RDONLY, 0);
}

bool fs_blob_present(int blobs_fd, const char *id, uint64_t size)
{
	char rel[STORE_BLOB_ID_LEN + 2];
	struct stat st;

	return blob_rel(id, rel) == 0 &&
	       fstatat(blobs_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

int fs_blob_unlink(int blobs_fd, const char *id)
{
	char rel[STORE_BLOB_ID_LEN + 2];

	if (blob_rel(id, rel) < 0)
		return -1;
	if (unlinkat(blobs_fd, rel, 0) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

/* Iterate over dir_fd's entries; each is passed to fn. A dup is handed to
 * fdopendir because closedir closes its fd and the caller keeps dir_fd. */
typedef int dir_entry_fn(int dir_fd, const char *name, void *ctx,
			 const char **error_r);

static int dir_each(int dir_fd, dir_entry_fn *fn, void *ctx,
		    const char **error_r)
{
	struct dirent *de;
	DIR *dir;
	int fd, ret = 0;

	fd = dup(dir_fd);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		*error_r = "cannot read directory";
		return -1;
	}
	rewinddir(dir);
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fn(dir_fd, de->d_name, ctx, error_r) < 0) {
			ret = -1;
			break;
		}
	}
	closedir(dir);
	return ret;
}

static int tmp_unlink_one(int dir_fd, const char *name, void *ctx,
			  const char **error_r)
{
	unsigned *removed = ctx;

	if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT) {
		*error_r = "cannot remove leftover tmp file";
		return -1;
	}
	(*removed)++;
	return 0;
}

int fs_tmp_clean(int tmp_fd, unsigned *removed_r, const char **error_r)
{
	*removed_r = 0;
	return dir_each(tmp_fd, tmp_unlink_one, removed_r, error_r);
}

struct gc_ctx {
	fs_blob_referenced_fn *referenced;
	void *ctx;
	const char *prefix;
	unsigned removed;
};

/* The walks' common step: the entry goes when no row names it (ref 0). */
static int unlink_unreferenced(int dir_fd, const char *name, int ref, unsigned *removed,
			       const char **error_r)
{
	if (ref < 0)
		return -1;
	if (ref == 0) {
		if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT) {
			*error_r = "cannot remove an unreferenced file";
			return -1;
		}
		(*removed)++;
	}
	return 0;
}

static int gc_one(int dir_fd, const char *name, void *ctx,
		  const char **error_r)
{
	struct gc_ctx *gc = ctx;
	char id[STORE_BLOB_ID_LEN + 1];
	int ref;

	/* Only names this module wrote are judged; anything else is left
	 * for a human rather than deleted on a guess. */
	if (strlen(name) != STORE_BLOB_ID_LEN - 2)
		return 0;
	id[0] = gc->prefix[0];
	id[1] = gc->prefix[1];
	memcpy(id + 2, name, STORE_BLOB_ID_LEN - 2 + 1);
	if (!fs_blob_id_valid(id))
		return 0;
	ref = gc->referenced(gc->ctx, id, error_r);
	return unlink_unreferenced(dir_fd, name, ref, &gc->removed, error_r);
}

int fs_blob_gc(int blobs_fd, fs_blob_referenced_fn *referenced, void *ctx,
	       unsigned *removed_r, const char **error_r)
{
	struct gc_ctx gc = { referenced, ctx, NULL, 0 };
	char xx[8];
	unsigned i;
	int ret = 0;

	for (i = 0; i < 256 && ret == 0; i++) {
		unsigned before = gc.removed;
		int xx_fd;

		snprintf(xx, sizeof(xx), "%02x", i);
		xx_fd = fs_open_beneath(blobs_fd, xx, O_RDONLY | O_DIRECTORY, 0);
		if (xx_fd < 0) {
			if (errno == ENOENT)
				continue;
			*error_r = "cannot open blob directory";
			return -1;
		}
		gc.prefix = xx;
		ret = dir_each(xx_fd, gc_one, &gc, error_r);
		if (ret == 0 && gc.removed != before)
			ret = fs_fsync_dir(xx_fd, error_r);
		close(xx_fd);
	}
	*removed_r = gc.removed;
	return ret;
}

/* ---- packs: many messages in one file (a bulk import) ---- */

void fs_pack_name(int64_t pack, char name_r[FS_PACK_NAME_LEN + 1])
{
	snprintf(name_r, FS_PACK_NAME_LEN + 1, "%016llx", (unsigned long long)pack);
}

/* The pack id a name stands for; -1 if it is not one this module wrote. */
static int64_t pack_from_name(const char *name)
{
	uint64_t v = 0;
	size_t i;
	if (strlen(name) != FS_PACK_NAME_LEN)
		return -1;
	for (i = 0; i < FS_PACK_NAME_LEN; i++) {
		char c = name[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		v = v << 4 | hex_digit(c);
	}
	return v == 0 || v > INT64_MAX ? -1 : (int64_t)v;
}

/* packs/ under the store directory, made on first use (stores older than
 * packs have none); its creation is made durable at once. */
static int packs_dir(int dir_fd, const char **error_r)
{
	if (mkdirat(dir_fd, FS_PACKS_DIR, 0700) == 0) {
		if (fs_fsync_dir(dir_fd, error_r) < 0)
			return -1;
	} else if (errno != EEXIST) {
		*error_r = "cannot create packs directory";
		return -1;
	}
	int fd = fs_open_beneath(dir_fd, FS_PACKS_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		*error_r = "cannot open packs directory";
	return fd;
}

int fs_pack_put(int dir_fd, int tmp_fd, struct fs_blob *blobs, size_t n,
		uint64_t *offsets_r, int64_t *pack_r, const struct store_faults *faults,
		const char **error_r)
{
	char tmpname[64], name[FS_PACK_NAME_LEN + 1];
	uint64_t rnd, off = 0;
	int fd = -1, pfd = -1, ret = STORE_ERROR;
	bool renamed = false;

	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		*error_r = "no random pack name";
		return STORE_ERROR;
	}
	*pack_r = (int64_t)(rnd & INT64_MAX) | 1;   /* never 0 */
	fs_pack_name(*pack_r, name);
	if ((pfd = packs_dir(dir_fd, error_r)) < 0)
		return STORE_ERROR;
	if ((fd = tmp_create(tmp_fd, tmpname, sizeof(tmpname))) < 0) {
		*error_r = "cannot create tmp file";
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		sha256_hex(blobs[i].data, blobs[i].size, blobs[i].id);
		offsets_r[i] = off;
		if (write_all(fd, blobs[i].data, blobs[i].size) < 0) {
			*error_r = errno == ENOSPC ? "disk full" : "write of tmp file failed";
			goto out;
		}
		off += blobs[i].size;
	}
	if (CRASH_AT(STORE_STEP_TMP_WRITTEN))
		goto crash;
	if (fdatasync(fd) < 0) {
		*error_r = "fsync of pack failed";
		goto out;
	}
	if (CRASH_AT(STORE_STEP_TMP_FSYNCED))
		goto crash;
	if (renameat(tmp_fd, tmpname, pfd, name) < 0) {
		*error_r = "rename of pack failed";
		goto out;
	}
	renamed = true;
	if (CRASH_AT(STORE_STEP_RENAMED))
		goto crash;
	/* renamed but not synced: unreferenced if this fails, for store_gc */
	if (fs_fsync_dir(pfd, error_r) < 0)
		goto out;
	if (CRASH_AT(STORE_STEP_DIR_FSYNCED))
		goto crash;
	ret = STORE_OK;
	goto out;
crash:
	*error_r = "fault injected: crashed";
	ret = STORE_CRASHED;
out:
	if (fd >= 0) {
		close(fd);
		if (!renamed && ret != STORE_CRASHED)
			unlinkat(tmp_fd, tmpname, 0);
	}
	close(pfd);
	return ret;
}

#define PACK_REL_LEN (sizeof(FS_PACKS_DIR) + FS_PACK_NAME_LEN + 1)

/* packs/<name> of a valid id, into rel (PACK_REL_LEN). */
static int pack_rel(int64_t pack, char *rel)
{
	if (pack <= 0) {
		errno = EINVAL;
		return -1;
	}
	memcpy(rel, FS_PACKS_DIR "/", sizeof(FS_PACKS_DIR));
	fs_pack_name(pack, rel + sizeof(FS_PACKS_DIR));
	return 0;
}

int fs_pack_open(int dir_fd, int64_t pack)
{
	char rel[PACK_REL_LEN];
	return pack_rel(pack, rel) < 0 ? -1 : fs_open_beneath(dir_fd, rel, O_RDONLY, 0);
}

int fs_pack_unlink(int dir_fd, int64_t pack)
{
	char rel[PACK_REL_LEN];
	if (pack_rel(pack, rel) < 0 || (unlinkat(dir_fd, rel, 0) < 0 && errno != ENOENT))
		return -1;
	return 0;
}

int fs_sync_subdir(int parent_fd, const char *name, const char **error_r)
{
	int fd = fs_open_beneath(parent_fd, name, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return 0;          /* gone: nothing left to make durable */
	int r = fs_fsync_dir(fd, error_r);
	close(fd);
	return r;
}

struct pack_gc_ctx {
	fs_pack_referenced_fn *referenced;
	void *ctx;
	unsigned removed;
};

static int pack_gc_one(int dir_fd, const char *name, void *ctx, const char **error_r)
{
	struct pack_gc_ctx *gc = ctx;
	int64_t pack = pack_from_name(name);
	if (pack < 0)
		return 0;      /* not ours: left for a human */
	return unlink_unreferenced(dir_fd, name, gc->referenced(gc->ctx, pack, error_r),
				   &gc->removed, error_r);
}

int fs_pack_gc(int dir_fd, fs_pack_referenced_fn *referenced, void *ctx,
	       unsigned *removed_r, const char **error_r)
{
	struct pack_gc_ctx gc = { referenced, ctx, 0 };
	*removed_r = 0;
	int pfd = fs_open_beneath(dir_fd, FS_PACKS_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (pfd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = "cannot open packs directory";
		return -1;
	}
	int ret = dir_each(pfd, pack_gc_one, &gc, error_r);
	if (ret == 0 && gc.removed > 0)
		ret = fs_fsync_dir(pfd, error_r);
	close(pfd);
	*removed_r = gc.removed;
	return ret;
}

struct rm_ctx { unsigned depth; };

static int rm_one(int dir_fd, const char *name, void *ctx,
		  const char **error_r)
{
	const struct rm_ctx *rm = ctx;

	if (unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR || rm->depth == 0) {
		*error_r = "cannot remove file";
		return -1;
	}
	return fs_remove_tree(dir_fd, name, rm->depth - 1, error_r);
}

int fs_remove_tree(int parent_fd, const char *name, unsigned max_depth,
		   const char **error_r)
{
	struct rm_ctx rm = { max_depth };
	int fd, ret;

	fd = fs_open_beneath(parent_fd, name, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = "cannot open directory to remove";
		return -1;
	}
	ret = dir_each(fd, rm_one, &rm, error_r);
	close(fd);
	if (ret == 0 && unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 &&
	    errno != ENOENT) {
		*error_r = "cannot remove directory";
		ret = -1;
	}
	return ret;
}
