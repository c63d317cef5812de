/* smtp-txn.h: the mail transaction of smtp-in (MAIL, RCPT, DATA) and its
 * link to the queue role.
 *
 * smtp-in cannot open files; it asks the queue over the link master made
 * (IPC_TXN_* frames, id = connection id) whether a recipient exists, and
 * streams the dot-unstuffed message to it. The client's 250 after DATA is
 * the queue's answer, sent only once the message is durable. */
#ifndef RD_SMTP_TXN_H
#define RD_SMTP_TXN_H
#include "front/front.h"

struct smtp_txn;
struct smtp_link;

struct smtp_link *smtp_link_new(struct front *f, struct event_base *base);
void smtp_link_free(struct smtp_link *l);
/* A frame from master (IPC_QUEUE_LINK carries the link descriptor). */
void smtp_link_master_frame(struct smtp_link *l, int type, int fd);

struct smtp_txn *smtp_txn_new(void);
void smtp_txn_free(struct conn *c, struct smtp_txn *t);
/* Messages (and their octets) accepted with 250 in this session. */
void smtp_txn_counts(const struct smtp_txn *t, uint64_t *msgs, uint64_t *bytes);
/* Forget the transaction (RSET, EHLO, STARTTLS); tells the queue if it
 * had begun. */
void smtp_txn_reset(struct conn *c, struct smtp_txn *t);

struct smtp_sess_info {
	const char *helo;
	const char *principal;   /* "" unless authenticated */
	int submission;
	uint64_t max_size;       /* limits.max_message_size */
	unsigned max_rcpt;       /* limits.max_recipients, capped by RD_SMTP_MAX_RCPT */
};

/* Each returns the reply already written, or pauses the connection until
 * the queue answers. err_count is incremented for 5xx replies. */
void smtp_txn_mail(struct conn *c, struct smtp_txn *t, const struct smtp_sess_info *si,
		   const char *arg, unsigned *err_count);
void smtp_txn_rcpt(struct conn *c, struct smtp_txn *t, const struct smtp_sess_info *si,
		   const char *arg, unsigned *err_count);
void smtp_txn_data(struct conn *c, struct smtp_txn *t, const struct smtp_sess_info *si,
		   const char *arg, unsigned *err_count);
/* BDAT size [LAST] (RFC 3030): reads the chunk raw, answers per chunk. */
void smtp_txn_bdat(struct conn *c, struct smtp_txn *t, const struct smtp_sess_info *si,
		   const char *arg, unsigned *err_count);
/* Raw input while in DATA or a BDAT chunk. */
size_t smtp_txn_raw(struct conn *c, struct smtp_txn *t, const unsigned char *p, size_t len);
#endif
