/* libFuzzer target: the DATA decoder, as a differential check. Octet 0
 * picks the output cap, octet 1 the number of split points and the next
 * octets their positions; the rest is the stream. It is decoded whole, in
 * the chosen pieces and one octet at a time; any difference in result,
 * reason, end position or (for a good message) output aborts, as does a
 * decoded message that breaks the line rules or an end that is not a real
 * <CRLF>.<CRLF>. */
#include "smtp/smtp-data.h"
#include "limits.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SPLITS 8

struct run {
	int ret;
	enum smtp_data_reason reason;
	size_t consumed;
	struct buffer out;
};

/* Feed in pieces ending at cuts[] (sorted), or one octet at a time. */
static void decode(const uint8_t *in, size_t len, size_t out_max, const size_t *cuts,
		   size_t ncuts, int bytewise, struct run *res)
{
	struct smtp_data d;
	smtp_data_init(&d);
	buffer_init(&res->out, out_max);
	res->ret = SMTP_DATA_MORE;
	res->consumed = len;
	size_t off = 0, next_cut = 0;
	while (off < len) {
		size_t end = len;
		while (next_cut < ncuts && cuts[next_cut] <= off)
			next_cut++;
		if (bytewise)
			end = off + 1;
		else if (next_cut < ncuts)
			end = cuts[next_cut];
		size_t c = SIZE_MAX;
		int r = smtp_data_feed(&d, in + off, end - off, &c, &res->out);
		if (r == SMTP_DATA_MORE) {
			if (c != end - off)
				abort();
			off = end;
			continue;
		}
		if (c == 0 || c > end - off)
			abort();
		res->ret = r;
		res->consumed = off + c;
		break;
	}
	res->reason = d.reason;
	if ((res->ret == SMTP_DATA_DONE && res->reason != SMTP_DATA_OK) ||
	    (res->ret == SMTP_DATA_ERROR && res->reason == SMTP_DATA_OK))
		abort();
}

static int same(const struct run *a, const struct run *b)
{
	if (a->ret != b->ret || a->reason != b->reason || a->consumed != b->consumed)
		return 0;
	if (a->reason != SMTP_DATA_OK)
		return 1;       /* out is unspecified after a refusal */
	return a->out.len == b->out.len &&
		(a->out.len == 0 || memcmp(a->out.data, b->out.data, a->out.len) == 0);
}

/* A decoded message: CRLF only, no NUL, lines within the limit, ending
 * with its last line's CRLF. */
static void check_message(const struct buffer *m)
{
	size_t line = 0;
	for (size_t i = 0; i < m->len; i++) {
		uint8_t c = m->data[i];
		if (c == '\0')
			abort();
		if (c == '\r') {
			if (i + 1 >= m->len || m->data[i + 1] != '\n')
				abort();
			i++;
			line = 0;
			continue;
		}
		if (c == '\n' || ++line > RD_SMTP_MAX_DATA_LINE - 2)
			abort();
	}
	if (line != 0)
		abort();
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t out_max = data[0] == 0xff ? 1024 * 1024 : (size_t)data[0] * 8;
	size_t ncuts = data[1] % (MAX_SPLITS + 1);
	size_t hdr = 2 + 2 * ncuts;
	if (size < hdr)
		return 0;
	const uint8_t *in = data + hdr;
	size_t len = size - hdr;
	size_t cuts[MAX_SPLITS];
	for (size_t i = 0; i < ncuts; i++)
		cuts[i] = len ? ((size_t)data[2 + 2 * i] << 8 | data[3 + 2 * i]) % len : 0;
	qsort(cuts, ncuts, sizeof(cuts[0]), cmp_size);

	struct run whole, split, bytes;
	decode(in, len, out_max, NULL, 0, 0, &whole);
	decode(in, len, out_max, cuts, ncuts, 0, &split);
	decode(in, len, out_max, NULL, 0, 1, &bytes);
	if (!same(&whole, &split) || !same(&whole, &bytes))
		abort();
	if (whole.ret != SMTP_DATA_MORE) {
		/* the end is ".CRLF" at the start of data or after a CRLF */
		size_t c = whole.consumed;
		if (c < 3 || memcmp(in + c - 3, ".\r\n", 3) != 0 ||
		    (c > 3 && (c < 5 || memcmp(in + c - 5, "\r\n", 2) != 0)))
			abort();
	}
	if (whole.ret == SMTP_DATA_DONE)
		check_message(&whole.out);
	buffer_free(&whole.out);
	buffer_free(&split.out);
	buffer_free(&bytes.out);
	return 0;
}
