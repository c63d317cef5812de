/* audit-log.c: the audit writer: signing key, chain head recovery, torn
 * tails, appends, checkpoints and segment rotation. Format and durability
 * rules are in audit-log.h. */
#include "audit/audit-log.h"
#include "audit/audit-file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>


struct audit_writer {
	int dirfd;            /* the audit directory, flocked */
	int fd;               /* current segment, O_APPEND */
	uint32_t segno;
	uint64_t seg_size;
	uint64_t next_seq;
	uint8_t head[32];     /* hash of the last record */
	unsigned since_checkpoint;
	int dirty;            /* appended since the last fdatasync */
	int broken;           /* a failed write could not be undone */
	int rotate;           /* start a new segment before the next record */
	int64_t fixed_ms;
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	char line[RD_AUDIT_MAX_LINE + 1];
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write name in dirfd atomically: tmp file, fsync, rename, fsync dir. */
static int write_file_atomic(int dirfd, const char *name, const char *data,
			     size_t len, mode_t mode)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	(void)unlinkat(dirfd, tmp, 0);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		(void)unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, name) < 0 || fsync(dirfd) < 0)
		return -1;
	return 0;
}

/* Read a small text file of at most max octets into buf (NUL-terminated). */
static long read_small(int dirfd, const char *name, char *buf, size_t max, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	ssize_t n = read(fd, buf, max - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (long)n;
}

static int write_pub(struct audit_writer *w)
{
	char hex[2 * crypto_sign_PUBLICKEYBYTES + 2];
	audit_hex(w->pk, sizeof(w->pk), hex);
	strcat(hex, "\n");
	return write_file_atomic(w->dirfd, "signing.pub", hex, strlen(hex), 0644);
}

/* Load signing.key, or make it (and signing.pub) on the first open. */
static int load_key(struct audit_writer *w, const char **error_r)
{
	char buf[2 * crypto_sign_SECRETKEYBYTES + 8];
	struct stat st;
	long n = read_small(w->dirfd, "signing.key", buf, sizeof(buf), &st);
	if (n < 0 && errno == ENOENT) {
		char hex[2 * crypto_sign_SECRETKEYBYTES + 2];
		crypto_sign_keypair(w->pk, w->sk);
		audit_hex(w->sk, sizeof(w->sk), hex);
		strcat(hex, "\n");
		int r = write_file_atomic(w->dirfd, "signing.key", hex, strlen(hex), 0600);
		sodium_memzero(hex, sizeof(hex));
		if (r < 0 || write_pub(w) < 0) {
			*error_r = "cannot write the audit signing key";
			return -1;
		}
		return 0;
	}
	if (n < 0) {
		*error_r = "cannot read the audit signing key";
		return -1;
	}
	size_t l = (size_t)n;
	if (l > 0 && buf[l - 1] == '\n')
		l--;
	unsigned char pk2[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
	int bad = (st.st_mode & 077) != 0;
	if (!bad && audit_unhex(buf, l, w->sk, sizeof(w->sk)) < 0)
		bad = 2;
	/* derive from the seed half: a damaged key file shows up here rather
	 * than as checkpoints nobody can verify */
	if (!bad && (crypto_sign_seed_keypair(pk2, sk2, w->sk) < 0 ||
		     sodium_memcmp(sk2, w->sk, sizeof(sk2)) != 0))
		bad = 2;
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(sk2, sizeof(sk2));
	if (bad) {
		*error_r = bad == 1 ? "signing.key is readable by other users"
				    : "signing.key is damaged";
		return -1;
	}
	memcpy(w->pk, pk2, sizeof(w->pk));
	/* signing.pub is a convenience copy; keep it equal to the key */
	uint8_t pub[crypto_sign_PUBLICKEYBYTES];
	char pbuf[2 * crypto_sign_PUBLICKEYBYTES + 8];
	n = read_small(w->dirfd, "signing.pub", pbuf, sizeof(pbuf), &st);
	l = n > 0 ? (size_t)n : 0;
	if (l > 0 && pbuf[l - 1] == '\n')
		l--;
	if (n < 0 || audit_unhex(pbuf, l, pub, sizeof(pub)) < 0 ||
	    memcmp(pub, w->pk, sizeof(pub)) != 0) {
		if (write_pub(w) < 0) {
			*error_r = "cannot write signing.pub";
			return -1;
		}
	}
	return 0;
}

/* What the end of one segment holds. */
struct tail {
	uint64_t size;
	int found;            /* a complete record with a matching hash */
	uint64_t good_end;    /* offset just past it (0 when none) */
	uint64_t seq;
	uint8_t hash[32];
};

/* Does line hold a record whose hash matches? Fills seq and hash. */
static int line_intact(const char *line, size_t len, struct audit_record *rec,
		       uint64_t *seq_r, uint8_t hash[32])
{
	const char *err;
	uint8_t want[32];
	if (audit_record_parse(line, len, rec, &err) < 0 ||
	    audit_unhex(rec->hash, AUDIT_HASH_HEX, want, 32) < 0)
		return 0;
	audit_hash(line, rec->hashed_len, hash);
	*seq_r = rec->seq;
	return memcmp(want, hash, 32) == 0;
}

/* Look at the last few lines only: the writer must not take minutes to
 * start on a large segment. Three lines' worth holds a partial line, a
 * damaged complete one and the good one before them. */
static int scan_tail(int dirfd, uint32_t segno, struct tail *t, const char **error_r)
{
	char name[AUDIT_SEG_NAME_MAX];
	struct stat st;
	memset(t, 0, sizeof(*t));
	audit_seg_name(segno, name);
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		*error_r = "cannot read the last audit segment";
		return -1;
	}
	t->size = (uint64_t)st.st_size;
	size_t chunk = 3u * RD_AUDIT_MAX_LINE + 3u;
	if (t->size < chunk)
		chunk = (size_t)t->size;
	uint64_t cstart = t->size - chunk;
	char *buf = malloc(chunk + 1);
	struct audit_record *rec = malloc(sizeof(*rec));
	int rc = -1;
	if (buf == NULL || rec == NULL) {
		*error_r = "out of memory";
		goto out;
	}
	size_t got = 0;
	while (got < chunk) {
		ssize_t n = pread(fd, buf + got, chunk - got, (off_t)(cstart + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = "cannot read the last audit segment";
			goto out;
		}
		got += (size_t)n;
	}
	size_t start = 0;
	if (cstart > 0) {
		char *nl = memchr(buf, '\n', chunk);
		start = nl ? (size_t)(nl - buf) + 1 : chunk;
	}
	/* end: one past the newline of the line being tried */
	size_t end = chunk;
	while (end > start && buf[end - 1] != '\n')
		end--;
	while (end > start) {
		size_t ls = end - 1;
		while (ls > start && buf[ls - 1] != '\n')
			ls--;
		if (line_intact(buf + ls, end - 1 - ls, rec, &t->seq, t->hash)) {
			t->found = 1;
			t->good_end = cstart + end;
			break;
		}
		end = ls;
	}
	if (!t->found && cstart > 0) {
		*error_r = "no intact record near the end of the last audit segment "
			   "(run redoubt audit verify)";
		goto out;
	}
	rc = 0;
out:
	free(buf);
	free(rec);
	close(fd);
	return rc;
}

static int64_t now_ms(const struct audit_writer *w)
{
	struct timespec ts;
	if (w->fixed_ms != 0)
		return w->fixed_ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start segment segno; the previous one is synced first so no record of
 * it is less durable than the records after it. */
static int new_segment(struct audit_writer *w, uint32_t segno, const char **error_r)
{
	char name[AUDIT_SEG_NAME_MAX];
	if (w->fd >= 0) {
		if (w->dirty && fdatasync(w->fd) < 0) {
			*error_r = "cannot sync the audit segment";
			return -1;
		}
		close(w->fd);
		w->fd = -1;
		w->dirty = 0;
	}
	audit_seg_name(segno, name);
	w->fd = openat(w->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
		       O_CLOEXEC | O_NOFOLLOW, 0600);
	if (w->fd < 0 || fsync(w->dirfd) < 0) {
		*error_r = "cannot create an audit segment";
		return -1;
	}
	w->segno = segno;
	w->seg_size = 0;
	w->rotate = 0;
	return 0;
}

enum rec_type { REC_EVENT, REC_CHECKPOINT };

/* Append " key=value" (value escaped, cut at the cap) at *o. */
static int put_field(char *line, size_t *o, const char *key, const char *v, int *cut)
{
	size_t vlen = strlen(v);
	if (vlen > RD_AUDIT_MAX_VALUE) {
		vlen = RD_AUDIT_MAX_VALUE;
		*cut = 1;
	}
	int n = snprintf(line + *o, RD_AUDIT_MAX_LINE - *o, " %s=", key);
	if (n < 0 || (size_t)n >= RD_AUDIT_MAX_LINE - *o)
		return -1;
	*o += (size_t)n;
	long e = audit_escape(line + *o, RD_AUDIT_MAX_LINE - *o, v, vlen);
	if (e < 0)
		return -1;
	*o += (size_t)e;
	return 0;
}

static int reserved_key(const char *k)
{
	return strcmp(k, "seq") == 0 || strcmp(k, "ts") == 0 || strcmp(k, "kind") == 0 ||
	       strcmp(k, "prev") == 0 || strcmp(k, "hash") == 0;
}

/* Build, hash, sign (checkpoints) and write one record. */
static int write_record(struct audit_writer *w, enum rec_type type, const char *kind,
			const struct audit_kv *kv, size_t n, const char **error_r)
{
	char ts[32], hex[2 * crypto_sign_BYTES + 1];
	uint8_t hash[32];
	size_t o;
	int cut = 0;
	if (w->broken) {
		*error_r = "audit log write failed earlier; reopen the writer";
		return -1;
	}
	if (w->rotate && new_segment(w, w->segno + 1, error_r) < 0)
		return -1;
	audit_format_time(now_ms(w), ts, sizeof(ts));
	int r = snprintf(w->line, sizeof(w->line), "seq=%llu ts=%s kind=%s",
			 (unsigned long long)w->next_seq, ts, kind);
	o = (size_t)r;
	for (size_t i = 0; i < n; i++) {
		if (put_field(w->line, &o, kv[i].key, kv[i].value ? kv[i].value : "", &cut) < 0) {
			*error_r = "audit record too long";
			return -1;
		}
	}
	if (cut && put_field(w->line, &o, "truncated", "yes", &cut) < 0) {
		*error_r = "audit record too long";
		return -1;
	}
	if (type == REC_CHECKPOINT) {
		unsigned char sig[crypto_sign_BYTES];
		audit_hex(w->head, 32, hex);
		o += (size_t)snprintf(w->line + o, sizeof(w->line) - o, " head=%s", hex);
		audit_hex(w->pk, sizeof(w->pk), hex);
		o += (size_t)snprintf(w->line + o, sizeof(w->line) - o, " key=%s", hex);
		crypto_sign_detached(sig, NULL, (const unsigned char *)w->line, o, w->sk);
		audit_hex(sig, sizeof(sig), hex);
		o += (size_t)snprintf(w->line + o, sizeof(w->line) - o, " sig=%s", hex);
	}
	audit_hex(w->head, 32, hex);
	o += (size_t)snprintf(w->line + o, sizeof(w->line) - o, " prev=%s", hex);
	/* prev and hash add 140 octets; the event part left room by the caps
	 * in limits.h, and this check keeps it so */
	if (o + 2 + 6 + AUDIT_HASH_HEX >= RD_AUDIT_MAX_LINE) {
		*error_r = "audit record too long";
		return -1;
	}
	audit_hash(w->line, o, hash);
	audit_hex(hash, 32, hex);
	o += (size_t)snprintf(w->line + o, sizeof(w->line) - o, " hash=%s\n", hex);
	if (write_all(w->fd, w->line, o) < 0) {
		int e = errno;
		/* leave no partial record behind us, or refuse to go on */
		if (ftruncate(w->fd, (off_t)w->seg_size) < 0)
			w->broken = 1;
		errno = e;
		*error_r = e == ENOSPC ? "audit log: disk full" : "audit log: write failed";
		return -1;
	}
	w->seg_size += o;
	w->next_seq++;
	memcpy(w->head, hash, 32);
	w->dirty = 1;
	return 0;
}

int audit_flush(struct audit_writer *w, const char **error_r)
{
	if (!w->dirty)
		return 0;
	if (fdatasync(w->fd) < 0) {
		/* the kernel may have dropped the pages: nothing after this
		 * can be trusted to be durable */
		w->broken = 1;
		*error_r = "audit log: fdatasync failed";
		return -1;
	}
	w->dirty = 0;
	return 0;
}

int audit_checkpoint(struct audit_writer *w, const char **error_r)
{
	if (write_record(w, REC_CHECKPOINT, "checkpoint", NULL, 0, error_r) < 0 ||
	    audit_flush(w, error_r) < 0)
		return -1;
	w->since_checkpoint = 0;
	if (w->seg_size >= RD_AUDIT_SEGMENT_MAX)
		w->rotate = 1;
	return 0;
}

int audit_append(struct audit_writer *w, const char *kind,
		 const struct audit_kv *kv, size_t n, const char **error_r)
{
	if (!audit_key_valid(kind) || strcmp(kind, "checkpoint") == 0 ||
	    strcmp(kind, "torn_tail") == 0) {
		*error_r = "bad or reserved audit kind";
		return -1;
	}
	if (n >= RD_AUDIT_MAX_FIELDS) {
		*error_r = "too many audit fields";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!audit_key_valid(kv[i].key) || reserved_key(kv[i].key)) {
			*error_r = "bad or reserved audit field key";
			return -1;
		}
	}
	if (write_record(w, REC_EVENT, kind, kv, n, error_r) < 0)
		return -1;
	if (++w->since_checkpoint >= RD_AUDIT_CHECKPOINT_EVERY)
		return audit_checkpoint(w, error_r);
	return 0;
}

int audit_append_sync(struct audit_writer *w, const char *kind,
		      const struct audit_kv *kv, size_t n, const char **error_r)
{
	if (audit_append(w, kind, kv, n, error_r) < 0)
		return -1;
	return audit_flush(w, error_r);
}

/* Record the partial record (or damaged lines) at the end of a segment. */
static int record_torn(struct audit_writer *w, uint32_t segno, uint64_t offset,
		       uint64_t bytes, const char **error_r)
{
	char name[AUDIT_SEG_NAME_MAX], off[24], cnt[24];
	audit_seg_name(segno, name);
	snprintf(off, sizeof(off), "%llu", (unsigned long long)offset);
	snprintf(cnt, sizeof(cnt), "%llu", (unsigned long long)bytes);
	struct audit_kv kv[] = { { "segment", name }, { "offset", off }, { "bytes", cnt } };
	if (write_record(w, REC_EVENT, "torn_tail", kv, 3, error_r) < 0)
		return -1;
	w->since_checkpoint++;
	return 0;
}

/* Find the chain head from the last segment back; start a new segment
 * (with torn_tail records) when anything follows the head. */
static int recover(struct audit_writer *w, const char **error_r)
{
	uint32_t *nums = NULL;
	size_t n = 0;
	struct tail t = { 0 };
	uint32_t torn_seg[AUDIT_MAX_TORN];
	uint64_t torn_off[AUDIT_MAX_TORN], torn_len[AUDIT_MAX_TORN];
	size_t ntorn = 0, i;
	int rc = -1;
	if (audit_seg_list(w->dirfd, &nums, &n, error_r) < 0)
		return -1;
	if (n == 0) {
		w->next_seq = 1;
		return new_segment(w, 1, error_r);
	}
	/* back from the last segment to the one holding the head; every
	 * non-empty segment passed on the way is debris to acknowledge */
	for (i = n; i-- > 0;) {
		if (scan_tail(w->dirfd, nums[i], &t, error_r) < 0)
			goto out;
		if (!t.found && t.size == 0)
			continue;
		if (ntorn == AUDIT_MAX_TORN) {
			*error_r = "too many damaged audit segments (run redoubt audit verify)";
			goto out;
		}
		if (t.found && t.good_end == t.size)
			break;
		torn_seg[ntorn] = nums[i];
		torn_off[ntorn] = t.good_end;
		torn_len[ntorn] = t.size - t.good_end;
		ntorn++;
		if (t.found)
			break;
	}
	if (t.found) {
		w->next_seq = t.seq + 1;
		memcpy(w->head, t.hash, 32);
	} else {
		w->next_seq = 1;
		memset(w->head, 0, 32);
	}
	if (ntorn == 0) {
		char name[AUDIT_SEG_NAME_MAX];
		struct stat st;
		audit_seg_name(nums[n - 1], name);
		w->fd = openat(w->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		if (w->fd < 0 || fstat(w->fd, &st) < 0) {
			*error_r = "cannot open the last audit segment";
			goto out;
		}
		w->segno = nums[n - 1];
		w->seg_size = (uint64_t)st.st_size;
		rc = 0;
		goto out;
	}
	if (nums[n - 1] == UINT32_MAX) {
		*error_r = "audit segment numbers exhausted";
		goto out;
	}
	if (new_segment(w, nums[n - 1] + 1, error_r) < 0)
		goto out;
	/* oldest first, the order verify meets them in */
	while (ntorn-- > 0)
		if (record_torn(w, torn_seg[ntorn], torn_off[ntorn], torn_len[ntorn], error_r) < 0)
			goto out;
	rc = audit_flush(w, error_r);
out:
	free(nums);
	return rc;
}

int audit_open(const char *dir, struct audit_writer **w_r, const char **error_r)
{
	*w_r = NULL;
	if (sodium_init() < 0) {
		*error_r = "libsodium failed to initialise";
		return -1;
	}
	struct audit_writer *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	w->fd = -1;
	w->dirfd = -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		*error_r = "cannot create the audit directory";
		goto fail;
	}
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (w->dirfd < 0) {
		*error_r = "cannot open the audit directory";
		goto fail;
	}
	if (flock(w->dirfd, LOCK_EX | LOCK_NB) < 0) {
		*error_r = errno == EWOULDBLOCK ? "another process is writing the audit log"
						: "cannot lock the audit directory";
		goto fail;
	}
	if (load_key(w, error_r) < 0 || recover(w, error_r) < 0)
		goto fail;
	*w_r = w;
	return 0;
fail:
	audit_abort(&w);
	return -1;
}

void audit_abort(struct audit_writer **wp)
{
	struct audit_writer *w = *wp;
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->dirfd >= 0)
		close(w->dirfd);   /* releases the flock */
	sodium_memzero(w->sk, sizeof(w->sk));
	free(w);
	*wp = NULL;
}

int audit_close(struct audit_writer **wp, const char **error_r)
{
	int rc = 0;
	if (*wp == NULL)
		return 0;
	if (audit_checkpoint(*wp, error_r) < 0)
		rc = -1;
	audit_abort(wp);
	return rc;
}

uint64_t audit_next_seq(const struct audit_writer *w)
{
	return w->next_seq;
}

uint32_t audit_segment(const struct audit_writer *w)
{
	return w->segno;
}

void audit_set_clock(struct audit_writer *w, int64_t fixed_ms)
{
	w->fixed_ms = fixed_ms;
}
