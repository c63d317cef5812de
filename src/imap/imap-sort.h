/* imap-sort.h: SORT and THREAD=ORDEREDSUBJECT (RFC 5256), the pure parts:
 * sort criteria, the sort keys of one message (from its cached ENVELOPE),
 * base-subject extraction (RFC 5256 2.1), the RFC 5322 sent date, ordering
 * and the ORDEREDSUBJECT thread tree.
 *
 * Nothing here reads files; the worker gives every matching message's
 * envelope text, internal date and size. Comparisons are i;ascii-casemap
 * (RFC 5256's default collation); ties go by sequence number.
 *
 * Functions return 0, or -1 with *error_r (a BAD reason) where they take
 * one, or -1 alone when an output buffer is full or memory runs out. */
#ifndef RD_IMAP_SORT_H
#define RD_IMAP_SORT_H
#include "imap/imap-args.h"
#include "lib/buffer.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_sort_crit {
	SORT_ARRIVAL, SORT_CC, SORT_DATE, SORT_FROM, SORT_SIZE, SORT_SUBJECT, SORT_TO,
};

struct imap_sort_key {
	enum imap_sort_crit crit;
	bool reverse;
};

/* What a message sorts by; the strings are malloc'd, lower-cased for the
 * collation. Free with imap_sort_msg_free. */
struct imap_sort_msg {
	uint32_t seq, uid;
	int64_t arrival, date;     /* seconds since the epoch, UTC */
	uint64_t size;
	char *from, *to, *cc;      /* first address's mailbox, "" if none */
	char *subject;             /* base subject */
};

/* "(REVERSE SUBJECT DATE)" into keys[0..*n_r). */
int imap_sort_parse(const struct imap_arg *list, struct imap_sort_key *keys, size_t max,
		    size_t *n_r, const char **error_r);

/* Fills m's keys from an ENVELOPE (IMAP syntax, as the cache keeps it;
 * NULL or malformed leaves them empty and the date at m->arrival). */
int imap_sort_msg_fill(struct imap_sort_msg *m, const char *envelope);
void imap_sort_msg_free(struct imap_sort_msg *m);

/* Sorts v[0..n) by the keys, then by sequence number. */
void imap_sort(struct imap_sort_msg *v, size_t n, const struct imap_sort_key *keys,
	       size_t nkeys);

/* RFC 5256 2.1: the subject with RFC 2047 words decoded (UTF-8, ISO-8859-1
 * and ASCII charsets; others keep their octets), white space collapsed,
 * "Re:", "Fwd:", "[list]" leaders and "(fwd)" trailers removed, and
 * "[fwd: ...]" unwrapped, lower-cased. Appends to out (NUL-terminated). */
int imap_base_subject(const uint8_t *s, size_t len, struct buffer *out);

/* RFC 5322 date-time ("Mon, 2 Jan 2023 10:00:00 +0100", day name and
 * seconds optional, obsolete zone names known) to UTC seconds; -1 if it
 * is not one. */
int imap_rfc5322_date(const uint8_t *s, size_t len, int64_t *t_r);

/* THREAD=ORDEREDSUBJECT: "(a (b)(c))(d)..." for v (sorted here, by base
 * subject then sent date), numbers are UIDs or sequence numbers. */
int imap_thread_orderedsubject(struct imap_sort_msg *v, size_t n, bool uid,
			       struct buffer *out);

#endif
