/* smtp-data.h: pure, incremental decoder for the SMTP DATA stream
 * (RFC 5321 4.1.1.4, 4.5.2) and a parser for the BDAT argument (RFC 3030).
 *
 * The decoder is built against SMTP smuggling: the only end of data is
 * <CRLF>.<CRLF>, where the first CRLF is the end of the previous line or
 * the DATA command itself (the decoder starts at the beginning of a line, so
 * a first line of "." is an empty message). <LF>.<LF>, <CR>.<CR>,
 * <LF>.<CR><LF>, <CR><LF>.<LF> and every other variant are never an end:
 * a bare LF or bare CR is an error, and after an error only a real
 * <CRLF>.<CRLF> ends the discarding. So the same bytes end the message
 * however they are split between calls, and no byte of the message can come
 * back to the caller as a command.
 *
 * Output: the message with CRLF line endings and dot-stuffing undone: a
 * line's leading "." is removed (".." gives ".", ".x" gives "x", as RFC
 * 5321 4.5.2 says), the final ".CRLF" is not part of it. The decoder keeps
 * no copy of its own; it appends to the caller's buffer, whose max is the
 * message size cap (a buffer_init(&out, max) the caller chose).
 *
 * Refused (the reason codes): a LF not preceded by CR, a CR not followed
 * by LF (RFC 5321 2.3.8), NUL (DATA carries at most 8BITMIME, and RFC 6152
 * / RFC 2045 8bit data excludes NUL; binary content needs BDAT), a line
 * longer than RD_SMTP_MAX_DATA_LINE octets with its CRLF, not counting a
 * stuffing dot (RFC 5321 4.5.3.1.6, RFC 5322 2.1.1), a message larger than
 * out->max, and a failed allocation.
 *
 * smtp_data_feed() contract:
 * - consumes bytes from in[0..len) and returns
 *   SMTP_DATA_MORE: all len bytes consumed (*consumed_r == len); feed more.
 *   SMTP_DATA_DONE: the terminating <CRLF>.<CRLF> was seen; *consumed_r is
 *     the number of bytes up to and including its final LF. Bytes after it
 *     (pipelined commands) are the caller's. out holds the message.
 *   SMTP_DATA_ERROR: as DONE, but the message is refused; d->reason says
 *     why and smtp_data_reply() gives the reply to send. The contents of out
 *     are then unspecified (a partial message) and must be discarded.
 * - The first error does not return at once: the decoder stops writing to
 *   out and keeps consuming (returning MORE) until <CRLF>.<CRLF>, then
 *   returns ERROR once, with the reason of the first error in byte order.
 *   So the session answers after the client's terminating dot instead of
 *   reading the rest of the message as commands. Discarding holds no
 *   memory; the session's idle timeout bounds a client that never ends.
 * - After DONE or ERROR, further calls consume nothing and return the same
 *   result; smtp_data_init() starts the next message.
 * - Results (return value, reason, consumed bytes, and out on DONE) do not
 *   depend on how the input is split between calls.
 *
 * smtp_bdat_parse(): "BDAT" argument, chunk-size [SP "LAST"] (LAST in any
 * case), chunk-size 1*DIGIT checked for overflow. Returns 0, or -1 with
 * *status_r the complete reply ("501 5.5.4 ..."). Whether the size is
 * acceptable is the caller's decision. BDAT content is not dot-stuffed and
 * not passed through this decoder. */
#ifndef RD_SMTP_DATA_H
#define RD_SMTP_DATA_H
#include <stddef.h>
#include <stdint.h>
#include "lib/buffer.h"

enum smtp_data_result {
	SMTP_DATA_ERROR = -1,
	SMTP_DATA_MORE = 0,
	SMTP_DATA_DONE = 1,
};

enum smtp_data_reason {
	SMTP_DATA_OK = 0,
	SMTP_DATA_BARE_LF,
	SMTP_DATA_BARE_CR,
	SMTP_DATA_NUL,
	SMTP_DATA_LINE_TOO_LONG,
	SMTP_DATA_TOO_BIG,
	SMTP_DATA_NOMEM,
};

struct smtp_data {
	int state;                   /* private: position in the line grammar */
	int discarding;              /* private: an error was seen */
	int finished;                /* 0, or the final enum smtp_data_result */
	size_t line_len;             /* private: octets in the current line */
	enum smtp_data_reason reason;  /* first error; SMTP_DATA_OK if none */
};

void smtp_data_init(struct smtp_data *d);
int smtp_data_feed(struct smtp_data *d, const uint8_t *in, size_t len,
		   size_t *consumed_r, struct buffer *out);
/* The reply line (no CRLF) for a reason, with its RFC 3463 code. */
const char *smtp_data_reply(enum smtp_data_reason reason);

int smtp_bdat_parse(const char *arg, size_t len, uint64_t *size_r,
		    int *last_r, const char **status_r);

#endif
