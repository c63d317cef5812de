/* libFuzzer target: post-login IMAP framing, parsing, sequence sets,
 * search compilation and evaluation, FETCH item parsing and response
 * writing (the input doubling as the message, BINARY[] included), and the
 * base64 / quoted-printable decoders and the SORT pieces (criteria, base
 * subject, RFC 5322 date, keys from an envelope), over one input. */
#include "imap/imap-args.h"
#include "imap/imap-search.h"
#include "imap/imap-fetch.h"
#include "imap/imap-binary.h"
#include "imap/imap-sort.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct imap_frame_limits lim = { 4096, 8192 };
	struct imap_frame fr;
	const char *err;
	imap_frame_init(&fr);
	enum imap_frame_ret r;
	while ((r = imap_frame(&fr, data, size, &lim, &err)) == IMAP_FRAME_LITERAL)
		;
	uint8_t *copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	struct imap_arg nodes[256];
	struct imap_cmd cmd;
	if (imap_parse(copy, size, nodes, 256, 8, &cmd, &err) == 0 && cmd.args != NULL) {
		struct imap_range ranges[64];
		struct imap_search_key keys[128];
		struct imap_search_ctx sc = { .keys = keys, .max_keys = 128, .ranges = ranges,
					      .max_ranges = 64, .max_depth = 8,
					      .max_seq = 5, .max_uid = 9 };
		static const struct imap_range saved = { 2, 4 };   /* "$" */
		sc.saved = &saved;
		sc.nsaved = 1;
		struct imap_search se;
		(void)imap_seqset_parse(cmd.args->data, cmd.args->len, 7, ranges, 64, &err);
		if (imap_search_compile(&sc, cmd.args, &se, &err) == 0) {
			struct imap_search_msg m = { .seq = 1, .uid = 3, .keywords = "a b",
						     .raw = data, .raw_len = size };
			(void)imap_search_match(&se, &m);
		}
		struct imap_fetch *f = malloc(sizeof(*f));
		if (f != NULL && imap_fetch_parse(cmd.args, f, &err) == 0) {
			struct imap_fetch_simple simple;
			uint64_t off = 0, len = 0;
			(void)imap_fetch_plan(f, size, false, &off, &len);
			if (imap_fetch_simple(data, size, &simple) == 0) {
				struct imap_fetch_msg m = {
					.seq = 1, .uid = 1, .keywords = "", .size = size,
					.envelope = (const char *)simple.envelope.data,
					.bodystructure = (const char *)simple.bodystructure.data,
					.body = (const char *)simple.body.data,
					.parts = simple.parts, .nparts = 2,
					.raw = data, .raw_len = size,
				};
				struct buffer out;
				buffer_init(&out, 1u << 20);
				(void)imap_fetch_write(f, &m, &out, &err);
				buffer_free(&out);
			}
			imap_fetch_simple_free(&simple);
		}
		free(f);
		struct imap_sort_key skeys[8];
		size_t nkeys;
		(void)imap_sort_parse(cmd.args, skeys, 8, &nkeys, &err);
		char name[64];
		copy[size] = '\0';
		(void)imap_arg_copy(cmd.args, name, sizeof(name));
		(void)imap_list_match((const char *)copy, "INBOX/a/b");
	}
	struct buffer dec;
	buffer_init(&dec, 1u << 20);
	int64_t t;
	(void)imap_rfc5322_date(data, size, &t);
	(void)imap_base_subject(data, size, &dec);
	buffer_reset(&dec);
	char *env = malloc(size + 1);
	if (env != NULL) {
		memcpy(env, data, size);
		env[size] = '\0';
		struct imap_sort_msg sm = { .seq = 1 };
		if (imap_sort_msg_fill(&sm, env) == 0)
			imap_sort_msg_free(&sm);
		free(env);
	}
	(void)imap_base64_decode(data, size, &dec);
	buffer_reset(&dec);
	(void)imap_qp_decode(data, size, &dec);
	(void)imap_cte_parse(data, size);
	buffer_free(&dec);
	free(copy);
	return 0;
}
