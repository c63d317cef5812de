/* throttle.h: growing delays and temporary lockouts for failed logins.
 *
 * Pure state machine, no I/O; the clock is passed in (milliseconds), so
 * tests need no sleeping. Policy:
 *  - every failure is answered after a delay that doubles with the failures
 *    recorded against the account (or a quarter of those from the client
 *    address, if larger), from the configured base up to
 *    RD_AUTH_MAX_DELAY_MS; an address the account logged in from recently
 *    gets only the base delay and is never locked;
 *  - loopback addresses are not counted per address (a local proxy's
 *    clients all share them); their accounts still are;
 *  - RD_AUTH_LOCKOUT_FAILS failures against one account lock it for
 *    RD_AUTH_LOCKOUT_S - but never for an address that logged in to that
 *    account successfully within RD_AUTH_KNOWN_S, so an attacker cannot
 *    lock the owner out for good;
 *  - RD_AUTH_SPRAY_FAILS failures from one address (across accounts) lock
 *    that address, again except for accounts it is known good for;
 *  - counts are forgotten RD_AUTH_FAIL_MEMORY_S after the last failure.
 * A locked attempt is refused without checking the password, with the same
 * words and the same (maximal) delay. Memory is fixed (RD_THROTTLE_SLOTS
 * entries per table, least recently seen evicted). */
#ifndef RD_THROTTLE_H
#define RD_THROTTLE_H
#include <stdint.h>

struct throttle;

struct throttle_verdict {
	int locked;             /* refuse without verifying */
	uint32_t delay_ms;      /* wait this long before answering a refusal */
	uint32_t account_fails;
	uint32_t addr_fails;
};

struct throttle *throttle_new(uint32_t base_delay_ms);
void throttle_free(struct throttle **t);
void throttle_set_base(struct throttle *t, uint32_t base_delay_ms);
/* Before verifying: is this attempt locked out? */
void throttle_check(struct throttle *t, const char *account, const char *addr,
		    uint64_t now_ms, struct throttle_verdict *v);
/* After verifying: record the result; for a failure, v gets the delay. */
void throttle_result(struct throttle *t, const char *account, const char *addr,
		     int ok, uint64_t now_ms, struct throttle_verdict *v);
#endif
