/* libFuzzer target: a whole stored message through mime_parse.
 *
 * Beyond "no crash", it checks mime.h's promises: ENVELOPE, BODYSTRUCTURE
 * and BODY are one well-formed IMAP list each (strings, literals, NIL,
 * numbers), every output is a NUL-free C string within its cap, and the
 * section map stays inside the message. mime_parse_no_text (what an
 * import files with) must give the same caches and preview, no text. */
#include "mime/mime.h"
#include "mime/test-imap-syntax.h"
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const struct buffer *b)
{
	if (b->data == NULL || b->len > b->max || strlen((const char *)b->data) != b->len)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_result r;
	const char *err;

	if (mime_parse(data, size, &r, &err) < 0) {
		mime_result_free(&r);
		return 0;
	}
	check_text(&r.envelope);
	check_text(&r.bodystructure);
	check_text(&r.body);
	check_text(&r.preview);
	check_text(&r.fulltext);
	if (!imap_syntax_ok((const char *)r.envelope.data) ||
	    !imap_syntax_ok((const char *)r.bodystructure.data) ||
	    !imap_syntax_ok((const char *)r.body.data))
		__builtin_trap();
	if (r.nparts < 1 || r.nparts > RD_MIME_MAX_PARTS + 1 || r.parts[0].section[0] != '\0')
		__builtin_trap();
	for (size_t i = 0; i < r.nparts; i++) {
		const struct mime_part *p = &r.parts[i];
		if (p->header_offset + p->header_size > size ||
		    p->body_offset + p->body_size > size ||
		    p->header_offset + p->header_size > p->body_offset ||
		    (p->has_message && (p->msg_header_offset + p->msg_header_size > size ||
					p->msg_body_offset + p->msg_body_size > size)))
			__builtin_trap();
	}
	struct mime_result nt;
	if (mime_parse_no_text(data, size, &nt, &err) == 0) {
		if (strcmp((const char *)nt.envelope.data, (const char *)r.envelope.data) != 0 ||
		    strcmp((const char *)nt.bodystructure.data, (const char *)r.bodystructure.data) != 0 ||
		    strcmp((const char *)nt.preview.data, (const char *)r.preview.data) != 0 ||
		    nt.fulltext.len != 0 || nt.nparts != r.nparts)
			__builtin_trap();
	}
	mime_result_free(&nt);
	mime_result_free(&r);
	return 0;
}
