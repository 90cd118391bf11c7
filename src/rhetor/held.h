/*
 * held.h: frames held back until the transaction that stored what they
 * announce commits.  A write whose reply is ready at once stores both in
 * one transaction; its acknowledgement and reply frames wait here until
 * then, and are dropped if the commit fails.
 */
#ifndef RH_HELD_H
#define RH_HELD_H

#include <stddef.h>
#include <stdint.h>

struct rh_server;

/* One frame held: what fan-out.c needs to send it later. */
struct rh_held {
	struct rh_held	*next;
	char		*socket_id;	/* the AI that answered */
	char		*origin;	/* the socket written to */
	char		*queue_socket;	/* whose queue holds it, or NULL */
	int64_t		 seq;
	size_t		 len;
	char		 json[];
};

/* The frames held, oldest first. */
struct rh_held_list {
	struct rh_held	*head;
	struct rh_held	**tail;
};

typedef void (*rh_held_send_cb)(struct rh_server *srv,
    const struct rh_held *h);

/* Starts holding frames. */
void	rh_held_start(struct rh_held_list *l);
/* Holds one frame. */
void	rh_held_add(struct rh_held_list *l, const char *socket_id,
	    const char *origin, const char *queue_socket, int64_t seq,
	    const char *json, size_t len);
/* Stops holding; with send, hands every held frame to it in order, else
 * drops them. */
void	rh_held_stop(struct rh_held_list *l, struct rh_server *srv,
	    rh_held_send_cb send);

#endif
