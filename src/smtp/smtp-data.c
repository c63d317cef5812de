/* smtp-data.c: the DATA decoder and BDAT argument parser; the contract is
 * in smtp-data.h.
 *
 * One small state machine over the line grammar is used twice: while the
 * message is good it also writes output and checks each octet; after the
 * first error it only tracks lines, so the end of data is recognised by
 * exactly the same rule in both modes. */
#include "smtp/smtp-data.h"
#include "limits.h"
#include <string.h>
#include <strings.h>

enum {
	ST_BOL,         /* at the start of a line (after CRLF, or initially) */
	ST_TEXT,        /* inside a line */
	ST_CR,          /* inside a line, after CR */
	ST_DOT,         /* after a "." at the start of a line */
	ST_DOT_CR,      /* after ".", CR at the start of a line */
};

/* Octets a line may hold before its CRLF. */
#define DATA_LINE_TEXT_MAX (RD_SMTP_MAX_DATA_LINE - 2u)

void smtp_data_init(struct smtp_data *d)
{
	memset(d, 0, sizeof(*d));
	d->state = ST_BOL;
	d->reason = SMTP_DATA_OK;
}

/* Line tracking only, after an error. Returns 1 when c completes
 * <CRLF>.<CRLF>. A CR always may start a CRLF, whatever came before it;
 * a LF only ends a line right after a CR. */
static int discard_step(struct smtp_data *d, uint8_t c)
{
	switch (d->state) {
	case ST_BOL:
		d->state = c == '.' ? ST_DOT : c == '\r' ? ST_CR : ST_TEXT;
		break;
	case ST_DOT:
		d->state = c == '\r' ? ST_DOT_CR : ST_TEXT;
		break;
	case ST_DOT_CR:
		if (c == '\n')
			return 1;
		d->state = c == '\r' ? ST_CR : ST_TEXT;
		break;
	case ST_CR:
		d->state = c == '\n' ? ST_BOL : c == '\r' ? ST_CR : ST_TEXT;
		break;
	default:
		d->state = c == '\r' ? ST_CR : ST_TEXT;
		break;
	}
	return 0;
}

/* An octet inside a line (which may be its CR). Sets the next state even
 * when refusing, so discarding continues from the right place: after a
 * refused octet the line has not ended. */
static enum smtp_data_reason text_octet(struct smtp_data *d, uint8_t c)
{
	if (c == '\r') {
		d->state = ST_CR;
		return SMTP_DATA_OK;
	}
	d->state = ST_TEXT;
	if (c == '\n')
		return SMTP_DATA_BARE_LF;
	if (c == '\0')
		return SMTP_DATA_NUL;
	if (d->line_len >= DATA_LINE_TEXT_MAX)
		return SMTP_DATA_LINE_TOO_LONG;
	d->line_len++;
	return SMTP_DATA_OK;
}

/* Copy the pending run of output octets; *room tracks what out->max still
 * allows, so the size check can be made per octet before copying. */
static int flush(struct buffer *out, const uint8_t *p, size_t n, size_t *room)
{
	if (n == 0)
		return 0;
	if (buffer_append(out, p, n) < 0)
		return -1;
	*room -= n;
	return 0;
}

static int finish(struct smtp_data *d, int result, size_t consumed,
		  size_t *consumed_r)
{
	d->finished = result;
	*consumed_r = consumed;
	return result;
}

int smtp_data_feed(struct smtp_data *d, const uint8_t *in, size_t len,
		   size_t *consumed_r, struct buffer *out)
{
	if (d->finished != 0) {
		*consumed_r = 0;
		return d->finished;
	}
	size_t room = out->len < out->max ? out->max - out->len : 0;
	/* in[span..i) are output octets not yet copied to out */
	size_t span = 0;
	for (size_t i = 0; i < len; i++) {
		if (d->state == ST_TEXT && !d->discarding) {
			/* Fast path: the ordinary octets of a line, which need
			 * no state change, up to the line cap and the room
			 * left; the octet that stops the run goes through the
			 * general code below, so results are unchanged. */
			size_t end = len - i < DATA_LINE_TEXT_MAX - d->line_len ?
				     len : i + (DATA_LINE_TEXT_MAX - d->line_len);
			if (span + room < end)
				end = span + room > i ? span + room : i;
			size_t j = i;
			while (j < end && (in[j] > '\r' ||
					   (in[j] != '\r' && in[j] != '\n' && in[j] != '\0')))
				j++;
			d->line_len += j - i;
			i = j;
			if (i == len)
				break;
		}
		uint8_t c = in[i];
		if (d->discarding) {
			if (discard_step(d, c))
				return finish(d, SMTP_DATA_ERROR, i + 1, consumed_r);
			continue;
		}
		enum smtp_data_reason err = SMTP_DATA_OK;
		int emit = 1, reprocess = 0;
		switch (d->state) {
		case ST_BOL:
		case ST_DOT:
			/* A "." opening a line is a stuffing dot or the start
			 * of the end; a CR after it may be the end too. Neither
			 * is output. Anything else is line text. */
			if (c == (d->state == ST_BOL ? '.' : '\r')) {
				emit = 0;
				d->state = d->state == ST_BOL ? ST_DOT : ST_DOT_CR;
			} else {
				err = text_octet(d, c);
			}
			break;
		case ST_DOT_CR:
			if (c == '\n') {
				if (flush(out, in + span, i - span, &room) < 0) {
					d->reason = SMTP_DATA_NOMEM;
					return finish(d, SMTP_DATA_ERROR, i + 1, consumed_r);
				}
				return finish(d, SMTP_DATA_DONE, i + 1, consumed_r);
			}
			err = SMTP_DATA_BARE_CR;
			reprocess = 1;
			break;
		case ST_CR:
			if (c == '\n') {
				d->state = ST_BOL;
				d->line_len = 0;
			} else {
				err = SMTP_DATA_BARE_CR;
				reprocess = 1;
			}
			break;
		default:
			err = text_octet(d, c);
			break;
		}
		if (err == SMTP_DATA_OK && emit && i - span >= room)
			err = SMTP_DATA_TOO_BIG;
		if (err == SMTP_DATA_OK && !emit) {
			if (flush(out, in + span, i - span, &room) < 0)
				err = SMTP_DATA_NOMEM;
			span = i + 1;
		}
		if (err != SMTP_DATA_OK) {
			d->reason = err;
			d->discarding = 1;
			if (reprocess) {
				/* The octet after a bare CR is not part of a line
				 * end; look at it again as ordinary line text (it
				 * may be the CR of a real CRLF). */
				d->state = ST_TEXT;
				(void)discard_step(d, c);
			}
		}
	}
	if (!d->discarding && flush(out, in + span, len - span, &room) < 0) {
		d->reason = SMTP_DATA_NOMEM;
		d->discarding = 1;
	}
	*consumed_r = len;
	return SMTP_DATA_MORE;
}

const char *smtp_data_reply(enum smtp_data_reason reason)
{
	switch (reason) {
	case SMTP_DATA_OK:
		return "250 2.0.0 OK";
	case SMTP_DATA_BARE_LF:
		return "554 5.6.0 Message refused: bare LF (lines must end with CRLF, RFC 5321 2.3.8)";
	case SMTP_DATA_BARE_CR:
		return "554 5.6.0 Message refused: bare CR (lines must end with CRLF, RFC 5321 2.3.8)";
	case SMTP_DATA_NUL:
		return "554 5.6.0 Message refused: NUL octet in DATA";
	case SMTP_DATA_LINE_TOO_LONG:
		return "554 5.6.0 Message refused: line longer than 998 octets (RFC 5322 2.1.1)";
	case SMTP_DATA_TOO_BIG:
		return "552 5.3.4 Message size exceeds fixed maximum message size";
	case SMTP_DATA_NOMEM:
		return "452 4.3.1 Insufficient system storage";
	}
	return "451 4.3.0 Internal error";
}

int smtp_bdat_parse(const char *arg, size_t len, uint64_t *size_r,
		    int *last_r, const char **status_r)
{
	static const char syntax[] = "501 5.5.4 Syntax: BDAT <size> [LAST]";
	*size_r = 0;
	*last_r = 0;
	uint64_t v = 0;
	size_t i = 0;
	while (i < len && arg[i] >= '0' && arg[i] <= '9') {
		if (__builtin_mul_overflow(v, 10u, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(arg[i] - '0'), &v)) {
			*status_r = "501 5.5.4 BDAT chunk size too large";
			return -1;
		}
		i++;
	}
	if (i == 0) {
		*status_r = syntax;
		return -1;
	}
	if (i < len) {
		if (arg[i] != ' ' || len - i - 1 != 4 ||
		    strncasecmp(arg + i + 1, "LAST", 4) != 0) {
			*status_r = syntax;
			return -1;
		}
		*last_r = 1;
	}
	*size_r = v;
	return 0;
}
