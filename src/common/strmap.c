/*
 * strmap.c: strings to pointers in a chained hash table that doubles as
 * it fills (see strmap.h).
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "strmap.h"
#include "xalloc.h"

#define STRMAP_MIN_SIZE	16

struct ac_strmap_entry {
	struct ac_strmap_entry	*next;
	void				*value;
	char				 key[];
};

/* The chain key belongs to in a table of size slots. */
static struct ac_strmap_entry **
chain_of(struct ac_strmap_entry **slots, size_t size, const char *key)
{
	return &slots[ac_hash_str(AC_HASH_START, key) & (size - 1)];
}

/* The link that points at key's entry, or at the end of its chain. */
static struct ac_strmap_entry **
link_of(const struct ac_strmap *m, const char *key)
{
	struct ac_strmap_entry	**pp;

	for (pp = chain_of(m->slots, m->size, key); *pp != NULL;
	    pp = &(*pp)->next) {
		if (strcmp((*pp)->key, key) == 0)
			break;
	}
	return pp;
}

/* Doubles the table (or makes the first one), moving every entry. */
static void
grow(struct ac_strmap *m)
{
	struct ac_strmap_entry	**slots, *e, *next, **chain;
	size_t				  size, i;

	size = m->size ? m->size * 2 : STRMAP_MIN_SIZE;
	slots = xcalloc(size, sizeof *slots);
	for (i = 0; i < m->size; i++) {
		for (e = m->slots[i]; e != NULL; e = next) {
			next = e->next;
			chain = chain_of(slots, size, e->key);
			e->next = *chain;
			*chain = e;
		}
	}
	free(m->slots);
	m->slots = slots;
	m->size = size;
}

/* Looks key up in its chain. */
void *
ac_strmap_get(const struct ac_strmap *m, const char *key)
{
	struct ac_strmap_entry	*e;

	if (m->size == 0)
		return NULL;
	e = *link_of(m, key);
	return e != NULL ? e->value : NULL;
}

/* Sets key's value; the table grows to keep chains about one long. */
void
ac_strmap_put(struct ac_strmap *m, const char *key, void *value)
{
	struct ac_strmap_entry	**pp, *e;
	size_t				  n;

	if (m->size == 0 || m->count + 1 > m->size)
		grow(m);
	pp = link_of(m, key);
	if (*pp != NULL) {
		(*pp)->value = value;
		return;
	}
	n = strlen(key) + 1;
	e = xmalloc(sizeof *e + n);
	memcpy(e->key, key, n);
	e->value = value;
	e->next = NULL;
	*pp = e;
	m->count++;
}

/* Unlinks key's entry and returns its value. */
void *
ac_strmap_remove(struct ac_strmap *m, const char *key)
{
	struct ac_strmap_entry	**pp, *e;
	void				 *value;

	if (m->size == 0 || (e = *(pp = link_of(m, key))) == NULL)
		return NULL;
	*pp = e->next;
	value = e->value;
	free(e);
	m->count--;
	return value;
}

/* Frees every entry (values through free_value) and the table. */
void
ac_strmap_clear(struct ac_strmap *m, void (*free_value)(void *))
{
	struct ac_strmap_entry	*e, *next;
	size_t				 i;

	for (i = 0; i < m->size; i++) {
		for (e = m->slots[i]; e != NULL; e = next) {
			next = e->next;
			if (free_value != NULL)
				free_value(e->value);
			free(e);
		}
	}
	free(m->slots);
	memset(m, 0, sizeof *m);
}
