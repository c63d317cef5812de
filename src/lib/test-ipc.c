/* Tests for the IPC frame codec and the capped buffer. */
#include "lib/ipc.h"
#include "lib/test.h"
#include "limits.h"
#include <stdlib.h>
#include <string.h>
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

/* ipc_send_bytes and ipc_bytes_frame_write give the frame an ipc_msg with
 * one ipc_put_bytes field gives. */
static void test_bytes_frame(void)
{
	int sv[2];
	const char *err = NULL;
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "socketpair");
	size_t n = 70000;
	uint8_t *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7);
	struct ipc_msg m;
	ipc_msg_init(&m, IPC_TXN_DATA, 9);
	ipc_put_bytes(&m, data, n);
	uint8_t *a = malloc(ipc_frame_size(&m)), *b = malloc(ipc_bytes_frame_size(n));
	ipc_frame_write(&m, a);
	ipc_bytes_frame_write(IPC_TXN_DATA, 9, data, n, b);
	CHECK(ipc_frame_size(&m) == ipc_bytes_frame_size(n) &&
	      memcmp(a, b, ipc_frame_size(&m)) == 0, "same frame as ipc_put_bytes");
	ipc_msg_free(&m);
	CHECK(ipc_send_bytes(sv[0], IPC_TXN_DATA, 9, data, n, &err) == 0, "send bytes");
	CHECK(ipc_send_bytes(sv[0], IPC_TXN_DATA, 10, data, 0, &err) == 0, "send no bytes");
	CHECK(ipc_send_bytes(sv[0], IPC_TXN_DATA, 1, data, RD_IPC_MAX_PAYLOAD, &err) == -1,
	      "a frame over the payload cap is refused");
	uint8_t *buf = malloc(IPC_RECV_BUFSIZE);
	struct ipc_header h;
	struct ipc_reader r;
	int fd = -1;
	const uint8_t *bp;
	size_t bl;
	CHECK(ipc_recv(sv[1], buf, IPC_RECV_BUFSIZE, &h, &r, &fd, &err) == 1 &&
	      h.type == IPC_TXN_DATA && h.id == 9 && fd == -1, "received");
	CHECK(ipc_get_bytes(&r, &bp, &bl, n, &err) == 0 && bl == n && memcmp(bp, data, n) == 0 &&
	      ipc_end(&r, &err) == 0, "the bytes, and nothing else");
	CHECK(ipc_recv(sv[1], buf, IPC_RECV_BUFSIZE, &h, &r, &fd, &err) == 1 && h.id == 10 &&
	      ipc_get_bytes(&r, &bp, &bl, n, &err) == 0 && bl == 0, "empty bytes field");
	free(a);
	free(b);
	free(buf);
	free(data);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	test_bytes_frame();
	test_buffer_cap();
	test_roundtrip();
	test_hostile_frames();
	return TEST_DONE();
}
