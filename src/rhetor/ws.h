/*
 * ws.h: WebSocket connections on /ws/socket/{socket_id}.
 */
#ifndef RH_WS_H
#define RH_WS_H

#include "sent.h"
#include "server.h"
#include "ws-rx.h"

struct rh_out;

/* One WebSocket connection reading and writing one socket. */
struct rh_conn {
	struct lws		*wsi;
	struct rh_server	*srv;
	struct rh_socket	*sock;		/* NULL once the socket is gone */
	struct rh_conn		*next;		/* on the same socket */
	struct rh_out		*out_head;	/* frames waiting to be written */
	struct rh_out		*out_tail;
	size_t			 out_bytes;
	struct rh_rx		 rx;		/* what the client is sending:
						   a message in pieces, a
						   stream (ws-rx.c) */
	int			 closing;
	const char		*close_why;
	int			 corked;	/* TCP_CORK set (see ws.c) */
	struct rh_sent_list	 sent;		/* replies written, not yet
						 * known to be got (sent.c) */
};

/* The WebSocket events of the protocol callback. */
int	rh_ws_event(struct lws *wsi, enum lws_callback_reasons reason,
	    struct rh_conn *c, void *in, size_t len);
/* Accepts or refuses an upgrade: path, token and Origin are checked. */
int	rh_ws_confirm_upgrade(struct lws *wsi, const char *protocol);
/* Queues a text frame on a connection.  queued_on names the socket whose
 * stored queue holds the frame under seq: the connection holds it until
 * its reader got it (sent.h). */
void	rh_conn_send(struct rh_conn *c, const char *json, size_t len,
	    const char *queued_on, int64_t seq);
/* True when queued reply seq waits unwritten on c. */
int	rh_conn_has_queued(const struct rh_conn *c, int64_t seq);
/* Closes every connection on a socket that is being deleted. */
void	rh_ws_socket_gone(struct rh_server *srv, struct rh_socket *s);

#endif
