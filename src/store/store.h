/* store.h: one owner's mail store (mailboxes, messages, flags), behind a
 * small table of operations.
 *
 * A store is named by a short id ([a-z0-9-]{1,64}), never by a path from a
 * client; the backend decides where it lives. The embedded backend
 * (store_sqlite_ops) keeps <stores_root>/<id>/index.db (SQLite, WAL) and
 * immutable blobs/<2 hex>/<sha256 hex> files. A second backend (PostgreSQL +
 * object storage) can sit behind the same table without touching protocols.
 *
 * Durability (ARCHITECTURE rule 7): store_append() returns STORE_OK only
 * after the blob is written, fsynced, renamed, its directory fsynced and the
 * index transaction committed. An index row never exists without its blob.
 * store_append_batch() gives the same promise for many messages at the
 * price of about one.
 *
 * Return conventions: every function returns an enum store_ret: STORE_OK (0)
 * on success, a negative value on failure with *error_r set to a static
 * string or one owned by the store (valid until the next call on it).
 * Destructors take ** and set the pointer to NULL. A store handle is for one
 * thread; several processes may open the same store at once (worker and
 * deliver), SQLite and a lock file serialise them. */
#ifndef RD_STORE_H
#define RD_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_ret {
	STORE_OK = 0,
	STORE_ERROR = -1,      /* I/O, SQLite, memory: see error_r */
	STORE_NOT_FOUND = -2,  /* no such store, mailbox or message */
	STORE_EXISTS = -3,     /* store or mailbox name already taken */
	STORE_INVALID = -4,    /* bad id, name, keyword or argument */
	STORE_LIMIT = -5,      /* a cap from limits.h was reached */
	STORE_CRASHED = -6,    /* fault injection stopped the operation */
};

/* Fault injection for crash tests: append stops right after the named step
 * as if the process died there, returning STORE_CRASHED and leaving what is
 * on disk as it is (no cleanup). Lives in the store's parameters, never in
 * a global, so one test can run a crashing and a healthy store side by side. */
enum store_step {
	STORE_STEP_NONE = 0,
	STORE_STEP_TMP_WRITTEN,    /* bytes written to tmp/<random> */
	STORE_STEP_TMP_FSYNCED,    /* fsync(tmp file) done */
	STORE_STEP_RENAMED,        /* renamed to blobs/xx/<hash> */
	STORE_STEP_DIR_FSYNCED,    /* blobs/xx (and blobs/ if new) fsynced */
	STORE_STEP_INDEX_COMMITTED,/* message row committed */
};
struct store_faults {
	enum store_step crash_after_step;
	/* called once the blobs of an append are durable and before its
	 * index transaction begins: a test runs another handle's store_gc
	 * there, as another process could */
	void (*before_index)(void *arg);
	void *before_index_arg;
};

struct store_ops;

/* What opening or creating a store needs. stores_root comes from trusted
 * configuration; backend NULL means store_sqlite_ops. */
struct store_params {
	const struct store_ops *backend;
	const char *stores_root;
	struct store_faults faults;
};

/* Every backend's handle starts with this, so the wrappers can dispatch. */
struct store {
	const struct store_ops *ops;
};

/* System flags (RFC 9051 2.3.2). */
enum store_flag {
	STORE_FLAG_SEEN = 1u << 0,
	STORE_FLAG_ANSWERED = 1u << 1,
	STORE_FLAG_FLAGGED = 1u << 2,
	STORE_FLAG_DELETED = 1u << 3,
	STORE_FLAG_DRAFT = 1u << 4,
};
#define STORE_FLAGS_ALL 0x1fu

/* RFC 6154 special-use attributes the store knows. */
enum store_special_use {
	STORE_SPECIAL_NONE = 0,
	STORE_SPECIAL_SENT,
	STORE_SPECIAL_DRAFTS,
	STORE_SPECIAL_TRASH,
	STORE_SPECIAL_JUNK,
	STORE_SPECIAL_ARCHIVE,
};

/* The mailbox row alone, without the counts (store_mailbox_state). */
struct store_mailbox_state {
	int64_t id;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t recent_uid;       /* highest UID claimed as \Recent */
};

struct store_mailbox_info {
	int64_t id;
	const char *name;          /* valid during the callback / until next call */
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint64_t messages;
	uint64_t unseen;
	uint64_t total_size;
	enum store_special_use special_use;
	uint32_t recent_uid;       /* highest UID claimed as \Recent */
	uint64_t recent;           /* messages above it: recent, unclaimed */
};

/* Callbacks return 0 to go on, non-zero to stop (the call then returns
 * STORE_OK). They run while a read statement is open on the handle: they
 * may call store_message_open() and store_mailbox_get(), but not the
 * operation that called them nor any operation that writes. */
typedef int store_mailbox_cb(void *ctx, const struct store_mailbox_info *mb);

/* A message to append. Cached texts are what the caller computed from the
 * message (this module parses nothing); NULL means none. keywords are
 * IMAP atoms, at most RD_STORE_MAX_KEYWORDS. */
struct store_append {
	const void *data;
	size_t size;
	unsigned flags;            /* enum store_flag bits */
	const char *const *keywords;
	size_t keyword_count;
	int64_t internal_date;     /* seconds since the epoch */
	const char *envelope;
	const char *bodystructure;
	const char *preview;
	/* Decoded text for SEARCH TEXT/BODY (the FTS5 index): the text of
	 * the message's own header, one STORE_FULLTEXT_SEPARATOR octet,
	 * then the body text. Without a separator all of it is body text
	 * (then BODY also matches what was header text). */
	const char *fulltext;
	/* With fulltext NULL: the text comes later. The message is listed
	 * for an indexer (store_text_pending), which reads it and gives its
	 * text with store_text_add; until then SEARCH must not rely on the
	 * index for it (store_text_pending_count). A bulk import uses this
	 * so the text index is built off its path. */
	bool text_later;
	/* Exactly-once delivery: NULL, or a key (1..RD_STORE_MAX_DELIVERY_KEY
	 * octets; deliver uses "<queue id>/<recipient>") recorded in the
	 * transaction that files the message. An append whose key the store
	 * already holds files nothing and reports UID 0: the message is
	 * there from an earlier attempt that was not acknowledged. Keys are
	 * kept RD_STORE_DELIVERY_KEY_KEEP_S. */
	const char *delivery_key;
};
/* ASCII RS: never in decoded header text (src/mime replaces it there). */
#define STORE_FULLTEXT_SEPARATOR '\x1e'

/* A message filed with text_later whose text the index lacks. */
struct store_text_pending {
	int64_t id;                /* the store's own message id */
	int64_t mailbox_id;
	uint32_t uid;
};

/* Its text, for store_text_add: the layout of store_append's fulltext;
 * NULL to take it off the list with no text (it cannot be read). */
struct store_text_add {
	int64_t id;
	const char *fulltext;
};

/* What store_search_text() looks at: IMAP TEXT or BODY. */
enum store_text_part {
	STORE_TEXT_ALL,            /* header and body text */
	STORE_TEXT_BODY,           /* body text only */
};

struct store_message {
	uint32_t uid;
	uint64_t modseq;
	unsigned flags;
	const char *keywords;      /* space-separated, "" if none */
	int64_t internal_date;
	uint64_t size;
	const char *blob_id;       /* sha256 hex: the content address */
	const char *envelope;      /* NULL if not cached */
	const char *bodystructure;
	const char *preview;
};

/* Pointers in msg are valid only during the callback. */
typedef int store_message_cb(void *ctx, const struct store_message *msg);

enum store_flag_op { STORE_FLAGS_SET, STORE_FLAGS_ADD, STORE_FLAGS_REMOVE };

struct store_flag_change {
	enum store_flag_op op;
	unsigned flags;
	const char *const *keywords;
	size_t keyword_count;
};

/* A list of UIDs the store allocated; free with store_uids_free(). */
struct store_uids {
	uint32_t *uids;
	size_t count;
};

/* COPYUID data (RFC 4315): src.uids[i] became dst.uids[i]. */
struct store_copy_result {
	uint32_t dst_uidvalidity;
	struct store_uids src;
	struct store_uids dst;
};

struct store_ops {
	const char *name;
	int (*create)(const struct store_params *params, const char *store_id,
		      const char **error_r);
	int (*open)(const struct store_params *params, const char *store_id,
		    struct store **store_r, const char **error_r);
	void (*close)(struct store **store);
	void (*release_memory)(struct store *s);

	int (*mailbox_create)(struct store *s, const char *name,
			      enum store_special_use special_use,
			      int64_t *id_r, const char **error_r);
	int (*mailbox_rename)(struct store *s, const char *old_name,
			      const char *new_name, const char **error_r);
	int (*mailbox_delete)(struct store *s, const char *name,
			      const char **error_r);
	int (*mailbox_list)(struct store *s, store_mailbox_cb *cb, void *ctx,
			    const char **error_r);
	int (*mailbox_get)(struct store *s, const char *name,
			   struct store_mailbox_info *info_r,
			   const char **error_r);

	int (*append)(struct store *s, int64_t mailbox_id,
		      const struct store_append *msg, uint32_t *uid_r,
		      uint64_t *modseq_r, const char **error_r);
	int (*append_batch)(struct store *s, int64_t mailbox_id,
			    const struct store_append *msgs, size_t n,
			    uint32_t *uids_r, uint64_t *modseqs_r,
			    const char **error_r);
	int (*append_packed)(struct store *s, int64_t mailbox_id,
			     const struct store_append *msgs, size_t n,
			     uint32_t *uids_r, uint64_t *modseqs_r,
			     const char **error_r);
	int (*fetch)(struct store *s, int64_t mailbox_id, uint32_t uid_first,
		     uint32_t uid_last, store_message_cb *cb, void *ctx,
		     const char **error_r);
	int (*message_open)(struct store *s, int64_t mailbox_id, uint32_t uid,
			    int *fd_r, uint64_t *offset_r, uint64_t *size_r,
			    const char **error_r);
	int (*flags_update)(struct store *s, int64_t mailbox_id,
			    uint32_t uid_first, uint32_t uid_last,
			    const struct store_flag_change *change,
			    store_message_cb *changed_cb, void *ctx,
			    uint64_t *modseq_r, const char **error_r);
	int (*expunge)(struct store *s, int64_t mailbox_id, uint32_t uid_first,
		       uint32_t uid_last, struct store_uids *expunged_r,
		       const char **error_r);
	int (*copy)(struct store *s, int64_t src_mailbox_id,
		    uint32_t uid_first, uint32_t uid_last,
		    int64_t dst_mailbox_id, bool move,
		    struct store_copy_result *result_r, const char **error_r);
	int (*search_text)(struct store *s, int64_t mailbox_id,
			   enum store_text_part part, const char *needle,
			   size_t needle_len, struct store_uids *uids_r,
			   const char **error_r);
	int (*text_pending)(struct store *s, int64_t mailbox_id, size_t max,
			    struct store_text_pending *items_r, size_t *n_r,
			    const char **error_r);
	int (*text_add)(struct store *s, const struct store_text_add *items, size_t n,
			const char **error_r);
	int (*text_pending_count)(struct store *s, int64_t mailbox_id, uint64_t *count_r,
				  const char **error_r);
	int (*gc)(struct store *s, unsigned *removed_r, const char **error_r);
	int (*gc_removed)(struct store *s, unsigned *removed_r, const char **error_r);
	int (*expunged_since)(struct store *s, int64_t mailbox_id, uint64_t modseq,
			      uint32_t uid_first, uint32_t uid_last,
			      struct store_uids *uids_r, const char **error_r);
	int (*recent_claim)(struct store *s, int64_t mailbox_id, uint32_t *first_r,
			    uint32_t *last_r, const char **error_r);
	int (*mailbox_state)(struct store *s, const char *name,
			     struct store_mailbox_state *st_r, const char **error_r);
	int (*fetch_changed)(struct store *s, int64_t mailbox_id, uint64_t since_modseq,
			     store_message_cb *cb, void *ctx, const char **error_r);
	int (*fetch_state)(struct store *s, int64_t mailbox_id, store_message_cb *cb,
			   void *ctx, const char **error_r);
};

extern const struct store_ops store_sqlite_ops;

/* ---- pure validation (store-name.c), no I/O ---- */

/* [a-z0-9-]{1,RD_MAX_STORE_ID}: can never be "." , ".." or contain '/'. */
bool store_id_valid(const char *id);
/* Mailbox names: UTF-8, '/' separates levels; refused: empty name or level,
 * leading/trailing '/', levels "." and "..", '%' '*', NUL and control
 * characters (C0, DEL, C1), over-long or invalid UTF-8, more than
 * RD_STORE_MAX_MAILBOX_NAME octets or RD_STORE_MAX_MAILBOX_DEPTH levels.
 * Returns true if valid, else false with *error_r saying why. */
bool store_mailbox_name_valid(const char *name, const char **error_r);
/* The same over (bytes, length), so an embedded NUL can be refused. */
bool store_mailbox_name_valid_n(const char *name, size_t len,
				const char **error_r);
/* A keyword is 1..RD_STORE_MAX_KEYWORD_LEN printable ASCII octets, not
 * starting with '\' and holding none of ( ) { % * " \ ] or space. */
bool store_keyword_valid(const char *kw, const char **error_r);
/* "\Sent" etc., or NULL for STORE_SPECIAL_NONE. */
const char *store_special_use_name(enum store_special_use su);

/* ---- wrappers: call through the ops table (store.c) ---- */

int store_create(const struct store_params *params, const char *store_id,
		 const char **error_r);
int store_open(const struct store_params *params, const char *store_id,
	       struct store **store_r, const char **error_r);
void store_close(struct store **store);

int store_mailbox_create(struct store *s, const char *name,
			 enum store_special_use special_use, int64_t *id_r,
			 const char **error_r);
/* Renames the mailbox and every mailbox below it; INBOX cannot be renamed
 * (the IMAP layer moves its messages instead). UIDVALIDITY is kept. */
int store_mailbox_rename(struct store *s, const char *old_name,
			 const char *new_name, const char **error_r);
/* Deletes the mailbox and its messages; mailboxes below it stay. INBOX
 * cannot be deleted. Blobs are reclaimed later by store_gc(). */
int store_mailbox_delete(struct store *s, const char *name,
			 const char **error_r);
int store_mailbox_list(struct store *s, store_mailbox_cb *cb, void *ctx,
		       const char **error_r);
/* info_r->name points into the store, valid until the next call. */
int store_mailbox_get(struct store *s, const char *name,
		      struct store_mailbox_info *info_r, const char **error_r);

/* Files msg in the mailbox (durably, see the top). *uid_r is 0 if the
 * message's delivery_key was already recorded (nothing was filed). */
int store_append(struct store *s, int64_t mailbox_id,
		 const struct store_append *msg, uint32_t *uid_r,
		 uint64_t *modseq_r, const char **error_r);
/* Files n (1..RD_STORE_MAX_APPEND_BATCH) messages in the mailbox with
 * their disk syncs shared: all blobs written, synced, renamed, their
 * directories synced once, then one index transaction for every row, so a
 * burst costs about what one message does. Same durability and crash
 * contract as store_append (the fault steps stop the whole batch after
 * it); all or nothing: on failure no row exists (a message the store
 * refuses fails the batch: the caller may retry one by one to learn
 * which). On STORE_OK uids_r[i] and modseqs_r[i] (arrays of n) are each
 * message's UID and MODSEQ, one MODSEQ for the batch; UID 0 for a message
 * whose delivery_key was already recorded (or given twice in the batch). */
int store_append_batch(struct store *s, int64_t mailbox_id,
		       const struct store_append *msgs, size_t n,
		       uint32_t *uids_r, uint64_t *modseqs_r,
		       const char **error_r);
/* store_append_batch with the n messages written one after another into
 * one new file (a pack) instead of a file each: one file to create and
 * sync for the batch, which is what makes a bulk import fast. Same
 * durability, crash and all-or-nothing contract. Messages of a pack are
 * not shared with equal content elsewhere in the store (no dedup), and
 * the pack's space comes back only when every message in it is removed:
 * meant for `redoubt import`, whose mail mostly stays. */
int store_append_packed(struct store *s, int64_t mailbox_id,
			const struct store_append *msgs, size_t n,
			uint32_t *uids_r, uint64_t *modseqs_r,
			const char **error_r);
/* Messages with uid_first <= UID <= uid_last, ascending; uid_last
 * UINT32_MAX means "*". */
int store_fetch(struct store *s, int64_t mailbox_id, uint32_t uid_first,
		uint32_t uid_last, store_message_cb *cb, void *ctx,
		const char **error_r);
/* Every message of the mailbox, ascending UID, with only uid, modseq and
 * flags filled in (keywords "", the rest 0 or NULL): what a session keeps
 * of a selected mailbox, read from an index of its own, so it costs a
 * fraction of store_fetch over the same messages. */
int store_fetch_state(struct store *s, int64_t mailbox_id, store_message_cb *cb,
		      void *ctx, const char **error_r);
/* A read-only fd on the file that holds the immutable raw message: its
 * *size_r octets start at *offset_r (0 for a message in a file of its
 * own, else where it sits in a pack). The caller closes it. Nothing is
 * read into memory here. */
int store_message_open(struct store *s, int64_t mailbox_id, uint32_t uid,
		       int *fd_r, uint64_t *offset_r, uint64_t *size_r,
		       const char **error_r);
/* Applies change to every message in the range. Each message whose flags
 * really change gets the mailbox's next MODSEQ (one per call) and is passed
 * to changed_cb (may be NULL) after the commit; *modseq_r (may be NULL) is
 * the mailbox's HIGHESTMODSEQ afterwards. */
int store_flags_update(struct store *s, int64_t mailbox_id,
		       uint32_t uid_first, uint32_t uid_last,
		       const struct store_flag_change *change,
		       store_message_cb *changed_cb, void *ctx,
		       uint64_t *modseq_r, const char **error_r);
/* Removes messages flagged \Deleted in the range; their UIDs, ascending,
 * go to expunged_r (free with store_uids_free). At most RD_STORE_MAX_BATCH
 * per call (repeat while count is that). UIDs are never reused. */
int store_expunge(struct store *s, int64_t mailbox_id, uint32_t uid_first,
		  uint32_t uid_last, struct store_uids *expunged_r,
		  const char **error_r);
/* Copies (or moves: copy + expunge in one transaction) the range to another
 * mailbox of the same store. Blobs are shared, not duplicated. More than
 * RD_STORE_MAX_BATCH messages: STORE_LIMIT and nothing done. Free the
 * result with store_copy_result_free(). */
int store_copy(struct store *s, int64_t src_mailbox_id, uint32_t uid_first,
	       uint32_t uid_last, int64_t dst_mailbox_id, bool move,
	       struct store_copy_result *result_r, const char **error_r);
/* The UIDs, ascending, of the mailbox's messages whose decoded text (the
 * fulltext given at append; part says whether header text counts) holds
 * needle[0..needle_len) as a substring, case-insensitively (Unicode simple
 * case folding, no diacritic folding): IMAP SEARCH TEXT / BODY from the
 * index, without reading a message. Needles of three characters or more
 * use the trigram index; shorter ones read every text of the mailbox and
 * fold ASCII case only. Messages appended without fulltext never match,
 * nor do those still waiting for it (text_later).
 * A needle over RD_STORE_MAX_SEARCH_NEEDLE octets: STORE_LIMIT (the
 * caller may scan the messages itself). Free with store_uids_free(). */
int store_search_text(struct store *s, int64_t mailbox_id,
		      enum store_text_part part, const char *needle,
		      size_t needle_len, struct store_uids *uids_r,
		      const char **error_r);
/* Up to max (1..RD_STORE_MAX_TEXT_BATCH) messages of the mailbox (0: of
 * the whole store) waiting for their text (appended with text_later),
 * oldest first, into items_r. */
int store_text_pending(struct store *s, int64_t mailbox_id, size_t max,
		       struct store_text_pending *items_r, size_t *n_r, const char **error_r);
/* Adds the text of n (at most RD_STORE_MAX_TEXT_BATCH) waiting messages to
 * the index and takes them off the list, in one transaction. One no
 * longer waiting (removed, or indexed by another process meanwhile) is
 * passed over. */
int store_text_add(struct store *s, const struct store_text_add *items, size_t n,
		   const char **error_r);
/* How many messages of the mailbox (0: of the whole store) wait for
 * their text: while any does, store_search_text cannot see them. */
int store_text_pending_count(struct store *s, int64_t mailbox_id, uint64_t *count_r,
			     const char **error_r);
/* id, UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ of a mailbox, from its row
 * only: cheap whatever the mailbox holds (store_mailbox_get counts). */
int store_mailbox_state(struct store *s, const char *name,
			struct store_mailbox_state *st_r, const char **error_r);
/* The messages of the mailbox whose MODSEQ is above since_modseq (flags
 * changed, or arrived), ascending UID; the cost follows the changes, not
 * the mailbox. Expunges are in store_expunged_since(). */
int store_fetch_changed(struct store *s, int64_t mailbox_id, uint64_t since_modseq,
			store_message_cb *cb, void *ctx, const char **error_r);
/* IMAP4rev1 \Recent: the first session to see a message gets it. Claims
 * the UIDs from the last claim up to UIDNEXT-1 for the caller, in one
 * transaction, so two sessions never both get one; [*first_r, *last_r]
 * (empty when *first_r > *last_r, and then nothing is written). */
int store_recent_claim(struct store *s, int64_t mailbox_id, uint32_t *first_r,
		       uint32_t *last_r, const char **error_r);
/* UIDs in [uid_first, uid_last] of the mailbox expunged (or moved away)
 * with a MODSEQ above modseq, ascending: QRESYNC's VANISHED (EARLIER)
 * from the expunge log (RFC 7162 3.2.5.1). Free with store_uids_free(). */
int store_expunged_since(struct store *s, int64_t mailbox_id, uint64_t modseq,
			 uint32_t uid_first, uint32_t uid_last,
			 struct store_uids *uids_r, const char **error_r);
/* Removes blobs no message references. Those of removed messages (the
 * index notes each removed row's blob) are collected at any time, under
 * the index's write lock; an append that finds one of its blobs gone in
 * its transaction writes it again (RD_STORE_GC_RACE_TRIES). Blobs left by
 * a crash between rename and commit are found by a walk of blobs/ that
 * runs only when no other process has the store open. */
int store_gc(struct store *s, unsigned *removed_r, const char **error_r);
/* store_gc's first half alone: the noted blobs of removed messages, never
 * the walk of blobs/ (which reads every blob name and looks each up: too
 * slow for a big store while sessions wait). What a running worker calls. */
int store_gc_removed(struct store *s, unsigned *removed_r, const char **error_r);

/* Gives back the memory the store keeps to be fast next time (its page
 * cache); nothing is lost, the next read fetches from the OS again. For a
 * process going idle. */
void store_release_memory(struct store *s);

void store_uids_free(struct store_uids *uids);
void store_copy_result_free(struct store_copy_result *res);

#endif
