/* libFuzzer target: the GETACL list of IPC_ACL_LIST_RESULT as the worker
 * reads it (master/grants-codec.h, acl_list_decode). Input is the list,
 * after the status and text. A refused list yields no entry; what decodes
 * encodes again to the same octets (the encoding is canonical). */
#include "master/grants-codec.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acl_entry v[RD_MAX_GRANTS];
	struct ipc_reader r = { .p = data, .len = size, .off = 0 };
	const char *err = NULL;
	size_t n = 99;
	if (acl_list_decode(&r, v, &n, &err) < 0) {
		if (n != 0 || err == NULL)
			abort();
		return 0;
	}
	if (n > RD_MAX_GRANTS)
		abort();
	struct ipc_msg m;
	ipc_msg_init(&m, IPC_ACL_LIST_RESULT, 0);
	if (acl_list_encode(v, n, &m) < 0 || m.payload.len != size ||
	    memcmp(m.payload.data, data, size) != 0)
		abort();
	ipc_msg_free(&m);
	return 0;
}
