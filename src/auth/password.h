/* password.h: Argon2id password hashing (libsodium crypto_pwhash_str), the
 * dummy verification that makes "no such user" cost what "wrong password"
 * costs, and tuning the cost to this machine.
 *
 * Hashes are libsodium's self-describing strings ($argon2id$v=19$m=..,t=..,
 * p=1$salt$hash): each records its own parameters, so verification needs no
 * params and old hashes keep working after a re-tune.
 *
 * Passwords are NUL-terminated, 1..RD_MAX_PASSWORD octets; an empty or longer
 * one is refused before any hashing (that refusal depends only on the
 * password, so it reveals nothing about accounts).
 *
 * Return convention: 0 success / -1 failure with *error_r (static string),
 * except the verify functions, which return 1 match / 0 no match and never
 * say why. */
#ifndef RD_PASSWORD_H
#define RD_PASSWORD_H
#include <stddef.h>
#include "limits.h"

/* crypto_pwhash_STRBYTES: the hash string and its NUL fit in this. */
#define PASSWORD_HASH_BUF 128u
/* Memory cost password_tune uses: libsodium's "interactive" 64 MiB, large
 * enough that GPU guessing pays for memory, small enough for a login burst
 * of a few parallel verifies. */
#define PASSWORD_TUNE_MEMLIMIT (64u * 1024u * 1024u)

struct password_params {
	unsigned long long opslimit;  /* Argon2id passes */
	size_t memlimit;              /* bytes */
};

/* Per-context dummy: a hash of a random password made with the current
 * params, verified against when the user is unknown. Zero-initialise it
 * (or call password_dummy_init); it (re)builds itself when params change. */
struct password_dummy {
	struct password_params params;
	char hash[PASSWORD_HASH_BUF];
	int ready;
};

/* -1 when params are outside what libsodium accepts. */
int password_params_check(const struct password_params *p,
			  const char **error_r);

/* Hash password into out (outlen >= PASSWORD_HASH_BUF). Takes one Argon2id
 * run with p. */
int password_hash(const struct password_params *p, const char *password,
		  char *out, size_t outlen, const char **error_r);

/* 1 if password matches hash, 0 otherwise (also for a malformed hash or an
 * invalid password). Costs what hash's own parameters cost. */
int password_verify(const char *hash, const char *password);

/* 1 if hash was made with other params than p (re-hash at next login). */
int password_needs_rehash(const char *hash, const struct password_params *p);

void password_dummy_init(struct password_dummy *dummy);
/* Build the dummy hash now (at start-up), so the first unknown-user login
 * does not differ. Optional: password_verify_dummy builds it on demand. */
int password_dummy_prepare(struct password_dummy *dummy,
			   const struct password_params *p,
			   const char **error_r);
/* Burn the time of one real verify with p. Always returns 0 (no match), so
 * a caller can return its result on the unknown-user path the same way as
 * password_verify's on the known-user path. When the dummy is missing or
 * made with other params it is rebuilt instead, which is one Argon2id run
 * with p as well, so that path costs the same too. */
int password_verify_dummy(struct password_dummy *dummy,
			  const struct password_params *p,
			  const char *password);

/* Measure Argon2id on this machine and pick opslimit so one hash takes about
 * target_ms (1..RD_PASSWORD_TUNE_MAX_MS) with memlimit
 * PASSWORD_TUNE_MEMLIMIT. Never below libsodium's interactive opslimit (2)
 * nor above RD_PASSWORD_MAX_OPSLIMIT: a fast target on a slow machine gets
 * the safe floor, not a weaker hash. Runs a few hashes, so it takes a small
 * multiple of target_ms; meant for `redoubt init`, not for a running role. */
int password_tune(unsigned target_ms, struct password_params *p_r,
		  const char **error_r);

#endif
