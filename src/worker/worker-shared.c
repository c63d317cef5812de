/* worker-shared.c: other owners' mailboxes this principal was granted
 * (IMAP ACL, RFC 4314), seen under the "Shared/OWNER/" prefix (the
 * NAMESPACE "other users" entry).
 *
 * Master started this worker confined to its own store plus the store of
 * every owner that granted it something (master/grants.h), so the kernel
 * keeps it out of everyone else's; within a granted store the rights of
 * each grant are enforced here, per mailbox. Every open of another owner's
 * mailbox (SELECT, EXAMINE), the end of it (with what was read) and every
 * message put into one goes on the audit record under that owner (rule 5);
 * master checks the owner named is one that granted this worker.
 *
 * Grants are changed by the operator (`redoubt grant`) or by the owner
 * (and holders of "a") with SETACL/DELETEACL: the worker cannot write the
 * directory, so it asks master (IPC_GRANT_SET), which checks, records,
 * audits, answers, and tells the running workers of both parties.
 * MYRIGHTS, GETACL and LISTRIGHTS report them. */
#include "worker/worker.h"
#include "imap/imap-fetch.h"
#include "master/role.h"
#include "audit/audit-log.h"
#include "lib/log.h"
#include "lib/ipc.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SHARED_PREFIX "Shared/"
#define SHARED_PREFIX_LEN (sizeof(SHARED_PREFIX) - 1)

/* The open handle on a granted owner's store, opened at first use. */
static struct store *shared_store(struct worker *w, const char *id)
{
	if (strcmp(id, w->ctx->store_id) == 0)
		return w->store;
	for (size_t i = 0; i < w->nshared; i++)
		if (strcmp(w->shared[i].id, id) == 0) {
			if (w->shared[i].st == NULL) {
				char root[4096];
				const char *err;
				snprintf(root, sizeof(root), "%s/stores", w->ctx->data_dir);
				struct store_params sp = { .stores_root = root };
				if (store_open(&sp, id, &w->shared[i].st, &err) != STORE_OK) {
					log_error("shared_store_open_failed", "store", id,
						  "reason", err);
					return NULL;
				}
			}
			return w->shared[i].st;
		}
	return NULL;   /* not a store master confined us to */
}

void shared_close_all(struct worker *w)
{
	for (size_t i = 0; i < w->nshared; i++)
		store_close(&w->shared[i].st);
}

static bool is_own(const struct worker *w, const struct grant *g)
{
	return strcmp(g->owner, w->ctx->principal) == 0;
}

bool shared_name(const char *name)
{
	return strncmp(name, SHARED_PREFIX, SHARED_PREFIX_LEN) == 0 ||
	       strcmp(name, "Shared") == 0;
}

int mbox_resolve(struct session *s, const char *name, struct mbref *ref)
{
	struct worker *w = s->w;
	memset(ref, 0, sizeof(*ref));
	if (!shared_name(name)) {
		ref->store = w->store;
		ref->name = name;
		return STORE_OK;
	}
	const char *owner = name + SHARED_PREFIX_LEN, *sl = strchr(owner, '/');
	if (strncmp(name, SHARED_PREFIX, SHARED_PREFIX_LEN) != 0 || sl == NULL)
		return STORE_NOT_FOUND;
	size_t olen = (size_t)(sl - owner);
	const char *mbox = sl + 1;
	for (size_t i = 0; i < w->grants.n; i++) {
		const struct grant *g = &w->grants.v[i];
		if (is_own(w, g) || strlen(g->owner) != olen ||
		    strncasecmp(g->owner, owner, olen) != 0 ||
		    (strcmp(g->mailbox, mbox) != 0 &&
		     !(strcmp(g->mailbox, "INBOX") == 0 && strcasecmp(mbox, "INBOX") == 0)))
			continue;
		/* RFC 4314 6: without "l" (or "r") the mailbox does not exist
		 * for this user, so nobody learns what is shared */
		if (strchr(g->rights, 'l') == NULL && strchr(g->rights, 'r') == NULL)
			return STORE_NOT_FOUND;
		if ((ref->store = shared_store(w, g->store)) == NULL)
			return STORE_NOT_FOUND;
		ref->name = g->mailbox;
		ref->grant = g;
		return STORE_OK;
	}
	return STORE_NOT_FOUND;
}

void shared_refresh(struct session *s)
{
	struct grant *cur = &s->sel->grant;
	for (size_t i = 0; i < s->w->grants.n; i++) {
		const struct grant *g = &s->w->grants.v[i];
		if (strcmp(g->owner, cur->owner) == 0 && strcmp(g->mailbox, cur->mailbox) == 0 &&
		    strcmp(g->grantee, cur->grantee) == 0) {
			memcpy(cur->rights, g->rights, sizeof(cur->rights));
			return;
		}
	}
	cur->rights[0] = '\0';
	s->sel->readonly = true;
}

bool mbref_may(const struct grant *g, char right)
{
	return g == NULL || strchr(g->rights, right) != NULL;
}

void shared_audit(struct session *s, const struct grant *g, const char *action,
		  uint64_t msgs, uint64_t bytes)
{
	char m[24], b[24];
	snprintf(m, sizeof(m), "%llu", (unsigned long long)msgs);
	snprintf(b, sizeof(b), "%llu", (unsigned long long)bytes);
	struct audit_kv kv[] = {
		{ AUDIT_F_OWNER, g->owner }, { AUDIT_F_MAILBOX, g->mailbox },
		{ AUDIT_F_ADDRESS, s->peer }, { AUDIT_F_PROTOCOL, "imap" },
		{ "action", action }, { "rights", g->rights },
		{ AUDIT_F_MESSAGES, m }, { AUDIT_F_BYTES, b },
	};
	role_audit(s->w->ctx->ipc_fd, "store_access", kv, sizeof(kv) / sizeof(kv[0]));
}

int shared_list(struct session *s, store_mailbox_cb *cb, void *ctx)
{
	struct worker *w = s->w;
	for (size_t i = 0; i < w->grants.n; i++) {
		const struct grant *g = &w->grants.v[i];
		struct store *st;
		struct store_mailbox_info info;
		const char *err;
		char name[RD_STORE_MAX_MAILBOX_NAME + 1];
		if (is_own(w, g) || strchr(g->rights, 'l') == NULL ||
		    (st = shared_store(w, g->store)) == NULL ||
		    store_mailbox_get(st, g->mailbox, &info, &err) != STORE_OK)
			continue;
		int n = snprintf(name, sizeof(name), "%s%s/%s", SHARED_PREFIX, g->owner, g->mailbox);
		if (n < 0 || (size_t)n >= sizeof(name))
			continue;
		info.name = name;
		/* the owner's \Sent is not the grantee's */
		info.special_use = STORE_SPECIAL_NONE;
		if (cb(ctx, &info) != 0)
			return -1;
	}
	return 0;
}

/* ---- ACL commands (RFC 4314 3) ---- */

/* RFC 4314 2.1: everything the owner has. */
#define ALL_RIGHTS "lrswipkxtea"

static int acl_target(struct session *s, const char *tag, const struct imap_arg *a,
		      char *name, size_t len, struct mbref *ref)
{
	if (mailbox_arg(s, tag, a, name, len) < 0)
		return -1;
	int r = mbox_resolve(s, name, ref);
	struct store_mailbox_info info;
	const char *err;
	if (r == STORE_OK)
		r = store_mailbox_get(ref->store, ref->name, &info, &err);
	if (r != STORE_OK) {
		out(s, "%s NO [NONEXISTENT] No such mailbox\r\n", tag);
		return -1;
	}
	return 0;
}

static void write_acl_line(struct session *s, const char *cmd, const char *name,
			   const char *rest)
{
	struct buffer b;
	buffer_init(&b, RD_IMAP_MAX_LINE);
	if (buffer_printf(&b, "* %s ", cmd) == 0 && mailbox_write_name(s, &b, name) == 0 &&
	    buffer_printf(&b, "%s\r\n", rest) == 0)
		out_buf(s, &b);
	buffer_free(&b);
}

/* SETACL mailbox identifier [+|-]rights, DELETEACL mailbox identifier:
 * checked here as far as the worker can, decided by master. */
static void acl_change(struct session *s, const char *tag, const char *cmd,
		       const struct imap_arg *args, size_t nargs)
{
	bool set = strcmp(cmd, "SETACL") == 0;
	char name[RD_STORE_MAX_MAILBOX_NAME + 1], who[RD_MAX_ADDRESS + 1], rights[RD_RIGHTS_BUF * 2];
	struct mbref ref;
	uint32_t mode = 0;
	if (nargs != (set ? 3u : 2u) || imap_arg_copy(args->next, who, sizeof(who)) < 0 ||
	    (set && imap_arg_copy(args->next->next, rights, sizeof(rights)) < 0)) {
		session_bad(s, tag, set ? "Expected mailbox, identifier and rights" :
			    "Expected mailbox and identifier");
		return;
	}
	if (acl_target(s, tag, args, name, sizeof(name), &ref) < 0)
		return;
	if (ref.grant != NULL && !mbref_may(ref.grant, 'a')) {
		out(s, "%s NO [NOPERM] You may not administer this mailbox\r\n", tag);
		return;
	}
	if (who[0] == '-' || strcasecmp(who, "anyone") == 0 || strcasecmp(who, "anonymous") == 0) {
		/* RFC 4314 2: negative rights and "anyone" are optional */
		out(s, "%s NO [CANNOT] Rights go to users of this server, by address\r\n", tag);
		return;
	}
	const char *r = set ? rights : "";
	if (r[0] == '+' || r[0] == '-') {
		mode = r[0] == '+' ? 1 : 2;
		r++;
	}
	struct ipc_msg m;
	const char *err;
	ipc_msg_init(&m, IPC_GRANT_SET, ++s->w->next_req);
	ipc_put_str(&m, ref.grant ? ref.grant->owner : s->w->ctx->principal);
	ipc_put_str(&m, ref.name);
	ipc_put_str(&m, who);
	ipc_put_str(&m, r);
	ipc_put_u32(&m, mode);
	int sent = ipc_send(s->w->ctx->ipc_fd, &m, -1, &err);
	ipc_msg_free(&m);
	if (sent < 0) {
		out(s, "%s NO [UNAVAILABLE] Try again later\r\n", tag);
		return;
	}
	s->acl_req = s->w->next_req;
	snprintf(s->acl_tag, sizeof(s->acl_tag), "%s", tag);
	snprintf(s->acl_cmd, sizeof(s->acl_cmd), "%s", cmd);
}

void acl_result(struct session *s, uint32_t status, const char *text)
{
	s->acl_req = 0;
	if (status == 0)
		out(s, "%s OK %s completed\r\n", s->acl_tag, s->acl_cmd);
	else
		out(s, "%s NO %s\r\n", s->acl_tag, text[0] ? text : "Refused");
}

/* GETACL of another owner's mailbox, by a holder of "a": master reads the
 * grants from the directory (IPC_ACL_LIST); the session reads no further
 * command until acl_list_result answers. */
static void acl_ask(struct session *s, const char *tag, const char *name,
		    const struct mbref *ref)
{
	struct buffer b;
	struct ipc_msg m;
	const char *err, *line;
	buffer_init(&b, RD_IMAP_MAX_LINE);
	if (buffer_printf(&b, "* ACL ") < 0 || mailbox_write_name(s, &b, name) < 0 ||
	    buffer_printf(&b, " ") < 0 || imap_write_cstring(&b, ref->grant->owner) < 0 ||
	    buffer_printf(&b, " " ALL_RIGHTS) < 0 || buffer_cstr(&b, &line) < 0 ||
	    (s->acl_line = strdup(line)) == NULL) {
		buffer_free(&b);
		out(s, "%s NO [SERVERBUG] Out of memory\r\n", tag);
		return;
	}
	buffer_free(&b);
	ipc_msg_init(&m, IPC_ACL_LIST, ++s->w->next_req);
	ipc_put_str(&m, ref->grant->owner);
	ipc_put_str(&m, ref->name);
	int sent = ipc_send(s->w->ctx->ipc_fd, &m, -1, &err);
	ipc_msg_free(&m);
	if (sent < 0) {
		free(s->acl_line);
		s->acl_line = NULL;
		out(s, "%s NO [UNAVAILABLE] Try again later\r\n", tag);
		return;
	}
	s->acl_req = s->w->next_req;
	snprintf(s->acl_tag, sizeof(s->acl_tag), "%s", tag);
}

int acl_list_result(struct session *s, uint32_t status, const char *text,
		    struct ipc_reader *r, const char **error_r)
{
	struct buffer b;
	size_t n = 0;
	int ret = 0;
	struct acl_entry *v = status == 0 ? calloc(RD_MAX_GRANTS, sizeof(*v)) : NULL;
	buffer_init(&b, RD_IMAP_MAX_LINE * 4);
	if (status == 0 && (v == NULL || acl_list_decode(r, v, &n, error_r) < 0)) {
		if (v == NULL)
			*error_r = "out of memory";
		ret = -1;
	}
	if (status != 0 && ipc_end(r, error_r) < 0)
		ret = -1;
	(void)buffer_printf(&b, "%s", s->acl_line ? s->acl_line : "");
	for (size_t i = 0; ret == 0 && i < n; i++) {
		(void)buffer_printf(&b, " ");
		(void)imap_write_cstring(&b, v[i].grantee);
		(void)buffer_printf(&b, " %s", v[i].rights);
	}
	free(v);
	free(s->acl_line);
	s->acl_line = NULL;
	s->acl_req = 0;
	if (ret < 0) {
		out(s, "%s NO [SERVERBUG] Bad answer from master\r\n", s->acl_tag);
	} else if (status != 0) {
		out(s, "%s NO %s\r\n", s->acl_tag, text[0] ? text : "Refused");
	} else {
		(void)buffer_printf(&b, "\r\n");
		out_buf(s, &b);
		out(s, "%s OK GETACL completed\r\n", s->acl_tag);
	}
	buffer_free(&b);
	return ret;
}

void cmd_acl(struct session *s, const char *tag, const char *cmd, const struct imap_arg *args)
{
	char name[RD_STORE_MAX_MAILBOX_NAME + 1], rest[RD_IMAP_MAX_LINE / 2];
	struct mbref ref;
	size_t nargs = 0;
	for (const struct imap_arg *a = args; a != NULL; a = a->next)
		nargs++;
	if (strcmp(cmd, "SETACL") == 0 || strcmp(cmd, "DELETEACL") == 0) {
		acl_change(s, tag, cmd, args, nargs);
		return;
	}
	size_t want = strcmp(cmd, "LISTRIGHTS") == 0 ? 2 : 1;
	if (nargs != want) {
		session_bad(s, tag, want == 2 ? "Expected mailbox and identifier" :
			    "Expected one mailbox name");
		return;
	}
	if (acl_target(s, tag, args, name, sizeof(name), &ref) < 0)
		return;
	if (strcmp(cmd, "MYRIGHTS") == 0) {
		snprintf(rest, sizeof(rest), " %s", ref.grant ? ref.grant->rights : ALL_RIGHTS);
		write_acl_line(s, "MYRIGHTS", name, rest);
	} else if (strcmp(cmd, "LISTRIGHTS") == 0) {
		/* nothing is always granted; each right can be given alone */
		if (ref.grant != NULL && !mbref_may(ref.grant, 'a')) {
			out(s, "%s NO [NOPERM] You may not administer this mailbox\r\n", tag);
			return;
		}
		write_acl_line(s, "LISTRIGHTS", name, " \"\" l r s w i p k x t e a");
	} else {
		/* GETACL needs "a": the owner has it on their own mailboxes */
		if (ref.grant != NULL && !mbref_may(ref.grant, 'a')) {
			out(s, "%s NO [NOPERM] You may not administer this mailbox\r\n", tag);
			return;
		}
		if (ref.grant != NULL) {
			/* another owner's: only the directory knows every grant */
			acl_ask(s, tag, name, &ref);
			return;
		}
		struct buffer b;
		buffer_init(&b, RD_IMAP_MAX_LINE);
		const char *owner = ref.grant ? ref.grant->owner : s->w->ctx->principal;
		(void)buffer_printf(&b, " ");
		(void)imap_write_cstring(&b, owner);
		(void)buffer_printf(&b, " " ALL_RIGHTS);
		for (size_t i = 0; i < s->w->grants.n; i++) {
			const struct grant *g = &s->w->grants.v[i];
			/* only the grants this principal gave are known here */
			if (ref.grant == NULL && is_own(s->w, g) && strcmp(g->mailbox, ref.name) == 0) {
				(void)buffer_printf(&b, " ");
				(void)imap_write_cstring(&b, g->grantee);
				(void)buffer_printf(&b, " %s", g->rights);
			}
		}
		if (buffer_cstr(&b, &owner) == 0)
			write_acl_line(s, "ACL", name, owner);
		buffer_free(&b);
	}
	out(s, "%s OK %s completed\r\n", tag, cmd);
}

/* ---- COPY / MOVE between two owners' stores ---- */

struct copy_item {
	uint32_t uid;
	uint64_t size;
	unsigned flags;
	int64_t date;
	char *keywords;
};

struct copy_list {
	struct copy_item *v;   /* grows with the range */
	size_t n, cap;
	bool over, oom;
};

static int copy_collect_cb(void *ctx, const struct store_message *m)
{
	struct copy_list *l = ctx;
	if (l->n >= RD_STORE_MAX_BATCH) {
		l->over = true;
		return 1;
	}
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct copy_item *v = realloc(l->v, ncap * sizeof(*v));
		if (v == NULL) {
			l->oom = true;
			return 1;
		}
		l->v = v;
		l->cap = ncap;
	}
	struct copy_item *it = &l->v[l->n];
	if ((it->keywords = strdup(m->keywords)) == NULL) {
		l->oom = true;
		return 1;
	}
	it->uid = m->uid;
	it->size = m->size;
	it->flags = m->flags;
	it->date = m->internal_date;
	l->n++;
	return 0;
}

/* How many items from the start make one batch: RD_STORE_MAX_APPEND_BATCH
 * messages or RD_WORKER_COPY_BATCH_BYTES octets, at least one. */
static size_t batch_len(const struct copy_item *v, size_t n)
{
	uint64_t bytes = 0;
	size_t k = 0;
	while (k < n && k < RD_STORE_MAX_APPEND_BATCH &&
	       (k == 0 || bytes + v[k].size <= RD_WORKER_COPY_BATCH_BYTES))
		bytes += v[k++].size;
	return k;
}

/* Items of the selected mailbox into dst, one store transaction (and one
 * round of disk syncs) for all; a store_ret. */
static int copy_batch(struct session *s, struct copy_item *v, size_t n, int64_t dst_id,
		      struct store *dst, uint32_t *uids_r, uint64_t *bytes, const char **error_r)
{
	struct store_append msgs[RD_STORE_MAX_APPEND_BATCH];
	const char *(*kws)[RD_STORE_MAX_KEYWORDS] = calloc(n, sizeof(*kws));
	uint8_t *data[RD_STORE_MAX_APPEND_BATCH] = { NULL };
	int r = STORE_OK;
	size_t i;
	if (kws == NULL) {
		*error_r = "Out of memory";
		return STORE_ERROR;
	}
	for (i = 0; i < n; i++) {
		size_t len, nkw = 0;
		if ((data[i] = read_message(s, v[i].uid, 0, RD_STORE_MAX_MESSAGE, &len)) == NULL) {
			*error_r = "Could not read the message";
			r = STORE_ERROR;
			break;
		}
		for (char *save = NULL, *k = strtok_r(v[i].keywords, " ", &save);
		     k != NULL && nkw < RD_STORE_MAX_KEYWORDS; k = strtok_r(NULL, " ", &save))
			kws[i][nkw++] = k;
		msgs[i] = (struct store_append){ .data = data[i], .size = len,
						 .flags = v[i].flags, .keywords = kws[i],
						 .keyword_count = nkw, .internal_date = v[i].date };
		*bytes += len;
	}
	if (r == STORE_OK)
		r = append_parsed_batch(dst, dst_id, msgs, n, uids_r, error_r);
	for (i = 0; i < n; i++)
		free(data[i]);
	free(kws);
	return r;
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* MOVE's second half: the originals go, a run of UIDs at a time (two
 * transactions per run instead of per message). A run is a stretch of
 * moved UIDs with no other message of the mailbox between them: the
 * session's view has every UID below its UIDNEXT, and a message added
 * since gets a higher one, so flagging and expunging the whole stretch
 * touches only the moved messages. */
static int expunge_moved(struct session *s, const uint32_t *src, size_t n, size_t *removed_r,
			 const char **error_r)
{
	struct store_flag_change del = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_DELETED };
	const struct selected *sel = s->sel;
	uint32_t *u = malloc((n + 1) * sizeof(*u));
	int r = STORE_OK;
	if (u == NULL) {
		*error_r = "Out of memory";
		return STORE_ERROR;
	}
	memcpy(u, src, n * sizeof(*u));
	qsort(u, n, sizeof(*u), uid_cmp);
	for (size_t i = 0; i < n && r == STORE_OK;) {
		/* where u[i] is in the view; the run follows the view */
		size_t lo = 0, hi = sel->count;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (sel->uids[mid] < u[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		size_t j = i + 1;
		if (lo < sel->count && sel->uids[lo] == u[i])
			while (j < n && lo + (j - i) < sel->count && sel->uids[lo + (j - i)] == u[j])
				j++;
		struct store_uids gone = { 0 };
		r = store_flags_update(sel->store, sel->id, u[i], u[j - 1], &del, NULL, NULL, NULL,
				       error_r);
		if (r == STORE_OK)
			r = store_expunge(sel->store, sel->id, u[i], u[j - 1], &gone, error_r);
		*removed_r += gone.count;
		store_uids_free(&gone);
		i = j;
	}
	free(u);
	return r;
}

void shared_copy(struct session *s, const char *tag, const struct imap_range *ranges, int n,
		 const struct mbref *dst, const struct store_mailbox_state *dstinfo, bool uid,
		 bool move)
{
	struct copy_list l = { 0 };
	const char *err = "Out of memory";
	int r = STORE_OK;
	for (int i = 0; i < n && r == STORE_OK && !l.over && !l.oom; i++)
		r = store_fetch(s->sel->store, s->sel->id, ranges[i].lo, ranges[i].hi,
				copy_collect_cb, &l, &err);
	if (r == STORE_OK && (l.over || l.oom)) {
		r = l.over ? STORE_LIMIT : STORE_ERROR;
		err = l.over ? "Too many messages for one copy between owners" : "Out of memory";
	}
	uint32_t *src = calloc(l.n + 1, sizeof(uint32_t)), *dsts = calloc(l.n + 1, sizeof(uint32_t));
	size_t done = 0;
	uint64_t bytes = 0;
	if (src == NULL || dsts == NULL)
		r = STORE_ERROR;
	/* a batch is all filed or none: a failure leaves the earlier ones
	 * copied (and, for MOVE, those moved), reported in COPYUID */
	while (done < l.n && r == STORE_OK) {
		size_t k = batch_len(l.v + done, l.n - done);
		r = copy_batch(s, l.v + done, k, dstinfo->id, dst->store, dsts + done, &bytes, &err);
		if (r != STORE_OK)
			break;
		for (size_t i = 0; i < k; i++)
			src[done + i] = l.v[done + i].uid;
		done += k;
	}
	if (dst->grant != NULL && done > 0)
		shared_audit(s, dst->grant, "append", done, bytes);
	/* MOVE: the copies are durable now; then the originals go */
	if (move && done > 0) {
		size_t removed = 0;
		int e = expunge_moved(s, src, done, &removed, &err);
		if (r == STORE_OK)
			r = e;
		worker_gc_soon(s->w);
		/* what really went, also when a run failed midway */
		if (s->sel->shared && removed > 0)
			shared_audit(s, &s->sel->grant, "expunge", removed, 0);
	}
	copy_reply(s, tag, r, err, dstinfo->uidvalidity, src, done, dsts, uid, move);
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].keywords);
	free(l.v);
	free(src);
	free(dsts);
}

void mailbox_objectid(struct session *s, const struct grant *g, int64_t mailbox_id,
		      char out[MAILBOXID_BUF])
{
	/* RFC 8474 4: unique on the server, kept across RENAME. The store id
	 * and the row id are both; hashed, so neither shows. */
	char in[RD_MAX_STORE_ID + 32];
	unsigned char h[12];
	int n = snprintf(in, sizeof(in), "%s:%lld", g ? g->store : s->w->ctx->store_id,
			 (long long)mailbox_id);
	crypto_generichash(h, sizeof(h), (const unsigned char *)in, (size_t)n, NULL, 0);
	out[0] = 'M';
	sodium_bin2hex(out + 1, MAILBOXID_BUF - 1, h, sizeof(h));
}
