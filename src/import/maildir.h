/* maildir.h: walks a Maildir or Maildir++ tree for `redoubt import`.
 *
 * The archive is untrusted (THREATS: the 2022 Zimbra import traversal):
 * everything below the root is reached with openat() relative to a
 * descriptor already held, with O_NOFOLLOW, so a symbolic link anywhere
 * inside is reported and skipped, never followed, and a name can never
 * lead out of the tree. Only regular files are read as messages (opened
 * O_NONBLOCK, so a fifo cannot hang the import). Maildir++ folder names
 * are checked here (maildir_folder_name) before the store checks them
 * again.
 *
 * Layout understood: ROOT/{cur,new}/FILE are the root folder's messages;
 * ROOT/.A.B/{cur,new}/FILE those of folder "A/B". tmp/ is ignored (mail
 * still being delivered), as are dot files and the index files other
 * servers keep. Messages of a folder are given in file-name order, which
 * for Maildir names (they start with the delivery time) is arrival order.
 *
 * Return conventions: 0 / -1 with *error_r (a static string); skips are
 * reported through the skip callback and are not errors. */
#ifndef RD_IMPORT_MAILDIR_H
#define RD_IMPORT_MAILDIR_H
#include "lib/buffer.h"
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct maildir_file {
	char *name;          /* file name inside cur/ or new/ */
	unsigned char sub;   /* 0 cur, 1 new */
};

struct maildir_folder {
	char *dirname;       /* "" for the root, else ".A.B" */
	char *name;          /* "" for the root, else "A/B" (as on disk) */
	struct maildir_file *files;
	size_t nfiles;
	int sub_fd[2];       /* cur/ and new/ while open, else -1 */
};

struct maildir_tree {
	struct maildir_folder *folders;   /* the root first (if it has mail) */
	size_t nfolders;
	uint64_t total_files;
};

/* path is what was skipped, relative to the root; reason is static text. */
typedef void maildir_skip_cb(void *ctx, const char *path, const char *reason);

/* Lists folders and message file names below root_fd (no message is
 * opened). Fails if root_fd is not a Maildir: neither cur/ nor new/ nor
 * a Maildir++ folder. Free *tree with maildir_tree_free even after -1. */
int maildir_scan(int root_fd, struct maildir_tree *tree, maildir_skip_cb *skip,
		 void *ctx, const char **error_r);
void maildir_tree_free(struct maildir_tree *tree);

/* Open / close the cur/ and new/ directories of one folder. */
int maildir_folder_open(int root_fd, struct maildir_folder *f, const char **error_r);
void maildir_folder_close(struct maildir_folder *f);

/* Opens one message read-only. Returns 0 with *fd_r and *st_r, or -1 with
 * *reason_r (a symlink, not a regular file, unreadable, vanished). */
int maildir_message_open(const struct maildir_folder *f, const struct maildir_file *mf,
			 int *fd_r, struct stat *st_r, const char **reason_r);

/* ---- pure helpers ---- */

/* Store flags (enum store_flag bits) from the ":2,FLAGS" info of a file
 * name: S seen, R answered, F flagged, T deleted, D draft; P and the
 * lower-case keyword letters carry nothing the store keeps. */
unsigned maildir_info_flags(const char *filename);
/* ".A.B" -> "A/B". Refuses a name not starting with '.', an empty level
 * (so "..", "..evil", ".a..b", ".a."), '/', and control characters; the
 * caller still passes the result through the store's name check. */
int maildir_folder_name(const char *dirname, char *out, size_t outlen,
			const char **error_r);
/* Appends in[0..n) to out with every line ending in CRLF (LF becomes CRLF;
 * CRLF and bare CR are kept). -1 when out's cap is reached. */
int maildir_crlf(const uint8_t *in, size_t n, struct buffer *out);

#endif
