/* master-audit.h: master is the audit writer (rule 5).
 *
 * Master holds the audit signing key and is the only process that writes
 * DATA/audit; roles send IPC_AUDIT_EVENT frames and master stamps each
 * with the role (and, for a worker, the principal) of the channel it came
 * on, so no role can write in another's name. The local CLI, which cannot
 * reach master, leaves its events in DATA/audit/pending/ and master files
 * them into the chain within a second (or the CLI writes them itself when
 * no server holds the log). If the log cannot be written, logins fail
 * closed with a temporary error. Functions return 0 / -1. */
#ifndef RD_MASTER_AUDIT_H
#define RD_MASTER_AUDIT_H
#include <stddef.h>
#include <event2/event.h>
#include "audit/audit-log.h"

struct master_audit;

struct master_audit *master_audit_new(const char *data_dir, struct event_base *base);
void master_audit_free(struct master_audit **ma, const char *reason);
/* Append; sync = durable before returning (logins wait on it). */
int master_audit_write(struct master_audit *ma, const char *kind,
		       const struct audit_kv *kv, size_t n, int sync);
int master_audit_ok(const struct master_audit *ma);
/* Make every record written so far durable (one fdatasync). */
int master_audit_flush(struct master_audit *ma);

/* The CLI side: record an admin event (writes the log directly when no
 * server holds it, else leaves it in pending/). */
int audit_admin_event(const char *data_dir, const char *kind,
		      const struct audit_kv *kv, size_t n, const char **error_r);
#endif
