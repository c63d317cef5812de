/* libFuzzer target: the audit record parser on arbitrary lines, and the
 * escaping round trip: any value (without NUL) escaped into a record must
 * parse back to itself as the only event field. */
#include "audit/audit-record.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct audit_record rec;
static char line[RD_AUDIT_MAX_LINE + 64];
static char value[RD_AUDIT_MAX_VALUE + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *err;
	int64_t ms;
	(void)audit_record_parse((const char *)data, size, &rec, &err);

	size_t vl = size < RD_AUDIT_MAX_VALUE ? size : RD_AUDIT_MAX_VALUE;
	for (size_t i = 0; i < vl; i++)
		value[i] = data[i] ? (char)data[i] : 'z';
	value[vl] = '\0';
	(void)audit_parse_user_time(value, 1, &ms, &err);
	static const char head[] = "seq=7 ts=2026-11-28T04:00:00.000Z kind=login user=";
	size_t o = sizeof(head) - 1;
	memcpy(line, head, o);
	long e = audit_escape(line + o, sizeof(line) - o, value, vl);
	if (e < 0)
		abort();
	o += (size_t)e;
	static const char tail[] = " prev=0000000000000000000000000000000000000000000000000000000000000000"
				   " hash=0000000000000000000000000000000000000000000000000000000000000000";
	memcpy(line + o, tail, sizeof(tail) - 1);
	o += sizeof(tail) - 1;
	if (memchr(line, '\n', o) != NULL)
		abort();
	if (audit_record_parse(line, o, &rec, &err) < 0 || rec.nfields != 1 ||
	    strcmp(rec.kind, "login") != 0 || strcmp(rec.fields[0].value, value) != 0)
		abort();
	return 0;
}
