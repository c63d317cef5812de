/* maildir.c: the Maildir / Maildir++ walker (see maildir.h). */
#include "import/maildir.h"
#include "store/store.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const subdirs[2] = { "cur", "new" };

unsigned maildir_info_flags(const char *filename)
{
	const char *info = strstr(filename, ":2,"), *next;
	unsigned flags = 0;
	if (info == NULL)
		return 0;
	while ((next = strstr(info + 1, ":2,")) != NULL)   /* the last one counts */
		info = next;
	for (const char *p = info + 3; *p; p++) {
		switch (*p) {
		case 'S': flags |= STORE_FLAG_SEEN; break;
		case 'R': flags |= STORE_FLAG_ANSWERED; break;
		case 'F': flags |= STORE_FLAG_FLAGGED; break;
		case 'T': flags |= STORE_FLAG_DELETED; break;
		case 'D': flags |= STORE_FLAG_DRAFT; break;
		default: break;
		}
	}
	return flags;
}

int maildir_folder_name(const char *dirname, char *out, size_t outlen, const char **error_r)
{
	size_t n = strlen(dirname), o = 0;
	if (n < 2 || dirname[0] != '.') {
		*error_r = "not a Maildir++ folder name";
		return -1;
	}
	if (n >= outlen) {
		*error_r = "folder name too long";
		return -1;
	}
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)dirname[i];
		if (c == '.') {
			if (i == 1 || dirname[i - 1] == '.' || i == n - 1) {
				*error_r = "empty folder level (\"..\" or a leading or trailing dot)";
				return -1;
			}
			out[o++] = '/';
		} else if (c == '/') {
			*error_r = "'/' in a folder name";
			return -1;
		} else if (c < 0x20 || c == 0x7f) {
			*error_r = "control character in a folder name";
			return -1;
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return 0;
}

int maildir_crlf(const uint8_t *in, size_t n, struct buffer *out)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (in[i] != '\n' || (i > 0 && in[i - 1] == '\r'))
			continue;
		if (buffer_append(out, in + start, i - start) < 0 ||
		    buffer_append(out, "\r", 1) < 0)
			return -1;
		start = i;   /* the LF goes out with the next run */
	}
	return buffer_append(out, in + start, n - start);
}

/* ---- scanning ---- */

static void skip_report(maildir_skip_cb *skip, void *ctx, const char *dir,
			const char *name, const char *reason)
{
	char path[4096 + 256 + 2];   /* a "where" and a d_name */
	snprintf(path, sizeof(path), "%s%s%s", dir, dir[0] ? "/" : "", name);
	if (skip)
		skip(ctx, path, reason);
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct maildir_file *)a)->name,
		      ((const struct maildir_file *)b)->name);
}

static int add_file(struct maildir_folder *f, size_t *cap, const char *name, unsigned char sub)
{
	if (f->nfiles == *cap) {
		size_t ncap, bytes;
		if (__builtin_mul_overflow(*cap ? *cap : 64, 2, &ncap) ||
		    __builtin_mul_overflow(ncap, sizeof(*f->files), &bytes))
			return -1;
		struct maildir_file *nf = realloc(f->files, bytes);
		if (nf == NULL)
			return -1;
		f->files = nf;
		*cap = ncap;
	}
	char *copy = strdup(name);
	if (copy == NULL)
		return -1;
	f->files[f->nfiles].name = copy;
	f->files[f->nfiles].sub = sub;
	f->nfiles++;
	return 0;
}

/* Opens dir (relative to at) without following a symlink. */
static int open_dir_nofollow(int at, const char *name)
{
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Lists cur/ and new/ of the folder at folder_fd. Returns 1 if either
 * exists (it is a Maildir folder), 0 if neither, -1 on failure. */
static int list_folder(int folder_fd, struct maildir_folder *f, maildir_skip_cb *skip,
		       void *ctx, const char **error_r)
{
	size_t cap = 0;
	int found = 0;
	for (unsigned char s = 0; s < 2; s++) {
		char where[4096];
		snprintf(where, sizeof(where), "%s%s%s", f->dirname, f->dirname[0] ? "/" : "",
			 subdirs[s]);
		int fd = open_dir_nofollow(folder_fd, subdirs[s]);
		if (fd < 0) {
			if (errno == ELOOP || errno == ENOTDIR)
				skip_report(skip, ctx, f->dirname, subdirs[s],
					    "symbolic link or not a directory, not followed");
			else if (errno != ENOENT)
				skip_report(skip, ctx, f->dirname, subdirs[s], "cannot open the directory");
			continue;
		}
		DIR *d = fdopendir(fd);
		if (d == NULL) {
			close(fd);
			*error_r = "out of memory";
			return -1;
		}
		found = 1;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (de->d_type == DT_LNK) {
				skip_report(skip, ctx, where, de->d_name, "symbolic link, not followed");
				continue;
			}
			if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN) {
				skip_report(skip, ctx, where, de->d_name, "not a regular file");
				continue;
			}
			if (add_file(f, &cap, de->d_name, s) < 0) {
				closedir(d);
				*error_r = "out of memory";
				return -1;
			}
		}
		closedir(d);
	}
	if (f->nfiles > 1)
		qsort(f->files, f->nfiles, sizeof(*f->files), file_cmp);
	return found;
}

static struct maildir_folder *new_folder(struct maildir_tree *t, size_t *cap,
					 const char *dirname, const char *name)
{
	if (t->nfolders == *cap) {
		size_t ncap, bytes;
		if (__builtin_mul_overflow(*cap ? *cap : 8, 2, &ncap) ||
		    __builtin_mul_overflow(ncap, sizeof(*t->folders), &bytes))
			return NULL;
		struct maildir_folder *nf = realloc(t->folders, bytes);
		if (nf == NULL)
			return NULL;
		t->folders = nf;
		*cap = ncap;
	}
	struct maildir_folder *f = &t->folders[t->nfolders];
	memset(f, 0, sizeof(*f));
	f->sub_fd[0] = f->sub_fd[1] = -1;
	f->dirname = strdup(dirname);
	f->name = strdup(name);
	if (f->dirname == NULL || f->name == NULL) {
		free(f->dirname);
		free(f->name);
		return NULL;
	}
	t->nfolders++;
	return f;
}

static void drop_last_folder(struct maildir_tree *t)
{
	struct maildir_folder *f = &t->folders[--t->nfolders];
	for (size_t i = 0; i < f->nfiles; i++)
		free(f->files[i].name);
	free(f->files);
	free(f->dirname);
	free(f->name);
}

/* One ".A.B" entry of the root. */
static int scan_subfolder(int root_fd, struct maildir_tree *t, size_t *cap, const char *dname,
			  maildir_skip_cb *skip, void *ctx, const char **error_r)
{
	char name[4096];
	const char *why;
	struct stat st;
	if (fstatat(root_fd, dname, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;   /* vanished */
	if (S_ISLNK(st.st_mode)) {
		skip_report(skip, ctx, "", dname, "symbolic link, not followed");
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;   /* .dovecot-uidlist and the like */
	if (maildir_folder_name(dname, name, sizeof(name), &why) < 0) {
		skip_report(skip, ctx, "", dname, why);
		return 0;
	}
	int fd = open_dir_nofollow(root_fd, dname);
	if (fd < 0) {
		skip_report(skip, ctx, "", dname, "cannot open the folder");
		return 0;
	}
	struct maildir_folder *f = new_folder(t, cap, dname, name);
	if (f == NULL) {
		close(fd);
		*error_r = "out of memory";
		return -1;
	}
	int r = list_folder(fd, f, skip, ctx, error_r);
	close(fd);
	if (r <= 0)
		drop_last_folder(t);   /* not a folder (no cur/ nor new/), or failed */
	if (r < 0)
		return -1;
	if (r > 0)
		t->total_files += t->folders[t->nfolders - 1].nfiles;
	return 0;
}

static int folder_cmp(const void *a, const void *b)
{
	return strcmp(((const struct maildir_folder *)a)->name,
		      ((const struct maildir_folder *)b)->name);
}

int maildir_scan(int root_fd, struct maildir_tree *t, maildir_skip_cb *skip, void *ctx,
		 const char **error_r)
{
	size_t cap = 0;
	memset(t, 0, sizeof(*t));
	struct maildir_folder *root = new_folder(t, &cap, "", "");
	if (root == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	int r = list_folder(root_fd, root, skip, ctx, error_r);
	if (r < 0)
		return -1;
	if (r == 0)
		drop_last_folder(t);
	else
		t->total_files += root->nfiles;
	int dfd = dup(root_fd);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (d == NULL) {
		if (dfd >= 0)
			close(dfd);
		*error_r = "cannot read the Maildir";
		return -1;
	}
	rewinddir(d);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || strcmp(n, "cur") == 0 ||
		    strcmp(n, "new") == 0 || strcmp(n, "tmp") == 0)
			continue;
		if (n[0] == '.')
			rc = scan_subfolder(root_fd, t, &cap, n, skip, ctx, error_r);
		else if (de->d_type == DT_LNK)
			skip_report(skip, ctx, "", n, "symbolic link, not followed");
		else if (de->d_type == DT_DIR)
			skip_report(skip, ctx, "", n, "not a Maildir++ folder (no leading '.')");
	}
	closedir(d);
	if (rc < 0)
		return -1;
	if (t->nfolders == 0) {
		*error_r = "not a Maildir: no cur/, new/ or Maildir++ folder";
		return -1;
	}
	/* root first (its name is ""), then parents before children */
	qsort(t->folders, t->nfolders, sizeof(*t->folders), folder_cmp);
	return 0;
}

void maildir_tree_free(struct maildir_tree *t)
{
	while (t->nfolders > 0) {
		maildir_folder_close(&t->folders[t->nfolders - 1]);
		drop_last_folder(t);
	}
	free(t->folders);
	memset(t, 0, sizeof(*t));
}

int maildir_folder_open(int root_fd, struct maildir_folder *f, const char **error_r)
{
	int fd = f->dirname[0] ? open_dir_nofollow(root_fd, f->dirname) : dup(root_fd);
	if (fd < 0) {
		*error_r = "cannot open the folder (removed or replaced by a link?)";
		return -1;
	}
	for (int s = 0; s < 2; s++)
		f->sub_fd[s] = open_dir_nofollow(fd, subdirs[s]);   /* -1 if absent */
	close(fd);
	return 0;
}

void maildir_folder_close(struct maildir_folder *f)
{
	for (int s = 0; s < 2; s++) {
		if (f->sub_fd[s] >= 0)
			close(f->sub_fd[s]);
		f->sub_fd[s] = -1;
	}
}

int maildir_message_open(const struct maildir_folder *f, const struct maildir_file *mf,
			 int *fd_r, struct stat *st_r, const char **reason_r)
{
	int at = f->sub_fd[mf->sub & 1];
	if (at < 0) {
		*reason_r = "its directory could not be opened";
		return -1;
	}
	int fd = openat(at, mf->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		*reason_r = errno == ELOOP ? "symbolic link, not followed" :
			    errno == ENOENT ? "vanished during the import" : "cannot open the file";
		return -1;
	}
	if (fstat(fd, st_r) < 0 || !S_ISREG(st_r->st_mode)) {
		close(fd);
		*reason_r = "not a regular file";
		return -1;
	}
	*fd_r = fd;
	return 0;
}
