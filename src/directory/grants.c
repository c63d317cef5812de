/* grants.c: the grants table of directory.db (see directory.h). Grants are
 * read when a worker starts and written by admin commands, so statements
 * are prepared per call rather than kept. Every value is bound. */
#include "directory/directory.h"
#include "directory/address.h"
#include "directory/directory-private.h"
#include "directory/sqlitedb.h"
#include <string.h>
#include <time.h>

/* RFC 4314 2.1, in the order they are kept. */
static const char rights_order[] = "lrswipkxtea";

static int fail(const char **error_r, const char *msg)
{
	*error_r = msg;
	return -1;
}

int directory_rights_canon(const char *rights, char *out, size_t outlen,
			   const char **error_r)
{
	unsigned have = 0;
	for (const char *p = rights; *p != '\0'; p++) {
		const char *add = NULL;
		char one[2] = { *p, '\0' };
		if (*p == 'c')
			add = "k";
		else if (*p == 'd')
			add = "xte";
		else if (strchr(rights_order, *p) != NULL)
			add = one;
		else
			return fail(error_r, "unknown right (RFC 4314 rights are lrswipkxtea)");
		for (; *add != '\0'; add++)
			have |= 1u << (strchr(rights_order, *add) - rights_order);
	}
	size_t n = 0;
	if (outlen < sizeof(rights_order))
		return fail(error_r, "rights buffer too small");
	for (size_t i = 0; rights_order[i] != '\0'; i++)
		if (have & (1u << i))
			out[n++] = rights_order[i];
	out[n] = '\0';
	return 0;
}

/* Mailbox names come from the CLI or from a worker's SETACL; the store
 * validates them fully when it is asked for the mailbox. Here: non-empty,
 * bounded, no control characters, so the table holds nothing strange. */
static int mailbox_ok(const char *m, const char **error_r)
{
	size_t n = strlen(m);
	if (n == 0 || n > RD_STORE_MAX_MAILBOX_NAME)
		return fail(error_r, "mailbox name is empty or too long");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)m[i] < 0x20 || m[i] == 0x7f)
			return fail(error_r, "mailbox name holds a control character");
	return 0;
}

static int prepare(struct directory *d, const char *sql, sqlite3_stmt **st,
		   const char **error_r)
{
	if (sqlite3_prepare_v2(directory_db(d), sql, -1, st, NULL) != SQLITE_OK)
		return fail(error_r, sqlite3_errmsg(directory_db(d)));
	return 0;
}

/* Both parties canonical, users, and different. */
static int parties(struct directory *d, const char *owner, const char *grantee,
		   char o[ADDRESS_BUF_SIZE], char g[ADDRESS_BUF_SIZE],
		   const char **error_r)
{
	char sid[DIRECTORY_STORE_ID_BUF];
	if (address_canon_err(owner, o, ADDRESS_BUF_SIZE, error_r) < 0 ||
	    address_canon_err(grantee, g, ADDRESS_BUF_SIZE, error_r) < 0)
		return -1;
	if (strcmp(o, g) == 0)
		return fail(error_r, "an owner has every right on their mailboxes already");
	if (directory_user_lookup(d, o, sid, sizeof(sid)) < 0)
		return fail(error_r, "owner is not a user");
	if (directory_user_lookup(d, g, sid, sizeof(sid)) < 0)
		return fail(error_r, "grantee is not a user");
	return 0;
}

int directory_grant_set(struct directory *d, const char *owner,
			const char *mailbox, const char *grantee,
			const char *rights, const char **error_r)
{
	char o[ADDRESS_BUF_SIZE], g[ADDRESS_BUF_SIZE], r[RD_RIGHTS_BUF];
	if (directory_rights_canon(rights, r, sizeof(r), error_r) < 0 ||
	    mailbox_ok(mailbox, error_r) < 0 || parties(d, owner, grantee, o, g, error_r) < 0)
		return -1;
	if (r[0] == '\0') {
		const char *e;
		(void)directory_grant_remove(d, o, mailbox, g, &e);
		return 0;
	}
	sqlite3_stmt *st;
	if (prepare(d, "INSERT INTO grants(owner, mailbox, grantee, rights, created)"
		       " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(owner, mailbox, grantee)"
		       " DO UPDATE SET rights = excluded.rights", &st, error_r) < 0)
		return -1;
	int ret = -1;
	if (sqlitedb_bind_text(st, 1, o) == 0 && sqlitedb_bind_text(st, 2, mailbox) == 0 &&
	    sqlitedb_bind_text(st, 3, g) == 0 && sqlitedb_bind_text(st, 4, r) == 0 &&
	    sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL)) == SQLITE_OK)
		ret = sqlitedb_step_done(directory_db(d), st, error_r);
	else
		*error_r = sqlite3_errmsg(directory_db(d));
	sqlite3_finalize(st);
	return ret;
}

int directory_grant_remove(struct directory *d, const char *owner,
			   const char *mailbox, const char *grantee,
			   const char **error_r)
{
	char o[ADDRESS_BUF_SIZE], g[ADDRESS_BUF_SIZE];
	if (address_canon_err(owner, o, sizeof(o), error_r) < 0 ||
	    address_canon_err(grantee, g, sizeof(g), error_r) < 0)
		return -1;
	sqlite3_stmt *st;
	if (prepare(d, "DELETE FROM grants WHERE owner = ?1 AND mailbox = ?2"
		       " AND grantee = ?3", &st, error_r) < 0)
		return -1;
	int ret = -1;
	if (sqlitedb_bind_text(st, 1, o) == 0 && sqlitedb_bind_text(st, 2, mailbox) == 0 &&
	    sqlitedb_bind_text(st, 3, g) == 0)
		ret = sqlitedb_step_done(directory_db(d), st, error_r);
	else
		*error_r = sqlite3_errmsg(directory_db(d));
	sqlite3_finalize(st);
	if (ret == 0 && sqlite3_changes(directory_db(d)) == 0)
		ret = fail(error_r, "no such grant");
	return ret;
}

int directory_grant_list(struct directory *d, const char *owner_or_null,
			 const char *grantee_or_null,
			 int (*cb)(void *ctx, const struct directory_grant *g),
			 void *ctx, const char **error_r)
{
	char o[ADDRESS_BUF_SIZE], g[ADDRESS_BUF_SIZE];
	if ((owner_or_null != NULL &&
	     address_canon_err(owner_or_null, o, sizeof(o), error_r) < 0) ||
	    (grantee_or_null != NULL &&
	     address_canon_err(grantee_or_null, g, sizeof(g), error_r) < 0))
		return -1;
	sqlite3_stmt *st;
	if (prepare(d, "SELECT g.owner, u.store_id, g.mailbox, g.grantee, g.rights"
		       " FROM grants g JOIN users u ON u.address = g.owner"
		       " WHERE (?1 IS NULL OR g.owner = ?1) AND (?2 IS NULL OR g.grantee = ?2)"
		       " ORDER BY g.owner, g.mailbox, g.grantee", &st, error_r) < 0)
		return -1;
	if ((owner_or_null != NULL && sqlitedb_bind_text(st, 1, o) < 0) ||
	    (grantee_or_null != NULL && sqlitedb_bind_text(st, 2, g) < 0)) {
		sqlite3_finalize(st);
		return fail(error_r, "could not bind");
	}
	int rc, ret = 0;
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct directory_grant gr = {
			.owner = (const char *)sqlite3_column_text(st, 0),
			.owner_store = (const char *)sqlite3_column_text(st, 1),
			.mailbox = (const char *)sqlite3_column_text(st, 2),
			.grantee = (const char *)sqlite3_column_text(st, 3),
			.rights = (const char *)sqlite3_column_text(st, 4),
		};
		if (gr.owner == NULL || gr.owner_store == NULL || gr.mailbox == NULL ||
		    gr.grantee == NULL || gr.rights == NULL)
			ret = fail(error_r, "NULL in a grant row");
		else if (cb(ctx, &gr) != 0)
			ret = fail(error_r, "stopped by the callback");
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = fail(error_r, sqlite3_errmsg(directory_db(d)));
	sqlite3_finalize(st);
	return ret;
}

struct rights_ctx {
	const char *mailbox;
	char *out;
	size_t outlen;
};

static int rights_cb(void *ctx, const struct directory_grant *g)
{
	struct rights_ctx *rc = ctx;
	if (strcmp(g->mailbox, rc->mailbox) == 0 && strlen(g->rights) < rc->outlen)
		memcpy(rc->out, g->rights, strlen(g->rights) + 1);
	return 0;
}

int directory_grant_rights(struct directory *d, const char *owner,
			   const char *mailbox, const char *grantee,
			   char *out, size_t outlen, const char **error_r)
{
	struct rights_ctx rc = { mailbox, out, outlen };
	if (outlen == 0)
		return fail(error_r, "rights buffer too small");
	out[0] = '\0';
	return directory_grant_list(d, owner, grantee, rights_cb, &rc, error_r);
}
