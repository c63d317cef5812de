#include "smtp/smtp-txn.h"
#include "smtp/smtp-path.h"
#include "smtp/smtp-data.h"
#include "lib/buffer.h"
#include "lib/ipc.h"
#include "lib/log.h"
#include "audit/audit-log.h"
#include "limits.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>

struct link_frame {
	struct link_frame *next;
	size_t len;
	uint8_t data[];
};

struct smtp_link {
	struct front *front;
	struct event_base *base;
	int fd;
	struct event *ev;
	struct event *wev;          /* the link is writable again */
	uint8_t *buf;
	/* frames the queue could not take yet, in order */
	struct link_frame *outq, *outq_tail;
	size_t outq_bytes;
	/* connections paused in DATA until the queue catches up */
	unsigned *waiting;
	size_t nwaiting;
};

enum txn_wait { W_NONE, W_RCPT, W_RESULT };

/* An accepted recipient and its DSN parameters (RFC 3461 4.1, 4.2). */
struct txn_rcpt {
	char address[RD_MAX_ADDRESS + 1];
	unsigned notify;
	char orcpt[RD_MAX_ADDRESS * 2];
};

struct smtp_txn {
	int has_mail;
	struct smtp_path mail;
	struct txn_rcpt *rcpt;      /* grows with the recipients */
	unsigned nrcpt, rcpt_cap;
	struct txn_rcpt pending;    /* the RCPT the queue is checking */
	enum txn_wait wait;
	int begun;                  /* IPC_TXN_BEGIN sent */
	int in_data;
	struct smtp_data dm;
	struct buffer chunk;
	uint64_t total;             /* octets of this message so far */
	uint64_t max_size;
	int too_big;                /* over max_size: discard to the end */
	/* BDAT (RFC 3030) */
	int in_bdat;
	uint64_t bdat_left;         /* octets of the current chunk still to read */
	uint64_t bdat_size;
	int bdat_last;
	const char *bdat_error;     /* refuse after reading the chunk */
	/* accepted in this session, for its audit record */
	uint64_t sent_msgs, sent_bytes;
};

void smtp_txn_counts(const struct smtp_txn *t, uint64_t *msgs, uint64_t *bytes)
{
	*msgs = t->sent_msgs;
	*bytes = t->sent_bytes;
}

static struct smtp_link *link_of(struct conn *c)
{
	return conn_role(c);
}

/* Frames go out in order: straight to the socket when nothing is
 * queued, else behind the queued ones. A full socket is not an error: the
 * frame waits in memory and clients in DATA stop being read (see
 * link_busy) until the queue role catches up. */
static void link_enqueue(struct smtp_link *l, struct link_frame *f, size_t len);

static int link_send(struct smtp_link *l, struct ipc_msg *m)
{
	const char *err;
	if (l == NULL || l->fd < 0)
		return -1;
	if (l->outq == NULL) {
		int r = ipc_send(l->fd, m, -1, &err);
		if (r == 0)
			return 0;
		if (r != -2) {
			log_error("queue_link_send_failed", "reason", err);
			return -1;
		}
	}
	size_t len = ipc_frame_size(m);
	struct link_frame *f = malloc(sizeof(*f) + len);
	if (f == NULL)
		return -1;
	ipc_frame_write(m, f->data);
	link_enqueue(l, f, len);
	return 0;
}

/* An IPC_TXN_DATA frame straight from the message buffer: no ipc_msg is
 * built, so the chunk is copied only by the kernel (or once into the
 * queue of frames when the socket is full). */
static int link_send_data(struct smtp_link *l, uint32_t id, const uint8_t *p, size_t n)
{
	const char *err;
	if (l == NULL || l->fd < 0)
		return -1;
	if (l->outq == NULL) {
		int r = ipc_send_bytes(l->fd, IPC_TXN_DATA, id, p, n, &err);
		if (r == 0)
			return 0;
		if (r != -2) {
			log_error("queue_link_send_failed", "reason", err);
			return -1;
		}
	}
	size_t len = ipc_bytes_frame_size(n);
	struct link_frame *f = malloc(sizeof(*f) + len);
	if (f == NULL)
		return -1;
	ipc_bytes_frame_write(IPC_TXN_DATA, id, p, n, f->data);
	link_enqueue(l, f, len);
	return 0;
}

static void link_enqueue(struct smtp_link *l, struct link_frame *f, size_t len)
{
	f->next = NULL;
	f->len = len;
	if (l->outq_tail)
		l->outq_tail->next = f;
	else
		l->outq = f;
	l->outq_tail = f;
	l->outq_bytes += len;
	event_add(l->wev, NULL);
}

static int link_busy(const struct smtp_link *l)
{
	return l != NULL && l->outq_bytes > RD_QUEUE_LINK_HIGH;
}

static void link_wait(struct smtp_link *l, struct conn *c)
{
	if (l->nwaiting < RD_MAX_CONNECTIONS)
		l->waiting[l->nwaiting++] = conn_id(c);
	conn_pause(c);
}

static void link_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_link *l = arg;
	(void)what;
	while (l->outq != NULL) {
		struct link_frame *f = l->outq;
		ssize_t n = send(fd, f->data, f->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 || (size_t)n != f->len) {
			log_error("queue_link_send_failed", "reason", n < 0 ? strerror(errno) : "short send");
			break;
		}
		l->outq = f->next;
		if (l->outq == NULL)
			l->outq_tail = NULL;
		l->outq_bytes -= f->len;
		free(f);
	}
	if (l->outq != NULL)
		event_add(l->wev, NULL);
	if (l->outq_bytes <= RD_QUEUE_LINK_LOW && l->nwaiting > 0) {
		size_t n = l->nwaiting;
		l->nwaiting = 0;
		for (size_t i = 0; i < n; i++) {
			struct conn *c = front_conn_by_id(l->front, l->waiting[i]);
			if (c != NULL)
				conn_resume(c);
		}
	}
}

static void link_drop_queue(struct smtp_link *l)
{
	while (l->outq) {
		struct link_frame *f = l->outq;
		l->outq = f->next;
		free(f);
	}
	l->outq_tail = NULL;
	l->outq_bytes = 0;
}

static int link_simple(struct conn *c, enum ipc_type type)
{
	struct ipc_msg m;
	ipc_msg_init(&m, type, conn_id(c));
	int r = link_send(link_of(c), &m);
	ipc_msg_free(&m);
	return r;
}

struct smtp_txn *smtp_txn_new(void)
{
	struct smtp_txn *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	buffer_init(&t->chunk, RD_QUEUE_CHUNK + RD_SMTP_MAX_DATA_LINE + 4096);
	return t;
}

void smtp_txn_reset(struct conn *c, struct smtp_txn *t)
{
	if (t->begun)
		link_simple(c, IPC_TXN_ABORT);
	t->begun = 0;
	t->has_mail = 0;
	t->nrcpt = 0;
	t->in_data = 0;
	t->in_bdat = 0;
	t->wait = W_NONE;
	buffer_reset(&t->chunk);
	conn_set_raw(c, 0);
}

void smtp_txn_free(struct conn *c, struct smtp_txn *t)
{
	if (t == NULL)
		return;
	if (t->begun)
		link_simple(c, IPC_TXN_ABORT);
	buffer_free(&t->chunk);
	free(t->rcpt);
	free(t);
}

static void reply_err(struct conn *c, unsigned *errs, const char *text)
{
	conn_printf(c, "%s\r\n", text);
	if (text[0] == '5')
		(*errs)++;
}

static int same_address(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

void smtp_txn_mail(struct conn *c, struct smtp_txn *t, const struct smtp_sess_info *si,
		   const char *arg, unsigned *errs)
{
	const char *status;
	if (t->has_mail) {
		reply_err(c, errs, "503 5.5.1 Sender already given; RSET first");
		return;
	}
	if (si->submission && si->principal[0] == '\0') {
		reply_err(c, errs, "530 5.7.0 Authentication required");
		return;
	}
	if (smtp_path_parse(SMTP_PATH_MAIL, arg, strlen(arg), 1, &t->mail, &status) != SMTP_PATH_OK) {
		reply_err(c, errs, status);
		return;
	}
	if (t->mail.has_size && t->mail.size > (si->max_size ? si->max_size : RD_STORE_MAX_MESSAGE)) {
		reply_err(c, errs, "552 5.3.4 Message size exceeds the fixed maximum message size");
		return;
	}
	/* Submission: a user sends only as themselves ("send as" grants
	 * come with the directory's grants). */
	if (si->submission && !t->mail.null_path && !same_address(t->mail.address, si->principal)) {
		log_warn("send_as_refused", "principal", si->principal, "from", t->mail.address,
			 "peer", conn_peer(c));
		struct audit_kv kv[] = { { AUDIT_F_PRINCIPAL, si->principal },
					 { "from", t->mail.address } };
		conn_audit(c, "send_as_refused", kv, 2);
		reply_err(c, errs, "553 5.7.1 Sender address not owned by the authenticated user");
		return;
	}
	t->has_mail = 1;
	t->nrcpt = 0;
	conn_printf(c, "250 2.1.0 Ok\r\n");
}

void smtp_txn_rcpt(struct conn *c, struct smtp_txn *t, const struct smtp_sess_info *si,
		   const char *arg, unsigned *errs)
{
	struct smtp_path p;
	const char *status;
	if (!t->has_mail) {
		reply_err(c, errs, "503 5.5.1 Need MAIL before RCPT");
		return;
	}
	if (smtp_path_parse(SMTP_PATH_RCPT, arg, strlen(arg), t->mail.smtputf8, &p, &status) !=
	    SMTP_PATH_OK) {
		reply_err(c, errs, status);
		return;
	}
	if (t->nrcpt >= RD_SMTP_MAX_RCPT || (si->max_rcpt && t->nrcpt >= si->max_rcpt)) {
		conn_printf(c, "452 4.5.3 Too many recipients\r\n");
		return;
	}
	const char *addr = p.postmaster ? "postmaster" : p.address;
	struct ipc_msg m;
	ipc_msg_init(&m, IPC_TXN_RCPT, conn_id(c));
	ipc_put_str(&m, addr);
	int r = link_send(link_of(c), &m);
	ipc_msg_free(&m);
	if (r < 0) {
		conn_printf(c, "451 4.3.0 Queue not available, try again later\r\n");
		return;
	}
	snprintf(t->pending.address, sizeof(t->pending.address), "%s", addr);
	t->pending.notify = p.notify;
	snprintf(t->pending.orcpt, sizeof(t->pending.orcpt), "%s", p.orcpt);
	t->wait = W_RCPT;
	conn_pause(c);
}

static void received_header(struct conn *c, struct smtp_txn *t, const struct smtp_sess_info *si)
{
	char date[64], tls[96];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	conn_tls_describe(c, tls, sizeof(tls));
	/* RFC 3848 protocol names */
	const char *with = conn_is_tls(c) ? (si->principal[0] ? "ESMTPSA" : "ESMTPS") :
			   (si->principal[0] ? "ESMTPA" : "ESMTP");
	buffer_printf(&t->chunk, "Received: from %s (%s [%s])\r\n\tby %s (redoubt) with %s",
		      si->helo, conn_peer(c), conn_peer(c), conn_hostname(c), with);
	if (conn_is_tls(c))
		buffer_printf(&t->chunk, "\r\n\t(%s)", tls);
	if (t->nrcpt == 1)
		buffer_printf(&t->chunk, "\r\n\tfor <%s>", t->rcpt[0].address);
	buffer_printf(&t->chunk, "; %s\r\n", date);
}

/* Tell the queue a message starts; 0, or -1 after answering 451. */
static int txn_begin(struct conn *c, struct smtp_txn *t, const struct smtp_sess_info *si)
{
	char tls[96], params[512];
	conn_tls_describe(c, tls, sizeof(tls));
	/* DSN parameters travel with the message, ENVID xtext-encoded again
	 * (RFC 3461 4) so the record stays one token per parameter */
	char envid[3 * RD_SMTP_MAX_ENVID + 1];
	size_t o = 0;
	for (const unsigned char *e = (const unsigned char *)t->mail.envid; *e; e++) {
		if (*e < 33 || *e > 126 || *e == '+' || *e == '=')
			o += (size_t)snprintf(envid + o, sizeof(envid) - o, "+%02X", *e);
		else
			envid[o++] = (char)*e;
	}
	envid[o] = '\0';
	snprintf(params, sizeof(params), "BODY=%s%s%s%s%s",
		 t->mail.body == SMTP_BODY_8BITMIME ? "8BITMIME" :
		 t->mail.body == SMTP_BODY_BINARYMIME ? "BINARYMIME" : "7BIT",
		 t->mail.smtputf8 ? " SMTPUTF8" : "",
		 t->mail.ret == SMTP_RET_HDRS ? " RET=HDRS" : t->mail.ret == SMTP_RET_FULL ? " RET=FULL" : "",
		 envid[0] ? " ENVID=" : "", envid);
	struct ipc_msg m;
	ipc_msg_init(&m, IPC_TXN_BEGIN, conn_id(c));
	ipc_put_str(&m, t->mail.address);
	ipc_put_str(&m, si->helo);
	ipc_put_str(&m, conn_peer(c));
	ipc_put_str(&m, tls);
	ipc_put_str(&m, si->principal);
	ipc_put_str(&m, params);
	ipc_put_u32(&m, t->nrcpt);
	for (unsigned i = 0; i < t->nrcpt; i++) {
		ipc_put_str(&m, t->rcpt[i].address);
		ipc_put_u32(&m, t->rcpt[i].notify);
		ipc_put_str(&m, t->rcpt[i].orcpt);
	}
	int r = link_send(link_of(c), &m);
	ipc_msg_free(&m);
	if (r < 0) {
		conn_printf(c, "451 4.3.0 Queue not available, try again later\r\n");
		return -1;
	}
	t->begun = 1;
	t->total = 0;
	t->too_big = 0;
	t->max_size = si->max_size ? si->max_size : RD_STORE_MAX_MESSAGE;
	buffer_reset(&t->chunk);
	received_header(c, t, si);
	return 0;
}

static const char *txn_ready(struct smtp_txn *t)
{
	if (!t->has_mail)
		return "503 5.5.1 Need MAIL command";
	if (t->nrcpt == 0)
		return "554 5.5.1 No valid recipients";
	return NULL;
}

void smtp_txn_data(struct conn *c, struct smtp_txn *t, const struct smtp_sess_info *si,
		   const char *arg, unsigned *errs)
{
	const char *why;
	if (arg[0] != '\0') {
		reply_err(c, errs, "501 5.5.4 DATA takes no arguments");
		return;
	}
	if (t->in_bdat || t->begun) {
		reply_err(c, errs, "503 5.5.1 DATA cannot follow BDAT in one transaction");
		return;
	}
	if ((why = txn_ready(t)) != NULL) {
		reply_err(c, errs, why);
		return;
	}
	if (txn_begin(c, t, si) < 0)
		return;
	t->in_data = 1;
	smtp_data_init(&t->dm);
	conn_printf(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
	conn_set_raw(c, 1);
}

static int flush_chunk(struct conn *c, struct smtp_txn *t);

void smtp_txn_bdat(struct conn *c, struct smtp_txn *t, const struct smtp_sess_info *si,
		   const char *arg, unsigned *errs)
{
	uint64_t size;
	int last;
	const char *status;
	if (smtp_bdat_parse(arg, strlen(arg), &size, &last, &status) < 0) {
		/* without a valid size we cannot find the end of the chunk */
		reply_err(c, errs, status);
		smtp_txn_reset(c, t);
		conn_close_after_flush(c);
		return;
	}
	t->bdat_size = size;
	t->bdat_left = size;
	t->bdat_last = last;
	t->bdat_error = NULL;
	/* RFC 3030 2: the chunk is read even when it is refused */
	if (!t->in_bdat) {
		if ((t->bdat_error = txn_ready(t)) == NULL && t->begun)
			t->bdat_error = "503 5.5.1 BDAT cannot follow DATA";
		if (t->bdat_error == NULL) {
			if (txn_begin(c, t, si) < 0)
				t->bdat_error = "451 4.3.0 Queue not available, try again later";
			else
				t->in_bdat = 1;
		}
	}
	if (t->bdat_error != NULL && t->bdat_error[0] == '5')
		(*errs)++;
	conn_set_raw(c, 1);
	if (size == 0)
		smtp_txn_raw(c, t, (const unsigned char *)"", 0);
}

static size_t bdat_raw(struct conn *c, struct smtp_txn *t, const unsigned char *p, size_t len)
{
	size_t n = len < t->bdat_left ? len : (size_t)t->bdat_left;
	size_t used = 0;
	while (used < n && t->bdat_error == NULL) {
		size_t room = t->chunk.max - t->chunk.len;
		size_t k = n - used < room ? n - used : room;
		if (t->total + k > t->max_size) {
			t->bdat_error = "552 5.3.4 Message size exceeds the fixed maximum message size";
			break;
		}
		buffer_append(&t->chunk, p + used, k);
		t->total += k;
		used += k;
		if (t->chunk.len >= RD_QUEUE_CHUNK && flush_chunk(c, t) < 0)
			t->bdat_error = "451 4.3.0 Queue not available, try again later";
	}
	t->bdat_left -= n;
	if (t->bdat_left > 0)
		return n;
	conn_set_raw(c, 0);
	if (t->bdat_error != NULL) {
		conn_printf(c, "%s\r\n", t->bdat_error);
		if (t->in_bdat) {
			smtp_txn_reset(c, t);
		}
		return n;
	}
	if (!t->bdat_last) {
		conn_printf(c, "250 2.0.0 %llu octets received\r\n", (unsigned long long)t->bdat_size);
		return n;
	}
	t->in_bdat = 0;
	if (flush_chunk(c, t) < 0 || link_simple(c, IPC_TXN_COMMIT) < 0) {
		smtp_txn_reset(c, t);
		conn_printf(c, "451 4.3.0 Queue not available, try again later\r\n");
		return n;
	}
	t->wait = W_RESULT;
	conn_pause(c);
	return n;
}

static int flush_chunk(struct conn *c, struct smtp_txn *t)
{
	size_t off = 0;
	while (off < t->chunk.len) {
		size_t n = t->chunk.len - off;
		if (n > RD_QUEUE_CHUNK)
			n = RD_QUEUE_CHUNK;
		int r = link_send_data(link_of(c), conn_id(c), t->chunk.data + off, n);
		if (r < 0)
			return -1;
		off += n;
	}
	buffer_reset(&t->chunk);
	return 0;
}

static void finish(struct smtp_txn *t)
{
	t->begun = 0;
	t->in_bdat = 0;
	t->has_mail = 0;
	t->nrcpt = 0;
	buffer_reset(&t->chunk);
}

size_t smtp_txn_raw(struct conn *c, struct smtp_txn *t, const unsigned char *p, size_t len)
{
	size_t used = 0;
	if (link_busy(link_of(c))) {
		/* the queue is behind: leave the bytes in the socket (TCP
		 * pushes back on the client) until it catches up */
		link_wait(link_of(c), c);
		return 0;
	}
	if (!t->in_data)
		return bdat_raw(c, t, p, len);
	while (used < len) {
		/* output never exceeds input, so this never overflows chunk */
		size_t room = t->chunk.max - t->chunk.len;
		size_t n = len - used < room ? len - used : room;
		size_t consumed = 0;
		size_t before = t->chunk.len;
		int r = smtp_data_feed(&t->dm, p + used, n, &consumed, &t->chunk);
		used += consumed;
		t->total += t->chunk.len - before;
		if (t->total > t->max_size && !t->too_big) {
			t->too_big = 1;
			link_simple(c, IPC_TXN_ABORT);
			t->begun = 0;
		}
		if (t->too_big)
			buffer_reset(&t->chunk);   /* read to the end, keep nothing */
		if (r == SMTP_DATA_MORE) {
			if (!t->too_big && t->chunk.len >= RD_QUEUE_CHUNK && flush_chunk(c, t) < 0)
				goto link_lost;
			if (consumed == 0)
				break;
			continue;
		}
		t->in_data = 0;
		conn_set_raw(c, 0);
		if (r == SMTP_DATA_DONE && !t->too_big) {
			if (flush_chunk(c, t) < 0 || link_simple(c, IPC_TXN_COMMIT) < 0)
				goto link_lost;
			t->wait = W_RESULT;
			conn_pause(c);
			return used;
		}
		/* refused: the whole message has been read up to its end */
		if (t->begun)
			link_simple(c, IPC_TXN_ABORT);
		finish(t);
		/* issue 9 asks for 500 5.5.2 on an over-long line */
		conn_printf(c, "%s\r\n", t->too_big ?
			    "552 5.3.4 Message size exceeds the fixed maximum message size" :
			    t->dm.reason == SMTP_DATA_LINE_TOO_LONG ?
			    "500 5.5.2 Line too long: more than 998 octets (RFC 5322 2.1.1)" :
			    smtp_data_reply(t->dm.reason));
		return used;
	}
	return used;
link_lost:
	t->begun = 0;
	smtp_txn_reset(c, t);
	conn_printf(c, "451 4.3.0 Queue not available, try again later\r\n");
	conn_close_after_flush(c);
	return len;
}

/* ---- the link ---- */

struct smtp_txn *smtp_sess_txn(struct conn *c);

static void link_frame(struct smtp_link *l, struct ipc_header *h, struct ipc_reader *r)
{
	struct conn *c = front_conn_by_id(l->front, h->id);
	uint32_t code;
	char text[RD_MAX_ADDRESS + 128];
	const char *err;
	if (c == NULL)
		return;    /* the client left meanwhile */
	struct smtp_txn *t = smtp_sess_txn(c);
	if (t == NULL || ipc_get_u32(r, &code, &err) < 0 ||
	    ipc_get_str(r, text, sizeof(text), &err) < 0)
		return;
	if (h->type == IPC_TXN_RCPT_REPLY && t->wait == W_RCPT) {
		t->wait = W_NONE;
		if (code == 0 && t->nrcpt == t->rcpt_cap && t->rcpt_cap < RD_SMTP_MAX_RCPT) {
			unsigned ncap = t->rcpt_cap ? t->rcpt_cap * 4 : 4;
			if (ncap > RD_SMTP_MAX_RCPT)
				ncap = RD_SMTP_MAX_RCPT;
			void *v = realloc(t->rcpt, ncap * sizeof(*t->rcpt));
			if (v != NULL) {
				t->rcpt = v;
				t->rcpt_cap = ncap;
			}
		}
		if (code == 0 && t->nrcpt >= t->rcpt_cap) {
			conn_printf(c, "452 4.5.3 Too many recipients\r\n");
		} else if (code == 0) {
			/* the queue names the address to record when it is not
			 * the one given (<Postmaster> without a domain) */
			if (text[0] != '\0' && strlen(text) < sizeof(t->pending.address))
				memcpy(t->pending.address, text, strlen(text) + 1);
			t->rcpt[t->nrcpt++] = t->pending;
			conn_printf(c, "250 2.1.5 Ok\r\n");
		} else {
			conn_printf(c, "%s\r\n", text);
		}
		conn_resume(c);
	} else if (h->type == IPC_TXN_RESULT && t->wait == W_RESULT) {
		t->wait = W_NONE;
		if (code == 250) {
			t->sent_msgs++;
			t->sent_bytes += t->total;
		}
		finish(t);
		conn_printf(c, "%s\r\n", text);
		conn_resume(c);
	} else if (h->type == IPC_TXN_RESULT && t->begun) {
		/* the queue refused early (busy): remember to tell at the end */
		t->begun = 0;
	}
}

static void link_cb(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_link *l = arg;
	(void)what;
	for (int budget = 0; budget < 256; budget++) {
		struct ipc_header h;
		struct ipc_reader r;
		const char *err;
		int pfd;
		int n = ipc_recv(fd, l->buf, IPC_RECV_BUFSIZE, &h, &r, &pfd, &err);
		if (n == -2)
			return;
		if (pfd >= 0)
			close(pfd);
		if (n <= 0) {
			log_warn("queue_link_lost");
			event_free(l->ev);
			l->ev = NULL;
			if (l->wev)
				event_free(l->wev);
			l->wev = NULL;
			link_drop_queue(l);
			close(l->fd);
			l->fd = -1;
			/* new clients wait in the backlog until master links
			 * the next queue process, rather than meet 451s */
			front_set_accepting(l->front, 0);
			return;
		}
		link_frame(l, &h, &r);
	}
}

struct smtp_link *smtp_link_new(struct front *f, struct event_base *base)
{
	struct smtp_link *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->front = f;
	l->base = base;
	l->fd = -1;
	/* no connection is taken before the queue is linked: a client
	 * arriving at start-up would otherwise be told 451 at its RCPT */
	front_set_accepting(f, 0);
	l->buf = malloc(IPC_RECV_BUFSIZE);
	l->waiting = calloc(RD_MAX_CONNECTIONS, sizeof(*l->waiting));
	if (l->buf == NULL || l->waiting == NULL) {
		free(l->buf);
		free(l->waiting);
		free(l);
		return NULL;
	}
	return l;
}

void smtp_link_free(struct smtp_link *l)
{
	if (l == NULL)
		return;
	if (l->ev)
		event_free(l->ev);
	if (l->wev)
		event_free(l->wev);
	link_drop_queue(l);
	if (l->fd >= 0)
		close(l->fd);
	free(l->buf);
	free(l->waiting);
	free(l);
}

void smtp_link_master_frame(struct smtp_link *l, int type, int fd)
{
	if (type != IPC_QUEUE_LINK || fd < 0 || l == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (l->ev)
		event_free(l->ev);
	if (l->wev)
		event_free(l->wev);
	/* frames for the old queue process are meaningless to the new one */
	link_drop_queue(l);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = fd;
	evutil_make_socket_nonblocking(fd);
	l->ev = event_new(l->base, fd, EV_READ | EV_PERSIST, link_cb, l);
	l->wev = event_new(l->base, fd, EV_WRITE, link_write_cb, l);
	event_add(l->ev, NULL);
	front_set_accepting(l->front, 1);
	log_info("queue_link_up");
}
