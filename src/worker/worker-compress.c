/* worker-compress.c: COMPRESS=DEFLATE (RFC 4978). After "OK DEFLATE
 * active" both directions of the session are raw DEFLATE (RFC 1951):
 * a libevent filter sits between the session and its channel, inflating
 * what comes in and deflating what goes out, flushed (Z_SYNC_FLUSH) each
 * time the session has written everything, so a response is never held
 * back waiting for more.
 *
 * Memory is kept small, since every open session pays it: the deflater
 * uses a 4 KiB window (RFC 4978 4 lets the sender choose; the receiver
 * must accept any), the inflater must accept the full 32 KiB the client
 * may use. Inflated input passes through the session's usual caps (line,
 * literal), so a small compressed command cannot grow past them: the
 * filter stops producing once the session's input holds a line's worth
 * and waits for it to be read. */
#include "worker/worker.h"
#include "lib/log.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>

/* raw DEFLATE (negative window bits), 4 KiB window, small hash tables */
#define DEFLATE_WBITS (-12)
#define DEFLATE_MEMLEVEL 5
#define INFLATE_WBITS (-15)

struct zpair {
	z_stream in, out;
	bool in_ok, out_ok;
	struct session *s;   /* to close it when the client's stream is garbage */
};

static void zpair_free(void *arg)
{
	struct zpair *z = arg;
	if (z->in_ok)
		inflateEnd(&z->in);
	if (z->out_ok)
		deflateEnd(&z->out);
	free(z);
}

/* Input is given to zlib this much at a time, and each piece's output is
 * taken whole before the next (so zlib never holds output back): one
 * piece can inflate to about 1 MiB at most (DEFLATE's ratio is ~1032). */
#define INFLATE_STEP 1024u

/* Runs the zlib stream over src into dst; when inflating, stops after the
 * piece that took the output past limit, leaving the rest of src for
 * when the session has read (the filter is called again then). Returns
 * -1 on a stream error (garbage from the client). */
static int pump(z_stream *zs, bool deflating, struct evbuffer *src, struct evbuffer *dst,
		int flush, ev_ssize_t limit)
{
	unsigned char outbuf[16384];
	ev_ssize_t produced = 0;
	for (;;) {
		struct evbuffer_iovec v;
		int have = evbuffer_peek(src, -1, NULL, &v, 1);
		size_t piece = have > 0 ? v.iov_len : 0;
		if (!deflating && piece > INFLATE_STEP)
			piece = INFLATE_STEP;
		zs->next_in = have > 0 ? v.iov_base : NULL;
		zs->avail_in = (uInt)piece;
		bool last = piece == evbuffer_get_length(src);
		int rc;
		do {
			zs->next_out = outbuf;
			zs->avail_out = sizeof(outbuf);
			rc = deflating ? deflate(zs, last ? flush : Z_NO_FLUSH) :
					 inflate(zs, Z_SYNC_FLUSH);
			if (rc == Z_STREAM_ERROR || rc == Z_DATA_ERROR || rc == Z_NEED_DICT ||
			    rc == Z_MEM_ERROR)
				return -1;
			size_t n = sizeof(outbuf) - zs->avail_out;
			if (n > 0 && evbuffer_add(dst, outbuf, n) < 0)
				return -1;
			produced += (ev_ssize_t)n;
		} while (zs->avail_out == 0 && rc != Z_BUF_ERROR);
		size_t used = piece - zs->avail_in;
		if (used > 0)
			evbuffer_drain(src, used);
		if (have <= 0 || last || used == 0 || (limit > 0 && produced >= limit))
			return 0;
	}
}

static enum bufferevent_filter_result filter_in(struct evbuffer *src, struct evbuffer *dst,
						ev_ssize_t limit,
						enum bufferevent_flush_mode mode, void *arg)
{
	struct zpair *z = arg;
	(void)mode;
	if (evbuffer_get_length(src) == 0)
		return BEV_NEED_MORE;
	if (pump(&z->in, false, src, dst, Z_NO_FLUSH, limit > 0 ? limit : RD_IMAP_MAX_LINE) < 0) {
		evbuffer_drain(src, evbuffer_get_length(src));
		if (!z->s->closing) {
			out(z->s, "* BYE Invalid compressed data\r\n");
			session_close(z->s);   /* frees later, never from here */
		}
		return BEV_ERROR;
	}
	return BEV_OK;
}

static enum bufferevent_filter_result filter_out(struct evbuffer *src, struct evbuffer *dst,
						 ev_ssize_t limit,
						 enum bufferevent_flush_mode mode, void *arg)
{
	struct zpair *z = arg;
	(void)limit;
	if (evbuffer_get_length(src) == 0 && mode == BEV_NORMAL)
		return BEV_NEED_MORE;
	if (pump(&z->out, true, src, dst, mode == BEV_FINISHED ? Z_FINISH : Z_SYNC_FLUSH, 0) < 0)
		return BEV_ERROR;
	return BEV_OK;
}

int compress_start(struct session *s, const char **error_r)
{
	struct zpair *z = calloc(1, sizeof(*z));
	if (z == NULL) {
		*error_r = "Out of memory";
		return -1;
	}
	z->in_ok = inflateInit2(&z->in, INFLATE_WBITS) == Z_OK;
	z->out_ok = z->in_ok && deflateInit2(&z->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
					     DEFLATE_WBITS, DEFLATE_MEMLEVEL,
					     Z_DEFAULT_STRATEGY) == Z_OK;
	if (!z->out_ok) {
		zpair_free(z);
		*error_r = "Compression could not start";
		return -1;
	}
	z->s = s;
	struct bufferevent *under = s->bev;
	/* octets the client sent after COMPRESS are already compressed:
	 * they go back in front of the channel's input, for the filter */
	if (s->in.len > 0) {
		if (evbuffer_prepend(bufferevent_get_input(under), s->in.data, s->in.len) < 0) {
			zpair_free(z);
			*error_r = "Out of memory";
			return -1;
		}
		buffer_reset(&s->in);
	}
	struct bufferevent *f = bufferevent_filter_new(under, filter_in, filter_out,
						       BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS,
						       zpair_free, z);
	if (f == NULL) {
		zpair_free(z);
		*error_r = "Compression could not start";
		return -1;
	}
	session_attach_bev(s, f);
	s->compressed = true;
	return 0;
}
