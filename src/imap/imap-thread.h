/* imap-thread.h: THREAD=REFERENCES (RFC 5256 section 3), the pure part:
 * the msg-id lexer for Message-ID / In-Reply-To / References values, the
 * reply-or-forward test on a subject, and the six steps of the algorithm
 * down to the "(1 2)(3 (4)(5))" thread list.
 *
 * Nothing here reads files: the worker gives, per matching message, the
 * raw header values, the base subject and the sent date. Work is bounded
 * for any mailbox: References keeps its last RD_IMAP_MAX_REFERENCES ids,
 * the id and subject tables hash with a caller-given random key (a hostile
 * sender cannot aim at collisions), loop checks use a link-cut forest
 * (logarithmic, not a walk up a 100,000-deep chain), and nothing recurses,
 * so output depth is only bounded by the output buffer.
 *
 * Functions return 0, or -1 when memory runs out or the output buffer's
 * cap is reached (the caller answers NO); imap_msgid_next returns 1/0/-1
 * as documented there. */
#ifndef RD_IMAP_THREAD_H
#define RD_IMAP_THREAD_H
#include "lib/buffer.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Size of the hash key imap_thread_references wants. */
#define IMAP_THREAD_KEY_SIZE 16u

/* One matching message. The header values are raw (unfolded or not,
 * comments allowed), NULL when the field is absent; subject is the base
 * subject (imap_base_subject, NUL-terminated, NULL or "" when empty). */
struct imap_thread_msg {
	uint32_t seq, uid;
	int64_t date;           /* sent date, else the internal date */
	const char *subject;
	bool reply;             /* imap_thread_subject's *reply_r */
	const uint8_t *message_id, *in_reply_to, *references;
	size_t message_id_len, in_reply_to_len, references_len;
};

/* The next valid msg-id "<left@right>" in s[*pos..len), normalised into
 * out (reset first, not NUL-terminated): angle brackets, quotes, quoted-
 * pair backslashes, comments and folding white space removed, so
 * <"a.b"@c> equals <a.b@c>. Text outside brackets (clutter such as "your
 * message of ...") is skipped. Returns 1 and advances *pos past it, 0 when
 * none is left, -1 when out's cap or memory fails. */
int imap_msgid_next(const uint8_t *s, size_t len, size_t *pos, struct buffer *out);

/* Base subject of a raw Subject value into out (as imap_base_subject, NUL-
 * terminated) and *reply_r: whether extracting it removed a "Re:"/"Fw:"/
 * "Fwd:" leader, a "(fwd)" trailer or a "[fwd: ...]" wrapper, which makes
 * the message a reply or forward for step 5. */
int imap_thread_subject(const uint8_t *s, size_t len, struct buffer *out, bool *reply_r);

/* Threads v[0..n) and appends the thread list ("(1 2)(3 (4)(5))", empty
 * for n == 0) to out, numbers being UIDs or sequence numbers. key: random
 * octets for the hash tables (any fixed value in tests). */
int imap_thread_references(const struct imap_thread_msg *v, size_t n, bool uid,
			   const uint8_t key[IMAP_THREAD_KEY_SIZE], struct buffer *out);

#endif
