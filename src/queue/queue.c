/* queue.c: the queue role. It owns DATA/spool, reads the directory to
 * answer RCPT, makes accepted messages durable before smtp-in may say 250,
 * and asks master to start one deliver child per recipient store.
 *
 * It talks to smtp-in over a link master created (IPC_QUEUE_LINK) and to
 * master for deliveries; it never touches a network socket and cannot
 * reach any store: filing is deliver's job, confined to one store. */
#include "queue/spool.h"
#include "master/role.h"
#include "master/policy.h"
#include "directory/directory.h"
#include "directory/address.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "limits.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>
#include <sodium.h>

struct txn {
	uint32_t id;
	int fd;
	char qid[SPOOL_QID_LEN + 1];
	char file[24];               /* its spare/ file ("" once in q/) */
	struct spool_env env;
	uint64_t size;
	int failed;                  /* write error: answer it at COMMIT */
	struct txn *next;
};

struct qmsg {
	struct spool_env env;
	time_t next_try;
	uint8_t *inflight;           /* per recipient */
	struct qmsg *next;
};

struct delivery {
	int used;
	uint32_t id;
	struct qmsg *m;
	uint32_t rcpt;
};

struct full_store {
	char id[65];
	time_t since;
};

struct queue {
	struct role_ctx *ctx;
	struct event_base *base;
	int spool_fd;
	struct directory *dir;
	int link_fd;
	struct event *link_ev;
	struct event *ipc_ev;
	struct event *tick;
	struct txn *txns;
	unsigned ntxn;
	struct qmsg *msgs;
	struct delivery deliv[RD_QUEUE_DELIVERY_WINDOW];
	uint32_t next_deliv;
	uint8_t *buf;
	uint64_t max_size;
	int stopping;
	struct full_store full[64];         /* stores that refused for quota */
	uint32_t batch[RD_QUEUE_MAX_TXN];   /* staged commits */
	unsigned nbatch;
	int removed_unsynced;               /* q/ has removals not yet synced */
	struct spool_spares spares;         /* finished files, to write over */
};

static void send_frame(int fd, enum ipc_type type, uint32_t id, uint32_t code, const char *text)
{
	struct ipc_msg m;
	const char *err;
	ipc_msg_init(&m, type, id);
	ipc_put_u32(&m, code);
	ipc_put_str(&m, text);
	if (fd >= 0 && ipc_send(fd, &m, -1, &err) < 0)
		log_error("ipc_send_failed", "reason", err);
	ipc_msg_free(&m);
}

static void new_qid(char out[SPOOL_QID_LEN + 1])
{
	unsigned char r[SPOOL_QID_LEN / 2];
	randombytes_buf(r, sizeof(r));
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* ---- RCPT ---- */

struct rcpt_count {
	struct queue *q;
	unsigned local;
	unsigned full;
};

static int store_full(struct queue *q, const char *store_id)
{
	time_t now = time(NULL);
	for (size_t i = 0; i < sizeof(q->full) / sizeof(q->full[0]); i++)
		if (q->full[i].id[0] && strcmp(q->full[i].id, store_id) == 0 &&
		    now - q->full[i].since < (time_t)RD_QUEUE_FULL_MEMORY_S)
			return 1;
	return 0;
}

static void mark_full(struct queue *q, const char *store_id, int full)
{
	size_t slot = 0;
	for (size_t i = 0; i < sizeof(q->full) / sizeof(q->full[0]); i++) {
		if (strcmp(q->full[i].id, store_id) == 0) {
			slot = i;
			break;
		}
		if (q->full[i].since < q->full[slot].since)
			slot = i;
	}
	if (!full) {
		if (strcmp(q->full[slot].id, store_id) == 0)
			q->full[slot].id[0] = '\0';
		return;
	}
	snprintf(q->full[slot].id, sizeof(q->full[slot].id), "%s", store_id);
	q->full[slot].since = time(NULL);
}

static int count_cb(void *ctx, const char *address, const char *store_id)
{
	struct rcpt_count *rc = ctx;
	(void)address;
	if (store_id != NULL) {
		rc->local++;
		rc->full += store_full(rc->q, store_id);
	}
	return 0;
}

struct pm_find {
	struct queue *q;
	char *out;
	size_t len;
	bool found;
};

static int pm_domain_cb(void *ctx, const char *domain)
{
	struct pm_find *f = ctx;
	const char *err;
	char addr[RD_MAX_ADDRESS + 1];
	if (f->found)
		return 0;
	snprintf(addr, sizeof(addr), "postmaster@%s", domain);
	if (directory_resolve(f->q->dir, addr, NULL, NULL, &err) > 0 && strlen(addr) < f->len) {
		memcpy(f->out, addr, strlen(addr) + 1);
		f->found = true;
	}
	return 0;
}

/* postmaster@DOMAIN of the first hosted domain (in name order) where that
 * address reaches someone; -1 if none does. */
static int first_postmaster(struct queue *q, char *out, size_t len)
{
	struct pm_find f = { q, out, len, false };
	const char *err;
	if (directory_domain_list(q->dir, pm_domain_cb, &f, &err) < 0 || !f.found)
		return -1;
	return 0;
}

static void on_rcpt(struct queue *q, uint32_t id, struct ipc_reader *r)
{
	char addr[RD_MAX_ADDRESS + 1], canon[RD_MAX_ADDRESS + 1], reply[RD_MAX_ADDRESS + 80];
	const char *err;
	if (ipc_get_str(r, addr, sizeof(addr), &err) < 0 || ipc_end(r, &err) < 0) {
		send_frame(q->link_fd, IPC_TXN_RCPT_REPLY, id, 1,
			   "553 5.1.3 Recipient address not acceptable");
		return;
	}
	/* RFC 5321 4.5.1: <Postmaster> without a domain must be accepted:
	 * the postmaster of the first hosted domain that has one */
	bool bare_postmaster = strcasecmp(addr, "postmaster") == 0;
	if (bare_postmaster && first_postmaster(q, canon, sizeof(canon)) < 0) {
		send_frame(q->link_fd, IPC_TXN_RCPT_REPLY, id, 1,
			   "550 5.1.1 <Postmaster>: no postmaster address is set up here");
		return;
	}
	if (!bare_postmaster && address_canon(addr, canon, sizeof(canon)) < 0) {
		send_frame(q->link_fd, IPC_TXN_RCPT_REPLY, id, 1,
			   "553 5.1.3 Recipient address not acceptable");
		return;
	}
	struct rcpt_count rc = { q, 0, 0 };
	int n = directory_resolve(q->dir, canon, count_cb, &rc, &err);
	unsigned local = rc.local;
	if (n < 0) {
		send_frame(q->link_fd, IPC_TXN_RCPT_REPLY, id, 2,
			   "451 4.3.0 Temporary failure looking up the recipient");
	} else if (local > 0 && rc.full == local) {
		/* RFC 3463 4.2.2: known full now; the sender retries later */
		snprintf(reply, sizeof(reply), "452 4.2.2 <%s>: mailbox full, try again later", canon);
		send_frame(q->link_fd, IPC_TXN_RCPT_REPLY, id, 2, reply);
	} else if (local > 0) {
		/* the address to record, when it is not the one given */
		send_frame(q->link_fd, IPC_TXN_RCPT_REPLY, id, 0, bare_postmaster ? canon : "");
	} else if (directory_domain_exists(q->dir, address_domain(canon))) {
		snprintf(reply, sizeof(reply), "550 5.1.1 <%s>: no such user here", canon);
		send_frame(q->link_fd, IPC_TXN_RCPT_REPLY, id, 1, reply);
	} else {
		snprintf(reply, sizeof(reply), "554 5.7.1 <%s>: relay access denied", canon);
		send_frame(q->link_fd, IPC_TXN_RCPT_REPLY, id, 1, reply);
	}
}

/* ---- transactions ---- */

static struct txn *txn_find(struct queue *q, uint32_t id, struct txn ***prev_r)
{
	struct txn **pp = &q->txns;
	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			if (prev_r)
				*prev_r = pp;
			return *pp;
		}
	return NULL;
}

static void txn_drop(struct queue *q, uint32_t id)
{
	struct txn **pp;
	struct txn *t = txn_find(q, id, &pp);
	if (t == NULL)
		return;
	*pp = t->next;
	q->ntxn--;
	if (t->file[0] != '\0') {
		/* a message given up: emptied, then kept as a spare */
		if (t->fd >= 0 && ftruncate(t->fd, 0) == 0)
			spool_spare_put(q->spool_fd, &q->spares, t->file);
		else
			unlinkat(q->spool_fd, t->file, 0);
	}
	if (t->fd >= 0)
		close(t->fd);
	spool_env_free(&t->env);
	free(t);
}

struct expand {
	struct spool_env *env;
	const char *rcpt;            /* the RCPT being expanded */
	uint32_t notify;
	const char *orcpt;
	uint32_t cap;                /* entries env->rcpt has room for */
};

static int expand_cb(void *ctx, const char *address, const char *store_id)
{
	struct expand *ex = ctx;
	struct spool_env *env = ex->env;
	if (store_id == NULL) {
		/* outside forwarding needs the relay, which is not built yet:
		 * the local targets get their copy, this one is said here */
		log_warn("forward_not_built", "rcpt", ex->rcpt, "target", address);
		return 0;
	}
	for (uint32_t i = 0; i < env->nrcpt; i++)
		if (strcmp(env->rcpt[i].store_id, store_id) == 0)
			return 0;    /* one copy per store */
	if (env->nrcpt >= SPOOL_MAX_RCPT)
		return 0;
	if (env->nrcpt == ex->cap) {
		/* grown as aliases expand: a full SPOOL_MAX_RCPT array is
		 * ~850 KiB, zeroed per transaction, which cost more CPU than
		 * the rest of accepting a 100 KiB message */
		uint32_t ncap = ex->cap * 4 < SPOOL_MAX_RCPT ? ex->cap * 4 : SPOOL_MAX_RCPT;
		struct spool_rcpt *v = realloc(env->rcpt, ncap * sizeof(*v));
		if (v == NULL)
			return 0;
		env->rcpt = v;
		ex->cap = ncap;
	}
	struct spool_rcpt *rc = &env->rcpt[env->nrcpt++];
	memset(rc, 0, sizeof(*rc));
	snprintf(rc->address, sizeof(rc->address), "%s", address);
	snprintf(rc->store_id, sizeof(rc->store_id), "%s", store_id);
	rc->notify = ex->notify;
	snprintf(rc->orcpt, sizeof(rc->orcpt), "%s", ex->orcpt);
	return 0;
}

static void on_begin(struct queue *q, uint32_t id, struct ipc_reader *r)
{
	const char *err;
	uint32_t n;
	struct txn *t = calloc(1, sizeof(*t));
	if (t == NULL || q->ntxn >= RD_QUEUE_MAX_TXN || txn_find(q, id, NULL)) {
		free(t);
		send_frame(q->link_fd, IPC_TXN_RESULT, id, 451, "451 4.3.2 Too busy, try again later");
		return;
	}
	char tls[96];
	t->id = id;
	t->fd = -1;
	struct spool_env *e = &t->env;
	if (ipc_get_str(r, e->from, sizeof(e->from), &err) < 0 ||
	    ipc_get_str(r, e->helo, sizeof(e->helo), &err) < 0 ||
	    ipc_get_str(r, e->peer, sizeof(e->peer), &err) < 0 ||
	    ipc_get_str(r, tls, sizeof(tls), &err) < 0 ||
	    ipc_get_str(r, e->auth, sizeof(e->auth), &err) < 0 ||
	    ipc_get_str(r, e->params, sizeof(e->params), &err) < 0 ||
	    ipc_get_u32(r, &n, &err) < 0 || n == 0 || n > SPOOL_MAX_RCPT) {
		free(t);
		send_frame(q->link_fd, IPC_TXN_RESULT, id, 554, "554 5.3.0 Malformed transaction");
		return;
	}
	/* one entry per RCPT to begin with; aliases may add more */
	struct expand ex = { e, NULL, 0, NULL, n < SPOOL_MAX_RCPT ? n : SPOOL_MAX_RCPT };
	e->rcpt = calloc(ex.cap, sizeof(*e->rcpt));
	for (uint32_t i = 0; e->rcpt != NULL && i < n; i++) {
		char addr[RD_MAX_ADDRESS + 1], orcpt[RD_MAX_ADDRESS * 2];
		if (ipc_get_str(r, addr, sizeof(addr), &err) < 0 ||
		    ipc_get_u32(r, &ex.notify, &err) < 0 ||
		    ipc_get_str(r, orcpt, sizeof(orcpt), &err) < 0)
			break;
		ex.rcpt = addr;
		ex.orcpt = orcpt;
		directory_resolve(q->dir, addr, expand_cb, &ex, &err);
	}
	new_qid(t->qid);
	snprintf(e->qid, sizeof(e->qid), "%s", t->qid);
	e->arrived = (uint64_t)time(NULL);
	t->fd = spool_spare_open(q->spool_fd, &q->spares, t->file, sizeof(t->file));
	if (t->fd < 0)
		t->file[0] = '\0';
	if (e->rcpt == NULL || t->fd < 0)
		t->failed = t->fd < 0 && (errno == ENOSPC || errno == EDQUOT) ? 3 : 1;
	t->next = q->txns;
	q->txns = t;
	q->ntxn++;
}

static void on_data(struct queue *q, uint32_t id, struct ipc_reader *r)
{
	const uint8_t *p;
	size_t len;
	const char *err;
	struct txn *t = txn_find(q, id, NULL);
	if (t == NULL || ipc_get_bytes(r, &p, &len, RD_QUEUE_CHUNK, &err) < 0 || t->failed)
		return;
	if (__builtin_add_overflow(t->size, len, &t->size) || t->size > q->max_size + 65536) {
		t->failed = 2;
		return;
	}
	while (len > 0) {
		ssize_t w = write(t->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			t->failed = errno == ENOSPC || errno == EDQUOT ? 3 : 1;
			return;
		}
		p += w;
		len -= (size_t)w;
	}
}

static struct qmsg *qmsg_add(struct queue *q, struct spool_env *env)
{
	struct qmsg *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->env = *env;
	m->inflight = calloc(env->nrcpt ? env->nrcpt : 1, 1);
	m->next = q->msgs;
	q->msgs = m;
	return m;
}

static void kick(struct queue *q);

/* Group commit. COMMITs that arrive together (one read of the link) are
 * staged - message renamed into q/, envelope written - and then made
 * durable by one syncfs() of the spool's file system, after which each gets
 * its 250. Fifty sessions committing at once cost one flush, not 150. */
static int commit_stage(struct queue *q, uint32_t id)
{
	struct txn *t = txn_find(q, id, NULL);
	const char *err = "no such transaction";
	char dst[64];
	if (t == NULL) {
		send_frame(q->link_fd, IPC_TXN_RESULT, id, 451, "451 4.3.0 Transaction lost, try again");
		return -1;
	}
	if (t->failed || t->env.nrcpt == 0) {
		const char *why = t->failed == 2 ? "552 5.3.4 Message too big" :
				  t->failed == 3 ? "452 4.3.1 Insufficient system storage" :
				  t->env.nrcpt == 0 ? "554 5.5.1 No valid recipients" :
				  "451 4.3.0 Local error in processing";
		send_frame(q->link_fd, IPC_TXN_RESULT, id, (uint32_t)atoi(why), why);
		txn_drop(q, id);
		return -1;
	}
	snprintf(dst, sizeof(dst), "q/%s.msg", t->qid);
	t->env.size = t->size;
	int moved = renameat(q->spool_fd, t->file, q->spool_fd, dst) == 0;
	if (moved)
		t->file[0] = '\0';
	if (!moved || spool_env_write_spare(q->spool_fd, &q->spares, &t->env, &err) < 0) {
		int full = errno == ENOSPC || errno == EDQUOT || strcmp(err, "disk full") == 0;
		log_error("queue_write_failed", "qid", t->qid, "reason", full ? "disk full" : strerror(errno));
		if (moved)
			unlinkat(q->spool_fd, dst, 0);
		send_frame(q->link_fd, IPC_TXN_RESULT, id, full ? 452 : 451,
			   full ? "452 4.3.1 Insufficient system storage" :
				  "451 4.3.0 Local error writing the queue");
		txn_drop(q, id);
		return -1;
	}
	close(t->fd);
	t->fd = -1;
	return 0;
}

static void commit_flush(struct queue *q)
{
	if (q->nbatch == 0)
		return;
	/* Rule 7: nothing is acknowledged before it is on disk */
	int r = syncfs(q->spool_fd);
	int e = errno;
	if (r == 0)
		q->removed_unsynced = 0;   /* the syncfs carried them too */
	for (unsigned i = 0; i < q->nbatch; i++) {
		uint32_t id = q->batch[i];
		struct txn *t = txn_find(q, id, NULL);
		char name[64], reply[96];
		if (t == NULL)
			continue;
		if (r < 0) {
			int full = e == ENOSPC || e == EDQUOT;
			log_error("queue_write_failed", "qid", t->qid, "reason", strerror(e));
			snprintf(name, sizeof(name), "q/%s.env", t->qid);
			unlinkat(q->spool_fd, name, 0);
			snprintf(name, sizeof(name), "q/%s.msg", t->qid);
			unlinkat(q->spool_fd, name, 0);
			send_frame(q->link_fd, IPC_TXN_RESULT, id, full ? 452 : 451,
				   full ? "452 4.3.1 Insufficient system storage" :
					  "451 4.3.0 Local error writing the queue");
			txn_drop(q, id);
			continue;
		}
		char sz[24], nr[16];
		snprintf(sz, sizeof(sz), "%llu", (unsigned long long)t->size);
		snprintf(nr, sizeof(nr), "%u", t->env.nrcpt);
		log_info("queued", "qid", t->qid, "from", t->env.from, "size", sz, "stores", nr,
			 "peer", t->env.peer);
		snprintf(reply, sizeof(reply), "250 2.0.0 Ok: queued as %s", t->qid);
		send_frame(q->link_fd, IPC_TXN_RESULT, id, 250, reply);
		/* the spool now owns the envelope */
		struct spool_env env = t->env;
		t->env.rcpt = NULL;
		t->env.nrcpt = 0;
		txn_drop(q, id);   /* its file is in q/ now */
		qmsg_add(q, &env);
	}
	q->nbatch = 0;
	kick(q);
}

static void on_commit(struct queue *q, uint32_t id)
{
	if (commit_stage(q, id) == 0)
		q->batch[q->nbatch++] = id;
	/* the batch never outgrows the open transactions */
	if (q->nbatch >= RD_QUEUE_MAX_TXN)
		commit_flush(q);
}

/* ---- deliveries ---- */

static void qmsg_free(struct queue *q, struct qmsg *m)
{
	struct qmsg **pp = &q->msgs;
	while (*pp && *pp != m)
		pp = &(*pp)->next;
	if (*pp)
		*pp = m->next;
	spool_env_free(&m->env);
	free(m->inflight);
	free(m);
}

static void kick(struct queue *q)
{
	time_t now = time(NULL);
	if (q->stopping)
		return;
	for (struct qmsg *m = q->msgs; m != NULL; m = m->next) {
		if (m->next_try > now)
			continue;
		for (uint32_t i = 0; i < m->env.nrcpt; i++) {
			if (m->env.rcpt[i].state != SPOOL_PENDING || m->inflight[i])
				continue;
			struct delivery *d = NULL;
			for (size_t k = 0; k < RD_QUEUE_DELIVERY_WINDOW && d == NULL; k++)
				if (!q->deliv[k].used)
					d = &q->deliv[k];
			if (d == NULL)
				return;
			char name[64];
			snprintf(name, sizeof(name), "q/%s.msg", m->env.qid);
			int fd = openat(q->spool_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				log_error("queue_message_missing", "qid", m->env.qid);
				m->env.rcpt[i].state = SPOOL_FAILED;
				continue;
			}
			struct ipc_msg msg;
			const char *err;
			ipc_msg_init(&msg, IPC_DELIVER, ++q->next_deliv);
			ipc_put_str(&msg, m->env.qid);
			ipc_put_str(&msg, m->env.rcpt[i].store_id);
			ipc_put_str(&msg, m->env.rcpt[i].address);
			ipc_put_str(&msg, m->env.from);
			int r = ipc_send(q->ctx->ipc_fd, &msg, fd, &err);
			ipc_msg_free(&msg);
			close(fd);
			if (r < 0)
				return;
			d->used = 1;
			d->id = q->next_deliv;
			d->m = m;
			d->rcpt = i;
			m->inflight[i] = 1;
		}
	}
}

static void on_deliver_done(struct queue *q, uint32_t id, struct ipc_reader *r)
{
	uint32_t status;
	const char *err;
	struct delivery *d = NULL;
	for (size_t k = 0; k < RD_QUEUE_DELIVERY_WINDOW; k++)
		if (q->deliv[k].used && q->deliv[k].id == id)
			d = &q->deliv[k];
	if (d == NULL || ipc_get_u32(r, &status, &err) < 0)
		return;
	struct qmsg *m = d->m;
	struct spool_rcpt *rc = &m->env.rcpt[d->rcpt];
	d->used = 0;
	m->inflight[d->rcpt] = 0;
	rc->attempts++;
	if (status == 0 || status == 3)
		mark_full(q, rc->store_id, status == 3);
	if (status == 0) {
		rc->state = SPOOL_DELIVERED;
		log_info("delivered", "qid", m->env.qid, "to", rc->address);
	} else if (status == 2 ||
		   (uint64_t)time(NULL) - m->env.arrived > RD_QUEUE_GIVE_UP_S) {
		rc->state = SPOOL_FAILED;
		/* bounces arrive with the relay; until then the log says it */
		log_error("delivery_failed", "qid", m->env.qid, "to", rc->address);
	} else {
		m->next_try = time(NULL) + RD_QUEUE_RETRY_S;
		log_warn("delivery_deferred", "qid", m->env.qid, "to", rc->address,
			 "reason", status == 3 ? "mailbox full" : "temporary failure");
	}
	int pending = 0, inflight = 0;
	for (uint32_t i = 0; i < m->env.nrcpt; i++) {
		pending += m->env.rcpt[i].state == SPOOL_PENDING;
		inflight += m->inflight[i];
	}
	if (!pending && !inflight) {
		/* Done: the files go (to spare/, to be written over by the
		 * next messages), and q/ is synced later for many removals
		 * at once (tick_cb, or the next commit's syncfs). A crash
		 * before that redelivers, and the store skips what it filed:
		 * its delivery key is recorded, whatever the file holds by
		 * then. */
		spool_remove_spare(q->spool_fd, &q->spares, m->env.qid, m->env.size);
		q->removed_unsynced = 1;
		qmsg_free(q, m);
	} else if (status != 0 && spool_env_write(q->spool_fd, &m->env, &err) < 0) {
		/* Only a failure or a deferral is written down: a delivered
		 * recipient is recorded by the store itself (its delivery key),
		 * so the envelope is not rewritten and fsynced per recipient.
		 * If this write fails the old envelope stays: at worst a retry
		 * the store recognises, never a loss. */
		log_error("queue_update_failed", "qid", m->env.qid, "reason", err);
	}
	kick(q);
}

/* ---- start-up recovery ---- */

static void recover(struct queue *q)
{
	const char *err;
	int tfd = openat(q->spool_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = tfd >= 0 ? fdopendir(tfd) : NULL;
	struct dirent *e;
	/* nothing in tmp/ was ever acknowledged, nothing in spare/ is used */
	for (int pass = 0; pass < 2; pass++) {
		while (d && (e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				unlinkat(tfd, e->d_name, 0);
		if (d)
			closedir(d);
		if (pass == 0) {
			tfd = openat(q->spool_fd, "spare", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			d = tfd >= 0 ? fdopendir(tfd) : NULL;
		}
	}
	int qfd = openat(q->spool_fd, "q", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = qfd >= 0 ? fdopendir(qfd) : NULL;
	unsigned n = 0;
	while (d && (e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l != SPOOL_QID_LEN + 4)
			continue;
		char qid[SPOOL_QID_LEN + 1], other[64];
		memcpy(qid, e->d_name, SPOOL_QID_LEN);
		qid[SPOOL_QID_LEN] = '\0';
		if (strcmp(e->d_name + SPOOL_QID_LEN, ".msg") == 0) {
			snprintf(other, sizeof(other), "%s.env", qid);
			if (faccessat(qfd, other, F_OK, 0) < 0)
				unlinkat(qfd, e->d_name, 0);   /* crash before the 250 */
			continue;
		}
		if (strcmp(e->d_name + SPOOL_QID_LEN, ".env") != 0)
			continue;
		struct spool_env env;
		if (spool_env_read(q->spool_fd, qid, &env, &err) < 0) {
			log_error("queue_bad_envelope", "qid", qid, "reason", err);
			continue;
		}
		/* a batch cut off before its syncfs: never acknowledged */
		struct stat st;
		snprintf(other, sizeof(other), "%s.msg", qid);
		if (fstatat(qfd, other, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (uint64_t)st.st_size != env.size) {
			log_warn("queue_discarded_unacknowledged", "qid", qid);
			unlinkat(qfd, other, 0);
			unlinkat(qfd, e->d_name, 0);
			spool_env_free(&env);
			continue;
		}
		qmsg_add(q, &env);
		n++;
	}
	if (d)
		closedir(d);
	char ns[16];
	snprintf(ns, sizeof(ns), "%u", n);
	log_info("queue_recovered", "messages", ns);
}

/* ---- event plumbing ---- */

static void link_cb(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;
	(void)what;
	for (int budget = 0; budget < 256; budget++) {
		struct ipc_header h;
		struct ipc_reader r;
		const char *err;
		int pfd;
		int n = ipc_recv(fd, q->buf, IPC_RECV_BUFSIZE, &h, &r, &pfd, &err);
		if (n == -2)
			break;
		if (pfd >= 0)
			close(pfd);
		if (n <= 0 || pfd >= 0) {
			commit_flush(q);
			/* smtp-in went away: its open transactions die with it */
			while (q->txns)
				txn_drop(q, q->txns->id);
			event_free(q->link_ev);
			q->link_ev = NULL;
			close(q->link_fd);
			q->link_fd = -1;
			return;
		}
		switch (h.type) {
		case IPC_TXN_RCPT: on_rcpt(q, h.id, &r); break;
		case IPC_TXN_BEGIN: on_begin(q, h.id, &r); break;
		case IPC_TXN_DATA: on_data(q, h.id, &r); break;
		case IPC_TXN_COMMIT: on_commit(q, h.id); break;
		case IPC_TXN_ABORT: txn_drop(q, h.id); break;
		default: log_error("ipc_bad_frame", "reason", "unexpected frame on the queue link");
		}
	}
	commit_flush(q);
}

static void master_cb(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;
	(void)what;
	for (;;) {
		struct ipc_header h;
		struct ipc_reader r;
		const char *err;
		int pfd;
		int n = ipc_recv(fd, q->buf, IPC_RECV_BUFSIZE, &h, &r, &pfd, &err);
		if (n == -2)
			return;
		if (n <= 0 || h.type == IPC_SHUTDOWN) {
			if (pfd >= 0)
				close(pfd);
			q->stopping = 1;
			event_base_loopbreak(q->base);
			return;
		}
		if (h.type == IPC_QUEUE_LINK && pfd >= 0) {
			if (q->link_ev) {
				event_free(q->link_ev);
				close(q->link_fd);
				while (q->txns)
					txn_drop(q, q->txns->id);
			}
			q->link_fd = pfd;
			evutil_make_socket_nonblocking(pfd);
			q->link_ev = event_new(q->base, pfd, EV_READ | EV_PERSIST, link_cb, q);
			event_add(q->link_ev, NULL);
			continue;
		}
		if (pfd >= 0)
			close(pfd);
		if (h.type == IPC_DELIVER_DONE)
			on_deliver_done(q, h.id, &r);
	}
}

/* Make finished messages' removals durable, a batch at a time. */
static void sync_removals(struct queue *q)
{
	if (q->removed_unsynced && spool_sync_dir(q->spool_fd, "q") == 0)
		q->removed_unsynced = 0;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct queue *q = arg;
	(void)fd;
	(void)what;
	sync_removals(q);
	kick(q);
}

int queue_main(struct role_ctx *ctx)
{
	struct role_policy rp;
	const char *err;
	char path[4096];
	if (role_policy_make(&rp, "queue", ctx->data_dir, NULL, ctx->run_as_user) < 0 ||
	    role_confine(ctx, &rp.p) < 0)
		return 1;
	struct queue q = { .ctx = ctx, .link_fd = -1, .max_size = RD_STORE_MAX_MESSAGE };
	snprintf(path, sizeof(path), "%s/spool", ctx->data_dir);
	q.spool_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/directory", ctx->data_dir);
	if (q.spool_fd < 0 || spool_prepare(q.spool_fd, &err) < 0 ||
	    directory_open(path, 0, &q.dir, &err) < 0) {
		log_error("queue_setup_failed", "reason", q.spool_fd < 0 ? strerror(errno) : err);
		return 1;
	}
	if (sodium_init() < 0)
		return 1;
	q.buf = malloc(IPC_RECV_BUFSIZE);
	q.base = event_base_new();
	if (q.buf == NULL || q.base == NULL)
		return 1;
	recover(&q);
	evutil_make_socket_nonblocking(ctx->ipc_fd);
	q.ipc_ev = event_new(q.base, ctx->ipc_fd, EV_READ | EV_PERSIST, master_cb, &q);
	q.tick = event_new(q.base, -1, EV_PERSIST, tick_cb, &q);
	struct timeval tv = { .tv_sec = 5 };
	event_add(q.ipc_ev, NULL);
	event_add(q.tick, &tv);
	role_send_ready(ctx);
	log_info("role_ready");
	kick(&q);
	event_base_dispatch(q.base);
	sync_removals(&q);
	while (q.txns)
		txn_drop(&q, q.txns->id);
	while (q.msgs)
		qmsg_free(&q, q.msgs);
	if (q.link_ev)
		event_free(q.link_ev);
	event_free(q.ipc_ev);
	event_free(q.tick);
	event_base_free(q.base);
	directory_close(&q.dir);
	close(q.spool_fd);
	free(q.buf);
	log_info("role_stopped");
	return 0;
}
