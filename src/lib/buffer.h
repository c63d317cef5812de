/* buffer.h: growable byte buffer whose maximum size is fixed when it is made.
 *
 * Every buffer that holds peer input gets its cap at creation (see limits.h);
 * an append past the cap fails and leaves the buffer unchanged, so a peer can
 * never make us allocate more than the cap. Functions return 0 on success,
 * -1 when the cap would be exceeded or memory is exhausted. */
#ifndef RD_BUFFER_H
#define RD_BUFFER_H
#include <stddef.h>
#include <stdint.h>

struct buffer {
	uint8_t *data;
	size_t len;
	size_t cap;   /* allocated */
	size_t max;   /* never grows past this */
};

void buffer_init(struct buffer *b, size_t max);
void buffer_free(struct buffer *b);
int buffer_append(struct buffer *b, const void *p, size_t n);
int buffer_append_str(struct buffer *b, const char *s);
int buffer_printf(struct buffer *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buffer_append_u8(struct buffer *b, uint8_t v);
int buffer_append_u16(struct buffer *b, uint16_t v);  /* little endian */
int buffer_append_u32(struct buffer *b, uint32_t v);  /* little endian */
int buffer_append_u64(struct buffer *b, uint64_t v);  /* little endian */
/* Remove the first n bytes. */
void buffer_consume(struct buffer *b, size_t n);
void buffer_reset(struct buffer *b);
/* NUL-terminate without counting it in len; -1 if the cap forbids. */
int buffer_cstr(struct buffer *b, const char **s_r);

/* Copies the C string src into dst (size octets) whole, or returns -1
 * leaving dst unchanged when it does not fit: never a cut string. */
int str_copy(char *dst, size_t size, const char *src);

#endif
