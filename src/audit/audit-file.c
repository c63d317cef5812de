/* audit-file.c: segment names and listing, the bounded line reader and the
 * record hash shared by the audit writer, verify and query. */
#include "audit/audit-file.h"
#include "limits.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#define LINES_BUF (2u * RD_AUDIT_MAX_LINE)

void audit_seg_name(uint32_t n, char out[AUDIT_SEG_NAME_MAX])
{
	snprintf(out, AUDIT_SEG_NAME_MAX, "seg-%06u.log", (unsigned)n);
}

/* "seg-" 6 to 10 digits ".log", no leading zeros beyond the padding, and
 * the name must be exactly what audit_seg_name makes of its number. */
static int seg_number(const char *name, uint32_t *n_r)
{
	char canon[AUDIT_SEG_NAME_MAX];
	unsigned long long v = 0;
	size_t l = strlen(name);
	if (l < 14 || l > 18 || strncmp(name, "seg-", 4) != 0 ||
	    strcmp(name + l - 4, ".log") != 0)
		return -1;
	for (size_t i = 4; i < l - 4; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(name[i] - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return -1;
	audit_seg_name((uint32_t)v, canon);
	if (strcmp(canon, name) != 0)
		return -1;
	*n_r = (uint32_t)v;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int audit_seg_list(int dirfd, uint32_t **nums_r, size_t *n_r, const char **error_r)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	size_t n = 0, cap = 0;
	uint32_t *nums = NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		*error_r = "cannot list the audit directory";
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		uint32_t v;
		if (seg_number(e->d_name, &v) < 0)
			continue;
		if (n == RD_AUDIT_MAX_SEGMENTS) {
			*error_r = "too many segments in the audit directory";
			goto fail;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			uint32_t *nn = reallocarray(nums, ncap, sizeof(*nums));
			if (nn == NULL) {
				*error_r = "out of memory";
				goto fail;
			}
			nums = nn;
			cap = ncap;
		}
		nums[n++] = v;
	}
	closedir(d);
	if (n > 1)
		qsort(nums, n, sizeof(*nums), cmp_u32);
	*nums_r = nums;
	*n_r = n;
	return 0;
fail:
	closedir(d);
	free(nums);
	return -1;
}

void audit_hash(const char *p, size_t len, uint8_t out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)p, len, NULL, 0);
}

int audit_lines_init(struct audit_lines *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->buf = malloc(LINES_BUF);
	if (r->buf == NULL) {
		close(fd);
		r->fd = -1;
		return -1;
	}
	return 0;
}

int audit_lines_open(struct audit_lines *r, int dirfd, uint32_t segno,
		     char name_r[AUDIT_SEG_NAME_MAX])
{
	audit_seg_name(segno, name_r);
	int fd = openat(dirfd, name_r, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	return audit_lines_init(r, fd);
}

void audit_lines_close(struct audit_lines *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->buf);
	r->buf = NULL;
}

/* Read more into buf after compacting; 1 read something, 0 EOF, -1 error. */
static int fill(struct audit_lines *r)
{
	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->len, LINES_BUF - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			r->eof = 1;
			return 0;
		}
		r->len += (size_t)n;
		return 1;
	}
}

enum audit_line_kind audit_lines_next(struct audit_lines *r, const char **line,
				      size_t *len, uint64_t *offset_r,
				      uint64_t *total_r)
{
	for (;;) {
		char *nl = memchr(r->buf + r->off, '\n', r->len - r->off);
		if (nl != NULL) {
			size_t l = (size_t)(nl - (r->buf + r->off));
			*line = r->buf + r->off;
			*len = l;
			*offset_r = r->pos;
			*total_r = l + 1;
			r->off += l + 1;
			r->pos += l + 1;
			r->lineno++;
			return AUDIT_LINE_OK;
		}
		if (r->eof) {
			if (r->off == r->len)
				return AUDIT_LINE_EOF;
			size_t l = r->len - r->off;
			*line = r->buf + r->off;
			*len = l < RD_AUDIT_MAX_LINE ? l : RD_AUDIT_MAX_LINE;
			*offset_r = r->pos;
			*total_r = l;
			r->pos += l;
			r->off = r->len;
			r->lineno++;
			return AUDIT_LINE_PARTIAL;
		}
		if (r->len - r->off == LINES_BUF) {
			/* no newline in a full buffer: skip to the next one */
			uint64_t start = r->pos, total = 0;
			for (;;) {
				char *q = memchr(r->buf + r->off, '\n', r->len - r->off);
				if (q != NULL) {
					size_t l = (size_t)(q - (r->buf + r->off)) + 1;
					total += l;
					r->off += l;
					r->pos += l;
					r->lineno++;
					*line = NULL;
					*len = 0;
					*offset_r = start;
					*total_r = total;
					return AUDIT_LINE_LONG;
				}
				total += r->len - r->off;
				r->pos += r->len - r->off;
				r->off = r->len = 0;
				int f = fill(r);
				if (f < 0)
					return AUDIT_LINE_ERROR;
				if (f == 0) {
					r->lineno++;
					*line = r->buf;
					*len = 0;
					*offset_r = start;
					*total_r = total;
					return AUDIT_LINE_PARTIAL;
				}
			}
		}
		if (fill(r) < 0)
			return AUDIT_LINE_ERROR;
	}
}
