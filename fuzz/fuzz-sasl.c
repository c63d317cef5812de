/* libFuzzer target: SASL PLAIN and base64 lines from an unauthenticated peer. */
#include "lib/sasl.h"
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sasl_plain p;
	char line[300];
	const char *err;
	(void)sasl_plain_decode((const char *)data, size, &p, &err);
	(void)sasl_b64_line((const char *)data, size, line, sizeof(line), &err);
	return 0;
}
