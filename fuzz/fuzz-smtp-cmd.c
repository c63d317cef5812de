/* libFuzzer target: one SMTP command line. */
#include "smtp/smtp-cmd.h"
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_cmd c;
	const char *err;
	(void)smtp_cmd_parse((const char *)data, size, &c, &err);
	return 0;
}
