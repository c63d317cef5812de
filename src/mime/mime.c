/* mime.c: mime_parse, the entry point: scan once, then write the IMAP
 * strings, the section map and the search text from the tree. */
#include "mime/mime-private.h"
#include <stdlib.h>
#include <string.h>

/* Output buffers hold at most their cap of text; the NUL goes past it. */
static int finish(struct buffer *b)
{
	const char *s;
	b->max++;
	int r = buffer_cstr(b, &s);
	b->max--;
	return r;
}

static int envelope(struct mime_ctx *c, struct buffer *out)
{
	int r = mime_envelope(c, 0, out, false);
	if (r <= 0)
		return r;
	c->truncated |= MIME_TRUNC_OUTPUT;
	buffer_reset(out);
	if ((r = mime_envelope(c, 0, out, true)) <= 0)
		return r;
	/* Cannot happen with the caps in limits.h; stay valid regardless. */
	buffer_reset(out);
	return mime_put_str(out, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

static int parse(const uint8_t *msg, size_t len, bool no_text, struct mime_result *out,
		 const char **error_r)
{
	struct mime_ctx c;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	buffer_init(&out->envelope, RD_MIME_MAX_ENVELOPE);
	buffer_init(&out->bodystructure, RD_STORE_MAX_CACHE_TEXT);
	buffer_init(&out->body, RD_STORE_MAX_CACHE_TEXT);
	buffer_init(&out->preview, RD_MIME_PREVIEW_CHARS * 4u);
	buffer_init(&out->fulltext, RD_MIME_MAX_FULLTEXT);
	memset(&c, 0, sizeof(c));
	c.no_text = no_text;
	c.msg = msg;
	c.len = msg == NULL ? 0 : len;
	/* A value to normalise is never longer than its header section. */
	buffer_init(&c.tmp, RD_MIME_MAX_HEADER_SIZE);
	buffer_init(&c.dec1, RD_MIME_MAX_FULLTEXT);
	buffer_init(&c.dec2, RD_MIME_MAX_FULLTEXT);
	buffer_init(&c.dec3, RD_MIME_MAX_FULLTEXT);

	if (mime_scan(&c) < 0 || mime_sections(&c, out) < 0 ||
	    envelope(&c, &out->envelope) < 0 ||
	    mime_bodystructure(&c, &out->bodystructure, true) < 0 ||
	    mime_bodystructure(&c, &out->body, false) < 0 ||
	    mime_text(&c, out) < 0 ||
	    finish(&out->envelope) < 0 || finish(&out->bodystructure) < 0 ||
	    finish(&out->body) < 0 || finish(&out->preview) < 0 ||
	    finish(&out->fulltext) < 0)
		*error_r = "out of memory";
	else
		ret = 0;
	out->truncated = c.truncated;
	free(c.nodes);
	buffer_free(&c.tmp);
	buffer_free(&c.dec1);
	buffer_free(&c.dec2);
	buffer_free(&c.dec3);
	return ret;
}

int mime_parse(const uint8_t *msg, size_t len, struct mime_result *out,
	       const char **error_r)
{
	return parse(msg, len, false, out, error_r);
}

int mime_parse_no_text(const uint8_t *msg, size_t len, struct mime_result *out,
		       const char **error_r)
{
	return parse(msg, len, true, out, error_r);
}

void mime_result_free(struct mime_result *r)
{
	buffer_free(&r->envelope);
	buffer_free(&r->bodystructure);
	buffer_free(&r->body);
	buffer_free(&r->preview);
	buffer_free(&r->fulltext);
	free(r->parts);
	memset(r, 0, sizeof(*r));
}
