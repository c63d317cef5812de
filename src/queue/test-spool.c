/* Tests for the spool's envelope records and files. */
#include "queue/spool.h"
#include "lib/test.h"
#include "lib/ipc.h"
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fill(struct spool_env *e, struct spool_rcpt *r)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->qid, sizeof(e->qid), "0123456789abcdef");
	e->arrived = 1700000000;
	snprintf(e->from, sizeof(e->from), "sender@example.org");
	snprintf(e->helo, sizeof(e->helo), "client.example.org");
	snprintf(e->peer, sizeof(e->peer), "192.0.2.1");
	snprintf(e->params, sizeof(e->params), "BODY=8BITMIME");
	e->nrcpt = 2;
	e->rcpt = r;
	memset(r, 0, 2 * sizeof(*r));
	snprintf(r[0].address, sizeof(r[0].address), "alice@example.test");
	snprintf(r[0].store_id, sizeof(r[0].store_id), "aaaa");
	/* a CR LF inside a field stays inside the field */
	snprintf(r[1].address, sizeof(r[1].address), "bob@example.test\r\nRCPT:evil");
	snprintf(r[1].store_id, sizeof(r[1].store_id), "bbbb");
	r[1].state = SPOOL_DELIVERED;
	r[1].notify = 0x6;   /* SUCCESS,FAILURE */
	snprintf(r[1].orcpt, sizeof(r[1].orcpt), "rfc822;Bob@Example.test");
}

/* An "RDQ1" record as written before recipients carried DSN fields: one
 * recipient, made with the same field encoding. */
static size_t v1_record(uint8_t *out, size_t max)
{
	struct ipc_msg m;
	ipc_msg_init(&m, IPC_NONE, 0);
	(void)(ipc_put_str(&m, "0123456789abcdef") | ipc_put_u64(&m, 1700000000u) |
	       ipc_put_u64(&m, 5) | ipc_put_str(&m, "a@example.org") | ipc_put_str(&m, "helo") |
	       ipc_put_str(&m, "192.0.2.9") | ipc_put_str(&m, "") |
	       ipc_put_str(&m, "BODY=7BIT") | ipc_put_u32(&m, 1) |
	       ipc_put_str(&m, "carol@example.test") | ipc_put_str(&m, "cccc") |
	       ipc_put_u32(&m, 0) | ipc_put_u32(&m, 2));
	size_t n = 8 + m.payload.len < max ? m.payload.len : 0;
	memcpy(out, "RDQ1", 4);
	for (int i = 0; i < 4; i++)
		out[4 + i] = (uint8_t)((uint32_t)n >> (8 * i));
	memcpy(out + 8, m.payload.data, n);
	ipc_msg_free(&m);
	return 8 + n;
}

int main(void)
{
	struct spool_env e, d;
	struct spool_rcpt r[2];
	const char *err = NULL;
	uint8_t *rec;
	size_t len;
	fill(&e, r);
	CHECK(spool_env_encode(&e, &rec, &len, &err) == 0, "encode");
	CHECK(spool_env_decode(rec, len, &d, &err) == 0, "decode");
	CHECK_STR(d.from, "sender@example.org", "from kept");
	CHECK(d.nrcpt == 2 && d.rcpt[1].state == SPOOL_DELIVERED, "recipients kept");
	CHECK_STR(d.rcpt[1].address, "bob@example.test\r\nRCPT:evil", "CR LF cannot forge a record");
	CHECK(d.rcpt[1].notify == 0x6 && d.rcpt[0].notify == 0, "NOTIFY kept per recipient");
	CHECK_STR(d.rcpt[1].orcpt, "rfc822;Bob@Example.test", "ORCPT kept per recipient");
	spool_env_free(&d);
	{
		uint8_t v1[512];
		size_t n1 = v1_record(v1, sizeof(v1));
		CHECK(spool_env_decode(v1, n1, &d, &err) == 0 && d.nrcpt == 1 &&
		      d.rcpt[0].attempts == 2 && d.rcpt[0].orcpt[0] == '\0',
		      "an RDQ1 envelope from before is still read (%s)", err ? err : "-");
		spool_env_free(&d);
	}
	int ok = 1;
	for (size_t i = 0; i < len; i++) {
		if (spool_env_decode(rec, i, &d, &err) == 0) {
			ok = 0;
			spool_env_free(&d);
		}
	}
	CHECK(ok, "no truncated record decodes");
	rec[len - 1] ^= 0xff;
	if (spool_env_decode(rec, len, &d, &err) == 0)
		spool_env_free(&d);
	CHECK(1, "a flipped byte never crashes");
	free(rec);

	char dir[] = "/tmp/test-spool-XXXXXX";
	CHECK(mkdtemp(dir) != NULL, "temp dir");
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(spool_prepare(fd, &err) == 0, "prepare");
	CHECK(spool_env_write(fd, &e, &err) == 0, "write envelope");
	CHECK(spool_env_read(fd, e.qid, &d, &err) == 0 && d.nrcpt == 2, "read it back");
	spool_env_free(&d);
	CHECK(spool_remove(fd, e.qid) != 0, "remove reports the missing .msg");
	CHECK(spool_env_read(fd, e.qid, &d, &err) == -1, "gone after remove");
	{
		/* spares: a finished message's files are written over by the
		 * next ones, never left in q/ */
		struct spool_spares sp = { .n = 0 };
		char qn[64], name[24];
		snprintf(qn, sizeof(qn), "q/%s.msg", e.qid);
		int mfd = spool_spare_open(fd, &sp, name, sizeof(name));
		CHECK(mfd >= 0 && strcmp(name, "spare/s0") == 0,
		      "a fresh file when there is no spare");
		CHECK(write(mfd, "old message", 11) == 11, "write");
		close(mfd);
		CHECK(renameat(fd, name, fd, qn) == 0, "into q/");
		CHECK(spool_env_write_spare(fd, &sp, &e, &err) == 0, "envelope through a fresh file");
		CHECK(spool_env_read(fd, e.qid, &d, &err) == 0 && d.nrcpt == 2, "envelope read back");
		spool_env_free(&d);
		CHECK(spool_remove_spare(fd, &sp, e.qid, 11) == 0 && sp.n == 2, "both kept as spares");
		CHECK(faccessat(fd, qn, F_OK, 0) < 0 && spool_env_read(fd, e.qid, &d, &err) == -1,
		      "nothing left in q/");
		mfd = spool_spare_open(fd, &sp, name, sizeof(name));
		struct stat st;
		CHECK(mfd >= 0 && sp.n == 1 && fstat(mfd, &st) == 0 && st.st_size == 0,
		      "a spare is reused, empty (%s)", name);
		CHECK(write(mfd, "new", 3) == 3, "write");
		close(mfd);
		CHECK(renameat(fd, name, fd, qn) == 0 && spool_env_write_spare(fd, &sp, &e, &err) == 0,
		      "a second message");
		CHECK(sp.n == 0, "both spares used");
		CHECK(spool_env_read(fd, e.qid, &d, &err) == 0 && d.nrcpt == 2, "its envelope read back");
		spool_env_free(&d);
		CHECK(spool_remove_spare(fd, &sp, e.qid, RD_QUEUE_SPARE_MAX_SIZE + 1) == 0 && sp.n == 1 &&
		      faccessat(fd, qn, F_OK, 0) < 0, "a big message's file is removed, its envelope kept");
		CHECK(spool_remove_spare(fd, &sp, "0123456789abcdef", 0) != 0 && sp.n == 1,
		      "missing files reported, not counted");
		mfd = spool_spare_open(fd, &sp, name, sizeof(name));
		close(mfd);
		spool_spare_put(fd, &sp, name);
		CHECK(sp.n == 1, "an unused file goes back");
		while (sp.n > 0) {
			snprintf(name, sizeof(name), "spare/s%u", sp.id[--sp.n]);
			CHECK(unlinkat(fd, name, 0) == 0, "spare %s exists", name);
		}
	}
	unlinkat(fd, "spare", AT_REMOVEDIR);
	unlinkat(fd, "q", AT_REMOVEDIR);
	unlinkat(fd, "tmp", AT_REMOVEDIR);
	close(fd);
	rmdir(dir);
	return TEST_DONE();
}
