/* grants.h: the grants a worker is started with, as master reads them from
 * the directory and hands them over (IPC_WORKER_GRANTS). The grant set
 * and the frame codec both sides use are in master/grants-codec.h, pure,
 * so the worker and the fuzz target link it without the directory code.
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
#include "master/grants-codec.h"
#include <stdint.h>

/* Reads principal's own store id into store (RD_MAX_STORE_ID + 1 bytes),
 * the grants to principal and those principal gave (at most RD_MAX_GRANTS
 * in all, over at most RD_MAX_SHARED_STORES other owners; the rest are
 * left out and logged). */
int grants_load(const char *data_dir, const char *principal, char *store,
		struct grant_set *gs, const char **error_r);

/* A SETACL/DELETEACL from principal's worker (IPC_GRANT_SET): principal
 * must own the mailbox or hold "a" on it; grantee must be a user other
 * than the owner; mode 0 replaces the rights, 1 adds, 2 removes ("" with
 * mode 0 deletes the grant). On success the grant's new rights are in
 * rights_out; -1 with *reply_r, the text of the NO, otherwise. */
int grants_apply_request(const char *data_dir, const char *principal, const char *owner,
			 const char *mailbox, const char *grantee, const char *rights,
			 uint32_t mode, char *rights_out, size_t outlen, const char **reply_r);

/* GETACL by a principal who holds "a" on another owner's mailbox (the
 * worker knows only the grants to and from its principal): checks that
 * principal holds "a" there, then puts the grants on that mailbox into
 * msg as u32 n + n x (str grantee, str rights), at most RD_MAX_GRANTS
 * (the rest are left out and logged). 0, or -1 with *reply_r, the text
 * of the NO. */
int grants_acl_list(const char *data_dir, const char *principal, const char *owner,
		    const char *mailbox, struct ipc_msg *msg, const char **reply_r);

#endif
