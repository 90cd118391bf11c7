/*
 * fuzz-ws-session.c: fuzzes sequences of WebSocket frames on several
 * connections at once, through what the server keeps across them: the
 * text messages put together from pieces and the binary streams between
 * stream_start and stream_end (src/rhetor/ws-rx.c), each message checked
 * by rh_frame_parse (src/rhetor/frame.c) as ws.c does.  The limits are
 * small, so that inputs reach them; the server-wide counts are shared by
 * the connections, as in the server.
 *
 * An input is records of two bytes and a payload: the first byte says
 * which of four connections (bits 0-1), binary (bit 2), first piece
 * (bit 3), final piece (bit 4), or that the connection closes (bit 5); the
 * second is the payload's length.  A shadow of each connection checks
 * that a message handed on is exactly its pieces since the first, that a
 * stream ended whole holds exactly its bytes, that nothing is handed on
 * past a limit without an error, and that the server-wide counts are
 * always the sum of what the connections hold, within their bounds, and
 * zero once every connection is closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <aish/protocol.h>
#include "frame.h"
#include "fuzz.h"
#include "ws-rx.h"

#define CONNS		4
#define MAX_MESSAGE	512
#define MAX_STREAM	2048
#define MAX_PARTIAL	1024
#define MAX_STREAMS	4096

/* One connection and what the checks expect of it. */
struct conn {
	struct rh_rx	 rx;
	unsigned char	 msg[MAX_MESSAGE + 256];
	size_t		 msg_len;
	int		 msg_dropped;	/* an error said so */
	int		 in_message;	/* a message was begun */
	unsigned char	 stream[MAX_STREAM + 256];
	size_t		 stream_len;
	int		 stream_dropped;
	int		 messages;	/* handed on while it ran */
};

static struct conn	 conns[CONNS];
static size_t		 partial_bytes, stream_bytes;
static const struct rh_rx_bounds bounds = {
	MAX_MESSAGE, MAX_STREAM, MAX_PARTIAL, MAX_STREAMS,
	&partial_bytes, &stream_bytes
};

static const struct rh_rx_ops	ops;

/* A stream frame of a message: what ws.c does with it. */
static void
stream_frame(struct conn *c, const struct rh_frame *f)
{
	int	whole;

	if (f->type == RH_FRAME_STREAM_START) {
		if (rh_rx_stream_start(&c->rx, f, "s-fuzz", &ops, c) == 0) {
			FUZZ_CHECK(c->rx.stream_open && c->rx.stream_id);
			c->stream_len = 0;
			c->stream_dropped = 0;
		}
		return;
	}
	whole = rh_rx_stream_end(&c->rx, f, &ops, c);
	if (whole < 0)
		return;
	FUZZ_CHECK(whole == !c->stream_dropped);
	if (whole) {
		FUZZ_CHECK(c->rx.stream_len == c->stream_len);
		FUZZ_CHECK(c->stream_len == 0 ||
		    memcmp(c->rx.stream_buf, c->stream, c->stream_len) == 0);
	}
	rh_rx_stream_clear(&c->rx, &bounds);
	FUZZ_CHECK(!c->rx.stream_open && c->rx.stream_cap == 0);
}

/* ws-rx callback: a whole message, exactly its pieces; parsed. */
static void
on_message(void *ud, const char *text, size_t len)
{
	struct conn	*c = ud;
	struct rh_frame	 f;
	struct rh_err	 err;

	FUZZ_CHECK(!c->msg_dropped);
	FUZZ_CHECK(len == c->msg_len && len <= MAX_MESSAGE);
	FUZZ_CHECK(memcmp(text, c->msg, len) == 0 && text[len] == '\0');
	c->messages++;
	memset(&err, 0, sizeof err);
	if (rh_frame_parse(text, len, &f, &err) == 0) {
		if (f.type == RH_FRAME_STREAM_START ||
		    f.type == RH_FRAME_STREAM_END)
			stream_frame(c, &f);
	} else
		FUZZ_CHECK(err.code != NULL && err.message[0] != '\0');
	rh_frame_free(&f);
}

/* ws-rx callback: an error frame; a limit drops what it is about. */
static void
on_error(void *ud, const char *code, const char *message,
    const char *in_reply_to)
{
	struct conn	*c = ud;
	int		 limit = strcmp(code, AISH_ERR_TOO_LARGE) == 0 ||
			    strcmp(code, AISH_ERR_OVERLOADED) == 0;

	FUZZ_CHECK(*code != '\0' && message != NULL && *message != '\0');
	if (limit && in_reply_to == NULL)
		c->msg_dropped = 1;
	else if (limit)
		c->stream_dropped = 1;
}

/* ws-rx callback: a stream refused. */
static void
on_refused(void *ud)
{
	struct conn	*c = ud;

	FUZZ_CHECK(c->stream_dropped);
}

static const struct rh_rx_ops	ops = { on_message, on_error, on_refused };

/* The counts are what the connections hold, within their bounds. */
static void
check_counts(void)
{
	size_t	partial = 0, streams = 0;
	int	i;

	for (i = 0; i < CONNS; i++) {
		partial += conns[i].rx.msg_held;
		streams += conns[i].rx.stream_cap;
		FUZZ_CHECK(conns[i].rx.stream_len <= MAX_STREAM);
		FUZZ_CHECK(conns[i].rx.msg_len <= MAX_MESSAGE);
		FUZZ_CHECK(conns[i].rx.stream_buf == NULL ||
		    conns[i].rx.stream_cap > conns[i].rx.stream_len);
	}
	FUZZ_CHECK(partial == partial_bytes && partial <= MAX_PARTIAL);
	FUZZ_CHECK(streams == stream_bytes && streams <= MAX_STREAMS);
}

/* One piece of a text message, as the shadow sees it. */
static void
text_piece(struct conn *c, const unsigned char *p, size_t n, int first,
    int final)
{
	/* As libwebsockets says: the piece after a final one is a first. */
	first = first || !c->in_message;
	if (first) {
		c->msg_len = 0;
		c->msg_dropped = 0;
	}
	c->in_message = !final;
	if (c->msg_len + n <= sizeof c->msg)
		memcpy(c->msg + c->msg_len, p, n);
	c->msg_len += n;
	if (c->msg_len > sizeof c->msg)
		c->msg_len = sizeof c->msg;	/* past the limit anyway */
	rh_rx_text(&c->rx, &bounds, (const char *)p, n, first, final, &ops, c);
}

/* One piece of a binary frame, as the shadow sees it. */
static void
binary_piece(struct conn *c, const unsigned char *p, size_t n, int first)
{
	int	open = c->rx.stream_open && !c->stream_dropped;

	if (open && c->stream_len + n <= sizeof c->stream)
		memcpy(c->stream + c->stream_len, p, n);
	if (open)
		c->stream_len += n;
	rh_rx_binary(&c->rx, &bounds, (const char *)p, n, first, &ops, c);
	if (c->stream_len > sizeof c->stream)
		FUZZ_CHECK(c->stream_dropped);
}

/* One input: records of several connections' frames. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	size_t	at = 0, n;
	int	i, flags;

	memset(conns, 0, sizeof conns);
	while (at + 2 <= len) {
		flags = data[at];
		n = data[at + 1];
		at += 2;
		if (n > len - at)
			n = len - at;
		i = flags & 3;
		if (flags & 0x20) {
			rh_rx_free(&conns[i].rx, &bounds);
			memset(&conns[i], 0, sizeof conns[i]);
		} else if (flags & 0x04)
			binary_piece(&conns[i], data + at, n,
			    (flags & 0x08) != 0);
		else
			text_piece(&conns[i], data + at, n,
			    (flags & 0x08) != 0, (flags & 0x10) != 0);
		at += n;
		check_counts();
	}
	for (i = 0; i < CONNS; i++)
		rh_rx_free(&conns[i].rx, &bounds);
	FUZZ_CHECK(partial_bytes == 0 && stream_bytes == 0);
	return 0;
}
