/*
 * tcp-peer.h: what the kernel knows of the reader at the other end of a
 * TCP connection: how many of the bytes written to it its TCP has
 * acknowledged, and whether it closed cleanly or reset the connection.
 *
 * This is all a server can know of whether a reader got a frame: a
 * reader's TCP acknowledges bytes once they are in its receive buffer, and
 * a reader that closes with bytes it never read resets the connection
 * instead of closing it (doc/guarantees.md, "When a reader got a reply").
 */
#ifndef RH_TCP_PEER_H
#define RH_TCP_PEER_H

#include <stdint.h>

/* How the peer's side of a connection stands. */
enum rh_peer_state {
	RH_PEER_UNKNOWN = 0,	/* not TCP, or the kernel does not say */
	RH_PEER_OPEN,		/* connected, nothing received to end it */
	RH_PEER_CLOSED,		/* ending without a reset: the peer closed
				 * (FIN), or we did */
	RH_PEER_RESET		/* the peer reset the connection, or it
				 * timed out */
};

/* What one look at a connection gives. */
struct rh_peer {
	enum rh_peer_state	state;
	int64_t			acked;	/* bytes written that the peer's
					 * TCP acknowledged */
	int64_t			written; /* bytes written to the kernel */
	int64_t			received; /* bytes received from the peer,
					 * its FIN counting one */
	int64_t			unread;	/* of those, bytes not yet read */
};

/* Looks at the TCP connection on fd; p->state is RH_PEER_UNKNOWN when
 * the kernel cannot say (then the other fields are 0). */
void	rh_tcp_peer(int fd, struct rh_peer *p);

#endif
