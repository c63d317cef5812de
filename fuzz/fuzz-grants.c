/* libFuzzer target: the payload of IPC_WORKER_GRANTS as the worker reads
 * it (master/grants-codec.h). Input is the payload, not the frame: header
 * decoding is fuzz-ipc's. A refused payload leaves the set empty and says
 * why; what decodes encodes again and decodes to the same set, signature
 * included. */
#include "master/grants-codec.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct grant_set *a, const struct grant_set *b)
{
	if (a->n != b->n || memcmp(a->sig, b->sig, sizeof(a->sig)) != 0)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		const struct grant *x = &a->v[i], *y = &b->v[i];
		if (strcmp(x->owner, y->owner) != 0 || strcmp(x->grantee, y->grantee) != 0 ||
		    strcmp(x->store, y->store) != 0 || strcmp(x->mailbox, y->mailbox) != 0 ||
		    strcmp(x->rights, y->rights) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct grant_set gs = { 0 }, again = { 0 };
	struct ipc_reader r = { .p = data, .len = size, .off = 0 };
	const char *err = NULL;
	if (grants_decode(&r, &gs, &err) < 0) {
		if (gs.v != NULL || gs.n != 0 || err == NULL)
			abort();   /* a refusal keeps nothing and says why */
		return 0;
	}
	if (gs.n > RD_MAX_GRANTS || (gs.n > 0) != (gs.v != NULL))
		abort();
	struct ipc_msg m;
	ipc_msg_init(&m, IPC_WORKER_GRANTS, 0);
	if (grants_encode(&gs, &m) < 0)
		abort();   /* whatever the worker accepts, master can send */
	struct ipc_reader r2 = { .p = m.payload.data, .len = m.payload.len, .off = 0 };
	if (grants_decode(&r2, &again, &err) < 0)
		abort();
	same(&gs, &again);
	/* the encoding is canonical: the same octets */
	if (m.payload.len != size || memcmp(m.payload.data, data, size) != 0)
		abort();
	grants_free(&again);
	ipc_msg_free(&m);
	grants_free(&gs);
	return 0;
}
