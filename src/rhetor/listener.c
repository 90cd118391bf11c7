/*
 * listener.c: the server's list of listeners (see listener.h).
 */
#include "listener.h"
#include "server.h"

/* Adds a listener to the server's list. */
int
rh_listener_add(struct rh_server *srv, const struct rh_listener *l)
{
	if (srv->nlisteners >= RH_LISTENERS_MAX)
		return -1;
	srv->listeners[srv->nlisteners++] = l;
	return 0;
}

/* Hands a frame to every listener that takes frames. */
size_t
rh_listeners_frame(struct rh_server *srv, struct rh_socket *s,
    const char *json, size_t len, const char *queue_id, int64_t seq)
{
	size_t	n = 0;
	int	i;

	for (i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i]->frame != NULL)
			n += srv->listeners[i]->frame(srv, s, json, len,
			    queue_id, seq);
	}
	return n;
}

/* Tells every listener that s's queue grew. */
void
rh_listeners_queued(struct rh_server *srv, struct rh_socket *s)
{
	int	i;

	for (i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i]->queued != NULL)
			srv->listeners[i]->queued(srv, s);
	}
}

/* Tells every listener that s is being deleted. */
void
rh_listeners_gone(struct rh_server *srv, struct rh_socket *s)
{
	int	i;

	for (i = 0; i < srv->nlisteners; i++) {
		if (srv->listeners[i]->gone != NULL)
			srv->listeners[i]->gone(srv, s);
	}
}
