/*
 * listener.h: how the delivery core hands frames to the transports that
 * serve readers, without knowing them: WebSocket connections (ws.c) and
 * HTTP /read requests waiting on a queue (http.c).  Each transport gives
 * one struct rh_listener; the server lists them (rh_listener_add at
 * start-up), and the core calls each for every socket a frame reaches
 * (fan-out.c).  A second backend (a cluster node publishing replies for
 * the others) is one more listener.
 */
#ifndef RH_LISTENER_H
#define RH_LISTENER_H

#include <stddef.h>
#include <stdint.h>

struct rh_server;
struct rh_socket;

/* The most listeners a server takes. */
#define RH_LISTENERS_MAX	4

/* One transport, as the core sees it.  Any function may be NULL. */
struct rh_listener {
	const char	*name;
	/* A frame for the readers of socket s: queue_id is s's id when s's
	 * queue holds the frame, whose seq is seq, else NULL.  Copies what
	 * it keeps; returns how many readers it went to. */
	size_t		(*frame)(struct rh_server *srv, struct rh_socket *s,
			    const char *json, size_t len, const char *queue_id,
			    int64_t seq);
	/* s's queue has a final frame no reader holds: one just stored
	 * and sent to the readers, or one a reader let go of unread
	 * (sent.c). */
	void		(*queued)(struct rh_server *srv, struct rh_socket *s);
	/* Socket s is being deleted: its readers are let go. */
	void		(*gone)(struct rh_server *srv, struct rh_socket *s);
};

/* Adds a listener (kept, not copied); -1 when RH_LISTENERS_MAX are in. */
int	rh_listener_add(struct rh_server *srv, const struct rh_listener *l);
/* Hands a frame to every listener; returns how many readers took it. */
size_t	rh_listeners_frame(struct rh_server *srv, struct rh_socket *s,
	    const char *json, size_t len, const char *queue_id, int64_t seq);
/* Tells every listener that s's queue grew. */
void	rh_listeners_queued(struct rh_server *srv, struct rh_socket *s);
/* Tells every listener that s is being deleted. */
void	rh_listeners_gone(struct rh_server *srv, struct rh_socket *s);

/* The transports' listeners. */
extern const struct rh_listener rh_ws_listener;
extern const struct rh_listener rh_http_listener;

#endif
