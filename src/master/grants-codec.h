/* grants-codec.h: the grants a worker holds (struct grant_set) and the
 * pure codec of their IPC_WORKER_GRANTS frame, which master encodes and
 * the worker decodes. Pure: no directory, no I/O, so the worker and the
 * fuzz target link it without the directory code (master/grants.h has
 * master's directory lookups and includes this header).
 *
 * The worker decodes bytes that cross a privilege boundary, so decoding
 * is capped (RD_MAX_GRANTS grants; each string no longer than its field
 * of struct grant, whose sizes are caps in limits.h) and all-or-nothing.
 *
 * Functions return 0, or -1 with *error_r (a static string). */
#ifndef RD_MASTER_GRANTS_CODEC_H
#define RD_MASTER_GRANTS_CODEC_H
#include "lib/ipc.h"
#include "limits.h"
#include <stdbool.h>
#include <stddef.h>

/* A grant to the worker's principal, or (owner is the principal) one the
 * principal gave, for GETACL. */
struct grant {
	char owner[RD_MAX_ADDRESS + 1];
	char grantee[RD_MAX_ADDRESS + 1];
	char store[RD_MAX_STORE_ID + 1];
	char mailbox[RD_STORE_MAX_MAILBOX_NAME + 1];
	char rights[RD_RIGHTS_BUF];
};

struct grant_set {
	struct grant *v;           /* malloc'd, n entries */
	size_t n;
	unsigned char sig[16];     /* BLAKE2b of the list: "did it change" */
	const char *own_store;     /* while loading only */
};

/* Computes gs->sig from the list. The grants must be zero-filled past
 * each string's NUL (calloc'd): the whole struct is hashed. */
void grants_sign(struct grant_set *gs);
void grants_free(struct grant_set *gs);
/* The distinct stores of other owners, at most max, into ids (pointing
 * into gs); own_store (the principal's) is left out. */
size_t grants_stores(const struct grant_set *gs, const char *own_store, const char **ids,
		     size_t max);
/* Is owner one of the owners in gs? */
bool grants_has_owner(const struct grant_set *gs, const char *owner);

/* IPC_WORKER_GRANTS payload: u32 n, n x (str owner, str grantee, str store,
 * str mailbox, str rights), nothing after. encode refuses more than
 * RD_MAX_GRANTS grants (decode would). decode reads the whole payload
 * from r: on success it replaces gs (freeing the old list) and signs it;
 * on any error gs is freed and left empty, so a worker never goes on
 * with grants a refused frame may have been taking away. */
int grants_encode(const struct grant_set *gs, struct ipc_msg *msg);
int grants_decode(struct ipc_reader *r, struct grant_set *gs, const char **error_r);

/* One line of a GETACL answer: who holds which rights on the mailbox. */
struct acl_entry {
	char grantee[RD_MAX_ADDRESS + 1];
	char rights[RD_RIGHTS_BUF];
};
/* IPC_ACL_LIST_RESULT's list, after its status (0) and text: u32 n (at
 * most RD_MAX_GRANTS), n x (str grantee, str rights), nothing after.
 * Master encodes, the worker decodes (bytes from across a privilege
 * boundary: capped, all-or-nothing). decode fills v (RD_MAX_GRANTS
 * entries, the caller's) and *n_r; on error *n_r is 0. */
int acl_list_encode(const struct acl_entry *v, size_t n, struct ipc_msg *msg);
int acl_list_decode(struct ipc_reader *r, struct acl_entry *v, size_t *n_r,
		    const char **error_r);

#endif
