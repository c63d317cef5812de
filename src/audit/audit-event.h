/* audit-event.h: one audit event on its way from a role to the audit
 * writer over IPC (lib/ipc.h typed fields). The frame type is the
 * integrator's (an IPC_AUDIT_EVENT in ipc.h); this module fills and reads
 * its payload:
 *
 *   str kind, u32 n (< RD_AUDIT_MAX_FIELDS), n x (str key, str value)
 *
 * Values longer than RD_AUDIT_MAX_VALUE are cut by the sender to one octet
 * over the cap, so the frame stays small and the writer still marks the
 * record truncated=yes. The receiver checks every key and kind and treats a
 * malformed payload like any hostile frame. It cannot know which role sent
 * the frame: the writer must add that itself (e.g. a "role" field from the
 * channel it read), so a worker cannot pass its events off as auth's.
 * Functions return 0 / -1 with *error_r (static). */
#ifndef RD_AUDIT_EVENT_H
#define RD_AUDIT_EVENT_H
#include "audit/audit-log.h"
#include "lib/ipc.h"

struct audit_event {
	const char *kind;
	size_t n;
	struct audit_kv kv[RD_AUDIT_MAX_FIELDS];
	char kind_store[RD_AUDIT_MAX_KEY + 1];
	char keys[RD_AUDIT_MAX_FIELDS][RD_AUDIT_MAX_KEY + 1];
	char values[RD_AUDIT_MAX_FIELDS][RD_AUDIT_MAX_VALUE + 2];
};

int audit_event_put(struct ipc_msg *m, const char *kind,
		    const struct audit_kv *kv, size_t n, const char **error_r);
/* Reads the whole payload (ipc_end included). ev is large: allocate it. */
int audit_event_get(struct ipc_reader *r, struct audit_event *ev, const char **error_r);

#endif
