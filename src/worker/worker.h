/* worker.h: what the worker's files share (private to src/worker).
 *
 * worker.c owns sessions and their I/O (framing, literals, IDLE input,
 * output back-pressure); worker-mbox.c the selected mailbox (the per-session
 * UID -> sequence map and the untagged EXISTS/EXPUNGE/FETCH updates that
 * keep it in step with the store); worker-cmd.c the commands that need no
 * selected mailbox; worker-cmd-msg.c the ones that do, but SEARCH, which
 * is in worker-search.c.
 *
 * Command handlers write their untagged and tagged replies themselves and
 * return nothing; a BAD reply goes through session_bad() so the bad-command
 * cap is counted in one place. */
#ifndef RD_WORKER_H
#define RD_WORKER_H
#include "imap/imap-args.h"
#include "master/grants.h"
#include "lib/buffer.h"
#include "store/store.h"
#include "limits.h"
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct worker;
struct fetch_job;
struct event;
struct bufferevent;

/* The selected mailbox: seq n is uids[n-1]; modseqs[] is what this
 * session last told the client about each message. */
struct selected {
	char name[RD_STORE_MAX_MAILBOX_NAME + 1];   /* in its store */
	struct store *store;    /* the principal's, or a granting owner's */
	bool shared;            /* another owner's: grant says what we may do */
	struct grant grant;
	uint64_t msgs0, bytes0; /* session counters when it was opened */
	int64_t id;
	bool readonly;
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;   /* with uidnext: the cheap change check */
	uint64_t expunge_from;  /* expunges since this MODSEQ not told yet, 0 none */
	uint32_t *uids;
	uint64_t *modseqs;
	size_t count, cap;
	/* IMAP4rev1 \Recent: the UID ranges this session claimed (or, for
	 * EXAMINE, saw unclaimed) */
	struct imap_range recent[RD_IMAP_MAX_RECENT_RANGES];
	size_t nrecent;
	/* RFC 5182 SEARCHRES: the last SEARCH RETURN (SAVE) result, as UID
	 * ranges (malloc'd, NULL when empty) */
	struct imap_range *saved;
	size_t nsaved;
};

/* SELECT (QRESYNC (uidvalidity modseq [known-uids])): what the client
 * knew (RFC 7162 3.2.5). */
struct qresync_params {
	uint32_t uidvalidity;
	uint64_t modseq;
	const struct imap_arg *known;   /* UID set, or NULL for all */
};

struct session {
	struct worker *w;
	struct session *prev, *next;
	struct bufferevent *bev;
	bool closing;
	bool paused;            /* output over the cap: commands wait */
	unsigned bad;
	struct buffer in;       /* bytes of the command being framed */
	struct imap_frame frame;
	bool idling;
	bool condstore;         /* RFC 7162: MODSEQ in every FETCH of flags */
	bool qresync;           /* RFC 7162 3.2: VANISHED instead of EXPUNGE */
	bool utf8;              /* RFC 6855 UTF8=ACCEPT: names in UTF-8 */
	bool rev2;              /* ENABLE IMAP4rev2 (RFC 9051): its response forms */
	bool compress_asked;    /* COMPRESS answered OK: start after the command */
	uint32_t acl_req;       /* a SETACL/DELETEACL master is answering: the
				   session reads nothing more until it has */
	char acl_tag[IMAP_PARSE_TAG_MAX + 1];
	char acl_cmd[16];
	char *acl_line;         /* GETACL asked of master: "* ACL name owner
				   rights" so far, the grants follow (malloc'd) */
	bool compressed;        /* RFC 4978: DEFLATE both ways */
	char idle_tag[IMAP_PARSE_TAG_MAX + 1];
	struct event *idle_ev;
	struct event *close_ev; /* closing: frees it once output is out */
	unsigned close_polls;
	struct selected *sel;   /* NULL when nothing is selected */
	struct fetch_job *job;  /* a FETCH waiting for the client to read */
	size_t job_len;         /* its command's octets at the start of in */
	char peer[64];          /* client address, from master */
	uint64_t msgs_read;     /* for the audit record at the end */
	uint64_t bytes_read;
};

struct worker {
	struct role_ctx *ctx;
	struct event_base *base;
	struct store *store;
	struct session *sessions;
	unsigned nsessions;
	uint8_t *buf;
	int stopping;
	time_t idle_since;
	int retire_asked;
	uint64_t max_message;   /* APPEND literal cap */
	struct grant_set grants;   /* from master (IPC_WORKER_GRANTS) */
	uint32_t next_req;         /* numbers SETACL requests to master */
	struct event *change_timer;   /* a store changed: sync idlers soon */
	bool gc_wanted;         /* messages were removed: their blobs go soon */
	struct event *gc_timer; /* worker_gc_soon's delay */
	struct event *index_timer; /* text filed later: the next indexing turn */
	uint64_t indexed;       /* messages given their text in this catch-up */
	bool trim_wanted;       /* a mailbox was selected or a big command ran:
				 * give memory back when nothing is selected */
	int change_checks;
	struct {
		const char *id;
		struct store *st;   /* opened at first use */
	} shared[RD_MAX_SHARED_STORES];
	size_t nshared;
};

/* A mailbox name resolved: which store, its name there, and the grant
 * that reaches it (NULL for the principal's own). */
struct mbref {
	struct store *store;
	const char *name;
	const struct grant *grant;
};

/* worker.c */
/* Messages were removed: collect their blobs after RD_WORKER_GC_DELAY_MS. */
void worker_gc_soon(struct worker *w);
void out(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_buf(struct session *s, const struct buffer *b);
/* Octets written but not yet taken by the peer. */
size_t out_pending(struct session *s);
void session_bad(struct session *s, const char *tag, const char *why);
void session_close(struct session *s);
void session_idle_start(struct session *s, const char *tag);
/* Makes bev the session's stream (callbacks, watermarks, timeouts). */
void session_attach_bev(struct session *s, struct bufferevent *bev);

/* worker-compress.c: puts DEFLATE under the session (RFC 4978); octets
 * already read past the COMPRESS command are fed through it. */
int compress_start(struct session *s, const char **error_r);

/* worker-cmd.c: runs one parsed command. */
void cmd_dispatch(struct session *s, struct imap_cmd *cmd);
/* "INBOX" in any case becomes INBOX; copies a mailbox argument into dst
 * (from modified UTF-7 unless the session enabled UTF8=ACCEPT).
 * Returns -1 (after replying BAD) if the argument is no usable name. */
int mailbox_arg(struct session *s, const char *tag, const struct imap_arg *a,
		char *dst, size_t dstlen);

/* System flags and keywords (pointers into kwbuf) from a flag list or a
 * single flag; -1 if one is invalid. \Recent is accepted and ignored. */
int parse_flag_list(const struct imap_arg *list, unsigned *flags_r, const char **kws,
		    size_t *nkws, char kwbuf[][RD_STORE_MAX_KEYWORD_LEN + 1]);

/* Beside the store_ret values: the grant does not allow it (NOPERM). */
#define MBOX_NOPERM (-100)

/* NO with the response code for a store_ret (or MBOX_NOPERM). */
void reply_store_error(struct session *s, const char *tag, int r, const char *err);

/* Appends msg (data, size, flags, keywords, date set) to a mailbox of st,
 * parsing it first so FETCH and SEARCH use the cache; a store_ret. */
/* append_parsed for up to RD_STORE_MAX_APPEND_BATCH messages in one store
 * transaction (store_append_batch): all filed or none. */
int append_parsed_batch(struct store *st, int64_t mailbox_id, struct store_append *msgs,
			size_t n, uint32_t *uids_r, const char **error_r);
int append_parsed(struct store *st, int64_t mailbox_id, struct store_append *msg,
		  uint32_t *uid_r, const char **error_r);

/* worker-shared.c: other owners' mailboxes under "Shared/OWNER/". */
/* Is name in the shared namespace (which the principal cannot create in)? */
bool shared_name(const char *name);
/* STORE_OK and *ref, or STORE_NOT_FOUND (also for a name the principal
 * has no "l" or "r" on, so it learns nothing of it). */
int mbox_resolve(struct session *s, const char *name, struct mbref *ref);
/* May the grant's holder use right (RFC 4314 letter)? NULL: own, yes. */
bool mbref_may(const struct grant *g, char right);
/* A store_access audit record: action "open", "close", "append". */
void shared_audit(struct session *s, const struct grant *g, const char *action,
		  uint64_t msgs, uint64_t bytes);
/* Calls cb with each granted mailbox the principal may see ("l"), named
 * Shared/OWNER/MAILBOX, no special use. -1 if cb stopped. */
int shared_list(struct session *s, store_mailbox_cb *cb, void *ctx);
/* MYRIGHTS GETACL LISTRIGHTS SETACL DELETEACL (RFC 4314 3). */
void cmd_acl(struct session *s, const char *tag, const char *cmd, const struct imap_arg *args);
/* Master's answer to a SETACL/DELETEACL (IPC_GRANT_RESULT). */
void acl_result(struct session *s, uint32_t status, const char *text);
/* master's IPC_ACL_LIST_RESULT for this session's GETACL, after status
 * and text: answers the client. -1 if the frame is malformed. */
int acl_list_result(struct session *s, uint32_t status, const char *text,
		    struct ipc_reader *r, const char **error_r);
void shared_close_all(struct worker *w);
/* The selected shared mailbox's rights from w->grants after master sent
 * new ones (revoked: none, read-only). */
void shared_refresh(struct session *s);
/* RFC 8474 MAILBOXID of a mailbox (of the grant's store, or our own). */
#define MAILBOXID_BUF 26
void mailbox_objectid(struct session *s, const struct grant *g, int64_t mailbox_id,
		      char out[MAILBOXID_BUF]);
/* COPY / MOVE of ranges of the selected mailbox to dst in another store
 * (rights already checked): each message read and appended; replies. */
void shared_copy(struct session *s, const char *tag, const struct imap_range *ranges, int n,
		 const struct mbref *dst, const struct store_mailbox_state *dstinfo, bool uid,
		 bool move);

/* worker-list.c */
/* name as the client sees it (modified UTF-7 or, after UTF8=ACCEPT,
 * UTF-8), as an IMAP string. */
int mailbox_write_name(struct session *s, struct buffer *b, const char *name);
void cmd_list(struct session *s, const char *tag, const struct imap_arg *args, bool lsub);
void cmd_status(struct session *s, const char *tag, const struct imap_arg *args);
/* GETQUOTAROOT GETQUOTA SETQUOTA (RFC 9208). */
void cmd_quota(struct session *s, const char *tag, const char *cmd, const struct imap_arg *args);

/* worker-cmd-msg.c: commands on the selected mailbox; true if handled. */
bool cmd_selected(struct session *s, struct imap_cmd *cmd, const char *name,
		  const struct imap_arg *args, bool uid);

/* Goes on with s->job; true when it finished (tagged reply written,
 * s->job NULL), false when it stopped again on the output cap. */
bool fetch_job_run(struct session *s);
/* Octets [off, off+len) of a message in a malloc'd buffer (*len_r read),
 * or NULL; counted for the session's audit record. */
uint8_t *read_message(struct session *s, uint32_t uid, uint64_t off, uint64_t len,
		      size_t *len_r);
/* The replies of a COPY or MOVE: COPYUID (when n > 0) pairing src[i]
 * with dst[i], the expunges of a move, the tagged OK or NO for r. */
void copy_reply(struct session *s, const char *tag, int r, const char *err,
		uint32_t uidvalidity, const uint32_t *src, size_t n, const uint32_t *dst,
		bool uid, bool move);
/* "1:3,7" from UIDs (or sequence numbers) in the given order (COPYUID
 * pairs src[i] with dst[i], so the two sets keep the same order). */
int write_uid_set(struct buffer *b, const uint32_t *u, size_t n);

/* worker-search.c: SEARCH / UID SEARCH, with ESEARCH RETURN options
 * (RFC 4731), SAVE and "$" (RFC 5182) and MODSEQ (RFC 7162). */
void cmd_search(struct session *s, const char *tag, const struct imap_arg *args, bool uid);
/* SORT (RFC 5256) or, with thread, THREAD ORDEREDSUBJECT. */
void cmd_sort(struct session *s, const char *tag, const struct imap_arg *args, bool uid,
	      bool thread);
void fetch_job_free(struct session *s);

/* worker-mbox.c */
/* Selects name (loading the map) and writes the SELECT/EXAMINE untagged
 * replies; returns a store_ret. */
int mbox_select(struct session *s, const char *name, bool readonly,
		const struct qresync_params *q, const char **error_r);
void mbox_unselect(struct session *s);
/* Brings the map in step with the store and tells the client: EXPUNGE in
 * decreasing order, FETCH FLAGS for changed messages, then EXISTS. With
 * expunges false (during FETCH, STORE, SEARCH) only flags and EXISTS.
 * Cheap when nothing changed (one mailbox row read). */
void mbox_sync(struct session *s, bool expunges);
/* Sequence number of uid, or 0 if it is not in the map. */
uint32_t mbox_seq(const struct selected *sel, uint32_t uid);
/* "* seq FETCH (UID u FLAGS (...) MODSEQ (n))": MODSEQ when the session
 * enabled CONDSTORE; UID when with_uid or QRESYNC is on (RFC 7162 3.2.4
 * wants UID in every FETCH then). */
void mbox_write_flags(struct session *s, uint32_t seq, const struct store_message *m,
		      bool with_uid);
/* "* VANISHED (EARLIER) set" for UIDs in ranges (below UIDNEXT) the
 * store's expunge log says went after modseq (RFC 7162 3.2.5.1); if the
 * log cannot be read, every gap, which RFC 7162 3.6 allows. Nothing when
 * highestmodseq shows no change since modseq. */
void mbox_vanished_earlier(struct session *s, const struct imap_range *ranges, size_t n,
			   uint64_t modseq);
/* IMAP_FLAG_RECENT when uid is \Recent for this (IMAP4rev1) session. */
unsigned mbox_recent_bit(const struct session *s, uint32_t uid);
/* Records that the client was told about uid at modseq. */
void mbox_note_modseq(struct selected *sel, uint32_t uid, uint64_t modseq);
/* Turns a sequence set (or UID set) argument into UID ranges clipped to
 * the map; returns the count (0 possible) or -1 after replying BAD.
 * *ranges_r is malloc'd. */
int mbox_uid_ranges(struct session *s, const char *tag, const struct imap_arg *set,
		    bool uid, struct imap_range **ranges_r);

#endif
