/*
 * socket-index.h: the server's sockets by id, a hash table beside the
 * registry's list (which keeps creation order), so that finding a socket
 * costs the same with 15 sockets or 1,000.
 */
#ifndef RH_SOCKET_INDEX_H
#define RH_SOCKET_INDEX_H

#include <stddef.h>

struct rh_socket;

struct rh_socket_index {
	struct rh_socket	**slots;	/* chains through ->hnext */
	size_t			  size;		/* slots; a power of two */
	size_t			  count;
};

/* Adds s, whose id must not be in the index yet. */
void		 rh_socket_index_add(struct rh_socket_index *ix,
		    struct rh_socket *s);
/* Removes s when it is there. */
void		 rh_socket_index_remove(struct rh_socket_index *ix,
		    struct rh_socket *s);
/* The socket with this id, or NULL. */
struct rh_socket *rh_socket_index_find(const struct rh_socket_index *ix,
		    const char *id);
/* Frees the table (not the sockets). */
void		 rh_socket_index_free(struct rh_socket_index *ix);

#endif
