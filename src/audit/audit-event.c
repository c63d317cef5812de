/* audit-event.c: audit events in IPC frames (format in audit-event.h). */
#include "audit/audit-event.h"
#include <string.h>

int audit_event_put(struct ipc_msg *m, const char *kind,
		    const struct audit_kv *kv, size_t n, const char **error_r)
{
	if (!audit_key_valid(kind) || n >= RD_AUDIT_MAX_FIELDS) {
		*error_r = "bad audit kind or too many fields";
		return -1;
	}
	if (ipc_put_str(m, kind) < 0 || ipc_put_u32(m, (uint32_t)n) < 0)
		goto full;
	for (size_t i = 0; i < n; i++) {
		char cut[RD_AUDIT_MAX_VALUE + 2];
		const char *v = kv[i].value ? kv[i].value : "";
		if (!audit_key_valid(kv[i].key)) {
			*error_r = "bad audit field key";
			return -1;
		}
		if (strnlen(v, RD_AUDIT_MAX_VALUE + 1) > RD_AUDIT_MAX_VALUE) {
			memcpy(cut, v, RD_AUDIT_MAX_VALUE + 1);
			cut[RD_AUDIT_MAX_VALUE + 1] = '\0';
			v = cut;
		}
		if (ipc_put_str(m, kv[i].key) < 0 || ipc_put_str(m, v) < 0)
			goto full;
	}
	return 0;
full:
	*error_r = "audit event does not fit in a frame";
	return -1;
}

int audit_event_get(struct ipc_reader *r, struct audit_event *ev, const char **error_r)
{
	uint32_t n;
	ev->n = 0;
	if (ipc_get_str(r, ev->kind_store, sizeof(ev->kind_store), error_r) < 0 ||
	    ipc_get_u32(r, &n, error_r) < 0)
		return -1;
	if (!audit_key_valid(ev->kind_store) || n >= RD_AUDIT_MAX_FIELDS) {
		*error_r = "bad audit kind or too many fields";
		return -1;
	}
	ev->kind = ev->kind_store;
	for (uint32_t i = 0; i < n; i++) {
		if (ipc_get_str(r, ev->keys[i], sizeof(ev->keys[i]), error_r) < 0 ||
		    ipc_get_str(r, ev->values[i], sizeof(ev->values[i]), error_r) < 0)
			return -1;
		if (!audit_key_valid(ev->keys[i])) {
			*error_r = "bad audit field key";
			return -1;
		}
		ev->kv[i].key = ev->keys[i];
		ev->kv[i].value = ev->values[i];
	}
	ev->n = n;
	return ipc_end(r, error_r);
}
