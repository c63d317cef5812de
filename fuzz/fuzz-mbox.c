/* libFuzzer target: the incremental mbox splitter.
 *
 * Beyond "no crash", it checks mbox.h's promises: the same messages (count,
 * dates, bytes) whether the input is fed whole or in chunks whose sizes
 * come from the input itself; every message is CRLF text (no LF without
 * its CR) ending in CRLF unless empty; begin and end pair up. Outputs are
 * compared by length and a running hash, so nothing is buffered. */
#include "import/mbox.h"
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct digest {
	uint64_t messages, ends, bytes, hash;
	uint64_t date_sum;
	int open;
	uint8_t last, prev;   /* the last two octets of the current message */
	uint64_t cur_len;
};

static void mix(struct digest *d, uint64_t v)
{
	d->hash = (d->hash ^ v) * 1099511628211u;
}

static void close_check(struct digest *d)
{
	if (d->cur_len > 0 && !(d->prev == '\r' && d->last == '\n'))
		__builtin_trap();
}

static int d_begin(void *ctx, int64_t date)
{
	struct digest *d = ctx;
	if (d->open)
		__builtin_trap();   /* end comes before the next begin */
	d->open = 1;
	d->messages++;
	d->date_sum += (uint64_t)date;
	d->cur_len = 0;
	d->last = d->prev = 0;
	mix(d, 0x100u);
	return 0;
}

static int d_data(void *ctx, const uint8_t *p, size_t n)
{
	struct digest *d = ctx;
	if (!d->open || n == 0)
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && d->last != '\r')
			__builtin_trap();
		d->prev = d->last;
		d->last = p[i];
		mix(d, p[i]);
	}
	d->cur_len += n;
	d->bytes += n;
	return 0;
}

static int d_end(void *ctx)
{
	struct digest *d = ctx;
	if (!d->open)
		__builtin_trap();
	close_check(d);
	d->open = 0;
	d->ends++;
	mix(d, 0x200u);
	return 0;
}

static struct mbox_splitter sp;

static void run(const uint8_t *data, size_t size, const uint8_t *steps, size_t nsteps,
		struct digest *d)
{
	struct mbox_sink sink = { d_begin, d_data, d_end, d };
	size_t i = 0, s = 0;
	memset(d, 0, sizeof(*d));
	mbox_init(&sp, &sink);
	while (i < size) {
		size_t k = nsteps ? (size_t)steps[s++ % nsteps] % 64 + 1 : size;
		if (k > size - i)
			k = size - i;
		if (mbox_feed(&sp, data + i, k) != 0)
			__builtin_trap();
		i += k;
	}
	if (mbox_finish(&sp) != 0 || d->open || d->messages != d->ends ||
	    sp.messages != d->messages)
		__builtin_trap();
	d->bytes += sp.preamble_bytes << 32;
}

static int same(const struct digest *a, const struct digest *b)
{
	return a->messages == b->messages && a->ends == b->ends && a->bytes == b->bytes &&
	       a->hash == b->hash && a->date_sum == b->date_sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct digest whole, chunked, bytewise;
	/* the first octets choose the chunk sizes for the second run */
	size_t nsteps = size > 8 ? 8 : size;
	run(data, size, NULL, 0, &whole);
	run(data, size, data, nsteps, &chunked);
	static const uint8_t one[1] = { 0 };
	run(data, size, one, 1, &bytewise);
	if (!same(&whole, &chunked) || !same(&whole, &bytewise))
		__builtin_trap();
	return 0;
}
