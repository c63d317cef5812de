/* worker-thread.h: THREAD=REFERENCES in the worker (worker-thread.c).
 *
 * cmd_sort (worker-search.c) has collected the matches with their sort
 * keys (base subject and sent date from the cached ENVELOPE); this reads
 * the start of each match (at most RD_IMAP_THREAD_HEADER_READ octets) for
 * the Message-ID, In-Reply-To, References and Subject fields, which the
 * ENVELOPE lacks or keeps too little of, and threads them with
 * src/imap/imap-thread.
 *
 * Returns 0 with the thread list appended to out, or -1 when memory runs
 * out or out's cap is reached (the caller answers NO). */
#ifndef RD_WORKER_THREAD_H
#define RD_WORKER_THREAD_H
#include "imap/imap-sort.h"
#include "lib/buffer.h"
#include <stdbool.h>
#include <stddef.h>

struct session;

int worker_thread_references(struct session *s, const struct imap_sort_msg *keys, size_t n,
			     bool uid, struct buffer *out);

#endif
