/* Tests for the IPC frame codec and the capped buffer. */
#include "lib/ipc.h"
#include "lib/test.h"
#include "limits.h"
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_buffer_cap(void)
{
	struct buffer b;
	buffer_init(&b, 10);
	CHECK(buffer_append(&b, "0123456789", 10) == 0, "append up to the cap");
	CHECK(buffer_append(&b, "x", 1) == -1, "append past the cap fails");
	CHECK(b.len == 10, "failed append leaves the buffer unchanged");
	buffer_consume(&b, 4);
	CHECK(b.len == 6 && b.data[0] == '4', "consume drops the front");
	CHECK(buffer_printf(&b, "%s", "abcd") == 0 && b.len == 10, "printf within the cap");
	CHECK(buffer_printf(&b, "%d", 1) == -1, "printf past the cap fails");
	buffer_free(&b);
}

static void test_roundtrip(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "socketpair");
	struct ipc_msg m;
	const char *err = NULL;
	ipc_msg_init(&m, IPC_AUTH_REQUEST, 42);
	ipc_put_u32(&m, 7);
	ipc_put_str(&m, "imap");
	ipc_put_str(&m, "alice@example.test");
	ipc_put_u64(&m, 1ull << 40);
	ipc_put_bytes(&m, "\0\1\2", 3);
	int pfd[2];
	CHECK(pipe(pfd) == 0, "pipe");
	CHECK(ipc_send(sv[0], &m, pfd[0], &err) == 0, "send with a descriptor");
	ipc_msg_free(&m);

	uint8_t *buf = malloc(IPC_RECV_BUFSIZE);
	struct ipc_header h;
	struct ipc_reader r;
	int fd = -1;
	CHECK(ipc_recv(sv[1], buf, IPC_RECV_BUFSIZE, &h, &r, &fd, &err) == 1, "recv");
	CHECK(h.type == IPC_AUTH_REQUEST && h.id == 42, "header fields");
	CHECK(fd >= 0, "descriptor arrives");
	uint32_t u;
	uint64_t u64;
	char s[64];
	const uint8_t *bp;
	size_t bl;
	CHECK(ipc_get_u32(&r, &u, &err) == 0 && u == 7, "u32");
	CHECK(ipc_get_str(&r, s, sizeof(s), &err) == 0, "str");
	CHECK_STR(s, "imap", "str value");
	CHECK(ipc_get_str(&r, s, 5, &err) == -1, "string larger than the field is refused");
	ipc_decode_header(buf, IPC_HEADER_SIZE + h.length, &h, &r, &err);
	ipc_get_u32(&r, &u, &err);
	ipc_get_str(&r, s, sizeof(s), &err);
	CHECK(ipc_get_u32(&r, &u, &err) == -1, "wrong field kind is refused");
	CHECK_STR(err, "field of the wrong kind", "reason named");
	ipc_decode_header(buf, IPC_HEADER_SIZE + h.length, &h, &r, &err);
	ipc_get_u32(&r, &u, &err);
	ipc_get_str(&r, s, sizeof(s), &err);
	ipc_get_str(&r, s, sizeof(s), &err);
	CHECK(ipc_get_u64(&r, &u64, &err) == 0 && u64 == 1ull << 40, "u64");
	CHECK(ipc_get_bytes(&r, &bp, &bl, 16, &err) == 0 && bl == 3 && bp[2] == 2, "bytes");
	CHECK(ipc_end(&r, &err) == 0, "end of schema");
	close(fd);
	close(pfd[0]);
	close(pfd[1]);

	/* garbage on the socket: refused, never a crash */
	CHECK(send(sv[0], "garbage!", 8, 0) == 8, "send garbage");
	CHECK(ipc_recv(sv[1], buf, IPC_RECV_BUFSIZE, &h, &r, &fd, &err) == -1, "garbage refused");
	CHECK_STR(err, "frame too short", "reason for garbage");
	close(sv[0]);
	CHECK(ipc_recv(sv[1], buf, IPC_RECV_BUFSIZE, &h, &r, &fd, &err) == 0, "close seen as EOF");
	close(sv[1]);
	free(buf);
}

static void test_hostile_frames(void)
{
	uint8_t f[64] = { 0x52, 0x44, 1, IPC_AUTH_REQUEST };
	struct ipc_header h;
	struct ipc_reader r;
	const char *err = NULL;
	CHECK(ipc_decode_header(f, 16, &h, &r, &err) == 0, "empty payload header ok");
	f[4] = 1;
	CHECK(ipc_decode_header(f, 16, &h, &r, &err) == -1, "length beyond frame");
	f[4] = 0; f[7] = 0x7f;
	CHECK(ipc_decode_header(f, 16, &h, &r, &err) == -1, "huge length refused");
	CHECK_STR(err, "payload too large", "reason");
	f[7] = 0; f[3] = 200;
	CHECK(ipc_decode_header(f, 16, &h, &r, &err) == -1, "unknown type");
	f[3] = IPC_AUTH_REQUEST; f[2] = 9;
	CHECK(ipc_decode_header(f, 16, &h, &r, &err) == -1, "bad version");
	f[2] = 1; f[12] = 1;
	CHECK(ipc_decode_header(f, 16, &h, &r, &err) == -1, "reserved nonzero");
	f[12] = 0;
	/* string field claiming 4 GiB */
	f[4] = 5;
	f[16] = 3; f[17] = 0xff; f[18] = 0xff; f[19] = 0xff; f[20] = 0xff;
	CHECK(ipc_decode_header(f, 21, &h, &r, &err) == 0, "frame with a big string claim");
	char s[16];
	CHECK(ipc_get_str(&r, s, sizeof(s), &err) == -1, "string claim refused");
	CHECK_STR(err, "field too long", "reason");
	/* string with NUL inside */
	f[4] = 7; f[17] = 2; f[18] = 0; f[19] = 0; f[20] = 0; f[21] = 'a'; f[22] = 0;
	CHECK(ipc_decode_header(f, 23, &h, &r, &err) == 0, "frame with NUL string");
	CHECK(ipc_get_str(&r, s, sizeof(s), &err) == -1, "NUL in string refused");
	/* truncated u32 */
	f[4] = 3; f[16] = 1;
	CHECK(ipc_decode_header(f, 19, &h, &r, &err) == 0, "truncated field frame");
	uint32_t u;
	CHECK(ipc_get_u32(&r, &u, &err) == -1, "truncated u32 refused");
	CHECK_STR(err, "msg too short", "reason");
	/* every prefix of a valid frame */
	struct ipc_msg m;
	ipc_msg_init(&m, IPC_AUTH_REPLY, 1);
	ipc_put_u32(&m, 1);
	ipc_put_str(&m, "bob@example.test");
	uint8_t full[128] = { 0x52, 0x44, 1, IPC_AUTH_REPLY, (uint8_t)m.payload.len, 0, 0, 0, 1 };
	memcpy(full + 16, m.payload.data, m.payload.len);
	size_t flen = 16 + m.payload.len;
	int ok_prefixes = 0;
	for (size_t i = 0; i < flen; i++)
		if (ipc_decode_header(full, i, &h, &r, &err) == 0)
			ok_prefixes++;
	CHECK(ok_prefixes == 0, "no strict prefix of a frame decodes");
	CHECK(ipc_decode_header(full, flen, &h, &r, &err) == 0, "the whole frame decodes");
	ipc_msg_free(&m);
}

int main(void)
{
	test_buffer_cap();
	test_roundtrip();
	test_hostile_frames();
	return TEST_DONE();
}
