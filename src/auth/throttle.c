#include "auth/throttle.h"
#include "limits.h"
#include <stdlib.h>
#include <string.h>

#define KEY_MAX (RD_MAX_ADDRESS + 1)
#define PROBE 8u

struct known {
	char addr[64];
	uint64_t when_ms;
};

struct entry {
	char key[KEY_MAX];
	uint64_t seen_ms;
	uint64_t last_fail_ms;
	uint64_t locked_until_ms;
	uint32_t fails;
	struct known known[RD_AUTH_KNOWN_ADDRS];   /* accounts only */
};

struct table {
	struct entry *e;
};

struct throttle {
	uint32_t base_ms;
	struct table acct, addr;
};

/* FNV-1a: fine for spreading keys; an attacker choosing colliding keys
 * only evicts entries within one probe window of their own. */
static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct entry *lookup(struct table *t, const char *key, uint64_t now, int create)
{
	uint32_t h = hash(key);
	struct entry *victim = NULL;
	for (uint32_t i = 0; i < PROBE; i++) {
		struct entry *e = &t->e[(h + i) % RD_THROTTLE_SLOTS];
		if (e->key[0] != '\0' && strcmp(e->key, key) == 0) {
			e->seen_ms = now;
			return e;
		}
		if (victim == NULL || e->key[0] == '\0' ||
		    (victim->key[0] != '\0' && e->seen_ms < victim->seen_ms))
			victim = e;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	strncpy(victim->key, key, KEY_MAX - 1);
	victim->seen_ms = now;
	return victim;
}

struct throttle *throttle_new(uint32_t base_delay_ms)
{
	struct throttle *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->acct.e = calloc(RD_THROTTLE_SLOTS, sizeof(struct entry));
	t->addr.e = calloc(RD_THROTTLE_SLOTS, sizeof(struct entry));
	if (t->acct.e == NULL || t->addr.e == NULL) {
		throttle_free(&t);
		return NULL;
	}
	t->base_ms = base_delay_ms;
	return t;
}

void throttle_free(struct throttle **tp)
{
	struct throttle *t = *tp;
	if (t == NULL)
		return;
	free(t->acct.e);
	free(t->addr.e);
	free(t);
	*tp = NULL;
}

void throttle_set_base(struct throttle *t, uint32_t base_delay_ms)
{
	t->base_ms = base_delay_ms;
}

static void decay(struct entry *e, uint64_t now)
{
	if (e->fails > 0 && now - e->last_fail_ms > (uint64_t)RD_AUTH_FAIL_MEMORY_S * 1000u)
		e->fails = 0;
}

static int known_good(const struct entry *acct, const char *addr, uint64_t now)
{
	if (acct == NULL)
		return 0;
	for (unsigned i = 0; i < RD_AUTH_KNOWN_ADDRS; i++)
		if (acct->known[i].addr[0] && strcmp(acct->known[i].addr, addr) == 0 &&
		    now - acct->known[i].when_ms < (uint64_t)RD_AUTH_KNOWN_S * 1000u)
			return 1;
	return 0;
}

/* Every client of a local proxy (and every test) arrives from loopback:
 * per-address counting there would make one guesser lock out everyone.
 * Account counting still applies. */
static int is_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

static uint32_t delay_for(const struct throttle *t, uint32_t fails)
{
	uint64_t d = t->base_ms;
	for (uint32_t i = 1; i < fails && d < RD_AUTH_MAX_DELAY_MS; i++)
		d *= 2;
	return d > RD_AUTH_MAX_DELAY_MS ? RD_AUTH_MAX_DELAY_MS : (uint32_t)d;
}

void throttle_check(struct throttle *t, const char *account, const char *addr,
		    uint64_t now, struct throttle_verdict *v)
{
	struct entry *a = lookup(&t->acct, account, now, 0);
	struct entry *p = is_loopback(addr) ? NULL : lookup(&t->addr, addr, now, 0);
	memset(v, 0, sizeof(*v));
	if (a)
		decay(a, now);
	if (p)
		decay(p, now);
	v->account_fails = a ? a->fails : 0;
	v->addr_fails = p ? p->fails : 0;
	if (known_good(a, addr, now))
		return;
	if ((a && a->locked_until_ms > now) || (p && p->locked_until_ms > now)) {
		v->locked = 1;
		v->delay_ms = RD_AUTH_MAX_DELAY_MS < t->base_ms ? t->base_ms : delay_for(t, 64);
	}
}

void throttle_result(struct throttle *t, const char *account, const char *addr,
		     int ok, uint64_t now, struct throttle_verdict *v)
{
	struct entry *a = lookup(&t->acct, account, now, 1);
	struct entry scratch;
	struct entry *p = is_loopback(addr) ? NULL : lookup(&t->addr, addr, now, 1);
	if (p == NULL) {
		memset(&scratch, 0, sizeof(scratch));
		p = &scratch;
	}
	memset(v, 0, sizeof(*v));
	decay(a, now);
	decay(p, now);
	if (ok) {
		/* remember the address as good for this account */
		unsigned slot = 0;
		for (unsigned i = 0; i < RD_AUTH_KNOWN_ADDRS; i++) {
			if (strcmp(a->known[i].addr, addr) == 0) {
				slot = i;
				break;
			}
			if (a->known[i].when_ms < a->known[slot].when_ms)
				slot = i;
		}
		strncpy(a->known[slot].addr, addr, sizeof(a->known[slot].addr) - 1);
		a->known[slot].when_ms = now;
		a->fails = 0;
		p->fails = 0;
		return;
	}
	a->fails++;
	p->fails++;
	a->last_fail_ms = p->last_fail_ms = now;
	if (a->fails >= RD_AUTH_LOCKOUT_FAILS && a->locked_until_ms <= now)
		a->locked_until_ms = now + (uint64_t)RD_AUTH_LOCKOUT_S * 1000u;
	if (p->fails >= RD_AUTH_SPRAY_FAILS && p->locked_until_ms <= now)
		p->locked_until_ms = now + (uint64_t)RD_AUTH_LOCKOUT_S * 1000u;
	v->account_fails = a->fails;
	v->addr_fails = p->fails;
	if (known_good(a, addr, now)) {
		/* the owner's own device mistyping: the plain delay, no lock */
		v->delay_ms = t->base_ms;
		return;
	}
	/* an address's failures count a quarter: spraying many accounts
	 * slows down, a shared NAT with one typo does not */
	uint32_t n = a->fails > p->fails / 4 ? a->fails : p->fails / 4;
	v->delay_ms = delay_for(t, n);
	v->locked = a->locked_until_ms > now || p->locked_until_ms > now;
}
