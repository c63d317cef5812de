/* Tests for the IPC_WORKER_GRANTS codec: round trips, every truncation of
 * a valid payload, and the caps (grant count, each string's length); and
 * the same for the GETACL list of IPC_ACL_LIST_RESULT. */
#include "master/grants-codec.h"
#include "lib/test.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* n grants with distinct values; the last `longest` of them (at least
 * one) have strings as long as their fields allow. */
static void fill_longest(struct grant_set *gs, size_t n, size_t longest)
{
	memset(gs, 0, sizeof(*gs));
	gs->v = calloc(n > 0 ? n : 1, sizeof(*gs->v));
	gs->n = gs->v != NULL ? n : 0;
	for (size_t i = 0; i < gs->n; i++) {
		struct grant *g = &gs->v[i];
		snprintf(g->owner, sizeof(g->owner), "owner%zu@example.test", i % 5);
		snprintf(g->grantee, sizeof(g->grantee), "user%zu@example.test", i);
		snprintf(g->store, sizeof(g->store), "store-%zu", i % 5);
		snprintf(g->mailbox, sizeof(g->mailbox), "Shared/Box %zu/\xc3\xa9t\xc3\xa9", i);
		snprintf(g->rights, sizeof(g->rights), "%s", i % 2 ? "lrs" : "lrswipkxtea");
	}
	for (size_t i = gs->n - (longest < gs->n ? longest : gs->n); i < gs->n; i++) {
		struct grant *g = &gs->v[i];
		memset(g->owner, 'o', sizeof(g->owner) - 1);
		memset(g->grantee, 'g', sizeof(g->grantee) - 1);
		memset(g->store, 's', sizeof(g->store) - 1);
		memset(g->mailbox, 'm', sizeof(g->mailbox) - 1);
		memset(g->rights, 'r', sizeof(g->rights) - 1);
	}
	grants_sign(gs);
}

static void fill(struct grant_set *gs, size_t n)
{
	fill_longest(gs, n, 1);
}

static bool same(const struct grant_set *a, const struct grant_set *b)
{
	if (a->n != b->n || memcmp(a->sig, b->sig, sizeof(a->sig)) != 0)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct grant *x = &a->v[i], *y = &b->v[i];
		if (strcmp(x->owner, y->owner) != 0 || strcmp(x->grantee, y->grantee) != 0 ||
		    strcmp(x->store, y->store) != 0 || strcmp(x->mailbox, y->mailbox) != 0 ||
		    strcmp(x->rights, y->rights) != 0)
			return false;
	}
	return true;
}

static int decode(const uint8_t *p, size_t len, struct grant_set *gs, const char **err)
{
	struct ipc_reader r = { .p = p, .len = len, .off = 0 };
	*err = NULL;
	return grants_decode(&r, gs, err);
}

/* A set that decoding must replace or empty: one grant, so a failed
 * decode that kept it would show. Frees what gs held. */
static void stale(struct grant_set *gs)
{
	grants_free(gs);
	fill(gs, 1);
}

static bool empty(const struct grant_set *gs)
{
	return gs->v == NULL && gs->n == 0;
}

static void round_trip(size_t n)
{
	struct grant_set gs, out = { 0 };
	struct ipc_msg m;
	const char *err;
	fill(&gs, n);
	stale(&out);
	ipc_msg_init(&m, IPC_WORKER_GRANTS, 0);
	CHECK(grants_encode(&gs, &m) == 0, "%zu grants encode", n);
	CHECK(decode(m.payload.data, m.payload.len, &out, &err) == 0, "%zu grants decode (%s)",
	      n, err != NULL ? err : "-");
	CHECK(same(&gs, &out), "%zu grants come back the same, signature too", n);

	/* every strict prefix is refused with a reason and leaves nothing */
	size_t bad = 0;
	for (size_t len = 0; len < m.payload.len; len++) {
		uint8_t *cut = malloc(len > 0 ? len : 1);   /* ASan sees reads past it */
		if (cut == NULL) {
			bad++;
			continue;
		}
		memcpy(cut, m.payload.data, len);
		stale(&out);
		if (decode(cut, len, &out, &err) == 0 || err == NULL || !empty(&out))
			bad++;
		grants_free(&out);
		free(cut);
	}
	CHECK(bad == 0, "%zu grants: none of the %zu truncations decodes or keeps state", n,
	      m.payload.len);

	/* an octet more is refused too */
	uint8_t *more = malloc(m.payload.len + 1);
	if (more != NULL) {
		memcpy(more, m.payload.data, m.payload.len);
		more[m.payload.len] = 0;
		stale(&out);
		CHECK(decode(more, m.payload.len + 1, &out, &err) < 0 && empty(&out),
		      "%zu grants: a trailing octet is refused (%s)", n, err != NULL ? err : "-");
		free(more);
	}
	grants_free(&out);
	ipc_msg_free(&m);
	grants_free(&gs);
}

/* The largest set master may send, every string at its longest: it fits
 * one IPC frame and comes back the same. (No truncation walk: at 70 KiB
 * that is quadratic work for no new case.) */
static void largest(void)
{
	struct grant_set gs, out = { 0 };
	struct ipc_msg m;
	const char *err = NULL;
	fill_longest(&gs, RD_MAX_GRANTS, RD_MAX_GRANTS);
	ipc_msg_init(&m, IPC_WORKER_GRANTS, 0);
	CHECK(grants_encode(&gs, &m) == 0 && m.payload.len <= RD_IPC_MAX_PAYLOAD,
	      "%u grants of the longest strings encode (%zu octets)", RD_MAX_GRANTS,
	      m.payload.len);
	CHECK(decode(m.payload.data, m.payload.len, &out, &err) == 0 && same(&gs, &out),
	      "and come back the same (%s)", err != NULL ? err : "-");
	grants_free(&out);
	ipc_msg_free(&m);
	grants_free(&gs);
}

/* One grant whose field `which` (0 owner .. 4 rights) is len octets of 'x'. */
static void one_long(struct ipc_msg *m, int which, size_t len)
{
	static char big[RD_IPC_MAX_STRING + 1];
	memset(big, 'x', len);
	big[len] = '\0';
	const char *f[5] = { "o@example.test", "g@example.test", "store-1", "INBOX", "lr" };
	f[which] = big;
	ipc_msg_init(m, IPC_WORKER_GRANTS, 0);
	(void)ipc_put_u32(m, 1);
	for (int i = 0; i < 5; i++)
		(void)ipc_put_str(m, f[i]);
}

/* Decodes m's payload over a stale set, then frees m: 1 decoded (n
 * grants in *n_r), 0 refused with a reason (*err_r) and the set left
 * empty, -1 refused some other way. */
static int outcome(struct ipc_msg *m, size_t *n_r, const char **err_r)
{
	struct grant_set out = { 0 };
	stale(&out);
	int r = decode(m->payload.data, m->payload.len, &out, err_r);
	*n_r = out.n;
	int ret = r == 0 ? 1 : *err_r != NULL && empty(&out) ? 0 : -1;
	if (*err_r == NULL)
		*err_r = "-";
	grants_free(&out);
	ipc_msg_free(m);
	return ret;
}

static void caps(void)
{
	static const struct {
		const char *name;
		size_t max;     /* longest that fits the field */
	} fields[5] = {
		{ "owner", RD_MAX_ADDRESS }, { "grantee", RD_MAX_ADDRESS },
		{ "store", RD_MAX_STORE_ID }, { "mailbox", RD_STORE_MAX_MAILBOX_NAME },
		{ "rights", RD_RIGHTS_BUF - 1 },
	};
	struct ipc_msg m;
	const char *err;
	size_t n;
	for (int i = 0; i < 5; i++) {
		one_long(&m, i, fields[i].max);
		CHECK(outcome(&m, &n, &err) == 1 && n == 1, "%s of %zu octets decodes",
		      fields[i].name, fields[i].max);
		one_long(&m, i, fields[i].max + 1);
		CHECK(outcome(&m, &n, &err) == 0, "%s of %zu octets is refused (%s)",
		      fields[i].name, fields[i].max + 1, err);
	}
	one_long(&m, 3, RD_IPC_MAX_STRING);
	CHECK(outcome(&m, &n, &err) == 0, "a string at the IPC cap is refused too (%s)", err);

	/* a count over the cap is refused before anything is allocated for
	 * it, whatever follows; so is a count the payload does not hold */
	const uint32_t counts[] = { RD_MAX_GRANTS + 1, UINT32_MAX };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		ipc_msg_init(&m, IPC_WORKER_GRANTS, 0);
		(void)ipc_put_u32(&m, counts[i]);
		CHECK(outcome(&m, &n, &err) == 0 && strcmp(err, "too many grants") == 0,
		      "a count of %lu is refused", (unsigned long)counts[i]);
	}
	ipc_msg_init(&m, IPC_WORKER_GRANTS, 0);
	(void)ipc_put_u32(&m, 2);
	for (int i = 0; i < 5; i++)
		(void)ipc_put_str(&m, "a");
	CHECK(outcome(&m, &n, &err) == 0, "two grants counted, one sent: refused (%s)", err);

	/* the wrong kind of field; a NUL inside a string (put by hand:
	 * ipc_put_str cannot) */
	ipc_msg_init(&m, IPC_WORKER_GRANTS, 0);
	(void)ipc_put_u64(&m, 1);
	CHECK(outcome(&m, &n, &err) == 0, "a u64 count is refused (%s)", err);
	ipc_msg_init(&m, IPC_WORKER_GRANTS, 0);
	(void)ipc_put_u32(&m, 1);
	(void)ipc_put_bytes(&m, "o@x", 3);
	CHECK(outcome(&m, &n, &err) == 0, "a bytes field for a string is refused (%s)", err);
	ipc_msg_init(&m, IPC_WORKER_GRANTS, 0);
	(void)ipc_put_u32(&m, 1);
	(void)(buffer_append_u8(&m.payload, 3) | buffer_append_u32(&m.payload, 3) |
	       buffer_append(&m.payload, "o\0x", 3));
	for (int i = 1; i < 5; i++)
		(void)ipc_put_str(&m, "a");
	CHECK(outcome(&m, &n, &err) == 0, "a NUL inside a string is refused (%s)", err);

	/* master never builds what the worker would refuse */
	struct grant_set gs;
	fill(&gs, RD_MAX_GRANTS);
	struct grant *wider = realloc(gs.v, (RD_MAX_GRANTS + 1) * sizeof(*gs.v));
	if (wider != NULL) {
		gs.v = wider;
		gs.v[RD_MAX_GRANTS] = gs.v[0];
		gs.n = RD_MAX_GRANTS + 1;
	}
	ipc_msg_init(&m, IPC_WORKER_GRANTS, 0);
	CHECK(wider != NULL && grants_encode(&gs, &m) < 0, "encoding %u grants is refused",
	      RD_MAX_GRANTS + 1);
	ipc_msg_free(&m);
	grants_free(&gs);
}

static void helpers(void)
{
	struct grant_set gs;
	const char *ids[4];
	fill(&gs, 7);   /* stores store-0 .. store-4 and "ss...s" */
	size_t n = grants_stores(&gs, "store-0", ids, 4);
	CHECK(n == 4 && strcmp(ids[0], "store-1") == 0 && strcmp(ids[3], "store-4") == 0,
	      "grants_stores: distinct, own left out, at most max");
	CHECK(grants_has_owner(&gs, "owner3@example.test") &&
	      !grants_has_owner(&gs, "owner9@example.test"), "grants_has_owner");
	grants_free(&gs);
	CHECK(empty(&gs), "grants_free empties the set");
}

/* The GETACL list: a round trip at 0, 1 and the cap with the longest
 * strings; every truncation and a trailing octet refused; one entry over
 * the cap, and a string too long for its field, refused. */
static void acl_list(void)
{
	static struct acl_entry v[RD_MAX_GRANTS + 1], got[RD_MAX_GRANTS];
	const char *err;
	size_t n;
	for (size_t i = 0; i <= RD_MAX_GRANTS; i++) {
		snprintf(v[i].grantee, sizeof(v[i].grantee), "user%zu@example.test", i);
		snprintf(v[i].rights, sizeof(v[i].rights), "%s", i % 2 ? "lr" : "lrswipkxtea");
	}
	memset(v[RD_MAX_GRANTS - 1].grantee, 'g', sizeof(v[0].grantee) - 1);
	memset(v[RD_MAX_GRANTS - 1].rights, 'r', sizeof(v[0].rights) - 1);
	size_t sizes[] = { 0, 1, RD_MAX_GRANTS };
	for (size_t k = 0; k < 3; k++) {
		struct ipc_msg m;
		ipc_msg_init(&m, IPC_ACL_LIST_RESULT, 1);
		CHECK(acl_list_encode(v + RD_MAX_GRANTS - sizes[k], sizes[k], &m) == 0,
		      "acl list: encode %zu", sizes[k]);
		struct ipc_reader r = { .p = m.payload.data, .len = m.payload.len, .off = 0 };
		bool ok = acl_list_decode(&r, got, &n, &err) == 0 && n == sizes[k];
		for (size_t i = 0; ok && i < n; i++)
			ok = strcmp(got[i].grantee, v[RD_MAX_GRANTS - sizes[k] + i].grantee) == 0 &&
			     strcmp(got[i].rights, v[RD_MAX_GRANTS - sizes[k] + i].rights) == 0;
		CHECK(ok, "acl list: %zu entries round trip", sizes[k]);
		bool refused = true;
		for (size_t len = 0; len < m.payload.len; len++) {
			struct ipc_reader t = { .p = m.payload.data, .len = len, .off = 0 };
			refused &= acl_list_decode(&t, got, &n, &err) < 0 && n == 0;
		}
		CHECK(refused, "acl list: every truncation of %zu entries refused", sizes[k]);
		(void)buffer_append_u8(&m.payload, 0);
		struct ipc_reader t = { .p = m.payload.data, .len = m.payload.len, .off = 0 };
		CHECK(acl_list_decode(&t, got, &n, &err) < 0 && n == 0,
		      "acl list: a trailing octet refused");
		ipc_msg_free(&m);
	}
	struct ipc_msg m;
	ipc_msg_init(&m, IPC_ACL_LIST_RESULT, 1);
	CHECK(acl_list_encode(v, RD_MAX_GRANTS + 1, &m) < 0, "acl list: encode over the cap refused");
	(void)ipc_put_u32(&m, RD_MAX_GRANTS + 1);
	for (size_t i = 0; i <= RD_MAX_GRANTS; i++)
		(void)(ipc_put_str(&m, v[i].grantee) | ipc_put_str(&m, v[i].rights));
	struct ipc_reader r = { .p = m.payload.data, .len = m.payload.len, .off = 0 };
	CHECK(acl_list_decode(&r, got, &n, &err) < 0 && n == 0, "acl list: decode over the cap refused");
	ipc_msg_free(&m);
	char longer[sizeof(v[0].grantee) + 1];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	ipc_msg_init(&m, IPC_ACL_LIST_RESULT, 1);
	(void)(ipc_put_u32(&m, 1) | ipc_put_str(&m, longer) | ipc_put_str(&m, "lr"));
	struct ipc_reader r2 = { .p = m.payload.data, .len = m.payload.len, .off = 0 };
	CHECK(acl_list_decode(&r2, got, &n, &err) < 0 && n == 0,
	      "acl list: a grantee longer than its field refused");
	ipc_msg_free(&m);
}

int main(void)
{
	round_trip(0);
	round_trip(1);
	round_trip(RD_MAX_GRANTS);
	largest();
	caps();
	helpers();
	acl_list();
	return TEST_DONE();
}
