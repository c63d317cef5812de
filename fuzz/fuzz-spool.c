/* libFuzzer target: a queue envelope record (spool/q/<qid>.env) as read
 * back at start-up, when a damaged or planted file must be refused, never
 * half-loaded. What decodes is encoded again and must decode to the same
 * envelope, byte for byte. */
#include "queue/spool.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct spool_env *a, const struct spool_env *b)
{
	if (strcmp(a->qid, b->qid) != 0 || a->arrived != b->arrived || a->size != b->size ||
	    strcmp(a->from, b->from) != 0 || strcmp(a->helo, b->helo) != 0 ||
	    strcmp(a->peer, b->peer) != 0 || strcmp(a->auth, b->auth) != 0 ||
	    strcmp(a->params, b->params) != 0 || a->nrcpt != b->nrcpt)
		abort();
	for (uint32_t i = 0; i < a->nrcpt; i++) {
		const struct spool_rcpt *x = &a->rcpt[i], *y = &b->rcpt[i];
		if (strcmp(x->address, y->address) != 0 || strcmp(x->store_id, y->store_id) != 0 ||
		    x->state != y->state || x->attempts != y->attempts ||
		    x->notify != y->notify || strcmp(x->orcpt, y->orcpt) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_env env, again;
	const char *err = NULL;
	if (spool_env_decode(data, size, &env, &err) < 0) {
		if (env.rcpt != NULL || env.nrcpt != 0 || err == NULL)
			abort();   /* a refusal keeps nothing and says why */
		return 0;
	}
	uint8_t *rec;
	size_t len;
	if (spool_env_encode(&env, &rec, &len, &err) == 0) {
		if (spool_env_decode(rec, len, &again, &err) < 0)
			abort();
		same(&env, &again);
		spool_env_free(&again);
		free(rec);
	}
	spool_env_free(&env);
	return 0;
}
