/*
 * strmap.h: a hash table from strings to pointers, for the server's
 * lookups by socket id or name that must cost the same with 15 entries or
 * 60,000 (team-chat members, history sizes, group members).
 *
 * The map copies its keys and owns them; the values stay the caller's
 * (ac_strmap_clear can hand each one to a free function).  Memory comes
 * from xalloc: running out aborts.
 */
#ifndef AC_STRMAP_H
#define AC_STRMAP_H

#include <stddef.h>

struct ac_strmap_entry;

struct ac_strmap {
	struct ac_strmap_entry **slots;	/* a power of two of chains */
	size_t			   size;
	size_t			   count;
};

/* The value of key, or NULL when key is not in the map. */
void	*ac_strmap_get(const struct ac_strmap *m, const char *key);
/* Sets key to value (not NULL), adding key when it is new. */
void	 ac_strmap_put(struct ac_strmap *m, const char *key, void *value);
/* Removes key; returns its value, or NULL when it was not there. */
void	*ac_strmap_remove(struct ac_strmap *m, const char *key);
/* Removes every key, handing each value to free_value when not NULL,
 * and frees the table: the map is empty and may be used again. */
void	 ac_strmap_clear(struct ac_strmap *m, void (*free_value)(void *));

#endif
