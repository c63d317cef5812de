/* Tests for the spool's envelope records and files. */
#include "queue/spool.h"
#include "lib/test.h"
#include <fcntl.h>
#include <stdlib.h>
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
	spool_env_free(&d);
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
	unlinkat(fd, "q", AT_REMOVEDIR);
	unlinkat(fd, "tmp", AT_REMOVEDIR);
	close(fd);
	rmdir(dir);
	return TEST_DONE();
}
