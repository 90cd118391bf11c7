/*
 * ws-rx.c: a connection's incoming text messages and binary streams, with
 * their bounds (see ws-rx.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aish/protocol.h>
#include "frame.h"
#include "ws-rx.h"
#include "xalloc.h"

/* Grows what *held counts of *total (bound max) to want; 0, or -1
 * (nothing changed) when that would pass max. */
static int
grow(size_t *total, size_t max, size_t *held, size_t want)
{
	if (want <= *held)
		return 0;
	if (*total + (want - *held) > max)
		return -1;
	*total += want - *held;
	*held = want;
	return 0;
}

/* Gives back what *held counted of *total. */
static void
release(size_t *total, size_t *held)
{
	*total -= *held;
	*held = 0;
}

/* Drops the message being put together; the rest of it is dropped as it
 * comes. */
static void
message_drop(struct rh_rx *rx, const struct rh_rx_bounds *b)
{
	free(rx->msg);
	rx->msg = NULL;
	rx->msg_len = 0;
	release(b->partial_bytes, &rx->msg_held);
	rx->msg_dropping = 1;
}

/* A piece of a text message (see ws-rx.h). */
void
rh_rx_text(struct rh_rx *rx, const struct rh_rx_bounds *b, const char *in,
    size_t len, int first, int final, const struct rh_rx_ops *ops, void *ud)
{
	char	msg[160];

	if (first) {
		free(rx->msg);
		rx->msg = NULL;
		rx->msg_len = 0;
		release(b->partial_bytes, &rx->msg_held);
		rx->msg_dropping = 0;
	}
	if (!rx->msg_dropping && rx->msg_len + len > b->max_message) {
		/* Said at once: the rest (maybe 2^63 bytes) is dropped as
		 * it comes. */
		message_drop(rx, b);
		snprintf(msg, sizeof msg, "messages are limited to %zu bytes",
		    b->max_message);
		ops->error(ud, AISH_ERR_TOO_LARGE, msg, NULL);
	}
	if (!rx->msg_dropping && grow(b->partial_bytes, b->max_partial,
	    &rx->msg_held, rx->msg_len + len + 1) != 0) {
		message_drop(rx, b);
		snprintf(msg, sizeof msg, "the server holds %zu bytes of "
		    "messages arriving in pieces; this one is dropped: send it "
		    "again later", b->max_partial);
		ops->error(ud, AISH_ERR_OVERLOADED, msg, NULL);
	}
	if (!rx->msg_dropping) {
		rx->msg = xrealloc(rx->msg, rx->msg_len + len + 1);
		memcpy(rx->msg + rx->msg_len, in, len);
		rx->msg_len += len;
		rx->msg[rx->msg_len] = '\0';
	}
	if (!final)
		return;
	if (!rx->msg_dropping)
		ops->message(ud, rx->msg, rx->msg_len);
	free(rx->msg);
	rx->msg = NULL;
	rx->msg_len = 0;
	release(b->partial_bytes, &rx->msg_held);
	rx->msg_dropping = 0;
}

/* Refuses the open stream with an error frame: its bytes are dropped,
 * and so is the rest of it, until its stream_end. */
static void
stream_refuse(struct rh_rx *rx, const struct rh_rx_bounds *b,
    const char *code, const char *message, const struct rh_rx_ops *ops,
    void *ud)
{
	ops->error(ud, code, message, rx->stream_id);
	ops->refused(ud);
	free(rx->stream_buf);
	rx->stream_buf = NULL;
	rx->stream_len = 0;
	release(b->stream_bytes, &rx->stream_cap);
	rx->stream_dropped = 1;
}

/* A piece of a binary frame (see ws-rx.h). */
void
rh_rx_binary(struct rh_rx *rx, const struct rh_rx_bounds *b, const char *in,
    size_t len, int first, const struct rh_rx_ops *ops, void *ud)
{
	char	msg[160];
	size_t	cap;

	if (!rx->stream_open) {
		if (first)
			ops->error(ud, AISH_ERR_BAD_REQUEST, "binary frames "
			    "belong to a stream: send stream_start first",
			    NULL);
		return;
	}
	if (rx->stream_dropped)
		return;
	if (rx->stream_len + len > b->max_stream) {
		snprintf(msg, sizeof msg, "binary streams are limited to %zu "
		    "bytes; the stream is dropped", b->max_stream);
		stream_refuse(rx, b, AISH_ERR_TOO_LARGE, msg, ops, ud);
		return;
	}
	/* Grow by doubling: a stream comes in thousands of pieces, and
	 * growing by each piece would copy it over and over.  Never past
	 * the limit, and never past what all connections may hold. */
	if (rx->stream_len + len + 1 > rx->stream_cap) {
		cap = rx->stream_cap ? rx->stream_cap : 64 * 1024;
		while (cap < rx->stream_len + len + 1)
			cap *= 2;
		if (cap > b->max_stream + 1)
			cap = b->max_stream + 1;
		if (grow(b->stream_bytes, b->max_streams, &rx->stream_cap,
		    cap) != 0) {
			snprintf(msg, sizeof msg, "the server holds %zu bytes "
			    "of unfinished streams; the stream is dropped: send "
			    "it again later", b->max_streams);
			stream_refuse(rx, b, AISH_ERR_OVERLOADED, msg, ops, ud);
			return;
		}
		rx->stream_buf = xrealloc(rx->stream_buf, cap);
	}
	memcpy(rx->stream_buf + rx->stream_len, in, len);
	rx->stream_len += len;
}

/* A stream_start frame (see ws-rx.h). */
int
rh_rx_stream_start(struct rh_rx *rx, const struct rh_frame *f,
    const char *id, const struct rh_rx_ops *ops, void *ud)
{
	if (rx->stream_open) {
		ops->error(ud, AISH_ERR_CONFLICT, "a stream is already open on "
		    "this connection: end it with stream_end first", f->id);
		return -1;
	}
	rx->stream_open = 1;
	rx->stream_mime = xstrdup(f->mime);
	rx->stream_id = xstrdup(f->id != NULL ? f->id : id);
	return 0;
}

/* A stream_end frame (see ws-rx.h). */
int
rh_rx_stream_end(struct rh_rx *rx, const struct rh_frame *f,
    const struct rh_rx_ops *ops, void *ud)
{
	if (!rx->stream_open) {
		ops->error(ud, AISH_ERR_BAD_REQUEST, "no stream is open: "
		    "stream_start comes first", f->id);
		return -1;
	}
	if (f->has_id && (f->id == NULL ||
	    strcmp(f->id, rx->stream_id) != 0)) {
		ops->error(ud, AISH_ERR_BAD_REQUEST, "stream_end names another "
		    "stream than the open one", rx->stream_id);
		return -1;
	}
	return rx->stream_dropped ? 0 : 1;
}

/* Forgets the stream (see ws-rx.h). */
void
rh_rx_stream_clear(struct rh_rx *rx, const struct rh_rx_bounds *b)
{
	free(rx->stream_id);
	free(rx->stream_mime);
	free(rx->stream_buf);
	release(b->stream_bytes, &rx->stream_cap);
	rx->stream_id = rx->stream_mime = NULL;
	rx->stream_buf = NULL;
	rx->stream_len = 0;
	rx->stream_open = rx->stream_dropped = 0;
}

/* Frees everything (see ws-rx.h). */
void
rh_rx_free(struct rh_rx *rx, const struct rh_rx_bounds *b)
{
	free(rx->msg);
	rx->msg = NULL;
	rx->msg_len = 0;
	release(b->partial_bytes, &rx->msg_held);
	rh_rx_stream_clear(rx, b);
}
