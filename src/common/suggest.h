/*
 * suggest.h: "did you mean ...?" for a name nobody knows, and the one-line
 * message that says so, shared by the command line and the bridge.
 */
#ifndef AC_SUGGEST_H
#define AC_SUGGEST_H

#include <stddef.h>

/* Longest message ac_unknown_message() writes: one line a terminal or an
 * editor's message area shows whole. */
#define AC_UNKNOWN_MESSAGE_MAX	160

/* The name in names[0..n) nearest to name when one is near enough to be
 * what was meant (a few letters off, or name is its start); NULL when
 * none is. */
const char	*ac_nearest_name(const char *name, const char *const *names,
		    size_t n);
/*
 * Writes into buf (size bytes, at most AC_UNKNOWN_MESSAGE_MAX + 1 are
 * used) `unknown KIND "NAME" (did you mean NEAREST?)`, or, when nearest is
 * NULL, `unknown KIND "NAME"` followed by " (otherwise)" when otherwise is
 * not NULL.  Names too long for the line are shortened with "...".
 */
void		 ac_unknown_message(char *buf, size_t size, const char *kind,
		    const char *name, const char *nearest,
		    const char *otherwise);

#endif
