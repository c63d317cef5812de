/* grants.c: see grants.h. */
#include "master/grants.h"
#include "directory/directory.h"
#include "lib/buffer.h"
#include "lib/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char **error_r, const char *msg)
{
	*error_r = msg;
	return -1;
}

static int load_cb(void *ctx, const struct directory_grant *g)
{
	struct grant_set *gs = ctx;
	if (gs->n >= RD_MAX_GRANTS) {
		log_error("grants_capped", "principal", g->grantee, "owner", g->owner,
			  "mailbox", g->mailbox);
		return 0;
	}
	struct grant *x = &gs->v[gs->n];
	if (str_copy(x->owner, sizeof(x->owner), g->owner) < 0 ||
	    str_copy(x->grantee, sizeof(x->grantee), g->grantee) < 0 ||
	    str_copy(x->store, sizeof(x->store), g->owner_store) < 0 ||
	    str_copy(x->mailbox, sizeof(x->mailbox), g->mailbox) < 0 ||
	    str_copy(x->rights, sizeof(x->rights), g->rights) < 0)
		return 0;
	/* one more owner store than a worker may hold: leave this one out */
	const char *ids[RD_MAX_SHARED_STORES + 1];
	gs->n++;
	if (grants_stores(gs, gs->own_store, ids, RD_MAX_SHARED_STORES + 1) >
	    RD_MAX_SHARED_STORES) {
		gs->n--;
		log_error("grants_capped", "principal", g->grantee, "owner", g->owner,
			  "mailbox", g->mailbox);
	}
	return 0;
}

int grants_load(const char *data_dir, const char *principal, char *store,
		struct grant_set *gs, const char **error_r)
{
	char dir[4096];
	struct directory *d;
	memset(gs, 0, sizeof(*gs));
	snprintf(dir, sizeof(dir), "%s/directory", data_dir);
	if (directory_open(dir, 0, &d, error_r) < 0)
		return -1;
	int r = -1;
	if (directory_user_lookup(d, principal, store, RD_MAX_STORE_ID + 1) < 0) {
		*error_r = "not a user";
	} else if ((gs->v = calloc(RD_MAX_GRANTS, sizeof(*gs->v))) == NULL) {
		*error_r = "out of memory";
	} else {
		gs->own_store = store;
		r = directory_grant_list(d, NULL, principal, load_cb, gs, error_r);
		if (r == 0)
			r = directory_grant_list(d, principal, NULL, load_cb, gs, error_r);
		gs->own_store = NULL;
	}
	directory_close(&d);
	if (r < 0) {
		grants_free(gs);
		return -1;
	}
	grants_sign(gs);
	return 0;
}

int grants_apply_request(const char *data_dir, const char *principal, const char *owner,
			 const char *mailbox, const char *grantee, const char *rights,
			 uint32_t mode, char *rights_out, size_t outlen, const char **reply_r)
{
	char dir[4096], have[RD_RIGHTS_BUF], given[RD_RIGHTS_BUF], sid[RD_MAX_STORE_ID + 1];
	struct directory *d;
	const char *err;
	if (mode > 2 || outlen < RD_RIGHTS_BUF)
		return fail(reply_r, "[CANNOT] Malformed request");
	snprintf(dir, sizeof(dir), "%s/directory", data_dir);
	if (directory_open(dir, 0, &d, &err) < 0)
		return fail(reply_r, "[UNAVAILABLE] The directory cannot be read now");
	int r = -1;
	if (strcmp(owner, principal) != 0 &&
	    (directory_grant_rights(d, owner, mailbox, principal, have, sizeof(have), &err) < 0 ||
	     strchr(have, 'a') == NULL)) {
		*reply_r = "[NOPERM] You may not administer this mailbox";
	} else if (directory_user_lookup(d, grantee, sid, sizeof(sid)) < 0) {
		*reply_r = "[CANNOT] Rights can be given to users of this server only";
	} else if (directory_rights_canon(rights, given, sizeof(given), &err) < 0) {
		*reply_r = "[CANNOT] Unknown right (RFC 4314 rights are lrswipkxtea)";
	} else if (directory_grant_rights(d, owner, mailbox, grantee, have, sizeof(have),
					  &err) < 0) {
		*reply_r = "[SERVERBUG] The directory cannot be read";
	} else {
		/* the new set: given, or have with given added or taken away */
		char merged[2 * RD_RIGHTS_BUF];
		size_t n = 0;
		merged[0] = '\0';
		if (mode == 0) {
			snprintf(merged, sizeof(merged), "%s", given);
		} else {
			for (const char *p = have; *p; p++)
				if (mode == 1 || strchr(given, *p) == NULL)
					merged[n++] = *p;
			for (const char *p = given; mode == 1 && *p; p++)
				merged[n++] = *p;
			merged[n] = '\0';
		}
		if (directory_rights_canon(merged, rights_out, outlen, &err) < 0 ||
		    directory_grant_set(d, owner, mailbox, grantee, rights_out, &err) < 0)
			*reply_r = err != NULL && strstr(err, "owner") != NULL ?
				   "[CANNOT] An owner has every right already" :
				   "[CANNOT] The grant could not be recorded";
		else
			r = 0;
	}
	directory_close(&d);
	return r;
}

struct acl_list {
	const char *mailbox;
	struct acl_entry *v;
	size_t n;
};

static int acl_cb(void *ctx, const struct directory_grant *g)
{
	struct acl_list *l = ctx;
	if (strcmp(g->mailbox, l->mailbox) != 0)
		return 0;
	if (l->n >= RD_MAX_GRANTS) {
		log_error("acl_list_capped", "owner", g->owner, "mailbox", g->mailbox);
		return 0;
	}
	struct acl_entry *x = &l->v[l->n];
	if (str_copy(x->grantee, sizeof(x->grantee), g->grantee) == 0 &&
	    str_copy(x->rights, sizeof(x->rights), g->rights) == 0)
		l->n++;
	return 0;
}

int grants_acl_list(const char *data_dir, const char *principal, const char *owner,
		    const char *mailbox, struct ipc_msg *msg, const char **reply_r)
{
	char dir[4096], have[RD_RIGHTS_BUF];
	struct directory *d;
	const char *err;
	struct acl_list l = { .mailbox = mailbox };
	snprintf(dir, sizeof(dir), "%s/directory", data_dir);
	if (directory_open(dir, 0, &d, &err) < 0)
		return fail(reply_r, "[UNAVAILABLE] The directory cannot be read now");
	int r = -1;
	if (directory_grant_rights(d, owner, mailbox, principal, have, sizeof(have), &err) < 0 ||
	    strchr(have, 'a') == NULL)
		*reply_r = "[NOPERM] You may not administer this mailbox";
	else if ((l.v = calloc(RD_MAX_GRANTS, sizeof(*l.v))) == NULL)
		*reply_r = "[SERVERBUG] Out of memory";
	else if (directory_grant_list(d, owner, NULL, acl_cb, &l, &err) < 0)
		*reply_r = "[SERVERBUG] The directory cannot be read";
	else
		r = 0;
	directory_close(&d);
	if (r == 0 && acl_list_encode(l.v, l.n, msg) < 0) {
		*reply_r = "[SERVERBUG] Access list too long";
		r = -1;
	}
	free(l.v);
	return r;
}
