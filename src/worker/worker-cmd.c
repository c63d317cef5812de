/* worker-cmd.c: command dispatch and the commands that need no selected
 * mailbox: CAPABILITY NOOP LOGOUT ID ENABLE NAMESPACE SUBSCRIBE UNSUBSCRIBE
 * CREATE DELETE RENAME SELECT EXAMINE APPEND (LIST, LSUB and STATUS are in
 * worker-list.c). */
#include "worker/worker.h"
#include "imap/imap-fetch.h"
#include "mime/mime.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "imap/imap-caps.h"
#include <time.h>

/* What this worker implements, and nothing more (see imap-caps.h). */
static const char caps[] = IMAP_POST_AUTH_CAPS;

int mailbox_arg(struct session *s, const char *tag, const struct imap_arg *a,
		char *dst, size_t dstlen)
{
	char raw[RD_STORE_MAX_MAILBOX_NAME * 3 + 1];
	if (imap_arg_copy(a, raw, sizeof(raw)) < 0) {
		session_bad(s, tag, "Expected a mailbox name");
		return -1;
	}
	/* IMAP4rev1 names are modified UTF-7 on the wire, UTF-8 in the store;
	 * after ENABLE UTF8=ACCEPT they are UTF-8 (RFC 6855 3), which the
	 * store checks */
	if (s->utf8) {
		if (strlen(raw) >= dstlen) {
			session_bad(s, tag, "Mailbox name too long");
			return -1;
		}
		memcpy(dst, raw, strlen(raw) + 1);
	} else if (imap_mutf7_decode(raw, dst, dstlen) < 0) {
		session_bad(s, tag, "Invalid mailbox name (modified UTF-7)");
		return -1;
	}
	if (strncasecmp(dst, "INBOX", 5) == 0 && (dst[5] == '\0' || dst[5] == '/'))
		memcpy(dst, "INBOX", 5);
	return 0;
}

void reply_store_error(struct session *s, const char *tag, int r, const char *err)
{
	switch (r) {
	case STORE_NOT_FOUND:
		out(s, "%s NO [NONEXISTENT] No such mailbox\r\n", tag);
		break;
	case STORE_EXISTS:
		out(s, "%s NO [ALREADYEXISTS] Mailbox already exists\r\n", tag);
		break;
	case STORE_INVALID:
		out(s, "%s NO [CANNOT] %s\r\n", tag, err ? err : "Invalid name");
		break;
	case STORE_LIMIT:
		out(s, "%s NO [LIMIT] %s\r\n", tag, err ? err : "Limit reached");
		break;
	case MBOX_NOPERM:
		out(s, "%s NO [NOPERM] %s\r\n", tag, err ? err : "Not allowed");
		break;
	default:
		out(s, "%s NO [SERVERBUG] %s\r\n", tag, err ? err : "Store error");
		break;
	}
}

/* ---- mailbox management ---- */

static int one_name(struct session *s, const char *tag, const struct imap_arg *args,
		    char *name, size_t len)
{
	if (args == NULL || args->next != NULL) {
		session_bad(s, tag, "Expected one mailbox name");
		return -1;
	}
	return mailbox_arg(s, tag, args, name, len);
}

static bool name_ok(struct session *s, const char *tag, const char *name)
{
	const char *why;
	if (shared_name(name)) {
		out(s, "%s NO [NOPERM] Shared/ holds other users' mailboxes\r\n", tag);
		return false;
	}
	if (!store_mailbox_name_valid(name, &why)) {
		out(s, "%s NO [CANNOT] %s\r\n", tag, why);
		return false;
	}
	return true;
}

static void cmd_create(struct session *s, const char *tag, const struct imap_arg *args)
{
	char name[RD_STORE_MAX_MAILBOX_NAME + 2];
	const char *err;
	enum store_special_use su = STORE_SPECIAL_NONE;
	struct imap_arg alone;   /* the name without what follows it */
	/* RFC 6154 3: CREATE name (USE (\Drafts)) */
	const struct imap_arg *params = args != NULL ? args->next : NULL;
	if (params != NULL) {
		const struct imap_arg *use = params->type == IMAP_ARG_LIST ? params->child : NULL;
		const struct imap_arg *list = use != NULL ? use->next : NULL;
		if (params->next != NULL || use == NULL || !imap_arg_is(use, "USE") ||
		    list == NULL || list->type != IMAP_ARG_LIST || list->next != NULL) {
			session_bad(s, tag, "Expected CREATE name [(USE (attributes))]");
			return;
		}
		for (const struct imap_arg *a = list->child; a != NULL; a = a->next) {
			enum store_special_use found = STORE_SPECIAL_NONE;
			for (int k = STORE_SPECIAL_SENT; k <= STORE_SPECIAL_ARCHIVE; k++)
				if (imap_arg_is(a, store_special_use_name((enum store_special_use)k)))
					found = (enum store_special_use)k;
			if (found == STORE_SPECIAL_NONE || su != STORE_SPECIAL_NONE) {
				/* one of the attributes this store keeps, one only */
				out(s, "%s NO [USEATTR] Special-use attribute not supported\r\n", tag);
				return;
			}
			su = found;
		}
		alone = *args;
		alone.next = NULL;
		args = &alone;
	}
	if (one_name(s, tag, args, name, sizeof(name)) < 0)
		return;
	size_t n = strlen(name);
	if (n > 1 && name[n - 1] == '/')    /* RFC 3501 6.3.3: a trailing delimiter */
		name[n - 1] = '\0';
	if (!name_ok(s, tag, name))
		return;
	int64_t id;
	int r = store_mailbox_create(s->w->store, name, su, &id, &err);
	char oid[MAILBOXID_BUF];
	if (r != STORE_OK) {
		reply_store_error(s, tag, r, err);
	} else {
		mailbox_objectid(s, NULL, id, oid);
		out(s, "%s OK [MAILBOXID (%s)] CREATE completed\r\n", tag, oid);
	}
}

static void cmd_delete(struct session *s, const char *tag, const struct imap_arg *args)
{
	char name[RD_STORE_MAX_MAILBOX_NAME + 1];
	const char *err;
	if (one_name(s, tag, args, name, sizeof(name)) < 0)
		return;
	if (strcmp(name, "INBOX") == 0) {
		out(s, "%s NO [CANNOT] INBOX cannot be deleted\r\n", tag);
		return;
	}
	if (shared_name(name)) {
		out(s, "%s NO [NOPERM] Only its owner can delete a shared mailbox\r\n", tag);
		return;
	}
	int r = store_mailbox_delete(s->w->store, name, &err);
	if (r != STORE_OK) {
		reply_store_error(s, tag, r, err);
		return;
	}
	worker_gc_soon(s->w);
	if (s->sel != NULL && !s->sel->shared && strcmp(s->sel->name, name) == 0)
		mbox_unselect(s);
	out(s, "%s OK DELETE completed\r\n", tag);
}

static void cmd_rename(struct session *s, const char *tag, const struct imap_arg *args)
{
	char from[RD_STORE_MAX_MAILBOX_NAME + 1], to[RD_STORE_MAX_MAILBOX_NAME + 1];
	const char *err;
	if (args == NULL || args->next == NULL || args->next->next != NULL) {
		session_bad(s, tag, "Expected two mailbox names");
		return;
	}
	if (mailbox_arg(s, tag, args, from, sizeof(from)) < 0 ||
	    mailbox_arg(s, tag, args->next, to, sizeof(to)) < 0)
		return;
	if (shared_name(from)) {
		out(s, "%s NO [NOPERM] Only its owner can rename a shared mailbox\r\n", tag);
		return;
	}
	if (strcmp(from, "INBOX") == 0) {
		/* RFC 3501 moves INBOX's messages; the store cannot rename it */
		out(s, "%s NO [CANNOT] Renaming INBOX is not supported\r\n", tag);
		return;
	}
	if (!name_ok(s, tag, to))
		return;
	int r = store_mailbox_rename(s->w->store, from, to, &err);
	if (r != STORE_OK) {
		reply_store_error(s, tag, r, err);
		return;
	}
	if (s->sel != NULL && !s->sel->shared && strcmp(s->sel->name, from) == 0)
		snprintf(s->sel->name, sizeof(s->sel->name), "%s", to);
	out(s, "%s OK RENAME completed\r\n", tag);
}

/* SELECT parameters (RFC 4466 2.4): (CONDSTORE) or (QRESYNC (uidvalidity
 * modseq [known-uids [seq-match-data]])); the sequence match data is only
 * a hint for the server and is not used. -1 with *why_r if malformed. */
static int select_params(struct session *s, const struct imap_arg *list,
			 struct qresync_params *q, bool *have_q, const char **why_r)
{
	*have_q = false;
	for (const struct imap_arg *p = list->child; p != NULL; p = p->next) {
		if (imap_arg_is(p, "CONDSTORE")) {
			s->condstore = true;
			continue;
		}
		if (!imap_arg_is(p, "QRESYNC")) {
			*why_r = "Unknown SELECT parameter";
			return -1;
		}
		const struct imap_arg *l = p->next, *v, *m;
		if (!s->qresync) {
			*why_r = "QRESYNC is not enabled";
			return -1;
		}
		if (l == NULL || l->type != IMAP_ARG_LIST || (v = l->child) == NULL ||
		    imap_arg_u32(v, &q->uidvalidity) < 0 || q->uidvalidity == 0 ||
		    (m = v->next) == NULL || m->type != IMAP_ARG_NUMBER || m->num == 0 ||
		    m->num > INT64_MAX) {
			*why_r = "Expected QRESYNC (uidvalidity modseq [known-uids])";
			return -1;
		}
		q->modseq = m->num;
		q->known = m->next;
		if (q->known != NULL && q->known->type == IMAP_ARG_LIST)
			q->known = NULL;   /* only seq-match-data: no known-uids */
		if (q->known != NULL) {
			/* checked now so the SELECT is refused, not half-done */
			const char *err;
			size_t max = q->known->len / 2 + 1;
			struct imap_range *r = malloc(max * sizeof(*r));
			int n = r == NULL || (q->known->type != IMAP_ARG_ATOM &&
					      q->known->type != IMAP_ARG_NUMBER) ? -1 :
				imap_seqset_parse(q->known->data, q->known->len, UINT32_MAX,
						  r, max, &err);
			free(r);
			if (n < 0) {
				*why_r = "Invalid known-uids";
				return -1;
			}
		}
		*have_q = true;
		p = l;
	}
	return 0;
}

static void cmd_select(struct session *s, const char *tag, const struct imap_arg *args,
		       bool readonly)
{
	char name[RD_STORE_MAX_MAILBOX_NAME + 1];
	const char *err;
	struct qresync_params q = { 0 };
	bool have_q = false;
	if (args != NULL && args->next != NULL) {
		if (args->next->type != IMAP_ARG_LIST || args->next->next != NULL ||
		    select_params(s, args->next, &q, &have_q, &err) < 0) {
			session_bad(s, tag, args->next->type != IMAP_ARG_LIST ||
				    args->next->next != NULL ? "Expected SELECT parameters" : err);
			return;
		}
	}
	if (args == NULL) {
		session_bad(s, tag, "Expected a mailbox name");
		return;
	}
	if (mailbox_arg(s, tag, args, name, sizeof(name)) < 0)
		return;
	int r = mbox_select(s, name, readonly, have_q ? &q : NULL, &err);
	if (r == STORE_NOT_FOUND)
		out(s, "%s NO [NONEXISTENT] No such mailbox\r\n", tag);
	else if (r != STORE_OK)
		reply_store_error(s, tag, r, err);
	else
		out(s, "%s OK [%s] %s completed\r\n", tag, readonly ? "READ-ONLY" : "READ-WRITE",
		    readonly ? "EXAMINE" : "SELECT");
}

/* ---- APPEND ---- */

static const char *const months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* RFC 3501 date-time "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be " d"). */
static int parse_date_time(const struct imap_arg *a, int64_t *t_r)
{
	char buf[40];
	int d, y, hh, mm, ss, zone;
	char mon[4], sign;
	if (imap_arg_copy(a, buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%2d-%3s-%4d %2d:%2d:%2d %c%4d", &d, mon, &y, &hh, &mm, &ss, &sign,
		   &zone) != 8 || (sign != '+' && sign != '-'))
		return -1;
	int m = -1;
	for (int i = 0; i < 12; i++)
		if (strcasecmp(mon, months[i]) == 0)
			m = i;
	if (m < 0 || d < 1 || d > 31 || y < 1970 || y > 9999 || hh > 23 || mm > 59 ||
	    ss > 60 || zone > 1400 || zone % 100 > 59)
		return -1;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m, .tm_mday = d, .tm_hour = hh,
			 .tm_min = mm, .tm_sec = ss };
	time_t t = timegm(&tm);
	int64_t off = (int64_t)(zone / 100 * 3600 + zone % 100 * 60);
	*t_r = (int64_t)t - (sign == '+' ? off : -off);
	return 0;
}

int parse_flag_list(const struct imap_arg *list, unsigned *flags_r, const char **kws,
		    size_t *nkws, char kwbuf[][RD_STORE_MAX_KEYWORD_LEN + 1])
{
	static const struct { const char *name; unsigned bit; } sys[] = {
		{ "\\Seen", STORE_FLAG_SEEN }, { "\\Answered", STORE_FLAG_ANSWERED },
		{ "\\Flagged", STORE_FLAG_FLAGGED }, { "\\Deleted", STORE_FLAG_DELETED },
		{ "\\Draft", STORE_FLAG_DRAFT },
	};
	const struct imap_arg *a = list->type == IMAP_ARG_LIST ? list->child : list;
	*flags_r = 0;
	*nkws = 0;
	for (; a != NULL; a = list->type == IMAP_ARG_LIST ? a->next : NULL) {
		if (a->type != IMAP_ARG_ATOM)
			return -1;
		bool found = false;
		for (size_t i = 0; i < 5; i++)
			if (imap_arg_is(a, sys[i].name)) {
				*flags_r |= sys[i].bit;
				found = true;
			}
		if (found || imap_arg_is(a, "\\Recent"))
			continue;
		const char *why;
		if (*nkws >= RD_STORE_MAX_KEYWORDS ||
		    imap_arg_copy(a, kwbuf[*nkws], RD_STORE_MAX_KEYWORD_LEN + 1) < 0 ||
		    !store_keyword_valid(kwbuf[*nkws], &why))
			return -1;
		kws[*nkws] = kwbuf[*nkws];
		(*nkws)++;
	}
	return 0;
}

int append_parsed_batch(struct store *st, int64_t mailbox_id, struct store_append *msgs,
			size_t n, uint32_t *uids_r, const char **error_r)
{
	/* parsed once here, as deliver does, so FETCH and search use the cache */
	struct mime_result mr[RD_STORE_MAX_APPEND_BATCH];
	uint64_t modseqs[RD_STORE_MAX_APPEND_BATCH];
	const char *merr;
	if (n == 0 || n > RD_STORE_MAX_APPEND_BATCH) {
		*error_r = "Bad batch";
		return STORE_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_append *msg = &msgs[i];
		if (mime_parse(msg->data, msg->size, &mr[i], &merr) == 0 &&
		    (buffer_cstr(&mr[i].envelope, &msg->envelope) < 0 ||
		     buffer_cstr(&mr[i].bodystructure, &msg->bodystructure) < 0 ||
		     buffer_cstr(&mr[i].preview, &msg->preview) < 0 ||
		     buffer_cstr(&mr[i].fulltext, &msg->fulltext) < 0))
			msg->envelope = msg->bodystructure = msg->preview = msg->fulltext = NULL;
	}
	int r = store_append_batch(st, mailbox_id, msgs, n, uids_r, modseqs, error_r);
	for (size_t i = 0; i < n; i++) {
		mime_result_free(&mr[i]);
		msgs[i].envelope = msgs[i].bodystructure = msgs[i].preview = msgs[i].fulltext = NULL;
	}
	return r;
}

int append_parsed(struct store *st, int64_t mailbox_id, struct store_append *msg,
		  uint32_t *uid_r, const char **error_r)
{
	return append_parsed_batch(st, mailbox_id, msg, 1, uid_r, error_r);
}

static void cmd_append(struct session *s, const char *tag, const struct imap_arg *args)
{
	char name[RD_STORE_MAX_MAILBOX_NAME + 1];
	char kwbuf[RD_STORE_MAX_KEYWORDS][RD_STORE_MAX_KEYWORD_LEN + 1];
	const char *kws[RD_STORE_MAX_KEYWORDS];
	struct store_append msg = { .internal_date = (int64_t)time(NULL) };
	struct store_mailbox_state mb;   /* the row only: no counting per APPEND */
	const char *err;
	if (args == NULL || mailbox_arg(s, tag, args, name, sizeof(name)) < 0) {
		if (args == NULL)
			session_bad(s, tag, "Expected a mailbox name");
		return;
	}
	const struct imap_arg *a = args->next;
	if (a != NULL && a->type == IMAP_ARG_LIST) {
		if (parse_flag_list(a, &msg.flags, kws, &msg.keyword_count, kwbuf) < 0) {
			session_bad(s, tag, "Invalid flag");
			return;
		}
		msg.keywords = kws;
		a = a->next;
	}
	if (a != NULL && a->type == IMAP_ARG_QUOTED && a->next != NULL) {
		if (parse_date_time(a, &msg.internal_date) < 0) {
			session_bad(s, tag, "Invalid date-time");
			return;
		}
		a = a->next;
	}
	if (a != NULL && imap_arg_is(a, "UTF8") && s->utf8 && a->next != NULL &&
	    a->next->type == IMAP_ARG_LIST && a->next->count == 1 && a->next->next == NULL &&
	    a->next->child->type == IMAP_ARG_LITERAL)
		a = a->next->child;   /* RFC 6855 4: APPEND ... UTF8 (~{n}...) */
	if (a == NULL || (a->type != IMAP_ARG_LITERAL && a->type != IMAP_ARG_QUOTED) ||
	    a->next != NULL) {
		session_bad(s, tag, "Expected the message as a literal");
		return;
	}
	if (a->len == 0) {
		out(s, "%s NO Empty message\r\n", tag);
		return;
	}
	struct mbref ref;
	int r = mbox_resolve(s, name, &ref);
	if (r == STORE_OK && !mbref_may(ref.grant, 'i')) {
		out(s, "%s NO [NOPERM] No right to add messages there\r\n", tag);
		return;
	}
	if (r == STORE_OK)
		r = store_mailbox_state(ref.store, ref.name, &mb, &err);
	if (r == STORE_NOT_FOUND) {
		out(s, "%s NO [TRYCREATE] No such mailbox\r\n", tag);
		return;
	}
	if (r != STORE_OK) {
		reply_store_error(s, tag, r, err);
		return;
	}
	msg.data = a->data;
	msg.size = a->len;
	uint32_t uid;
	r = append_parsed(ref.store, mb.id, &msg, &uid, &err);
	if (r != STORE_OK) {
		reply_store_error(s, tag, r, err);
		return;
	}
	if (ref.grant != NULL)
		shared_audit(s, ref.grant, "append", 1, a->len);
	mbox_sync(s, true);
	out(s, "%s OK [APPENDUID %u %u] APPEND completed\r\n", tag, mb.uidvalidity, uid);
}

/* RFC 5161: lists what this command newly turned on; unknown names are
 * ignored, as the RFC asks. QRESYNC implies CONDSTORE (RFC 7162 3.2.3);
 * IMAP4rev2 implies UTF-8 mailbox names (RFC 9051 5.1). */
static void cmd_enable(struct session *s, const char *tag, const struct imap_arg *args)
{
	struct buffer b;
	buffer_init(&b, RD_IMAP_MAX_LINE);
	(void)buffer_append_str(&b, "* ENABLED");
	for (const struct imap_arg *a = args; a != NULL; a = a->next) {
		if (imap_arg_is(a, "CONDSTORE") && !s->condstore) {
			s->condstore = true;
			(void)buffer_append_str(&b, " CONDSTORE");
		} else if (imap_arg_is(a, "QRESYNC") && !s->qresync) {
			s->qresync = s->condstore = true;
			(void)buffer_append_str(&b, " QRESYNC");
		} else if (imap_arg_is(a, "UTF8=ACCEPT") && !s->utf8) {
			s->utf8 = true;
			(void)buffer_append_str(&b, " UTF8=ACCEPT");
		} else if (imap_arg_is(a, "IMAP4rev2") && !s->rev2) {
			/* RFC 9051: UTF-8 names, no \Recent, ESEARCH for SEARCH,
			 * LIST in SELECT's answer */
			s->rev2 = s->utf8 = true;
			(void)buffer_append_str(&b, " IMAP4rev2");
		}
	}
	(void)buffer_append_str(&b, "\r\n");
	out_buf(s, &b);
	buffer_free(&b);
	out(s, "%s OK ENABLE completed\r\n", tag);
}

/* ---- dispatch ---- */

void cmd_dispatch(struct session *s, struct imap_cmd *cmd)
{
	const char *tag = cmd->tag, *name = cmd->name;
	const struct imap_arg *args = cmd->args;
	bool noargs = cmd->nargs == 0;
	if (strcmp(name, "CAPABILITY") == 0 && noargs) {
		out(s, "* CAPABILITY %s\r\n%s OK CAPABILITY completed\r\n", caps, tag);
	} else if (strcmp(name, "NOOP") == 0 && noargs) {
		mbox_sync(s, true);
		out(s, "%s OK NOOP completed\r\n", tag);
	} else if (strcmp(name, "LOGOUT") == 0 && noargs) {
		out(s, "* BYE Logging out\r\n%s OK LOGOUT completed\r\n", tag);
		session_close(s);
	} else if (strcmp(name, "ID") == 0 && cmd->nargs == 1) {
		out(s, "* ID (\"name\" \"redoubt\")\r\n%s OK ID completed\r\n", tag);
	} else if (strcmp(name, "ENABLE") == 0 && !noargs) {
		cmd_enable(s, tag, args);
	} else if (strcmp(name, "NAMESPACE") == 0 && noargs) {
		/* RFC 2342: personal, other users' (granted mailboxes), shared */
		out(s, "* NAMESPACE ((\"\" \"/\")) ((\"Shared/\" \"/\")) NIL\r\n"
		    "%s OK NAMESPACE completed\r\n", tag);
	} else if (strcmp(name, "LIST") == 0 || strcmp(name, "LSUB") == 0) {
		cmd_list(s, tag, args, strcmp(name, "LSUB") == 0);
	} else if (strcmp(name, "SUBSCRIBE") == 0 || strcmp(name, "UNSUBSCRIBE") == 0) {
		/* no subscription table: every mailbox counts as subscribed */
		char mbox[RD_STORE_MAX_MAILBOX_NAME + 1];
		if (one_name(s, tag, args, mbox, sizeof(mbox)) == 0)
			out(s, "%s OK %s completed\r\n", tag, name);
	} else if (strcmp(name, "CREATE") == 0) {
		cmd_create(s, tag, args);
	} else if (strcmp(name, "DELETE") == 0) {
		cmd_delete(s, tag, args);
	} else if (strcmp(name, "RENAME") == 0) {
		cmd_rename(s, tag, args);
	} else if (strcmp(name, "STATUS") == 0) {
		cmd_status(s, tag, args);
	} else if (strcmp(name, "SELECT") == 0 || strcmp(name, "EXAMINE") == 0) {
		cmd_select(s, tag, args, strcmp(name, "EXAMINE") == 0);
	} else if (strcmp(name, "APPEND") == 0) {
		cmd_append(s, tag, args);
	} else if (strcmp(name, "MYRIGHTS") == 0 || strcmp(name, "GETACL") == 0 ||
		   strcmp(name, "LISTRIGHTS") == 0 || strcmp(name, "SETACL") == 0 ||
		   strcmp(name, "DELETEACL") == 0) {
		cmd_acl(s, tag, name, args);
	} else if (strcmp(name, "COMPRESS") == 0) {
		if (args == NULL || args->next != NULL || !imap_arg_is(args, "DEFLATE"))
			session_bad(s, tag, "Expected COMPRESS DEFLATE");
		else if (s->compressed)
			out(s, "%s NO [COMPRESSIONACTIVE] DEFLATE is active already\r\n", tag);
		else {
			out(s, "%s OK DEFLATE active\r\n", tag);
			s->compress_asked = true;
		}
	} else if (strcmp(name, "GETQUOTAROOT") == 0 || strcmp(name, "GETQUOTA") == 0 ||
		   strcmp(name, "SETQUOTA") == 0) {
		cmd_quota(s, tag, name, args);
	} else if (strcmp(name, "LOGIN") == 0 || strcmp(name, "AUTHENTICATE") == 0 ||
		   strcmp(name, "STARTTLS") == 0) {
		session_bad(s, tag, "Already logged in");
	} else if (strcmp(name, "UID") == 0) {
		if (args == NULL || args->type != IMAP_ARG_ATOM || args->len >= 16) {
			session_bad(s, tag, "Expected a UID command");
			return;
		}
		char sub[16];
		for (size_t i = 0; i < args->len; i++)
			sub[i] = (char)(args->data[i] >= 'a' && args->data[i] <= 'z' ?
					args->data[i] - 32 : args->data[i]);
		sub[args->len] = '\0';
		if (s->sel == NULL)
			session_bad(s, tag, "No mailbox selected");
		else if (!cmd_selected(s, cmd, sub, args->next, true))
			session_bad(s, tag, "Unknown UID command");
	} else if (s->sel != NULL) {
		if (!cmd_selected(s, cmd, name, args, false))
			session_bad(s, tag, "Unknown command or wrong arguments");
	} else if (strcmp(name, "CHECK") == 0 || strcmp(name, "CLOSE") == 0 ||
		   strcmp(name, "UNSELECT") == 0 || strcmp(name, "EXPUNGE") == 0 ||
		   strcmp(name, "SEARCH") == 0 || strcmp(name, "FETCH") == 0 ||
		   strcmp(name, "SORT") == 0 || strcmp(name, "THREAD") == 0 ||
		   strcmp(name, "STORE") == 0 || strcmp(name, "COPY") == 0 ||
		   strcmp(name, "MOVE") == 0 || strcmp(name, "IDLE") == 0) {
		if (strcmp(name, "IDLE") == 0 && noargs)
			session_idle_start(s, tag);   /* IDLE works without a mailbox too */
		else
			session_bad(s, tag, "No mailbox selected");
	} else {
		session_bad(s, tag, "Unknown command or wrong arguments");
	}
}
