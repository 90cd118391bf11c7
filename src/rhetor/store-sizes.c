/*
 * store-sizes.c: the history sizes the store keeps in memory, a short
 * list with the most recently used socket first.
 */
#include <stdlib.h>
#include <string.h>

#include "store-sizes.h"

/* The size of socket_id, moved to the front; NULL when not known. */
struct rh_size *
rh_sizes_find(struct rh_sizes *z, const char *socket_id)
{
	struct rh_size	**pp, *e;

	for (pp = &z->head; (e = *pp) != NULL; pp = &e->next) {
		if (strcmp(e->socket_id, socket_id) != 0)
			continue;
		*pp = e->next;
		e->next = z->head;
		z->head = e;
		return e;
	}
	return NULL;
}

/* Records the size and place of socket_id's history. */
struct rh_size *
rh_sizes_set(struct rh_sizes *z, const char *socket_id, int64_t rows,
    int64_t bytes, int64_t key, int64_t last)
{
	struct rh_size	*e = rh_sizes_find(z, socket_id);
	size_t		 n = strlen(socket_id) + 1;

	if (e == NULL) {
		if ((e = malloc(sizeof *e + n)) == NULL)
			return NULL;
		memcpy(e->socket_id, socket_id, n);
		e->next = z->head;
		z->head = e;
	}
	e->rows = rows;
	e->bytes = bytes;
	e->key = key;
	e->last = last;
	return e;
}

/* Forgets socket_id's size. */
void
rh_sizes_forget(struct rh_sizes *z, const char *socket_id)
{
	struct rh_size	*e = rh_sizes_find(z, socket_id);

	if (e != NULL) {
		z->head = e->next;	/* find moved it to the front */
		free(e);
	}
}

/* Forgets every size. */
void
rh_sizes_clear(struct rh_sizes *z)
{
	struct rh_size	*e;

	while ((e = z->head) != NULL) {
		z->head = e->next;
		free(e);
	}
}
