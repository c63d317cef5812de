/* audit-log.h: the hash-chained, signed audit log (ARCHITECTURE rule 5).
 *
 * One role, the writer, holds struct audit_writer; every other role sends
 * it events over IPC (audit-event.h) and never opens the audit directory.
 *
 * On disk, in the audit directory (DATA/audit, mode 0700):
 *   seg-000001.log, seg-000002.log ...  append-only segments, numbered from 1
 *                                       without gaps; records continue the
 *                                       same chain and seq across them.
 *   signing.key   0600, "<128 hex>\n": libsodium ed25519 secret key. Made at
 *                 the first audit_open; only the writer reads it.
 *   signing.pub   0644, "<64 hex>\n": its public key; copy it off the machine
 *                 and give it to `redoubt audit verify --pubkey`.
 *
 * Each record is one line (format in audit-record.h):
 *   seq=N ts=T kind=K [fields] prev=P hash=H\n
 *   H = hex BLAKE2b-256 (crypto_generichash, 32 octets, no key) of the line's
 *       octets before " hash=" (from "seq=" through P).
 *   P = the H of the record before it; 64 zeros for seq=1. As H commits to
 *       every other octet of its line, P commits to that whole line and, by
 *       induction, to every record before it.
 * A checkpoint is a record of kind "checkpoint" whose fields are
 *   head=P key=<hex ed25519 public key> sig=<hex 64-octet signature>
 * where head equals the record's own prev (the chain head it signs) and sig
 * is crypto_sign_detached over the line's octets before " sig=" (so it
 * signs seq, ts, head and key). One is written after every
 * RD_AUDIT_CHECKPOINT_EVERY records and by audit_close.
 *
 * Torn tails: a crash can leave a partial last line. audit_open then never
 * writes after it: it starts the next segment and records first
 *   kind=torn_tail segment=seg-00000N.log offset=<octet> bytes=<count>
 * naming where the partial record starts. A complete last line whose hash
 * does not match is treated the same way by the writer (it will not chain
 * onto it), but verify reports that one as tampering.
 *
 * Durability: audit_append writes the line with one write(2) and does not
 * sync; audit_append_sync, audit_flush, checkpoints and audit_close end with
 * fdatasync, which also makes every earlier append durable. A writer role
 * answers "login may proceed" only after audit_append_sync (or a batch of
 * audit_append followed by one audit_flush) returned 0: group commit.
 *
 * Functions return 0 / -1 with *error_r set to a static string (errno is
 * kept from the failing call where there is one), unless documented. */
#ifndef RD_AUDIT_LOG_H
#define RD_AUDIT_LOG_H
#include <stddef.h>
#include <stdint.h>
#include "audit/audit-record.h"

/* Field names roles should use, so query and report find them. */
#define AUDIT_F_PRINCIPAL "principal"   /* the authenticated principal acting */
#define AUDIT_F_USER      "user"        /* the name a client tried (failures) */
#define AUDIT_F_OWNER     "owner"       /* the owner of the store accessed */
#define AUDIT_F_ADDRESS   "address"     /* client IP address */
#define AUDIT_F_PROTOCOL  "protocol"
#define AUDIT_F_MECH      "mechanism"
#define AUDIT_F_TLS       "tls"
#define AUDIT_F_CLIENT_ID "client_id"
#define AUDIT_F_SESSION   "session"
#define AUDIT_F_MAILBOX   "mailbox"
#define AUDIT_F_MESSAGES  "messages"    /* messages read (session_end, store_access) */
#define AUDIT_F_BYTES     "bytes"       /* octets read */
#define AUDIT_F_REASON    "reason"

struct audit_kv {
	const char *key;     /* audit_key_valid(); not seq, ts, kind, prev, hash */
	const char *value;   /* any octets but NUL; cut at RD_AUDIT_MAX_VALUE */
};

struct audit_writer;

/* Open (creating when missing) the audit directory, take its lock (flock on
 * the directory: a second writer fails), load or make the signing key, find
 * the chain head at the end of the last segment, and recover a torn tail as
 * described above. */
int audit_open(const char *dir, struct audit_writer **w_r, const char **error_r);
/* Append one event of kind (audit_key_valid) with n key/value pairs
 * (n < RD_AUDIT_MAX_FIELDS: one field is kept for truncated=yes). A failed
 * write is undone with ftruncate; if that fails too the writer refuses
 * every later call and must be closed and reopened. */
int audit_append(struct audit_writer *w, const char *kind,
		 const struct audit_kv *kv, size_t n, const char **error_r);
/* The same, durable on return. */
int audit_append_sync(struct audit_writer *w, const char *kind,
		      const struct audit_kv *kv, size_t n, const char **error_r);
/* Make every earlier append durable. */
int audit_flush(struct audit_writer *w, const char **error_r);
/* Write a signed checkpoint now (durable on return). */
int audit_checkpoint(struct audit_writer *w, const char **error_r);
/* Write the closing checkpoint, sync, wipe the key, free. Returns -1 when
 * the checkpoint could not be written (the writer is freed regardless). */
int audit_close(struct audit_writer **w, const char **error_r);
/* Free without a checkpoint (a role dying, or a test simulating a crash). */
void audit_abort(struct audit_writer **w);
/* Next seq the writer will use, and the current segment number. */
uint64_t audit_next_seq(const struct audit_writer *w);
uint32_t audit_segment(const struct audit_writer *w);
/* Tests: stamp records with this time (ms since the epoch); 0 = the clock. */
void audit_set_clock(struct audit_writer *w, int64_t fixed_ms);

/* ---- verification ---- */

enum audit_status {
	AUDIT_INTACT = 0,     /* every record and signature checks out */
	AUDIT_TORN_TAIL = 1,  /* intact up to a partial last record nobody
			       * has recovered yet (a crash, or a cut file) */
	AUDIT_TAMPERED = 2,   /* a record edited, removed, reordered, a
			       * segment missing, a signature wrong */
	AUDIT_ERROR = 3,      /* could not read the log or the key */
};

struct audit_place {
	char segment[32];     /* "seg-000003.log" ("" when not in a segment) */
	unsigned long line;   /* 1-based line in that segment (0 = none) */
	uint64_t offset;      /* octet offset of that line in the segment */
	uint64_t seq;         /* seq of that record, 0 when unreadable */
	char what[256];       /* what is wrong, in words */
};

struct audit_verify_result {
	enum audit_status status;
	struct audit_place first_bad;     /* set unless status is INTACT */
	uint64_t records;                 /* complete records checked */
	uint64_t checkpoints;
	uint64_t last_seq;
	uint64_t last_signed_seq;         /* seq of the last good checkpoint */
	unsigned recovered_torn;          /* torn tails the writer recorded */
	uint32_t segments;
	char pubkey_hex[2 * 32 + 1];      /* the key checkpoints were checked with */
	char head_hex[AUDIT_HASH_HEX + 1];
};

/* Called for remarks that are not failures: a recovered torn tail, and the
 * records after the last checkpoint (not yet signed). */
typedef void audit_note_cb(void *ctx, const struct audit_place *note);

/* Walk every segment in order; check each line's hash, the prev chain, seq
 * continuity, segment numbering and every checkpoint signature against
 * pubkey (32 octets) or, when NULL, DIR/signing.pub. Stops at the first
 * bad record. Returns the status (also in res). Reads only. */
enum audit_status audit_verify(const char *dir, const uint8_t *pubkey,
			       audit_note_cb *note, void *ctx,
			       struct audit_verify_result *res);
/* Read a signing.pub style file (64 hex digits, optional newline). */
int audit_read_pubkey(const char *path, uint8_t pk[32], const char **error_r);

/* ---- query ---- */

struct audit_filter {
	const char *user;     /* principal, user or owner equal (ASCII case-insensitive) */
	const char *address;  /* address equal */
	const char *kind;     /* kind equal */
	int64_t since_ms;     /* ts >= since (0 = no bound) */
	int64_t until_ms;     /* ts <= until (0 = no bound) */
};

/* One matching record; line/len is the record as stored (no newline).
 * Return non-zero to stop the query. */
typedef int audit_record_cb(void *ctx, const struct audit_record *rec,
			    const char *line, size_t len,
			    const char *segment, unsigned long lineno);

/* Walk every segment oldest first and call cb for each record that matches
 * every set member of f. Does not check the chain (that is verify's job);
 * lines that do not parse are skipped and counted in *skipped_r. */
int audit_query(const char *dir, const struct audit_filter *f,
		audit_record_cb *cb, void *ctx, uint64_t *skipped_r,
		const char **error_r);
/* Does rec match f? 1 yes, 0 no (pure; the query's test). */
int audit_filter_match(const struct audit_filter *f, const struct audit_record *rec);

#endif
