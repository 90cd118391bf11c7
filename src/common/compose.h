/*
 * compose.h: the text an AI receives for one stage: the context items,
 * the stage's instruction and its input (SPEC section 7).
 *
 *	src/cache.c            each context item: its name on its own line,
 *	```c                   a fence with its language as info string,
 *	...text...             the text,
 *	```                    a closing fence;
 *
 *	fix the grammar        the instruction,
 *
 *	...input...            then the input.
 *
 * The parts are joined by one blank line; a missing or empty part leaves
 * no blank line behind (no instruction: the input alone; no input: the
 * instruction alone).  A fence is three backticks, or one more than the
 * longest run of backticks in the item's text, so that the text can never
 * close it.
 */
#ifndef AC_COMPOSE_H
#define AC_COMPOSE_H

#include <stddef.h>

/* One context item; language may be NULL.  Borrowed, never freed. */
struct ac_context_item {
	const char	*name;
	const char	*text;
	size_t		 text_len;
	const char	*language;
};

/* The composed text (caller frees; never NULL) and its length in *len.
 * items may be NULL when n is 0; instruction may be NULL. */
char	*ac_compose(const struct ac_context_item *items, size_t n,
	    const char *instruction, const char *input, size_t input_len,
	    size_t *len);

#endif
