/*
 * buf.h: the growing byte buffer of aish (provider streams, command-line
 * input, the command parser's words, benchmark bodies).
 */
#ifndef AC_BUF_H
#define AC_BUF_H

#include <stddef.h>

/* A growing byte buffer, NUL-terminated once it holds data (data is NULL
 * before).  Zero-initialise it; its owner frees it with ac_buf_free. */
struct ac_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

/* Appends len bytes (exits when out of memory, as xalloc does). */
void	ac_buf_add(struct ac_buf *b, const char *data, size_t len);
/* The same for code that must not exit: 0, or -1 when out of memory (b
 * is then as it was). */
int	ac_buf_try_add(struct ac_buf *b, const char *data, size_t len);
/* Makes b hold exactly the len bytes of data. */
void	ac_buf_set(struct ac_buf *b, const char *data, size_t len);
/* Empties b, keeping its memory. */
void	ac_buf_reset(struct ac_buf *b);
/* Frees b's memory and empties it. */
void	ac_buf_free(struct ac_buf *b);

#endif
