/*
 * buf.c: the growing byte buffer (buf.h).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

/* The room b needs for len more bytes and a NUL: its room doubled from
 * 64 bytes until they fit, so that appending is amortised O(1). */
static size_t
room_for(const struct ac_buf *b, size_t len)
{
	size_t	need = b->len + len + 1, cap = b->cap ? b->cap : 64;

	while (cap < need)
		cap *= 2;
	return cap;
}

/* Copies len bytes to the end of b, which has room for them. */
static void
append(struct ac_buf *b, const char *data, size_t len)
{
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

/* Appends bytes to a buffer, keeping it NUL-terminated. */
void
ac_buf_add(struct ac_buf *b, const char *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		b->cap = room_for(b, len);
		b->data = xrealloc(b->data, b->cap);
	}
	append(b, data, len);
}

/* ac_buf_add for code that must not exit: -1 when out of memory. */
int
ac_buf_try_add(struct ac_buf *b, const char *data, size_t len)
{
	size_t	 cap;
	char	*p;

	if (b->len + len + 1 > b->cap) {
		cap = room_for(b, len);
		if ((p = realloc(b->data, cap)) == NULL)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	append(b, data, len);
	return 0;
}

/* Makes b hold exactly len bytes of data. */
void
ac_buf_set(struct ac_buf *b, const char *data, size_t len)
{
	b->len = 0;
	ac_buf_add(b, data, len);
}

/* Empties a buffer, keeping its memory. */
void
ac_buf_reset(struct ac_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Frees a buffer's memory. */
void
ac_buf_free(struct ac_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}
