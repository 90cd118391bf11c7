/*
 * socket-index.c: the server's sockets by id (see socket-index.h).
 */
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "server.h"
#include "socket-index.h"
#include "xalloc.h"

#define INDEX_MIN_SIZE	64

/* The chain an id belongs to. */
static struct rh_socket **
chain_of(const struct rh_socket_index *ix, const char *id)
{
	return &ix->slots[ac_hash_str(AC_HASH_START, id) & (ix->size - 1)];
}

/* Doubles the table (or makes the first one), moving every socket. */
static void
grow(struct rh_socket_index *ix)
{
	struct rh_socket_index	 bigger;
	struct rh_socket	*s, *next, **chain;
	size_t			 i;

	bigger.size = ix->size ? ix->size * 2 : INDEX_MIN_SIZE;
	bigger.slots = xcalloc(bigger.size, sizeof *bigger.slots);
	bigger.count = ix->count;
	for (i = 0; i < ix->size; i++) {
		for (s = ix->slots[i]; s != NULL; s = next) {
			next = s->hnext;
			chain = chain_of(&bigger, s->id);
			s->hnext = *chain;
			*chain = s;
		}
	}
	free(ix->slots);
	*ix = bigger;
}

/* Adds s; the table grows to keep chains about one long. */
void
rh_socket_index_add(struct rh_socket_index *ix, struct rh_socket *s)
{
	struct rh_socket	**chain;

	if (ix->count + 1 > ix->size)
		grow(ix);
	chain = chain_of(ix, s->id);
	s->hnext = *chain;
	*chain = s;
	ix->count++;
}

/* Unlinks s from its chain. */
void
rh_socket_index_remove(struct rh_socket_index *ix, struct rh_socket *s)
{
	struct rh_socket	**pp;

	if (ix->size == 0)
		return;
	for (pp = chain_of(ix, s->id); *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			s->hnext = NULL;
			ix->count--;
			return;
		}
	}
}

/* Looks id up in its chain. */
struct rh_socket *
rh_socket_index_find(const struct rh_socket_index *ix, const char *id)
{
	struct rh_socket	*s;

	if (ix->size == 0)
		return NULL;
	for (s = *chain_of(ix, id); s != NULL; s = s->hnext) {
		if (strcmp(s->id, id) == 0)
			return s;
	}
	return NULL;
}

/* Frees the slots; the sockets belong to the registry. */
void
rh_socket_index_free(struct rh_socket_index *ix)
{
	free(ix->slots);
	memset(ix, 0, sizeof *ix);
}
