/*
 * ws-rx.h: what a WebSocket connection holds of what its client sends,
 * apart from the socket it is on: a text message arriving in pieces, and
 * a binary stream between its stream_start and stream_end frames.  Each
 * is bounded on its own (message and stream limits) and, with the other
 * connections, server-wide (struct rh_rx_bounds); what passes a bound is
 * dropped with one error, and the connection goes on.  ws.c feeds it the
 * pieces libwebsockets gives; fuzz/fuzz-ws-session.c feeds it sequences
 * of frames of several connections.
 */
#ifndef RH_WS_RX_H
#define RH_WS_RX_H

#include <stddef.h>

struct rh_frame;

/* The limits, and the server-wide counts they bound. */
struct rh_rx_bounds {
	size_t	 max_message;		/* one text message */
	size_t	 max_stream;		/* one binary stream */
	size_t	 max_partial;		/* messages in pieces, all together */
	size_t	 max_streams;		/* unfinished streams, all together */
	size_t	*partial_bytes;		/* the counts, shared */
	size_t	*stream_bytes;
};

/* What the connection is told, and what it hands on. */
struct rh_rx_ops {
	/* A whole text message (NUL-terminated after len). */
	void	(*message)(void *ud, const char *text, size_t len);
	/* An error frame to send. */
	void	(*error)(void *ud, const char *code, const char *message,
		    const char *in_reply_to);
	/* A stream was refused (a limit): counted in /metrics. */
	void	(*refused)(void *ud);
};

/* One connection's incoming side; all zero to begin with. */
struct rh_rx {
	char		*msg;		/* text message being put together */
	size_t		 msg_len;
	size_t		 msg_held;	/* counted in *partial_bytes */
	int		 msg_dropping;	/* past a limit: the rest is dropped */
	int		 stream_open;
	int		 stream_dropped;	/* refused: wait for its end */
	char		*stream_id;
	char		*stream_mime;
	unsigned char	*stream_buf;
	size_t		 stream_len;
	size_t		 stream_cap;	/* allocated, counted in
					   *stream_bytes */
};

/* A piece of a text message; first and final as the frame says. */
void	rh_rx_text(struct rh_rx *rx, const struct rh_rx_bounds *b,
	    const char *in, size_t len, int first, int final,
	    const struct rh_rx_ops *ops, void *ud);
/* A piece of a binary frame: more bytes of the open stream. */
void	rh_rx_binary(struct rh_rx *rx, const struct rh_rx_bounds *b,
	    const char *in, size_t len, int first,
	    const struct rh_rx_ops *ops, void *ud);
/* A stream_start frame (parsed); id is the stream's id when the frame
 * has none.  0, or -1 after an error (one is open already). */
int	rh_rx_stream_start(struct rh_rx *rx, const struct rh_frame *f,
	    const char *id, const struct rh_rx_ops *ops, void *ud);
/* A stream_end frame: 1 when the stream is whole (its bytes are in
 * rx->stream_buf, stream_len of them, until rh_rx_stream_clear), 0 when it
 * had been refused, -1 after an error (no stream, another id). */
int	rh_rx_stream_end(struct rh_rx *rx, const struct rh_frame *f,
	    const struct rh_rx_ops *ops, void *ud);
/* Forgets the stream, open or ended. */
void	rh_rx_stream_clear(struct rh_rx *rx, const struct rh_rx_bounds *b);
/* Frees everything (the connection is gone). */
void	rh_rx_free(struct rh_rx *rx, const struct rh_rx_bounds *b);

#endif
