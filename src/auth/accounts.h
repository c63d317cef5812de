/* accounts.h: the credentials database, DATA/auth/accounts.db.
 *
 * Only the auth role and the local CLI open it. It maps a canonical address
 * (see directory/address.h) to an Argon2id hash and nothing else: who exists
 * and where their mail lives is the directory's business, so a leak of this
 * file gives hashes, and a leak of the directory gives no hashes. The file
 * is 0600 in a 0700 directory and uses secure_delete, so a replaced hash
 * does not linger in free pages.
 *
 * Return convention: 0 success, -1 failure with *error_r set to a static
 * string or one owned by the accounts context (valid until its next call);
 * accounts_verify returns 1 accepted / 0 refused and never says why. */
#ifndef RD_ACCOUNTS_H
#define RD_ACCOUNTS_H
#include "auth/password.h"

struct accounts;

/* dir_path is DATA/auth; with create, it (not its parent) and accounts.db
 * are made, 0700 / 0600; looser existing modes are tightened. A context
 * belongs to one thread at a time. */
int accounts_open(const char *dir_path, int create, struct accounts **acc_r,
		  const char **error_r);
void accounts_close(struct accounts **acc);

/* Create the credential or replace its hash (one Argon2id run with p). The
 * address is validated and lower-cased; it is not checked against the
 * directory (the CLI does both). */
int accounts_set_password(struct accounts *acc, const char *address,
			  const char *password,
			  const struct password_params *p,
			  const char **error_r);
/* -1 "no such account" when there was none. */
int accounts_remove(struct accounts *acc, const char *address,
		    const char **error_r);

/* 1 if password is the account's, else 0. An unknown or invalid address,
 * a database failure and a wrong password all cost one Argon2id verify with
 * p (the known-user path costs the stored hash's own parameters, which are p
 * unless it predates a re-tune) and return the same 0. On success a hash
 * made with other params than p is re-hashed with p, best effort. */
int accounts_verify(struct accounts *acc, const char *address,
		    const char *password, const struct password_params *p);

#endif
