/*
 * store-sizes.h: how many history turns and bytes each socket holds, kept
 * in memory by the store so that an append need not count them again.
 */
#ifndef RH_STORE_SIZES_H
#define RH_STORE_SIZES_H

#include <stdint.h>

#include "strmap.h"

/* One socket's history size, and where its turns are: ids from key to
 * key + HISTORY_SPAN - 1 (store.c); key is 0 while it has none yet. */
struct rh_size {
	int64_t		 rows;
	int64_t		 bytes;
	int64_t		 key;
	int64_t		 last;		/* the id of its newest turn, or key */
	char		 socket_id[];
};

/* The known sizes by socket id; an unknown socket is counted in the
 * database. */
struct rh_sizes {
	struct ac_strmap	 map;
};

/* The size of socket_id, or NULL when not known. */
struct rh_size	*rh_sizes_find(struct rh_sizes *z, const char *socket_id);
/* Records the size of socket_id; returns its entry. */
struct rh_size	*rh_sizes_set(struct rh_sizes *z, const char *socket_id,
		    int64_t rows, int64_t bytes, int64_t key, int64_t last);
/* Forgets socket_id's size. */
void		 rh_sizes_forget(struct rh_sizes *z, const char *socket_id);
/* Forgets every size (after a rollback, say). */
void		 rh_sizes_clear(struct rh_sizes *z);

#endif
