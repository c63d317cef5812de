/* directory.h: who lives here. Domains we host, the users in them (each
 * with the id of the store that holds their mail) and aliases, in
 * DATA/directory/directory.db.
 *
 * Queue (RCPT checks), master (which store a principal owns) and the local
 * CLI (administration) use it; it holds no credentials (those are in
 * accounts.db, see auth/accounts.h). Every address and domain is validated
 * and lower-cased with directory/address.h before it touches the database,
 * so the database only ever holds canonical, shell-safe names.
 *
 * Store ids are 16 random lower-case hex digits from libsodium, never
 * reused: a removed user's id is retired, so a store left on disk is never
 * handed to a newcomer. They match [a-z0-9-]{1,RD_MAX_STORE_ID}.
 *
 * Return convention: 0 success, -1 failure with *error_r set to a static
 * string or one owned by the directory (valid until its next call), unless a
 * function says otherwise. List callbacks return 0 to go on; any other value
 * stops the walk, and the list function then returns -1 with *error_r
 * "stopped by the callback". A callback may call other directory functions
 * but not re-enter the walk it is called from (that call fails cleanly).
 * A context belongs to one thread at a time; several processes may open
 * the same file (SQLite WAL and a busy timeout serialise their writes). */
#ifndef RD_DIRECTORY_H
#define RD_DIRECTORY_H
#include <stddef.h>
#include "limits.h"

/* Size of a buffer that holds a store id and its NUL. */
#define DIRECTORY_STORE_ID_BUF (RD_MAX_STORE_ID + 1u)

struct directory;

/* dir_path is DATA/directory; with create, it (not its parent) and
 * directory.db are made (0700 / 0600). Looser existing modes are tightened.
 * The schema is migrated to the current version; a newer one is refused. */
int directory_open(const char *dir_path, int create, struct directory **dir_r,
		   const char **error_r);
void directory_close(struct directory **dir);

int directory_domain_add(struct directory *d, const char *domain,
			 const char **error_r);
/* Refused while users or aliases exist in the domain. */
int directory_domain_remove(struct directory *d, const char *domain,
			    const char **error_r);
int directory_domain_list(struct directory *d,
			  int (*cb)(void *ctx, const char *domain), void *ctx,
			  const char **error_r);
/* 1 hosted, 0 not (or invalid, or the database failed). */
int directory_domain_exists(struct directory *d, const char *domain);

/* The domain must exist and the address must not be an alias. Writes the new
 * store id to store_id_out (DIRECTORY_STORE_ID_BUF bytes suffice). */
int directory_user_add(struct directory *d, const char *address,
		       char *store_id_out, size_t outlen, const char **error_r);
/* Refused while an alias points at the user. The store id is retired, the
 * store itself is left alone (the caller decides what happens to mail). */
int directory_user_remove(struct directory *d, const char *address,
			  const char **error_r);
/* All users, or those of one domain, in address order. */
int directory_user_list(struct directory *d, const char *domain_or_null,
			int (*cb)(void *ctx, const char *address,
				  const char *store_id),
			void *ctx, const char **error_r);
/* 0 found (store id written), -1 not found, invalid or failed. */
int directory_user_lookup(struct directory *d, const char *address,
			  char *store_id_out, size_t outlen);

/* Add one target to alias (an alias may have several: a small list). The
 * alias's domain must be hosted and the alias must not be a user. A target
 * in a hosted domain must be a user or an alias; any other valid address is
 * external (forwarding). At most RD_DIRECTORY_MAX_EXPANSION targets. */
int directory_alias_add(struct directory *d, const char *alias,
			const char *target, const char **error_r);
/* Remove one target, or every target when target_or_null is NULL. */
int directory_alias_remove(struct directory *d, const char *alias,
			   const char *target_or_null, const char **error_r);
/* All (alias, target) pairs, or those of aliases in one domain. */
int directory_alias_list(struct directory *d, const char *domain_or_null,
			 int (*cb)(void *ctx, const char *alias,
				   const char *target),
			 void *ctx, const char **error_r);

/* Expand address to its final recipients: a user yields itself; an alias
 * yields what its targets yield, recursively, each address visited once (so
 * cycles end), at most RD_DIRECTORY_MAX_ALIAS_DEPTH levels and
 * RD_DIRECTORY_MAX_EXPANSION addresses. cb gets each recipient once: a local
 * user with its store id, or an external address with store_id NULL. A
 * target in a hosted domain that is neither user nor alias (left dangling by
 * a removal) yields nothing.
 * Returns the number of recipients passed to cb (0: the address is not ours,
 * or an alias that yields nobody), or -1 on error (invalid address, depth or
 * expansion cap hit, database failure, callback stop). cb may be NULL to
 * only count (an RCPT check). */
/* ---- grants (grants.c): IMAP ACL (RFC 4314) on one owner's mailbox ----
 *
 * owner lets grantee use owner's mailbox with rights, a string of RFC 4314
 * rights letters "lrswipkxtea" (kept in that order, each once). Owner and
 * grantee must both be users, and different. Which store that reaches is
 * the owner's: master confines the grantee's worker to it as well. */

struct directory_grant {
	const char *owner;
	const char *owner_store;   /* the owner's store id */
	const char *mailbox;
	const char *grantee;
	const char *rights;
};

/* Canonical rights from letters in any order; "" is allowed (no rights).
 * -1 with *error_r for a letter RFC 4314 does not define. The obsolete
 * "c" and "d" map to "k" and "xte" (RFC 4314 2.1.1). */
int directory_rights_canon(const char *rights, char *out, size_t outlen,
			   const char **error_r);
/* Sets (replaces) the grant; empty rights remove it. */
int directory_grant_set(struct directory *d, const char *owner,
			const char *mailbox, const char *grantee,
			const char *rights, const char **error_r);
/* -1 "no such grant" when there was none. */
int directory_grant_remove(struct directory *d, const char *owner,
			   const char *mailbox, const char *grantee,
			   const char **error_r);
/* Grants by owner, to grantee, both, or all (NULL = any), ordered by
 * owner, mailbox, grantee. Pointers are valid during the callback. */
int directory_grant_list(struct directory *d, const char *owner_or_null,
			 const char *grantee_or_null,
			 int (*cb)(void *ctx, const struct directory_grant *g),
			 void *ctx, const char **error_r);
/* The rights grantee holds on owner's mailbox into out ("" if none);
 * 0, or -1 on a database error. */
int directory_grant_rights(struct directory *d, const char *owner,
			   const char *mailbox, const char *grantee,
			   char *out, size_t outlen, const char **error_r);

int directory_resolve(struct directory *d, const char *address,
		      int (*cb)(void *ctx, const char *address,
				const char *store_id),
		      void *ctx, const char **error_r);

#endif
