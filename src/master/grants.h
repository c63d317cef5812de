/* grants.h: the grants a worker is started with, as master reads them from
 * the directory and hands them over (IPC_WORKER_GRANTS), and the one frame
 * codec both sides use.
 *
 * A grant lets the worker's principal use one mailbox of another owner's
 * store with RFC 4314 rights. Master confines the worker (Landlock) to its
 * own store plus each granted owner's store, so the kernel stops it at the
 * store; the worker enforces the per-mailbox rights and reports every open
 * of another owner's mailbox to the audit log. Grants that change while a
 * worker runs reach the next worker: master compares the signature at each
 * login and starts a fresh worker when it differs.
 *
 * Functions return 0, or -1 with *error_r (a static string). */
#ifndef RD_MASTER_GRANTS_H
#define RD_MASTER_GRANTS_H
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

/* Reads principal's own store id into store (RD_MAX_STORE_ID + 1 bytes),
 * the grants to principal and those principal gave (at most RD_MAX_GRANTS
 * in all, over at most RD_MAX_SHARED_STORES other owners; the rest are
 * left out and logged). */
int grants_load(const char *data_dir, const char *principal, char *store,
		struct grant_set *gs, const char **error_r);
void grants_free(struct grant_set *gs);
/* The distinct stores of other owners, at most max, into ids (pointing
 * into gs); own_store (the principal's) is left out. */
size_t grants_stores(const struct grant_set *gs, const char *own_store, const char **ids,
		     size_t max);
/* Is owner one of the owners in gs? */
bool grants_has_owner(const struct grant_set *gs, const char *owner);

/* A SETACL/DELETEACL from principal's worker (IPC_GRANT_SET): principal
 * must own the mailbox or hold "a" on it; grantee must be a user other
 * than the owner; mode 0 replaces the rights, 1 adds, 2 removes ("" with
 * mode 0 deletes the grant). On success the grant's new rights are in
 * rights_out; -1 with *reply_r, the text of the NO, otherwise. */
int grants_apply_request(const char *data_dir, const char *principal, const char *owner,
			 const char *mailbox, const char *grantee, const char *rights,
			 uint32_t mode, char *rights_out, size_t outlen, const char **reply_r);

/* IPC_WORKER_GRANTS payload: u32 n, n x (str owner, str grantee, str store,
 * str mailbox, str rights). decode replaces gs (freeing the old list). */
int grants_encode(const struct grant_set *gs, struct ipc_msg *msg);
int grants_decode(struct ipc_reader *r, struct grant_set *gs, const char **error_r);

#endif
