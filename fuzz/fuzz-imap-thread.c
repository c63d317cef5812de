/* libFuzzer target: THREAD=REFERENCES over messages cut from the input.
 * Records are separated by NUL; in each, the first octet gives the sent
 * date and the sequence number's order, the rest is Subject, Message-ID,
 * In-Reply-To and References separated by 0x01. Also the msg-id lexer and
 * the subject reply test over the whole input. */
#include "imap/imap-thread.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSGS 64

struct field {
	const uint8_t *p;
	size_t n;
};

/* Cuts rec[0..n) at 0x01 into up to 4 fields (missing ones absent). */
static void split(const uint8_t *rec, size_t n, struct field f[4])
{
	size_t k = 0, start = 0;
	memset(f, 0, 4 * sizeof(*f));
	for (size_t i = 0; i <= n && k < 4; i++) {
		if (i == n || rec[i] == 0x01) {
			f[k].p = rec + start;
			f[k++].n = i - start;
			start = i + 1;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_thread_msg v[MAX_MSGS];
	struct buffer subj[MAX_MSGS];
	size_t n = 0, start = 0;
	static const uint8_t key[IMAP_THREAD_KEY_SIZE] = { 7 };
	for (size_t i = 0; i <= size && n < MAX_MSGS; i++) {
		if (i < size && data[i] != 0)
			continue;
		const uint8_t *rec = data + start;
		size_t len = i - start;
		start = i + 1;
		if (len == 0)
			continue;
		struct field f[4];
		split(rec + 1, len - 1, f);
		buffer_init(&subj[n], 4096);
		memset(&v[n], 0, sizeof(v[n]));
		if (imap_thread_subject(f[0].p != NULL ? f[0].p : rec, f[0].n, &subj[n],
					&v[n].reply) < 0) {
			buffer_free(&subj[n]);
			continue;
		}
		v[n].subject = (const char *)subj[n].data;
		v[n].date = rec[0] & 0x0f;
		/* the high bits shuffle sequence order against input order */
		v[n].seq = (uint32_t)((rec[0] >> 4) * MAX_MSGS + n + 1);
		v[n].uid = (uint32_t)n + 1;
		v[n].message_id = f[1].p;
		v[n].message_id_len = f[1].n;
		v[n].in_reply_to = f[2].p;
		v[n].in_reply_to_len = f[2].n;
		v[n].references = f[3].p;
		v[n].references_len = f[3].n;
		n++;
	}
	struct buffer out;
	buffer_init(&out, 1u << 20);
	int r = imap_thread_references(v, n, (size & 1) != 0, key, &out);
	/* every message appears exactly once in the output */
	size_t count = 0;
	for (size_t i = 0; i < out.len; i++)
		if (out.data[i] >= '1' && out.data[i] <= '9' &&
		    (i == 0 || out.data[i - 1] < '0' || out.data[i - 1] > '9'))
			count++;
	if (r == 0 && count != n)
		abort();
	buffer_free(&out);
	for (size_t i = 0; i < n; i++)
		buffer_free(&subj[i]);
	struct buffer id;
	buffer_init(&id, 1u << 20);
	size_t pos = 0;
	while (imap_msgid_next(data, size, &pos, &id) == 1)
		;
	buffer_free(&id);
	struct buffer base;
	buffer_init(&base, 1u << 20);
	bool reply;
	(void)imap_thread_subject(data, size, &base, &reply);
	buffer_free(&base);
	return 0;
}
