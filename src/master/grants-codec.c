/* grants-codec.c: see grants-codec.h. */
#include "master/grants-codec.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* The largest frame encode makes must fit one IPC frame, or master could
 * build a grant set it cannot hand over: per grant five string fields of
 * 5 octets each (kind, length) plus the longest contents, and the count. */
#define GRANT_FIELDS_MAX                                                              \
	(5u * 5u + 2u * RD_MAX_ADDRESS + RD_MAX_STORE_ID + RD_STORE_MAX_MAILBOX_NAME + \
	 RD_RIGHTS_BUF - 1u)
_Static_assert(5u + RD_MAX_GRANTS * GRANT_FIELDS_MAX <= RD_IPC_MAX_PAYLOAD,
	       "RD_MAX_GRANTS grants must fit one IPC frame");

static int fail(const char **error_r, const char *msg)
{
	*error_r = msg;
	return -1;
}

void grants_sign(struct grant_set *gs)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof(gs->sig));
	for (size_t i = 0; i < gs->n; i++)
		crypto_generichash_update(&st, (const unsigned char *)&gs->v[i], sizeof(gs->v[i]));
	crypto_generichash_final(&st, gs->sig, sizeof(gs->sig));
}

void grants_free(struct grant_set *gs)
{
	free(gs->v);
	gs->v = NULL;
	gs->n = 0;
}

size_t grants_stores(const struct grant_set *gs, const char *own_store, const char **ids,
		     size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < gs->n; i++) {
		if (own_store != NULL && strcmp(gs->v[i].store, own_store) == 0)
			continue;
		size_t j = 0;
		while (j < n && strcmp(ids[j], gs->v[i].store) != 0)
			j++;
		if (j == n && n < max)
			ids[n++] = gs->v[i].store;
	}
	return n;
}

bool grants_has_owner(const struct grant_set *gs, const char *owner)
{
	for (size_t i = 0; i < gs->n; i++)
		if (strcmp(gs->v[i].owner, owner) == 0)
			return true;
	return false;
}

int grants_encode(const struct grant_set *gs, struct ipc_msg *msg)
{
	if (gs->n > RD_MAX_GRANTS)
		return -1;
	int r = ipc_put_u32(msg, (uint32_t)gs->n);
	for (size_t i = 0; r == 0 && i < gs->n; i++)
		r = ipc_put_str(msg, gs->v[i].owner) | ipc_put_str(msg, gs->v[i].grantee) |
		    ipc_put_str(msg, gs->v[i].store) |
		    ipc_put_str(msg, gs->v[i].mailbox) | ipc_put_str(msg, gs->v[i].rights);
	return r < 0 ? -1 : 0;
}

/* Reads n grants into ng->v (n entries, zero-filled), counting them in
 * ng->n as they are read. */
static int decode_list(struct ipc_reader *r, struct grant_set *ng, uint32_t n,
		       const char **error_r)
{
	for (ng->n = 0; ng->n < n; ng->n++) {
		struct grant *g = &ng->v[ng->n];
		if (ipc_get_str(r, g->owner, sizeof(g->owner), error_r) < 0 ||
		    ipc_get_str(r, g->grantee, sizeof(g->grantee), error_r) < 0 ||
		    ipc_get_str(r, g->store, sizeof(g->store), error_r) < 0 ||
		    ipc_get_str(r, g->mailbox, sizeof(g->mailbox), error_r) < 0 ||
		    ipc_get_str(r, g->rights, sizeof(g->rights), error_r) < 0)
			return -1;
	}
	return ipc_end(r, error_r);
}

int grants_decode(struct ipc_reader *r, struct grant_set *gs, const char **error_r)
{
	uint32_t n = 0;
	struct grant_set ng = { 0 };
	int ret = ipc_get_u32(r, &n, error_r);
	if (ret == 0 && n > RD_MAX_GRANTS)
		ret = fail(error_r, "too many grants");
	else if (ret == 0 && n > 0 && (ng.v = calloc(n, sizeof(*ng.v))) == NULL)
		ret = fail(error_r, "out of memory");
	else if (ret == 0)
		ret = decode_list(r, &ng, n, error_r);
	grants_free(gs);
	memset(gs, 0, sizeof(*gs));
	if (ret < 0) {
		grants_free(&ng);
		return -1;
	}
	grants_sign(&ng);
	*gs = ng;
	return 0;
}

int acl_list_encode(const struct acl_entry *v, size_t n, struct ipc_msg *msg)
{
	if (n > RD_MAX_GRANTS)
		return -1;
	int r = ipc_put_u32(msg, (uint32_t)n);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = ipc_put_str(msg, v[i].grantee) | ipc_put_str(msg, v[i].rights);
	return r < 0 ? -1 : 0;
}

int acl_list_decode(struct ipc_reader *r, struct acl_entry *v, size_t *n_r,
		    const char **error_r)
{
	uint32_t n = 0;
	*n_r = 0;
	if (ipc_get_u32(r, &n, error_r) < 0)
		return -1;
	if (n > RD_MAX_GRANTS)
		return fail(error_r, "too many grants in an access list");
	for (uint32_t i = 0; i < n; i++)
		if (ipc_get_str(r, v[i].grantee, sizeof(v[i].grantee), error_r) < 0 ||
		    ipc_get_str(r, v[i].rights, sizeof(v[i].rights), error_r) < 0)
			return -1;
	if (ipc_end(r, error_r) < 0)
		return -1;
	*n_r = n;
	return 0;
}
