/* libFuzzer target: redoubt.conf text.
 *
 * Beyond "no crash", it checks the parser's promises: an error message is
 * printable ASCII starting with the file label (values are escaped, so a
 * config can never forge log lines), and an accepted config, written back
 * out with config_format(), parses to the same settings. The listen-value
 * and DNS-name validators get the same bytes as a string. */
#include "config/config.h"
#include "config/dnsname.h"
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *err)
{
	if (strncmp(err, "fuzz.conf:", 10) != 0)
		__builtin_trap();
	for (const char *p = err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, back;
	char err[512];

	if (config_parse(&c, "fuzz.conf", (const char *)data, size, err,
			 sizeof(err)) < 0) {
		check_message(err);
	} else {
		struct buffer b;
		const char *e;
		buffer_init(&b, 1u << 20);
		if (config_format(&c, &b, &e) < 0)
			__builtin_trap();
		if (config_parse(&back, "fuzz.conf", (const char *)b.data, b.len,
				 err, sizeof(err)) < 0 || !config_equal(&c, &back))
			__builtin_trap();
		buffer_free(&b);
	}

	char s[512];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	memcpy(s, data, n);
	s[n] = '\0';
	char host[RD_CONFIG_MAX_LISTEN_HOST + 1];
	unsigned short port;
	const char *e = NULL;
	int r = config_parse_hostport(s, host, sizeof(host), &port, &e);
	if ((r < 0 && e == NULL) || (r == 1 && port == 0) || (r == 0 && port != 0))
		__builtin_trap();
	(void)dns_name_valid(s);
	return 0;
}
