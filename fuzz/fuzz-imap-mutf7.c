/* libFuzzer target: IMAP modified UTF-7 mailbox names (RFC 3501 5.1.3).
 * Decoding any input must not crash and, when it succeeds, encoding the
 * result must give a name that decodes to the same UTF-8 again; encoding
 * any input taken as UTF-8 must, when it succeeds, decode back to it. */
#include "imap/imap-args.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum { CAP = 2048 };
	char in[CAP], a[CAP * 4], b[CAP * 4], c[CAP * 4];
	if (size >= CAP)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (memchr(data, '\0', size) != NULL)
		return 0;
	if (imap_mutf7_decode(in, a, sizeof(a)) == 0 &&
	    imap_mutf7_encode(a, b, sizeof(b)) == 0) {
		if (imap_mutf7_decode(b, c, sizeof(c)) != 0 || strcmp(a, c) != 0)
			abort();
	}
	if (imap_mutf7_encode(in, b, sizeof(b)) == 0) {
		if (imap_mutf7_decode(b, c, sizeof(c)) != 0 || strcmp(in, c) != 0)
			abort();
	}
	return 0;
}
