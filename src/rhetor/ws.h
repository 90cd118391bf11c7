/*
 * ws.h: WebSocket connections on /ws/socket/{socket_id}.
 */
#ifndef RH_WS_H
#define RH_WS_H

#include "server.h"

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
	char			*rx;		/* message being reassembled */
	size_t			 rx_len;
	int			 rx_too_big;
	/* A binary stream being received (stream_start .. stream_end). */
	int			 stream_open;
	int			 stream_dropped;	/* refused: wait for the end */
	char			*stream_id;
	char			*stream_mime;
	unsigned char		*stream_buf;
	size_t			 stream_len;
	size_t			 stream_cap;	/* bytes allocated */
	int			 closing;
	const char		*close_why;
	int			 corked;	/* TCP_CORK set (see ws.c) */
};

/* The WebSocket events of the protocol callback. */
int	rh_ws_event(struct lws *wsi, enum lws_callback_reasons reason,
	    struct rh_conn *c, void *in, size_t len);
/* Accepts or refuses an upgrade: path, token and Origin are checked. */
int	rh_ws_confirm_upgrade(struct lws *wsi, const char *protocol);
/* Queues a text frame on a connection.  queued_on names the socket whose
 * stored queue holds the frame under seq (removed once written). */
void	rh_conn_send(struct rh_conn *c, const char *json, size_t len,
	    const char *queued_on, int64_t seq);
/* Closes every connection on a socket that is being deleted. */
void	rh_ws_socket_gone(struct rh_socket *s);

#endif
