/* worker-list.c: LIST and LSUB with LIST-EXTENDED (RFC 5258) selection and
 * return options, LIST-STATUS (RFC 5819) and SPECIAL-USE (RFC 6154), and
 * STATUS (with HIGHESTMODSEQ, RFC 7162, SIZE, RFC 8438, and APPENDLIMIT,
 * RFC 7889: the capability is sent without a value, since imap-login
 * advertises before the worker's configured limit is known).
 *
 * There is no subscription table: every mailbox counts as subscribed, so
 * the SUBSCRIBED selection lists the existing mailboxes, and hierarchy
 * levels that are no mailbox appear only with RECURSIVEMATCH (as
 * \NonExistent with CHILDINFO). Child and special-use attributes are sent
 * on every LIST, which RFC 5258 3 and RFC 6154 2 allow. */
#include "worker/worker.h"
#include "imap/imap-fetch.h"
#include "master/role.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- STATUS ---- */

static const char *const status_items[] = {
	"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "RECENT", "SIZE", "HIGHESTMODSEQ",
	"APPENDLIMIT", "MAILBOXID", "DELETED", "DELETED-STORAGE",
};

/* \Deleted messages of a mailbox and their octets (RFC 9051 DELETED,
 * RFC 9208 DELETED-STORAGE): not kept in the mailbox row, so counted. */
struct deleted_count {
	uint64_t n, octets;
};

static int deleted_cb(void *ctx, const struct store_message *m)
{
	struct deleted_count *d = ctx;
	if (m->flags & STORE_FLAG_DELETED) {
		d->n++;
		d->octets += m->size;
	}
	return 0;
}
#define NSTATUS (sizeof(status_items) / sizeof(status_items[0]))

static bool status_items_ok(const struct imap_arg *list)
{
	if (list == NULL || list->type != IMAP_ARG_LIST || list->count == 0)
		return false;
	for (const struct imap_arg *a = list->child; a != NULL; a = a->next) {
		size_t i = 0;
		while (i < NSTATUS && !imap_arg_is(a, status_items[i]))
			i++;
		if (i == NSTATUS)
			return false;
	}
	return true;
}

/* A store name as the client sees it: modified UTF-7, or UTF-8 after
 * ENABLE UTF8=ACCEPT; quoted when it can be. */
int mailbox_write_name(struct session *s, struct buffer *b, const char *name)
{
	char enc[RD_STORE_MAX_MAILBOX_NAME * 3 + 1];
	if (s->utf8 || imap_mutf7_encode(name, enc, sizeof(enc)) < 0)
		return imap_write_cstring(b, name);   /* not UTF-8: sent as it is */
	return imap_write_cstring(b, enc);
}

/* "* STATUS name (items)" for items already checked by status_items_ok. */
static void status_write(struct session *s, const char *name, const struct imap_arg *items,
			 const struct store_mailbox_info *mb)
{
	struct buffer b;
	buffer_init(&b, RD_IMAP_MAX_LINE);
	(void)buffer_append_str(&b, "* STATUS ");
	(void)mailbox_write_name(s, &b, name);
	(void)buffer_append_str(&b, " (");
	struct mbref ref = { 0 };
	struct deleted_count del = { 0 };
	bool resolved = mbox_resolve(s, name, &ref) == STORE_OK, counted = false;
	/* counts of another principal's mailbox are an access to it too
	 * (ARCHITECTURE rule 5): on the owner's record, like SELECT */
	if (resolved && ref.grant != NULL)
		shared_audit(s, ref.grant, "status", 0, 0);
	for (const struct imap_arg *a = items->child; a != NULL; a = a->next) {
		const char *sp = a == items->child ? "" : " ";
		unsigned long long v;
		const char *err;
		if (imap_arg_is(a, "MAILBOXID")) {
			char oid[MAILBOXID_BUF];
			mailbox_objectid(s, ref.grant, mb->id, oid);
			(void)buffer_printf(&b, "%sMAILBOXID (%s)", sp, oid);
			continue;
		}
		if ((imap_arg_is(a, "DELETED") || imap_arg_is(a, "DELETED-STORAGE")) && !counted) {
			counted = true;
			if (resolved)
				(void)store_fetch(ref.store, mb->id, 1, UINT32_MAX, deleted_cb, &del,
						  &err);
		}
		if (imap_arg_is(a, "DELETED"))
			v = del.n;
		else if (imap_arg_is(a, "DELETED-STORAGE"))
			v = (del.octets + 1023) / 1024;   /* RFC 9208: in units of 1024 octets */
		else if (imap_arg_is(a, "MESSAGES"))
			v = mb->messages;
		else if (imap_arg_is(a, "UIDNEXT"))
			v = mb->uidnext;
		else if (imap_arg_is(a, "UIDVALIDITY"))
			v = mb->uidvalidity;
		else if (imap_arg_is(a, "UNSEEN"))
			v = mb->unseen;
		else if (imap_arg_is(a, "RECENT"))
			v = mb->recent;   /* not yet claimed by any session */
		else if (imap_arg_is(a, "SIZE"))
			v = mb->total_size;
		else if (imap_arg_is(a, "APPENDLIMIT"))
			v = s->w->max_message;   /* RFC 7889: one limit for every mailbox */
		else {
			s->condstore = true;   /* RFC 7162 3.1: a CONDSTORE-enabling item */
			v = mb->highestmodseq;
		}
		(void)buffer_printf(&b, "%s%.*s %llu", sp, (int)a->len, (const char *)a->data, v);
	}
	(void)buffer_append_str(&b, ")\r\n");
	out_buf(s, &b);
	buffer_free(&b);
}

void cmd_status(struct session *s, const char *tag, const struct imap_arg *args)
{
	char name[RD_STORE_MAX_MAILBOX_NAME + 1];
	struct store_mailbox_info mb;
	const char *err;
	if (args == NULL || args->next == NULL || args->next->next != NULL ||
	    !status_items_ok(args->next)) {
		session_bad(s, tag, "Expected mailbox and status items");
		return;
	}
	if (mailbox_arg(s, tag, args, name, sizeof(name)) < 0)
		return;
	struct mbref ref;
	int r = mbox_resolve(s, name, &ref);
	if (r == STORE_OK && !mbref_may(ref.grant, 'r')) {
		out(s, "%s NO [NOPERM] No read right on this mailbox\r\n", tag);
		return;
	}
	if (r == STORE_OK)
		r = store_mailbox_get(ref.store, ref.name, &mb, &err);
	if (r != STORE_OK) {
		reply_store_error(s, tag, r, err);
		return;
	}
	status_write(s, name, args->next, &mb);
	out(s, "%s OK STATUS completed\r\n", tag);
}

/* ---- LIST / LSUB ---- */

struct names {
	struct store_mailbox_info *v;   /* names strdup'd */
	size_t n, cap;
	bool oom;
};

static int names_cb(void *ctx, const struct store_mailbox_info *mb)
{
	struct names *l = ctx;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct store_mailbox_info *v = realloc(l->v, ncap * sizeof(*v));
		if (v == NULL)
			goto oom;
		l->v = v;
		l->cap = ncap;
	}
	l->v[l->n] = *mb;
	if ((l->v[l->n].name = strdup(mb->name)) == NULL)
		goto oom;
	l->n++;
	return 0;
oom:
	l->oom = true;
	return 1;
}

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free((char *)l->v[i].name);
	free(l->v);
}

static bool has_child(const struct names *l, const char *name, size_t n)
{
	for (size_t i = 0; i < l->n; i++)
		if (strncmp(l->v[i].name, name, n) == 0 && l->v[i].name[n] == '/')
			return true;
	return false;
}

static bool exists(const struct names *l, const char *name, size_t len)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->v[i].name) == len && strncmp(l->v[i].name, name, len) == 0)
			return true;
	return false;
}

enum list_opt {
	SEL_SUBSCRIBED = 1u << 0, SEL_SPECIAL = 1u << 1, SEL_RECURSIVE = 1u << 2,
	RET_SUBSCRIBED = 1u << 3, RET_STATUS = 1u << 4,
};

struct list_req {
	const char *cmd;                 /* "LIST" or "LSUB" */
	unsigned opts;
	const struct imap_arg *status;   /* RETURN (STATUS (...)) items */
	char pats[RD_IMAP_MAX_LIST_PATTERNS][2 * RD_STORE_MAX_MAILBOX_NAME + 2];
	size_t npats;
};

static bool matches(const struct list_req *q, const char *name)
{
	for (size_t i = 0; i < q->npats; i++)
		if (imap_list_match(q->pats[i], name))
			return true;
	return false;
}

static void list_line(struct session *s, const struct list_req *q, const char *attrs,
		      const char *name, bool childinfo)
{
	struct buffer b;
	buffer_init(&b, RD_IMAP_MAX_LINE);
	if (buffer_printf(&b, "* %s (%s) \"/\" ", q->cmd, attrs) == 0 &&
	    mailbox_write_name(s, &b, name) == 0 &&
	    (!childinfo || buffer_append_str(&b, " (\"CHILDINFO\" (\"SUBSCRIBED\"))") == 0) &&
	    buffer_append_str(&b, "\r\n") == 0)
		out_buf(s, &b);
	buffer_free(&b);
}

/* Selection options before the reference; -1 with *why_r. */
static int list_select_opts(const struct imap_arg *list, struct list_req *q, const char **why_r)
{
	for (const struct imap_arg *o = list->child; o != NULL; o = o->next) {
		if (imap_arg_is(o, "SUBSCRIBED"))
			q->opts |= SEL_SUBSCRIBED;
		else if (imap_arg_is(o, "SPECIAL-USE"))
			q->opts |= SEL_SPECIAL;
		else if (imap_arg_is(o, "RECURSIVEMATCH"))
			q->opts |= SEL_RECURSIVE;
		else if (!imap_arg_is(o, "REMOTE")) {
			*why_r = "Unknown LIST selection option";
			return -1;
		}
	}
	/* RFC 5258 3.1: RECURSIVEMATCH alone (or with REMOTE) is an error */
	if ((q->opts & SEL_RECURSIVE) && !(q->opts & (SEL_SUBSCRIBED | SEL_SPECIAL))) {
		*why_r = "RECURSIVEMATCH needs another selection option";
		return -1;
	}
	return 0;
}

/* RETURN (...) after the patterns; -1 with *why_r. */
static int list_return_opts(const struct imap_arg *a, struct list_req *q, const char **why_r)
{
	*why_r = "Invalid LIST return options";
	if (!imap_arg_is(a, "RETURN") || a->next == NULL || a->next->type != IMAP_ARG_LIST ||
	    a->next->next != NULL)
		return -1;
	for (const struct imap_arg *o = a->next->child; o != NULL; o = o->next) {
		if (imap_arg_is(o, "SUBSCRIBED")) {
			q->opts |= RET_SUBSCRIBED;
		} else if (imap_arg_is(o, "STATUS")) {
			if (!status_items_ok(o->next)) {
				*why_r = "Invalid STATUS return option";
				return -1;
			}
			q->opts |= RET_STATUS;
			q->status = o->next;
			o = o->next;
		} else if (!imap_arg_is(o, "CHILDREN") && !imap_arg_is(o, "SPECIAL-USE")) {
			return -1;
		}
	}
	return 0;
}

/* ref + one pattern into q->pats[q->npats++], as UTF-8 with INBOX
 * canonical; -1 with *why_r. */
static int add_pattern(struct session *s, struct list_req *q, const char *ref,
		       const struct imap_arg *p, const char **why_r)
{
	char pat[RD_STORE_MAX_MAILBOX_NAME + 1];
	char joined[2 * RD_STORE_MAX_MAILBOX_NAME + 2];
	if (q->npats >= RD_IMAP_MAX_LIST_PATTERNS || imap_arg_copy(p, pat, sizeof(pat)) < 0) {
		*why_r = "Expected reference and mailbox pattern";
		return -1;
	}
	char *full = q->pats[q->npats];
	snprintf(joined, sizeof(joined), "%s%s", ref, pat);
	if (s->utf8)
		memcpy(full, joined, strlen(joined) + 1);
	else if (imap_mutf7_decode(joined, full, sizeof(q->pats[0])) < 0) {
		*why_r = "Invalid mailbox pattern (modified UTF-7)";
		return -1;
	}
	if (strncasecmp(full, "INBOX", 5) == 0 && (full[5] == '\0' || full[5] == '/'))
		memcpy(full, "INBOX", 5);
	q->npats++;
	return 0;
}

static void list_emit(struct session *s, const struct list_req *q, const struct names *l)
{
	bool subscribed_sel = (q->opts & SEL_SUBSCRIBED) != 0;
	bool show_sub = (q->opts & (SEL_SUBSCRIBED | RET_SUBSCRIBED)) != 0;
	bool childinfo = subscribed_sel && (q->opts & SEL_RECURSIVE);
	for (size_t i = 0; i < l->n; i++) {
		const char *name = l->v[i].name;
		/* ancestors that are not mailboxes themselves, once each */
		for (const char *sl = strchr(name, '/'); sl != NULL; sl = strchr(sl + 1, '/')) {
			size_t plen = (size_t)(sl - name);
			char parent[RD_STORE_MAX_MAILBOX_NAME + 1];
			memcpy(parent, name, plen);
			parent[plen] = '\0';
			if ((q->opts & SEL_SPECIAL) || (subscribed_sel && !childinfo) ||
			    exists(l, parent, plen) || !matches(q, parent))
				continue;
			bool first = true;
			for (size_t k = 0; k < i && first; k++)
				if (strncmp(l->v[k].name, parent, plen) == 0 &&
				    l->v[k].name[plen] == '/')
					first = false;
			if (first)
				list_line(s, q, childinfo ? "\\NonExistent \\HasChildren" :
					  "\\Noselect \\HasChildren", parent, childinfo);
		}
		const char *su = store_special_use_name(l->v[i].special_use);
		if (!matches(q, name) || ((q->opts & SEL_SPECIAL) && su == NULL))
			continue;
		bool kids = has_child(l, name, strlen(name));
		char attrs[80];
		snprintf(attrs, sizeof(attrs), "%s%s%s%s",
			 kids ? "\\HasChildren" : "\\HasNoChildren",
			 show_sub ? " \\Subscribed" : "", su ? " " : "", su ? su : "");
		list_line(s, q, attrs, name, childinfo && kids);
		if (q->opts & RET_STATUS) {
			/* RFC 5819: the counts right after the mailbox's LIST line;
			 * the selected one comes from the store too, as STATUS on it
			 * may (RFC 9051 6.3.11 asks clients not to rely on either) */
			status_write(s, name, q->status, &l->v[i]);
		}
	}
}

void cmd_list(struct session *s, const char *tag, const struct imap_arg *args, bool lsub)
{
	char ref[RD_STORE_MAX_MAILBOX_NAME + 1];
	const char *err = "Expected reference and mailbox pattern";
	struct list_req *q = calloc(1, sizeof(*q));
	if (q == NULL) {
		out(s, "%s NO [SERVERBUG] Out of memory\r\n", tag);
		return;
	}
	q->cmd = lsub ? "LSUB" : "LIST";
	if (lsub)
		q->opts |= RET_SUBSCRIBED;   /* every LSUB answer is subscribed */
	if (args != NULL && args->type == IMAP_ARG_LIST && !lsub) {
		if (list_select_opts(args, q, &err) < 0)
			goto bad;
		args = args->next;
	}
	const struct imap_arg *pata = args != NULL ? args->next : NULL;
	if (args == NULL || pata == NULL || imap_arg_copy(args, ref, sizeof(ref)) < 0)
		goto bad;
	if (pata->next != NULL && (lsub || list_return_opts(pata->next, q, &err) < 0))
		goto bad;
	if (pata->type == IMAP_ARG_LIST && !lsub && pata->child != NULL) {
		for (const struct imap_arg *p = pata->child; p != NULL; p = p->next)
			if (add_pattern(s, q, ref, p, &err) < 0)
				goto bad;
	} else if (imap_arg_is_string(pata) && pata->len == 0) {
		/* RFC 3501 6.3.8: the hierarchy delimiter and root */
		out(s, "* %s (\\Noselect) \"/\" \"\"\r\n%s OK %s completed\r\n", q->cmd, tag, q->cmd);
		free(q);
		return;
	} else if (add_pattern(s, q, ref, pata, &err) < 0) {
		goto bad;
	}
	struct names l = { 0 };
	int r = store_mailbox_list(s->w->store, names_cb, &l, &err);
	if (r == STORE_OK && !l.oom)
		(void)shared_list(s, names_cb, &l);
	if (r != STORE_OK || l.oom)
		reply_store_error(s, tag, r != STORE_OK ? r : STORE_ERROR, l.oom ? "Out of memory" : err);
	else {
		list_emit(s, q, &l);
		out(s, "%s OK %s completed\r\n", tag, q->cmd);
	}
	names_free(&l);
	free(q);
	return;
bad:
	free(q);
	session_bad(s, tag, err);
}

/* ---- QUOTA (RFC 9208): one root, "", the principal's whole store ---- */

struct usage {
	uint64_t octets;
};

static int usage_cb(void *ctx, const struct store_mailbox_info *mb)
{
	((struct usage *)ctx)->octets += mb->total_size;
	return 0;
}

static void quota_line(struct session *s)
{
	struct usage u = { 0 };
	const char *err;
	(void)store_mailbox_list(s->w->store, usage_cb, &u, &err);
	out(s, "* QUOTA \"\" (STORAGE %llu %llu)\r\n", (unsigned long long)((u.octets + 1023) / 1024),
	    (unsigned long long)(s->w->ctx->quota_bytes / 1024));
}

void cmd_quota(struct session *s, const char *tag, const char *cmd, const struct imap_arg *args)
{
	bool limited = s->w->ctx->quota_bytes > 0;
	if (strcmp(cmd, "SETQUOTA") == 0) {
		out(s, "%s NO [NOPERM] Quotas are set by the administrator "
		    "(limits.mailbox_quota_mib)\r\n", tag);
		return;
	}
	if (args == NULL || args->next != NULL) {
		session_bad(s, tag, "Expected one argument");
		return;
	}
	if (strcmp(cmd, "GETQUOTA") == 0) {
		if (!imap_arg_is_string(args) || args->len != 0 || !limited) {
			out(s, "%s NO [NONEXISTENT] No such quota root\r\n", tag);
			return;
		}
		quota_line(s);
		out(s, "%s OK GETQUOTA completed\r\n", tag);
		return;
	}
	char name[RD_STORE_MAX_MAILBOX_NAME + 1];
	struct mbref ref;
	struct store_mailbox_info info;
	const char *err;
	if (mailbox_arg(s, tag, args, name, sizeof(name)) < 0)
		return;
	if (mbox_resolve(s, name, &ref) != STORE_OK ||
	    store_mailbox_get(ref.store, ref.name, &info, &err) != STORE_OK) {
		out(s, "%s NO [NONEXISTENT] No such mailbox\r\n", tag);
		return;
	}
	struct buffer b;
	buffer_init(&b, RD_IMAP_MAX_LINE);
	(void)buffer_append_str(&b, "* QUOTAROOT ");
	(void)mailbox_write_name(s, &b, name);
	/* another owner's quota is theirs to know */
	(void)buffer_append_str(&b, limited && ref.grant == NULL ? " \"\"\r\n" : "\r\n");
	out_buf(s, &b);
	buffer_free(&b);
	if (limited && ref.grant == NULL)
		quota_line(s);
	out(s, "%s OK GETQUOTAROOT completed\r\n", tag);
}
