#include "lib/buffer.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buffer_init(struct buffer *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buffer_free(struct buffer *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static int buffer_reserve(struct buffer *b, size_t extra)
{
	size_t need;
	if (__builtin_add_overflow(b->len, extra, &need) || need > b->max)
		return -1;
	if (need <= b->cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 64;
	while (ncap < need) {
		if (__builtin_mul_overflow(ncap, 2, &ncap))
			return -1;
	}
	if (ncap > b->max)
		ncap = b->max;
	uint8_t *p = realloc(b->data, ncap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int buffer_append(struct buffer *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (buffer_reserve(b, n) < 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int buffer_append_str(struct buffer *b, const char *s)
{
	return buffer_append(b, s, strlen(s));
}

int buffer_printf(struct buffer *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return buffer_append(b, small, (size_t)n);
	if (buffer_reserve(b, (size_t)n + 1) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int buffer_append_u8(struct buffer *b, uint8_t v)
{
	return buffer_append(b, &v, 1);
}

int buffer_append_u16(struct buffer *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	return buffer_append(b, x, 2);
}

int buffer_append_u32(struct buffer *b, uint32_t v)
{
	uint8_t x[4];
	for (int i = 0; i < 4; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	return buffer_append(b, x, 4);
}

int buffer_append_u64(struct buffer *b, uint64_t v)
{
	uint8_t x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	return buffer_append(b, x, 8);
}

void buffer_consume(struct buffer *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void buffer_reset(struct buffer *b)
{
	b->len = 0;
}

int buffer_cstr(struct buffer *b, const char **s_r)
{
	if (buffer_reserve(b, 1) < 0)
		return -1;
	b->data[b->len] = '\0';
	*s_r = (const char *)b->data;
	return 0;
}

int str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}
