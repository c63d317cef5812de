/* libFuzzer target: an HTTP request head, split on CRLF. */
#include "http/http-parse.h"
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head h;
	const char *err;
	http_head_init(&h);
	size_t start = 0;
	for (size_t i = 0; i + 1 < size; i++) {
		if (data[i] == '\r' && data[i + 1] == '\n') {
			if (http_head_line(&h, (const char *)data + start, i - start, &err) != 0)
				return 0;
			start = i + 2;
			i++;
		}
	}
	return 0;
}
