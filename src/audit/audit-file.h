/* audit-file.h: what the audit writer and readers share: segment names and
 * listing, a bounded line reader, the record hash. Internal to src/audit.
 * Functions return 0 / -1 with *error_r (static) unless documented. */
#ifndef RD_AUDIT_FILE_H
#define RD_AUDIT_FILE_H
#include <stddef.h>
#include <stdint.h>

#define AUDIT_SEG_NAME_MAX 32u
/* Partial records the writer acknowledges at one open, and verify accepts
 * pending at once; more means the directory holds something other than
 * crash debris. */
#define AUDIT_MAX_TORN 16u

/* "seg-000001.log" */
void audit_seg_name(uint32_t n, char out[AUDIT_SEG_NAME_MAX]);
/* The segment numbers in dirfd, ascending, in a malloc'd array (free it).
 * At most RD_AUDIT_MAX_SEGMENTS. */
int audit_seg_list(int dirfd, uint32_t **nums_r, size_t *n_r, const char **error_r);

/* BLAKE2b-256 of the octets a record's hash covers. */
void audit_hash(const char *p, size_t len, uint8_t out[32]);

/* Reads a segment line by line with a buffer of 2 * RD_AUDIT_MAX_LINE. */
struct audit_lines {
	int fd;
	char *buf;
	size_t len;        /* valid octets in buf */
	size_t off;        /* next unread octet in buf */
	uint64_t pos;      /* file offset of buf[off] */
	unsigned long lineno;
	int eof;
};

enum audit_line_kind {
	AUDIT_LINE_EOF = 0,
	AUDIT_LINE_OK = 1,       /* a complete line (newline stripped) */
	AUDIT_LINE_LONG = 2,     /* a line longer than the cap; skipped */
	AUDIT_LINE_PARTIAL = 3,  /* octets after the last newline, at EOF */
	AUDIT_LINE_ERROR = -1,
};

/* Takes fd (closed by audit_lines_close). */
int audit_lines_init(struct audit_lines *r, int fd);
/* Open segment segno of dirfd (no symlinks) for reading; name_r gets its
 * name. -1 with errno on failure. */
int audit_lines_open(struct audit_lines *r, int dirfd, uint32_t segno,
		     char name_r[AUDIT_SEG_NAME_MAX]);
void audit_lines_close(struct audit_lines *r);
/* The next line: *line and *len point into the reader's buffer (for PARTIAL,
 * at most the first RD_AUDIT_MAX_LINE octets; *total_r holds the count
 * through EOF), *offset_r is the line's file offset. */
enum audit_line_kind audit_lines_next(struct audit_lines *r, const char **line,
				      size_t *len, uint64_t *offset_r,
				      uint64_t *total_r);

#endif
