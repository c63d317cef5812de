/* libFuzzer target: post-login IMAP framing, parsing, sequence sets and
 * search compilation over one input. */
#include "imap/imap-args.h"
#include "imap/imap-search.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct imap_frame_limits lim = { 4096, 8192 };
	struct imap_frame f;
	const char *err;
	imap_frame_init(&f);
	enum imap_frame_ret r;
	while ((r = imap_frame(&f, data, size, &lim, &err)) == IMAP_FRAME_LITERAL)
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
		struct imap_search se;
		(void)imap_seqset_parse(cmd.args->data, cmd.args->len, 7, ranges, 64, &err);
		if (imap_search_compile(&sc, cmd.args, &se, &err) == 0) {
			struct imap_search_msg m = { .seq = 1, .uid = 3, .keywords = "a b",
						     .raw = data, .raw_len = size };
			(void)imap_search_match(&se, &m);
		}
		char name[64];
		copy[size] = '\0';
		(void)imap_arg_copy(cmd.args, name, sizeof(name));
		(void)imap_list_match((const char *)copy, "INBOX/a/b");
	}
	free(copy);
	return 0;
}
