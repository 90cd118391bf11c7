/*
 * xalloc.h: allocation for aish's programs (never for libaish): these abort
 * with a message when memory runs out, so callers need not check.
 */
#ifndef AC_XALLOC_H
#define AC_XALLOC_H

#include <stddef.h>

void	*xmalloc(size_t size);
void	*xcalloc(size_t n, size_t size);
void	*xrealloc(void *p, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
char	*xstrcat3(const char *a, const char *b, const char *c);
char	*xasprintf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
