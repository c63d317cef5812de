#include "lib/ipc.h"
#include "limits.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum { FIELD_U32 = 1, FIELD_U64 = 2, FIELD_STR = 3, FIELD_BYTES = 4 };

void ipc_msg_init(struct ipc_msg *m, enum ipc_type type, uint32_t id)
{
	m->type = (uint8_t)type;
	m->id = id;
	buffer_init(&m->payload, RD_IPC_MAX_PAYLOAD);
}

void ipc_msg_free(struct ipc_msg *m)
{
	buffer_free(&m->payload);
}

int ipc_put_u32(struct ipc_msg *m, uint32_t v)
{
	return buffer_append_u8(&m->payload, FIELD_U32) < 0 ||
	       buffer_append_u32(&m->payload, v) < 0 ? -1 : 0;
}

int ipc_put_u64(struct ipc_msg *m, uint64_t v)
{
	return buffer_append_u8(&m->payload, FIELD_U64) < 0 ||
	       buffer_append_u64(&m->payload, v) < 0 ? -1 : 0;
}

static int put_blob(struct ipc_msg *m, uint8_t kind, const void *p, size_t len)
{
	if (len > UINT32_MAX)
		return -1;
	if (buffer_append_u8(&m->payload, kind) < 0 ||
	    buffer_append_u32(&m->payload, (uint32_t)len) < 0 ||
	    buffer_append(&m->payload, p, len) < 0)
		return -1;
	return 0;
}

int ipc_put_str(struct ipc_msg *m, const char *s)
{
	size_t len = strlen(s);
	if (len > RD_IPC_MAX_STRING)
		return -1;
	return put_blob(m, FIELD_STR, s, len);
}

int ipc_put_bytes(struct ipc_msg *m, const void *p, size_t len)
{
	return put_blob(m, FIELD_BYTES, p, len);
}

static void le_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t le_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_header(const struct ipc_msg *m, uint8_t hdr[IPC_HEADER_SIZE])
{
	hdr[0] = (uint8_t)(IPC_MAGIC & 0xff);
	hdr[1] = (uint8_t)(IPC_MAGIC >> 8);
	hdr[2] = IPC_VERSION;
	hdr[3] = m->type;
	le_put32(hdr + 4, (uint32_t)m->payload.len);
	le_put32(hdr + 8, m->id);
	le_put32(hdr + 12, 0);
}

size_t ipc_frame_size(const struct ipc_msg *m)
{
	return IPC_HEADER_SIZE + m->payload.len;
}

void ipc_frame_write(const struct ipc_msg *m, uint8_t *out)
{
	put_header(m, out);
	if (m->payload.len)
		memcpy(out + IPC_HEADER_SIZE, m->payload.data, m->payload.len);
}

int ipc_send(int sock, const struct ipc_msg *m, int fd, const char **error_r)
{
	uint8_t hdr[IPC_HEADER_SIZE];
	put_header(m, hdr);
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = m->payload.data, .iov_len = m->payload.len },
	};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = m->payload.len ? 2 : 1 };
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n;
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		*error_r = strerror(errno);
		return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1;
	}
	if ((size_t)n != sizeof(hdr) + m->payload.len) {
		*error_r = "short send";
		return -1;
	}
	return 0;
}

/* Header and field prefix of a one-bytes-field frame: 16 + 1 + 4 octets. */
#define BYTES_PREFIX (IPC_HEADER_SIZE + 5u)

static void bytes_prefix(enum ipc_type type, uint32_t id, size_t len, uint8_t out[BYTES_PREFIX])
{
	struct ipc_msg m = { .type = (uint8_t)type, .id = id };
	m.payload.len = 5 + len;
	put_header(&m, out);
	out[IPC_HEADER_SIZE] = FIELD_BYTES;
	le_put32(out + IPC_HEADER_SIZE + 1, (uint32_t)len);
}

int ipc_send_bytes(int sock, enum ipc_type type, uint32_t id, const void *p, size_t len,
		   const char **error_r)
{
	uint8_t pre[BYTES_PREFIX];
	if (len > RD_IPC_MAX_PAYLOAD - 5) {
		*error_r = "frame too large";
		return -1;
	}
	bytes_prefix(type, id, len, pre);
	struct iovec iov[2] = {
		{ .iov_base = pre, .iov_len = sizeof(pre) },
		{ .iov_base = (void *)(uintptr_t)p, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		*error_r = strerror(errno);
		return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1;
	}
	if ((size_t)n != sizeof(pre) + len) {
		*error_r = "short send";
		return -1;
	}
	return 0;
}

size_t ipc_bytes_frame_size(size_t len)
{
	return BYTES_PREFIX + len;
}

void ipc_bytes_frame_write(enum ipc_type type, uint32_t id, const void *p, size_t len,
			   uint8_t *out)
{
	bytes_prefix(type, id, len, out);
	if (len)
		memcpy(out + BYTES_PREFIX, p, len);
}

int ipc_decode_header(const uint8_t *buf, size_t len, struct ipc_header *h,
		      struct ipc_reader *r, const char **error_r)
{
	if (len < IPC_HEADER_SIZE) {
		*error_r = "frame too short";
		return -1;
	}
	if ((buf[0] | (unsigned)buf[1] << 8) != IPC_MAGIC) {
		*error_r = "bad magic";
		return -1;
	}
	if (buf[2] != IPC_VERSION) {
		*error_r = "unsupported version";
		return -1;
	}
	if (buf[3] == IPC_NONE || buf[3] > IPC_TYPE_MAX) {
		*error_r = "unknown frame type";
		return -1;
	}
	uint32_t plen = le_get32(buf + 4);
	if (plen > RD_IPC_MAX_PAYLOAD) {
		*error_r = "payload too large";
		return -1;
	}
	if (le_get32(buf + 12) != 0) {
		*error_r = "reserved field not zero";
		return -1;
	}
	if ((size_t)plen != len - IPC_HEADER_SIZE) {
		*error_r = "length does not match frame";
		return -1;
	}
	h->type = buf[3];
	h->length = plen;
	h->id = le_get32(buf + 8);
	r->p = buf + IPC_HEADER_SIZE;
	r->len = plen;
	r->off = 0;
	return 0;
}

static int get_kind(struct ipc_reader *r, uint8_t want, const char **error_r)
{
	if (r->off >= r->len) {
		*error_r = "msg too short";
		return -1;
	}
	if (r->p[r->off] != want) {
		*error_r = "field of the wrong kind";
		return -1;
	}
	r->off++;
	return 0;
}

static int need(const struct ipc_reader *r, size_t n, const char **error_r)
{
	if (r->len - r->off < n) {
		*error_r = "msg too short";
		return -1;
	}
	return 0;
}

int ipc_get_u32(struct ipc_reader *r, uint32_t *v, const char **error_r)
{
	if (get_kind(r, FIELD_U32, error_r) < 0 || need(r, 4, error_r) < 0)
		return -1;
	*v = le_get32(r->p + r->off);
	r->off += 4;
	return 0;
}

int ipc_get_u64(struct ipc_reader *r, uint64_t *v, const char **error_r)
{
	if (get_kind(r, FIELD_U64, error_r) < 0 || need(r, 8, error_r) < 0)
		return -1;
	uint64_t x = 0;
	for (int i = 7; i >= 0; i--)
		x = x << 8 | r->p[r->off + (size_t)i];
	*v = x;
	r->off += 8;
	return 0;
}

static int get_blob(struct ipc_reader *r, uint8_t kind, const uint8_t **p,
		    size_t *len, size_t max, const char **error_r)
{
	if (get_kind(r, kind, error_r) < 0 || need(r, 4, error_r) < 0)
		return -1;
	uint32_t l = le_get32(r->p + r->off);
	r->off += 4;
	if (l > max) {
		*error_r = "field too long";
		return -1;
	}
	if (need(r, l, error_r) < 0)
		return -1;
	*p = r->p + r->off;
	*len = l;
	r->off += l;
	return 0;
}

int ipc_get_str(struct ipc_reader *r, char *out, size_t outlen, const char **error_r)
{
	const uint8_t *p;
	size_t len;
	if (get_blob(r, FIELD_STR, &p, &len, RD_IPC_MAX_STRING, error_r) < 0)
		return -1;
	if (memchr(p, '\0', len) != NULL) {
		*error_r = "NUL inside string";
		return -1;
	}
	if (len >= outlen) {
		*error_r = "string too long for field";
		return -1;
	}
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

int ipc_get_bytes(struct ipc_reader *r, const uint8_t **p, size_t *len,
		  size_t max, const char **error_r)
{
	return get_blob(r, FIELD_BYTES, p, len, max, error_r);
}

int ipc_end(const struct ipc_reader *r, const char **error_r)
{
	if (r->off != r->len) {
		*error_r = "trailing octets after last field";
		return -1;
	}
	return 0;
}

int ipc_recv(int sock, uint8_t *buf, size_t buflen, struct ipc_header *h,
	     struct ipc_reader *r, int *fd_r, const char **error_r)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = buflen };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	*fd_r = -1;
	ssize_t n;
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -2;
		*error_r = strerror(errno);
		return -1;
	}
	if (n == 0)
		return 0;
	int bad = 0, nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		size_t cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < cnt; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nfds++ == 0)
				*fd_r = fd;
			else
				close(fd);
		}
	}
	if (nfds > 1 || bad || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (*fd_r >= 0)
			close(*fd_r);
		*fd_r = -1;
		*error_r = (mh.msg_flags & MSG_TRUNC) ? "frame truncated" :
			   "unexpected control data";
		return -1;
	}
	if (ipc_decode_header(buf, (size_t)n, h, r, error_r) < 0) {
		if (*fd_r >= 0)
			close(*fd_r);
		*fd_r = -1;
		return -1;
	}
	return 1;
}
