/* libFuzzer target: one IMAP command line before login. */
#include "imap/imap-preauth.h"
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_pre p;
	const char *err;
	(void)imap_pre_parse((const char *)data, size, &p, &err);
	return 0;
}
