/*
 * sent.h: queued replies on their way to a WebSocket reader, until the
 * server knows the reader got them.
 *
 * A reply waits in its socket's queue (store.c) until a reader got it.
 * Written to a connection is not got: a reader that drops its connection
 * at once leaves it unread.  So a queued reply taken by a connection is
 * *held*: other new readers and /read skip it, and it stays stored (a
 * /read answer holds what it carries the same way: read-held.h).  Once
 * written, it is *sent*; it is *got*, and leaves the queue, when the
 * reader's TCP has acknowledged its last byte and then the reader either
 * kept the connection open for RH_SENT_CONFIRM_MS or closed it without a
 * reset.  A reply whose last holder lets go of it unsent, or without
 * knowing it got, is offered again: to the socket's open connections, else
 * to its /read waiters, else to its next reader.  doc/guarantees.md says
 * what this promises.
 */
#ifndef RH_SENT_H
#define RH_SENT_H

#include <stdint.h>

#include <libwebsockets.h>

#include "tcp-peer.h"

struct rh_conn;
struct rh_server;
struct rh_socket;

/* A reader whose TCP took a reply and kept its connection this long
 * afterwards has got it. */
#define RH_SENT_CONFIRM_MS	1000

/* One reply written to a connection, not yet known to be got. */
struct rh_sent_reply {
	int64_t		 seq;
	int64_t		 end;		/* stream offset of its last byte, or
					 * -1 while libwebsockets holds a part */
	int64_t		 received;	/* bytes received from the reader
					 * when it was written */
	int64_t		 sent_ms;	/* monotonic time it was written */
};

/* A connection's replies written and not yet got, oldest first. */
struct rh_sent_list {
	struct rh_sent_reply	*v;
	size_t			 n, cap;
	lws_sorted_usec_list_t	 sul;	/* the next look at the acks */
	struct rh_conn		*conn;
	int			 settled;	/* the connection ended */
	struct rh_peer		 look;		/* the last look before a write */
};

/* A connection takes queued reply seq of its socket s. */
void	rh_sent_hold(struct rh_socket *s, int64_t seq);
/* A connection lets go of reply seq of s unwritten (it closes). */
void	rh_sent_drop(struct rh_server *srv, struct rh_socket *s, int64_t seq);
/* A reader got reply seq of s: it leaves the queue, nobody holds it. */
void	rh_sent_got(struct rh_server *srv, struct rh_socket *s, int64_t seq);
/* True while a connection holds reply seq of s. */
int	rh_sent_is_held(const struct rh_socket *s, int64_t seq);
/* How many of s's queued replies are not held: what a reader would get. */
int	rh_sent_available(struct rh_server *srv, struct rh_socket *s);
/* Called as a connection of s takes a reply: when s's readers hold half
 * a queue's worth, what their TCPs acknowledged is got at once. */
void	rh_sent_relieve(struct rh_socket *s);
/* Forgets every hold of s (its queue was cleared, or it is freed). */
void	rh_sent_clear(struct rh_socket *s);

/* Before a queued reply is written to c: 0 while the reader is there,
 * -1 once it closed or reset the connection (nothing more should be
 * written then). */
int	rh_sent_peer_open(struct rh_conn *c);
/* After reply seq, wire_len bytes on the wire, was written to c just
 * after rh_sent_peer_open said 0. */
void	rh_sent_written(struct rh_conn *c, int64_t seq, size_t wire_len);
/* c's reader sent a close frame: it got what its TCP took, except the
 * replies written once its close frame had come in (they crossed it).
 * What it did not get is offered again; the connection is settled. */
void	rh_sent_peer_closing(struct rh_conn *c);
/* c's connection ends: the replies its reader got leave the queue, the
 * others are offered again.  Only the first call does anything. */
void	rh_sent_settle(struct rh_conn *c);
/* c asked again for write_id: the replies to it still in the queue of
 * c's socket are sent to c, unless c holds them already. */
void	rh_sent_resend(struct rh_conn *c, const char *write_id);

#endif
