/* spool.h: the queue's files under DATA/spool.
 *
 *   spool/spare/s<n>      a message being received (not yet
 *                         acknowledged), or a finished file kept to be
 *                         written over (spares, below)
 *   spool/q/<qid>.msg     accepted message, immutable
 *   spool/q/<qid>.env     its envelope: a length-prefixed record
 *   spool/tmp/            envelope updates being written
 *
 * Accepting (group commit, queue.c): for every message of a batch, rename
 * its spare/ file to q/<qid>.msg, write the envelope into a spare and
 * rename it to q/<qid>.env; then
 * one syncfs() makes the whole batch durable, and only then is 250 sent
 * for each. A crash before the syncfs may leave renamed files whose data
 * never reached the disk: the envelope records the message size, and at
 * start a .msg whose size differs, or a .msg without .env, is removed (it
 * was never acknowledged). tmp/ and spare/ are emptied at start. The
 * envelope record is the IPC field encoding (lib/ipc.h) behind an 8-octet header "RDQ1" + u32 length, so
 * nothing in it is ever parsed as text: a recipient holding CR LF cannot
 * forge a second record ("RDQ2" since recipients carry their DSN
 * parameters; "RDQ1" records, without them, are still read). Updating an
 * envelope (a recipient failed or deferred) writes a new file and renames
 * it over the old one. A delivered recipient is not written down here:
 * the store records the delivery in the same transaction as the message,
 * and a redelivery after a crash is skipped there.
 * Functions return 0 or -1 with *error_r. */
#ifndef RD_SPOOL_H
#define RD_SPOOL_H
#include <stddef.h>
#include <stdint.h>
#include "limits.h"

#define SPOOL_QID_LEN 16
#define SPOOL_MAX_RCPT 1000

enum spool_rcpt_state { SPOOL_PENDING = 0, SPOOL_DELIVERED = 1, SPOOL_FAILED = 2 };

struct spool_rcpt {
	char address[RD_MAX_ADDRESS + 1];
	char store_id[65];
	uint32_t state;
	uint32_t attempts;
	/* RFC 3461, as given on the RCPT this recipient came from: NOTIFY
	 * bits (smtp-path.h SMTP_NOTIFY_*, 0 absent) and ORCPT
	 * ("rfc822;addr", decoded; "" absent). Kept for the DSNs relay will
	 * send. */
	uint32_t notify;
	char orcpt[RD_MAX_ADDRESS * 2];
};

struct spool_env {
	char qid[SPOOL_QID_LEN + 1];
	uint64_t arrived;
	uint64_t size;               /* octets of <qid>.msg: recovery checks it */
	char from[RD_MAX_ADDRESS + 1];
	char helo[256];
	char peer[64];
	char auth[RD_MAX_ADDRESS + 1];
	char params[512];
	uint32_t nrcpt;
	struct spool_rcpt *rcpt;     /* nrcpt entries, malloc'd */
};

/* Encode env into a record (caller frees *out) / decode a record. */
int spool_env_encode(const struct spool_env *env, uint8_t **out, size_t *len,
		     const char **error_r);
int spool_env_decode(const uint8_t *rec, size_t len, struct spool_env *env,
		     const char **error_r);
void spool_env_free(struct spool_env *env);

/* Spare files: finished q/ files are renamed to spare/s<n> instead of
 * being removed; a new message or envelope is written into one (opened
 * with O_TRUNC) and renamed into q/ from there. The file's inode is reused
 * rather than freed and allocated again, which is what creating a file
 * costs most on a busy spool (ext4 without journal scans past every inode
 * freed in the last 30 s), and it takes one rename fewer than going
 * through tmp/. Spares are never in q/, so recovery sees what it saw
 * before; spare/ is emptied at start like tmp/. A spare keeps old octets
 * until reused: at most RD_QUEUE_SPARE_FILES files of at most
 * RD_QUEUE_SPARE_MAX_SIZE octets, mode 0600, in the queue's directory; a
 * message given up before its end is emptied at once. */
struct spool_spares {
	uint32_t id[RD_QUEUE_SPARE_FILES];   /* spare/s<id> exist, unused */
	unsigned n;
	uint32_t next;                        /* next fresh name */
};
/* Open an empty file to write: a spare, else a new spare/s<n>. Its name
 * goes to name (>= 24 octets). Returns the fd, or -1 with errno set. */
int spool_spare_open(int spool_fd, struct spool_spares *sp, char *name, size_t namelen);
/* Give a spool_spare_open file back unused (kept, or removed when the pool
 * is full). */
void spool_spare_put(int spool_fd, struct spool_spares *sp, const char *name);
/* Like spool_env_write_sync(sync = 0), writing into a spare. */
int spool_env_write_spare(int spool_fd, struct spool_spares *sp, const struct spool_env *env,
			  const char **error_r);
/* Like spool_remove, keeping the files as spares while the pool has room
 * (the .msg only when it is at most RD_QUEUE_SPARE_MAX_SIZE octets). */
int spool_remove_spare(int spool_fd, struct spool_spares *sp, const char *qid, uint64_t size);

/* File operations relative to an open DATA/spool directory fd. */
int spool_prepare(int spool_fd, const char **error_r);
/* Write the envelope durably to q/<qid>.env (through tmp/ and rename). */
int spool_env_write(int spool_fd, const struct spool_env *env, const char **error_r);
/* The same, without any fsync when sync is 0 (the caller syncs a batch). */
int spool_env_write_sync(int spool_fd, const struct spool_env *env, int sync,
			 const char **error_r);
int spool_env_read(int spool_fd, const char *qid, struct spool_env *env,
		   const char **error_r);
/* Remove q/<qid>.msg and q/<qid>.env (delivery complete), without
 * syncing q/: the caller syncs once for many removals (spool_sync_dir).
 * A removal a crash undoes redelivers the message, which the store's
 * delivery keys turn into a no-op (store.h), so it need not be durable
 * at once. */
int spool_remove(int spool_fd, const char *qid);
/* fsync a directory beneath spool_fd ("q", "tmp"). */
int spool_sync_dir(int spool_fd, const char *sub);
#endif
