/* store-fs.h: the file-system half of a store: directory-fd-relative opens
 * that cannot leave the store, the crash-safe blob write, tmp cleanup and
 * blob garbage collection. Backend-neutral (an object-storage backend
 * would replace it), used by the SQLite backend.
 *
 * Every open is relative to a directory fd, with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS) where the kernel has it, else a component-by-
 * component openat(O_NOFOLLOW) walk, so neither ".." nor a planted symlink
 * reaches outside. Functions return 0 / -1 with *error_r, or an enum
 * store_ret where documented. */
#ifndef RD_STORE_FS_H
#define RD_STORE_FS_H
#include <stddef.h>
#include <sys/types.h>
#include "store/store.h"

#define STORE_BLOB_ID_LEN 64  /* sha256 in lower-case hex */

/* Open relpath (components separated by '/', none empty, "." or "..")
 * beneath dirfd; flags gain O_NOFOLLOW | O_CLOEXEC. Returns the fd or -1
 * with errno set. */
int fs_open_beneath(int dirfd, const char *relpath, int flags, mode_t mode);
/* fsync a directory fd, so the entries created or renamed in it survive a
 * power loss. -1 with *error_r on failure. */
int fs_fsync_dir(int dirfd, const char **error_r);
/* Create blobs/00 .. blobs/ff so an append never has to create (and
 * fsync) a parent directory; fsyncs blobs_fd at the end. */
int fs_blob_dirs_create(int blobs_fd, const char **error_r);

/* Write data as an immutable, content-addressed blob: hash, tmp file,
 * fsync, rename into blobs/xx/<hash>, fsync the directory (and blobs/ if xx
 * had to be created). If an identical blob is already there the write is
 * skipped: it was made durable by the append that created it. Stops after
 * faults->crash_after_step with STORE_CRASHED and nothing cleaned up.
 * Returns STORE_OK and the hex hash in id_r (STORE_BLOB_ID_LEN + 1). */
int fs_blob_put(int blobs_fd, int tmp_fd, const void *data, size_t size,
		const struct store_faults *faults, char *id_r,
		const char **error_r);
/* One blob of fs_blob_put_many: data and size in, id (hex hash) out. */
struct fs_blob {
	const void *data;
	size_t size;
	char id[STORE_BLOB_ID_LEN + 1];
};
/* fs_blob_put for n blobs with the syncs shared: every tmp file written,
 * then made durable (writeback of all started, then each fsynced: about
 * one journal commit for all), every rename, then each touched blobs/xx
 * fsynced once. The fault steps apply to the batch as a whole: it stops
 * once every blob has reached the step. On failure, blobs already renamed
 * stay as unreferenced blobs for store_gc(). */
int fs_blob_put_many(int blobs_fd, int tmp_fd, struct fs_blob *blobs, size_t n,
		     const struct store_faults *faults, const char **error_r);
/* The number (0..255) of the blobs/xx directory of a valid id. */
unsigned fs_blob_fanout(const char *id);
/* Read-only fd on blobs/xx/<id>, or -1 with errno. */
int fs_blob_open(int blobs_fd, const char *id);
/* Whether blobs/xx/<id> is there, a regular file of size octets. */
bool fs_blob_present(int blobs_fd, const char *id, uint64_t size);
/* Unlink blobs/xx/<id>; 0 also when it was already gone, else -1/errno. */
int fs_blob_unlink(int blobs_fd, const char *id);
/* Whether id is 64 lower-case hex digits. */
bool fs_blob_id_valid(const char *id);

/* Unlink every entry of the tmp directory (caller holds the store
 * exclusively, so none belongs to a live append). */
int fs_tmp_clean(int tmp_fd, unsigned *removed_r, const char **error_r);

/* Return 1 if the blob is referenced, 0 if not, -1 on error. */
typedef int fs_blob_referenced_fn(void *ctx, const char *id,
				  const char **error_r);
/* Unlink every blob for which referenced() says 0 (caller holds the store
 * exclusively). */
int fs_blob_gc(int blobs_fd, fs_blob_referenced_fn *referenced, void *ctx,
	       unsigned *removed_r, const char **error_r);

/* Packs: the messages of one bulk import batch in one file,
 * <store>/packs/<16 hex>, each message at an offset (the index row keeps
 * pack id and offset). Written once, never changed; removed whole when
 * no row names it any more. Pack ids are random, positive, never 0. */
#define FS_PACKS_DIR "packs"
#define FS_PACK_NAME_LEN 16
void fs_pack_name(int64_t pack, char name_r[FS_PACK_NAME_LEN + 1]);
/* Writes the n blobs one after another into a new pack under dir_fd (the
 * store directory): tmp file, fdatasync, rename into packs/, packs/
 * fsynced (made on first use). Fills each blob's id (hex hash) and
 * offsets_r[i], and *pack_r. The fault steps are fs_blob_put_many's. */
int fs_pack_put(int dir_fd, int tmp_fd, struct fs_blob *blobs, size_t n,
		uint64_t *offsets_r, int64_t *pack_r, const struct store_faults *faults,
		const char **error_r);
/* fsync of the directory name beneath parent_fd; 0 also when it is gone. */
int fs_sync_subdir(int parent_fd, const char *name, const char **error_r);
/* Read-only fd on packs/<pack>, or -1 with errno. */
int fs_pack_open(int dir_fd, int64_t pack);
/* Unlink packs/<pack>; 0 also when it was already gone. */
int fs_pack_unlink(int dir_fd, int64_t pack);
/* Return 1 if a row names the pack, 0 if none, -1 on error. */
typedef int fs_pack_referenced_fn(void *ctx, int64_t pack, const char **error_r);
/* Unlink every pack of packs/ no row names (caller holds the store
 * exclusively: a pack renamed in but not yet committed looks unnamed). */
int fs_pack_gc(int dir_fd, fs_pack_referenced_fn *referenced, void *ctx,
	       unsigned *removed_r, const char **error_r);

/* Remove name (a directory beneath parent_fd) and everything in it, at
 * most max_depth levels down; symlinks are unlinked, never followed. Used
 * to undo a half-built store and by tests. */
int fs_remove_tree(int parent_fd, const char *name, unsigned max_depth,
		   const char **error_r);

#endif
