/*
 * read-held.h: the queued replies a /read answer took, held until its
 * HTTP reader got them, by the rules WebSocket readers follow (sent.h).
 *
 * A /read answer holds the replies it carries: other readers skip them
 * and they stay stored.  Once the answer is written whole, its stream
 * offset is known; its replies are got, and leave the queue, when the
 * reader's TCP acknowledged the answer's last byte and then the reader
 * kept the connection open for RH_SENT_CONFIRM_MS or closed it without
 * a reset.  Anything else (a reader that drops the connection while the
 * answer is on its way, or resets it), and they are offered again, with
 * the same seqs: to the socket's WebSocket readers, else its /read
 * waiters, else its next reader.
 */
#ifndef RH_READ_HELD_H
#define RH_READ_HELD_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

struct rh_server;

/* The replies one /read answer took from a socket's queue. */
struct rh_read_take {
	char		*socket_id;	/* NULL: none */
	int64_t		*seqs;
	size_t		 n, cap;
};

/* One answer written whole, its replies not yet known got. */
struct rh_read_sent;

/* A connection's answers written and not yet known got, oldest first. */
struct rh_read_held {
	struct rh_read_sent	*head;
	struct rh_read_sent	**tail;
	struct rh_server	*srv;
	struct lws		*wsi;
	lws_sorted_usec_list_t	 sul;	/* the next look at the acks */
	int			 close_when_got; /* close once none is left */
};

/* An answer takes queued reply seq of socket_id (held from now on). */
void	rh_read_take_add(struct rh_server *srv, struct rh_read_take *t,
	    const char *socket_id, int64_t seq);
/* The answer was never written whole: its replies are let go of. */
void	rh_read_take_drop(struct rh_server *srv, struct rh_read_take *t);

/* Starts a connection's list. */
void	rh_read_held_init(struct rh_read_held *h, struct rh_server *srv,
	    struct lws *wsi);
/* The answer that took t was written whole, its last byte at stream
 * offset end; the list owns what t held from now on (t is emptied). */
void	rh_read_held_sent(struct rh_read_held *h, struct rh_read_take *t,
	    int64_t end);
/* True while answers wait to be known got. */
int	rh_read_held_pending(const struct rh_read_held *h);
/* The connection ends: the replies its reader got leave the queue, the
 * others are offered again. */
void	rh_read_held_settle(struct rh_read_held *h);

#endif
