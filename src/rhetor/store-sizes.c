/*
 * store-sizes.c: the history sizes the store keeps in memory, by socket
 * id in a hash table: finding one costs the same with 15 sockets or
 * 60,000.
 */
#include <stdlib.h>
#include <string.h>

#include "store-sizes.h"
#include "xalloc.h"

/* The size of socket_id; NULL when not known. */
struct rh_size *
rh_sizes_find(struct rh_sizes *z, const char *socket_id)
{
	return ac_strmap_get(&z->map, socket_id);
}

/* Records the size and place of socket_id's history. */
struct rh_size *
rh_sizes_set(struct rh_sizes *z, const char *socket_id, int64_t rows,
    int64_t bytes, int64_t key, int64_t last)
{
	struct rh_size	*e = rh_sizes_find(z, socket_id);
	size_t		 n = strlen(socket_id) + 1;

	if (e == NULL) {
		e = xmalloc(sizeof *e + n);
		memcpy(e->socket_id, socket_id, n);
		ac_strmap_put(&z->map, socket_id, e);
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
	free(ac_strmap_remove(&z->map, socket_id));
}

/* Forgets every size. */
void
rh_sizes_clear(struct rh_sizes *z)
{
	ac_strmap_clear(&z->map, free);
}
