/* libFuzzer target: an IPC frame from a hostile peer, decoded through every
 * schema the master accepts from children. */
#include "lib/ipc.h"
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_header h;
	struct ipc_reader r;
	const char *err;
	if (ipc_decode_header(data, size, &h, &r, &err) < 0)
		return 0;
	uint32_t u;
	uint64_t v;
	char s[256];
	const uint8_t *p;
	size_t len;
	/* walk the payload as any sequence of fields until an error */
	for (int i = 0; i < 64; i++) {
		struct ipc_reader save = r;
		if (ipc_get_u32(&r, &u, &err) == 0)
			continue;
		r = save;
		if (ipc_get_u64(&r, &v, &err) == 0)
			continue;
		r = save;
		if (ipc_get_str(&r, s, sizeof(s), &err) == 0)
			continue;
		r = save;
		if (ipc_get_bytes(&r, &p, &len, 1u << 20, &err) == 0)
			continue;
		break;
	}
	(void)ipc_end(&r, &err);
	return 0;
}
