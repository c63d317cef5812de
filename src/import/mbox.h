/* mbox.h: splits an mbox file into messages, incrementally, for
 * `redoubt import`.
 *
 * Pure and bounded (ARCHITECTURE rule 6): no I/O, no allocation, no
 * globals. Bytes go in through mbox_feed() in chunks of any size (one byte
 * at a time gives the same result as the whole file at once); messages come
 * out through the caller's sink as begin / data... / end. The splitter holds
 * at most RD_IMPORT_MAX_FROM_LINE octets of any line, so a 10 MB line streams
 * through without being buffered.
 *
 * What it does to the bytes (the mboxrd reading of the format, which also
 * reads mboxo files sanely):
 * - A separator is a line "From SENDER DATE" where DATE parses as an
 *   asctime() date (weekday, month, day, time, year; a numeric or named zone
 *   before or after the year is allowed). A "From " line without such a date
 *   (as found unquoted in some bodies) is message text, not a separator.
 * - Lines ">From ", ">>From ", ... lose one '>' (mboxrd unquoting). In an
 *   mboxo file this turns an original ">From " into "From ", which is the
 *   one ambiguity the mboxo format leaves.
 * - Every line ends in CRLF on output, whether it ended in LF or CRLF; a
 *   bare CR inside a line is kept. A last line without a newline gets one
 *   (a CR ending the file counts as the line's end).
 * - The empty line that mbox writers put before each separator (and at the
 *   end of the file) is not part of the message; only that one is dropped.
 * - Text before the first separator is not a message: its octets (blank
 *   lines aside) are counted in preamble_bytes and otherwise ignored.
 *
 * Return conventions: mbox_feed and mbox_finish return 0, or -1 once a sink
 * callback returned non-zero (the splitter then stays stopped). */
#ifndef RD_IMPORT_MBOX_H
#define RD_IMPORT_MBOX_H
#include "limits.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Callbacks return 0 to go on. begin gets the From_ line's date (seconds
 * since the epoch, UTC); data gets message bytes (CRLF lines) in pieces. */
struct mbox_sink {
	int (*begin)(void *ctx, int64_t date);
	int (*data)(void *ctx, const uint8_t *p, size_t n);
	int (*end)(void *ctx);
	void *ctx;
};

enum mbox_state {
	MBOX_LINE_START,  /* nothing of the current line seen yet */
	MBOX_QUOTE,       /* only '>' seen so far on this line */
	MBOX_FROM,        /* "F..." after gt '>': may be From_ or >From */
	MBOX_TEXT,        /* the rest of an ordinary line */
};

/* Zero-initialise with mbox_init; all fields are private but for the
 * counters at the end. */
struct mbox_splitter {
	struct mbox_sink sink;
	enum mbox_state state;
	uint64_t gt;              /* '>' at the start of the current line */
	uint8_t line[RD_IMPORT_MAX_FROM_LINE];
	size_t line_len;
	bool in_message;
	bool pending_blank;       /* an empty line held back: separator or text */
	bool cr;                  /* a CR held back: half a CRLF, or bare */
	bool stopped;
	/* counters for the caller */
	uint64_t messages;        /* separators seen */
	uint64_t preamble_bytes;  /* text before the first separator */
};

void mbox_init(struct mbox_splitter *m, const struct mbox_sink *sink);
int mbox_feed(struct mbox_splitter *m, const uint8_t *p, size_t n);
/* End of input: completes a last line without newline, ends the last
 * message. */
int mbox_finish(struct mbox_splitter *m);

/* The date of a From_ line: line[0..len) is what follows "From " (sender,
 * date, anything else). Returns true and the time in *t_r, or false. */
bool mbox_from_date(const uint8_t *line, size_t len, int64_t *t_r);

#endif
