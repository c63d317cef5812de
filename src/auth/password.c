/* password.c: see password.h. */
#include "auth/password.h"
#include <sodium.h>
#include <string.h>
#include <time.h>

_Static_assert(PASSWORD_HASH_BUF == crypto_pwhash_STRBYTES,
	       "PASSWORD_HASH_BUF must match libsodium");

static int fail(const char **error_r, const char *msg)
{
	*error_r = msg;
	return -1;
}

/* 1..RD_MAX_PASSWORD octets; strnlen bounds the scan of a hostile input. */
static int password_ok(const char *password, size_t *len_r)
{
	if (password == NULL)
		return 0;
	size_t len = strnlen(password, RD_MAX_PASSWORD + 1);
	*len_r = len;
	return len > 0 && len <= RD_MAX_PASSWORD;
}

int password_params_check(const struct password_params *p,
			  const char **error_r)
{
	if (p->opslimit < crypto_pwhash_OPSLIMIT_MIN ||
	    p->opslimit > crypto_pwhash_OPSLIMIT_MAX)
		return fail(error_r, "argon2 opslimit out of range");
	if (p->memlimit < crypto_pwhash_MEMLIMIT_MIN ||
	    p->memlimit > crypto_pwhash_MEMLIMIT_MAX)
		return fail(error_r, "argon2 memlimit out of range");
	return 0;
}

int password_hash(const struct password_params *p, const char *password,
		  char *out, size_t outlen, const char **error_r)
{
	size_t len = 0;
	if (outlen > 0)
		out[0] = '\0';
	if (outlen < PASSWORD_HASH_BUF)
		return fail(error_r, "password hash buffer too small");
	if (password == NULL || *password == '\0')
		return fail(error_r, "empty password");
	if (!password_ok(password, &len))
		return fail(error_r, "password is too long");
	if (password_params_check(p, error_r) < 0)
		return -1;
	if (sodium_init() < 0)
		return fail(error_r, "libsodium failed to initialise");
	if (crypto_pwhash_str(out, password, len, p->opslimit,
			      p->memlimit) != 0)
		return fail(error_r, "argon2 hashing failed (out of memory?)");
	return 0;
}

int password_verify(const char *hash, const char *password)
{
	size_t len = 0;
	if (hash == NULL || !password_ok(password, &len) ||
	    strnlen(hash, PASSWORD_HASH_BUF) >= PASSWORD_HASH_BUF)
		return 0;
	return crypto_pwhash_str_verify(hash, password, len) == 0;
}

int password_needs_rehash(const char *hash, const struct password_params *p)
{
	if (hash == NULL || strnlen(hash, PASSWORD_HASH_BUF) >=
	    PASSWORD_HASH_BUF)
		return 1;
	return crypto_pwhash_str_needs_rehash(hash, p->opslimit,
					      p->memlimit) != 0;
}

void password_dummy_init(struct password_dummy *dummy)
{
	memset(dummy, 0, sizeof(*dummy));
}

int password_dummy_prepare(struct password_dummy *dummy,
			   const struct password_params *p,
			   const char **error_r)
{
	/* A random secret nobody knows: even a caller that forgot to ignore
	 * the dummy's result could not be logged in through it. */
	unsigned char raw[32];
	char secret[sizeof(raw) * 2 + 1];
	dummy->ready = 0;
	if (sodium_init() < 0)
		return fail(error_r, "libsodium failed to initialise");
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(secret, sizeof(secret), raw, sizeof(raw));
	int ret = password_hash(p, secret, dummy->hash, sizeof(dummy->hash),
				error_r);
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(raw, sizeof(raw));
	if (ret < 0)
		return -1;
	dummy->params = *p;
	dummy->ready = 1;
	return 0;
}

int password_verify_dummy(struct password_dummy *dummy,
			  const struct password_params *p,
			  const char *password)
{
	const char *error;
	size_t len = 0;
	if (!password_ok(password, &len))
		return 0;  /* password_verify refuses this just as fast */
	if (!dummy->ready || dummy->params.opslimit != p->opslimit ||
	    dummy->params.memlimit != p->memlimit) {
		(void)password_dummy_prepare(dummy, p, &error);
		return 0;
	}
	/* The result is meaningless (nobody knows the dummy's secret); only
	 * the time spent matters. */
	int ignored = crypto_pwhash_str_verify(dummy->hash, password, len);
	(void)ignored;
	return 0;
}

/* ---- tuning ---- */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Milliseconds one hash takes with p, or -1. */
static double measure(const struct password_params *p, const char **error_r)
{
	char out[PASSWORD_HASH_BUF];
	double start = now_ms();
	if (password_hash(p, "redoubt password_tune probe", out, sizeof(out),
			  error_r) < 0)
		return -1.0;
	return now_ms() - start;
}

static unsigned long long clamp_ops(double ops)
{
	const double lo = (double)crypto_pwhash_OPSLIMIT_INTERACTIVE;
	const double hi = (double)RD_PASSWORD_MAX_OPSLIMIT;
	if (!(ops >= lo))  /* also catches NaN */
		return crypto_pwhash_OPSLIMIT_INTERACTIVE;
	if (ops > hi)
		return RD_PASSWORD_MAX_OPSLIMIT;
	return (unsigned long long)(ops + 0.5);
}

int password_tune(unsigned target_ms, struct password_params *p_r,
		  const char **error_r)
{
	_Static_assert(RD_PASSWORD_MAX_OPSLIMIT <= crypto_pwhash_OPSLIMIT_MAX,
		       "RD_PASSWORD_MAX_OPSLIMIT beyond libsodium's range");
	if (target_ms == 0 || target_ms > RD_PASSWORD_TUNE_MAX_MS)
		return fail(error_r, "tuning target out of range");
	struct password_params p = { .opslimit = 1,
				     .memlimit = PASSWORD_TUNE_MEMLIMIT };
	/* Time per pass: the lower of two single-pass runs, since the first
	 * one also pays for faulting in the memory. */
	double a = measure(&p, error_r), b = measure(&p, error_r);
	if (a < 0 || b < 0)
		return -1;
	double per_pass = a < b ? a : b;
	if (per_pass < 0.01)
		per_pass = 0.01;
	p.opslimit = clamp_ops((double)target_ms / per_pass);
	/* One check at the chosen cost corrects for whatever part of the
	 * time does not scale with passes. */
	double got = measure(&p, error_r);
	if (got < 0)
		return -1;
	if (got > 0.01)
		p.opslimit = clamp_ops((double)p.opslimit *
				       (double)target_ms / got);
	*p_r = p;
	return 0;
}
