/* limits.h: every hard cap in redoubt, one place, each with its reason.
 *
 * A cap that is reached gives a clean protocol error, never a crash or an
 * allocation the peer chose. Pre-authentication caps are far tighter than
 * post-authentication ones because anyone on the internet reaches them. */
#ifndef REDOUBT_LIMITS_H
#define REDOUBT_LIMITS_H

/* ---- IPC between roles ---- */
/* Largest IPC frame payload: a TLS key and certificate chain fit, a message
 * body never travels over IPC (it goes through the spool). */
#define RD_IPC_MAX_PAYLOAD      (256u * 1024u)
/* Largest single string field inside a frame: addresses, names, passwords. */
#define RD_IPC_MAX_STRING       4096u
/* Fields per frame: the largest fixed schema has fewer than ten. */
#define RD_IPC_MAX_FIELDS       32u

/* ---- configuration ---- */
/* One config line: keys and values are short; a longer line is a mistake. */
#define RD_CONFIG_MAX_LINE      1024u
/* Config file size: a hand-written file is a few KiB. */
#define RD_CONFIG_MAX_SIZE      (256u * 1024u)
/* A path in the config (TLS certificate, key): certbot's live paths are
 * under 100 octets; 255 leaves room without sizing anything by PATH_MAX. */
#define RD_CONFIG_MAX_PATH      255u
/* A Unix user name in the config: useradd's default limit is 32. */
#define RD_CONFIG_MAX_USER      32u
/* A listen host (IP literal or name): an IPv6 literal is at most 45. */
#define RD_CONFIG_MAX_LISTEN_HOST 63u
/* Upper bound for auth.fail_delay_ms: longer only makes a slow client hold
 * a front connection, it does not slow a guesser further. */
#define RD_CONFIG_MAX_FAIL_DELAY_MS 10000u
/* Upper bound for limits.max_recipients: RFC 5321 4.5.3.1.8 asks for at
 * least 100; a thousand is a mailing list, not a person, and is what one
 * queued message's envelope holds (SPOOL_MAX_RCPT). */
#define RD_CONFIG_MAX_RECIPIENTS 1000u
/* Smallest limits.max_recipients: RFC 5321 4.5.3.1.8 says 100 MUST be
 * accepted. */
#define RD_CONFIG_MIN_RECIPIENTS 100u
/* Smallest limits.max_message_size: RFC 5321 4.5.3.1.7 asks for 64 KiB. */
#define RD_CONFIG_MIN_MESSAGE_SIZE (64u * 1024u)
/* A DNS name in text form without the trailing dot (RFC 1035 2.3.4 gives
 * 255 octets on the wire, which is 253 characters written out). */
#define RD_DNS_NAME_MAX         253u

/* ---- names ---- */
/* RFC 5321 4.5.3.1: local part 64, domain 255, path 256 octets. */
#define RD_MAX_LOCALPART        64u
#define RD_MAX_DOMAIN           255u
#define RD_MAX_ADDRESS          256u
/* Passwords: Argon2id hashes any length, but a longer password is an attack
 * on CPU, not a secret. */
#define RD_MAX_PASSWORD         1024u

/* ---- SMTP (RFC 5321 4.5.3.1) ---- */
/* Command line before authentication: 512 octets including CRLF. */
#define RD_SMTP_MAX_LINE_PREAUTH 512u
/* Text line in DATA: 998 octets plus CRLF (RFC 5322 2.1.1). */
#define RD_SMTP_MAX_DATA_LINE   1000u
/* Errors before the session is dropped: a client that keeps erring is
 * probing, not sending mail. */
#define RD_SMTP_MAX_ERRORS      10u
/* Recipients per message, whatever limits.max_recipients says (that is
 * checked against it): RFC 5321 4.5.3.1.8 asks for at least 100. The list
 * grows as recipients are accepted. */
#define RD_SMTP_MAX_RCPT        RD_CONFIG_MAX_RECIPIENTS
/* RFC 5321 4.5.3.2: the greeting / command timeout is 5 minutes. */
#define RD_SMTP_CMD_TIMEOUT_S   300u
/* ESMTP parameters on one MAIL or RCPT: fewer than ten are registered for
 * either command, so more is noise or an attack on the parser. */
#define RD_SMTP_MAX_PARAMS      16u
/* One ESMTP parameter value: an xtext-encoded ORCPT or AUTH address fits;
 * longer values only serve to fill spool records. */
#define RD_SMTP_MAX_PARAM_VALUE 500u
/* One ESMTP keyword: registered ones are under 16 characters; the cap keeps
 * the reply that names an unknown keyword short. */
#define RD_SMTP_MAX_PARAM_KEYWORD 32u
/* ENVID value: RFC 3461 4.4 allows at most 100 characters. */
#define RD_SMTP_MAX_ENVID       100u

/* ---- IMAP ---- */
/* Command line before login: LOGIN with two 256-octet strings fits easily. */
#define RD_IMAP_MAX_LINE_PREAUTH 1024u
/* Before login no literal larger than this is accepted: a password. */
#define RD_IMAP_MAX_LITERAL_PREAUTH 4096u
/* Idle time before login (RFC 9051 5.4: at least 30 minutes after login;
 * before login a client has no reason to wait). */
#define RD_IMAP_PREAUTH_TIMEOUT_S 60u
/* Command line after login (without literals): long UID sets fit. */
#define RD_IMAP_MAX_LINE        (64u * 1024u)
/* Idle time after login: RFC 9051 5.4 asks for at least 30 minutes. */
#define RD_IMAP_IDLE_TIMEOUT_S  (30u * 60u)
/* Concurrent sessions one worker (one principal) serves: all of a
 * person's devices, with room to spare. */
#define RD_WORKER_MAX_SESSIONS  64u
/* Seconds a worker with no session lives on before it retires: long
 * enough that a phone reconnecting finds it warm, short enough that a
 * thousand users who logged in once do not keep a thousand processes. */
#define RD_WORKER_IDLE_EXIT_S   300u
/* Bad commands before disconnect. */
#define RD_IMAP_MAX_BAD         10u
/* Argument nodes in one parsed command: a 64 KiB line of one-octet atoms
 * has about 32 Ki of them; more is an attack on memory, not a command. */
#define RD_IMAP_MAX_ARGS        32768u
/* Parenthesised list nesting in a command: FETCH and SEARCH need two or
 * three levels. */
#define RD_IMAP_MAX_LIST_DEPTH  16u
/* SEARCH key nesting (NOT, OR, groups): deep enough for any client's
 * query builder, shallow enough for the recursive evaluator's stack. */
#define RD_IMAP_MAX_SEARCH_DEPTH 32u
/* Items in one FETCH: the registered attributes, each a few times over. */
#define RD_IMAP_MAX_FETCH_ITEMS 64u
/* Section part number text ("1.2.3"): RD_MIME_MAX_DEPTH levels fit. */
#define RD_IMAP_MAX_SECTION     200u
/* Longest quoted string the server writes; longer ones go as literals,
 * which every client handles and some prefer for long values. */
#define RD_IMAP_MAX_QUOTED      1000u
/* Addresses per ENVELOPE list in the built-in fallback (src/mime does the
 * full job when it is there). */
#define RD_IMAP_MAX_FALLBACK_ADDRESSES 100u
/* Milliseconds between IDLE checks of the mailbox when nothing woke it: a
 * fallback only, since every commit to a store (delivery, another session)
 * wakes its idling sessions at once through inotify on the store's WAL. */
#define RD_IMAP_IDLE_POLL_MS    30000u
/* Pending output per session before the worker stops reading that
 * session's commands: a client that never reads cannot make the worker
 * queue unbounded responses (one message's FETCH may pass it once). */
#define RD_IMAP_MAX_PENDING_OUTPUT (4u * 1024u * 1024u)
/* Patterns in one LIST-EXTENDED "LIST ref (pat1 pat2 ...)" (RFC 5258):
 * clients send a handful; each costs a pass over every mailbox. */
#define RD_IMAP_MAX_LIST_PATTERNS 16u
/* Criteria in one SORT (RFC 5256 has seven, each usable once or twice). */
#define RD_IMAP_MAX_SORT_KEYS   16u
/* Message-IDs kept from one References header for THREAD=REFERENCES (the
 * last ones, nearest the parent): real threads stay far below, and the
 * cap bounds the links and dummies one hostile message can add. */
#define RD_IMAP_MAX_REFERENCES  256u
/* Octets of a message's start read for its THREAD=REFERENCES headers
 * (Message-ID, In-Reply-To, References, Subject, Date): headers past it
 * are not looked at, so a huge header costs one bounded read. */
#define RD_IMAP_THREAD_HEADER_READ (64u * 1024u)
/* Octets of normalised ids (Message-ID, References' last ones, else In-
 * Reply-To's first) the worker keeps per match while threading: it holds
 * every match's at once, so 100,000 messages stay near 200 MiB whatever
 * their headers say (a msg-id longer than a 998-octet line is no id). */
#define RD_IMAP_THREAD_MAX_ID_OCTETS 2048u

/* ---- HTTP ---- */
/* Request head before authentication: enough for a browser's cookies. */
#define RD_HTTP_MAX_HEAD        (16u * 1024u)
/* Seconds to deliver a complete request head: stops slow-loris. */
#define RD_HTTP_HEAD_TIMEOUT_S  10u

/* ---- connections ---- */
/* Concurrent connections one pre-auth role holds; beyond it new ones are
 * answered "busy" and closed, so memory stays bounded. */
#define RD_MAX_CONNECTIONS      4096u
/* Concurrent connections from one client address to one listener. */
#define RD_MAX_CONN_PER_ADDR    50u
/* Seconds a TLS handshake may take. */
#define RD_TLS_HANDSHAKE_TIMEOUT_S 30u

/* ---- auth ---- */
/* Login requests queued in the auth role; beyond it, "try again later". */
#define RD_AUTH_MAX_PENDING     256u
/* Delay added to every failed login, so a wrong user and a wrong password
 * take the same time and guessing is slow. */
#define RD_AUTH_FAIL_DELAY_MS   500u

/* Throttling (auth/throttle.h). Accounts and client addresses tracked at
 * once: beyond it the least recently seen entry is forgotten, so memory
 * stays fixed under a spray from many addresses. */
#define RD_THROTTLE_SLOTS       4096u
/* Longest delay before a refusal is answered: slows guessing to a crawl
 * without holding a connection forever. */
#define RD_AUTH_MAX_DELAY_MS    30000u
/* Failures against one account before it is locked for addresses that
 * never logged in to it successfully; and how long the lock lasts. */
#define RD_AUTH_LOCKOUT_FAILS   10u
#define RD_AUTH_LOCKOUT_S       900u
/* Failures from one address (any accounts: password spraying) before the
 * address is locked out. */
#define RD_AUTH_SPRAY_FAILS     30u
/* Failure counts are forgotten after this long without a new failure. */
#define RD_AUTH_FAIL_MEMORY_S   900u
/* Addresses remembered per account as "logged in successfully", and for
 * how long: those keep working through a lockout. */
#define RD_AUTH_KNOWN_ADDRS     8u
#define RD_AUTH_KNOWN_S         (30u * 24u * 3600u)

/* ---- store ---- */
/* Mailbox name in octets (UTF-8); deep enough for any real hierarchy. */
#define RD_STORE_MAX_MAILBOX_NAME 512u
/* Hierarchy levels in a mailbox name. */
#define RD_STORE_MAX_MAILBOX_DEPTH 32u
/* One message: 50 MiB, what Exchange Online and Gmail accept. */
#define RD_STORE_MAX_MESSAGE    (50u * 1024u * 1024u)
/* Keywords (user flags) per mailbox, as Dovecot and Cyrus cap them. */
#define RD_STORE_MAX_KEYWORDS   128u

/* Store id ([a-z0-9-]): long enough for a UUID or a readable slug, short
 * enough that <root>/<id>/index.db never nears PATH_MAX. */
#define RD_STORE_MAX_ID         64u
/* One keyword (IMAP user flag) in octets: real clients use short words. */
#define RD_STORE_MAX_KEYWORD_LEN 64u
/* Cached envelope, bodystructure or preview text per message: generous for
 * a message with hundreds of parts, small next to the message itself. */
#define RD_STORE_MAX_CACHE_TEXT (1u * 1024u * 1024u)
/* Milliseconds a store waits for another process's write transaction
 * (worker vs. deliver) before giving up with "store busy". */
#define RD_STORE_BUSY_TIMEOUT_MS 5000u
/* UIDs one copy/move/expunge may touch: bounds the result arrays; a client
 * with a bigger mailbox works in chunks. */
#define RD_STORE_MAX_BATCH      (1u << 20)
/* SEARCH TEXT/BODY needle the index is asked for, in octets: a trigram
 * phrase of this many tokens is still cheap; longer needles are scanned. */
#define RD_STORE_MAX_SEARCH_NEEDLE 4096u
/* Messages one store_append_batch() files: bounds its work arrays and the
 * open files (a tmp file and a directory per message) of one batch. */
#define RD_STORE_MAX_APPEND_BATCH 64u
/* Messages one store_text_pending()/store_text_add() call handles: the
 * indexer's unit of work. Each is read, parsed and indexed in one
 * transaction; at ~0.5 ms a message a worker stays away from its sessions
 * for well under a second per batch. */
#define RD_STORE_MAX_TEXT_BATCH 256u
/* Messages a worker indexes per turn of its event loop while it catches
 * up with mail filed without text (an import): between turns its
 * sessions' commands run, so a client waits at most one turn. */
#define RD_WORKER_INDEX_TURN    64u
/* Search text octets the indexer holds for one store_text_add(): a turn
 * of big messages (each up to RD_MIME_MAX_FULLTEXT) ends early. */
#define RD_INDEXER_BATCH_BYTES  (16u * 1024u * 1024u)
/* Messages one store_append_packed() files in one pack: a bulk import's
 * batch. Bigger than an ordinary batch because one pack is one file and
 * one sync whatever it holds; RD_IMPORT_BATCH_BYTES bounds the octets. */
#define RD_STORE_MAX_PACK_BATCH 1024u
/* Delivery key (queue id '/' recipient address) octets: room for the
 * longest address with the id. */
#define RD_STORE_MAX_DELIVERY_KEY 320u
/* Seconds a store remembers a delivery key: far longer than a redelivery
 * after a crash takes (the queue redelivers at its start), so even a
 * server down for a week does not file a message twice. */
#define RD_STORE_DELIVERY_KEY_KEEP_S (10u * 24u * 3600u)
/* An append whose blobs another process's store_gc removed between their
 * write and the index transaction writes them again; it gives up after
 * this many tries (each needs a whole expunge-and-collect of the same
 * content in between, so a second try is already rare). */
#define RD_STORE_GC_RACE_TRIES  4u
/* A worker collects the blobs of removed messages this long after the
 * last removal rather than after each command: one write transaction for
 * a burst of EXPUNGEs or MOVEs. */
#define RD_WORKER_GC_DELAY_MS   2000u
/* COPY/MOVE between two owners' stores files the copies in batches of
 * RD_STORE_MAX_APPEND_BATCH messages or this many octets (held in memory
 * together for one transaction and one round of disk syncs). */
#define RD_WORKER_COPY_BATCH_BYTES (32u * 1024u * 1024u)

/* Largest per-user quota the config accepts (16 TiB, in MiB). */
#define RD_CONFIG_MAX_QUOTA_MIB (16u * 1024u * 1024u)
/* Seconds a store that refused a delivery for quota is reported full at
 * RCPT time before it is tried again (the user may have deleted mail). */
#define RD_QUEUE_FULL_MEMORY_S  300u

/* ---- queue ---- */
/* Bytes of message per IPC_TXN_DATA frame: big enough to keep syscalls
 * few, far under RD_IPC_MAX_PAYLOAD. */
#define RD_QUEUE_CHUNK          (64u * 1024u)
/* Octets smtp-in queues towards a busy queue role before it stops reading
 * from clients in DATA (backpressure), and where it resumes. */
#define RD_QUEUE_LINK_HIGH      (4u * 1024u * 1024u)
#define RD_QUEUE_LINK_LOW       (1u * 1024u * 1024u)
/* Transactions open at once between smtp-in and queue (one per SMTP
 * session in DATA); beyond it "451 try later". */
#define RD_QUEUE_MAX_TXN        1024u
/* Finished spool files the queue keeps (renamed into tmp/) to write the
 * next messages into instead of creating new ones: creating a file on an
 * ext4 without journal scans past every inode freed in the last 30 s,
 * which cost a fifth of the queue's CPU at 800 messages/s. */
#define RD_QUEUE_SPARE_FILES    256u
/* A finished message larger than this is removed, not kept as a spare,
 * so spares hold at most RD_QUEUE_SPARE_FILES MiB of old data. */
#define RD_QUEUE_SPARE_MAX_SIZE (1024u * 1024u)
/* Seconds a deliver process with nothing to file lives on before it
 * retires: a busy mailbox keeps its process, an idle one frees it. */
#define RD_DELIVER_IDLE_S       30u
/* Message octets deliver holds for one batch (read and parsed, filed with
 * one store commit): at least one message is always taken, more only
 * below this, so a burst of 50 MiB messages does not sit in memory. */
#define RD_DELIVER_BATCH_BYTES  (32u * 1024u * 1024u)
/* Deliveries the queue has handed to master and not yet seen answered,
 * over all stores. Deliver files what waits for it as one batch, so this
 * bounds the batch size (there is one deliver process per store, not one
 * per delivery), below master's 64 slots so a restarted queue finds room. */
#define RD_QUEUE_DELIVERY_WINDOW 48u
/* Seconds before a temporarily failed local delivery is retried, and how
 * long a message may stay before it is given up (RFC 5321 4.5.4.1 asks
 * for 4-5 days). */
#define RD_QUEUE_RETRY_S        60u
#define RD_QUEUE_GIVE_UP_S      (5u * 24u * 3600u)
/* Envelope record size: 100 recipients of 256 octets with room. */
#define RD_QUEUE_MAX_ENVELOPE   (64u * 1024u)

/* ---- master ---- */
/* Restart backoff for a crashed role: starts at 1 s, doubles, capped. */
#define RD_RESTART_BACKOFF_MIN_MS 1000u
#define RD_RESTART_BACKOFF_MAX_MS 60000u
/* Seconds master waits for children to finish sessions on SIGTERM. */
#define RD_SHUTDOWN_GRACE_S     10u
/* Live per-principal workers. */
#define RD_MAX_WORKERS          1024u

/* ---- directory ---- */
/* DNS name in text form (RFC 1035 2.3.4): 253 octets without the final dot,
 * labels of 1..63 octets. */
#define RD_MAX_DNS_NAME         253u
#define RD_MAX_DNS_LABEL        63u
/* Store id, [a-z0-9-]: short enough to be one path component and one IPC
 * string field. */
#define RD_MAX_STORE_ID         64u
/* Alias nesting directory_resolve follows: real setups nest two or three
 * levels; anything deeper is a loop or a mistake. */
#define RD_DIRECTORY_MAX_ALIAS_DEPTH 8u
/* Addresses one resolve may visit: a bigger expansion is a mailing list and
 * belongs in a list manager, not in one RCPT check. */
#define RD_DIRECTORY_MAX_EXPANSION 1000u
/* Milliseconds a directory/accounts connection waits for another process's
 * write lock (CLI and roles share the files); longer is a stuck writer. */
#define RD_SQLITE_BUSY_TIMEOUT_MS 5000u

/* ---- password hashing ---- */
/* password_tune: longest hash time asked for; beyond it logins queue up and
 * the auth role becomes its own denial of service. */
#define RD_PASSWORD_TUNE_MAX_MS 10000u
/* password_tune: most Argon2id passes it picks, whatever the machine. */
#define RD_PASSWORD_MAX_OPSLIMIT 64u

/* ---- MIME (src/mime) ---- */
/* Nesting of multipart and message/rfc822 entities: real mail nests a few
 * levels (forward of a forward); deeper entities become opaque text/plain. */
#define RD_MIME_MAX_DEPTH       32u
/* Entities (parts and embedded messages) per message: a mail with hundreds
 * of attachments fits; past it the rest of the message is one opaque part. */
#define RD_MIME_MAX_PARTS       1000u
/* Header fields recorded per header section: real headers have a few dozen,
 * spam with Received chains a few hundred; more are skipped. */
#define RD_MIME_MAX_HEADER_FIELDS 10000u
/* One header section in octets: past it the header is cut and the rest of
 * the entity is body, so folding cannot make a header unbounded. */
#define RD_MIME_MAX_HEADER_SIZE (1u * 1024u * 1024u)
/* MIME boundary length: RFC 2046 5.1.1 allows 1 to 70 characters. */
#define RD_MIME_MAX_BOUNDARY    70u
/* Decoded text per message for full-text search: a long book chapter;
 * beyond it search has enough words and the index stays small. */
#define RD_MIME_MAX_FULLTEXT    (1u * 1024u * 1024u)
/* The message's own header fields in that text (SEARCH TEXT): a huge
 * header must leave most of the room to the body. */
#define RD_MIME_MAX_FULLTEXT_HEAD (64u * 1024u)
/* Characters of the preview (RFC 8970 suggests at most 256). */
#define RD_MIME_PREVIEW_CHARS   200u
/* Cached ENVELOPE text: hundreds of recipients fit; a larger envelope is
 * redone with short strings and few addresses. */
#define RD_MIME_MAX_ENVELOPE    (256u * 1024u)
/* Addresses per ENVELOPE address list before the rest is dropped. */
#define RD_MIME_MAX_ADDRESSES   1000u
/* Longest IMAP quoted string we write; longer strings become literals, as
 * many clients choke on very long quoted strings. */
#define RD_MIME_MAX_QUOTED      1000u
/* String length and addresses per list in the compact ENVELOPE used when
 * the full one would pass RD_MIME_MAX_ENVELOPE. */
#define RD_MIME_COMPACT_STRING  256u
#define RD_MIME_COMPACT_ADDRESSES 16u
/* Charset name in a Content-Type or encoded-word: registered names are
 * under 45 characters. */
#define RD_MIME_MAX_CHARSET     64u

/* ---- audit log (src/audit) ---- */
/* One audit record line including its newline: 16 fields of 256 raw
 * octets escaped at worst four to one, plus seq, ts, kind, prev and hash,
 * fit; the reader refuses longer lines instead of buffering them. */
#define RD_AUDIT_MAX_LINE       20480u
/* Event fields in one record (not counting seq, ts, kind, prev, hash): a
 * login carries fewer than ten; the writer keeps one for truncated=yes. */
#define RD_AUDIT_MAX_FIELDS     16u
/* One value in raw octets before escaping: an address, user name or client
 * ID fits; a longer one is cut (and the record marked truncated=yes) so a
 * peer can never make a record, and the login waiting on it, fail. */
#define RD_AUDIT_MAX_VALUE      256u
/* A field key or record kind: short identifiers chosen by our own code. */
#define RD_AUDIT_MAX_KEY        32u
/* Records between two signed checkpoints: bounds what an attacker holding
 * the disk but not the key can rewrite unnoticed, at one signature (tens of
 * microseconds) per thousand records. */
#define RD_AUDIT_CHECKPOINT_EVERY 1000u
/* Segment size after which the writer starts the next segment (at a
 * checkpoint), so no single file needs hours to copy or verify. */
#define RD_AUDIT_SEGMENT_MAX    (64u * 1024u * 1024u)
/* Segments verify and query will list: at the size above, more than six
 * terabytes of audit; a larger count means something else lives there. */
#define RD_AUDIT_MAX_SEGMENTS   100000u
/* Records `audit report` holds in memory to print newest first; older ones
 * are counted but not listed. */
#define RD_AUDIT_REPORT_MAX     10000u

/* ---- import (src/import, redoubt import) ---- */
/* Longest mbox From_ line recognised as a separator: real ones are well
 * under 200 octets; a longer "From " line is kept as message text, so the
 * splitter never buffers more than this of any line. */
#define RD_IMPORT_MAX_FROM_LINE 1000u
/* Bytes read from an mbox per read(): large enough that syscalls vanish
 * next to parsing, small enough to stay in cache. */
#define RD_IMPORT_READ_CHUNK    (1u << 20)

/* Grants one principal may hold (IMAP ACL on others' mailboxes): master
 * hands them all to the worker at start, in one frame and a bounded table. */
#define RD_MAX_GRANTS           64u
/* Other owners' stores one worker may be confined to besides its own:
 * each is a Landlock rule and an open SQLite handle. */
#define RD_MAX_SHARED_STORES    16u
/* RFC 4314 rights letters "lrswipkxtea" plus NUL, with room to spare. */
#define RD_RIGHTS_BUF           16u

/* \Recent UID ranges one session keeps (a claim per batch of new mail
 * that arrived while it was selected, merged when adjacent). */
#define RD_IMAP_MAX_RECENT_RANGES 16u

/* Messages this big or bigger go out of FETCH BODY[] / RFC822 from their
 * file (libevent sends it) instead of through memory: a 50 MiB message
 * fetched by twenty sessions must not cost a gigabyte. */
#define RD_IMAP_STREAM_MIN      (256u * 1024u)
/* Trigrams of one SEARCH TEXT needle given to the index, spread over it:
 * each must be present, so a few dozen leave only true candidates, and the
 * query stays small for a 4 KiB needle. */
#define RD_STORE_MAX_SEARCH_TRIGRAMS 48u
/* Trigrams of an ASCII needle given to the index when LIKE checks the
 * candidates afterwards: the rarest-looking few. Each costs its list of
 * messages read (at 100,000 messages a common trigram's is megabytes);
 * four rare ones already leave a handful of candidates. */
#define RD_STORE_SEARCH_RARE_TRIGRAMS 4u

/* Message octets `redoubt import` holds for one batch append: many small
 * messages share their disk syncs, big ones do not sit in memory. */
#define RD_IMPORT_BATCH_BYTES   (32u * 1024u * 1024u)

#endif
