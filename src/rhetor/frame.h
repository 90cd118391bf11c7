/*
 * frame.h: a text frame from a WebSocket client, parsed and checked
 * before anything acts on it (SPEC section 2).  rh_frame_parse is a pure
 * function of the bytes: what needs the connection's state (is a stream
 * open?) stays with the caller in ws.c.
 *
 * Ownership: the frame owns its parsed JSON until rh_frame_free; id,
 * content and mime point into it.
 */
#ifndef RH_FRAME_H
#define RH_FRAME_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "server.h"

enum rh_frame_type {
	RH_FRAME_WRITE,
	RH_FRAME_CANCEL,
	RH_FRAME_STREAM_START,
	RH_FRAME_STREAM_END,
	RH_FRAME_PING
};

struct rh_frame {
	enum rh_frame_type type;
	cJSON		*json;
	const char	*id;		/* the frame's "id", or NULL */
	int		 has_id;	/* "id" is present (stream_end) */
	const char	*content;	/* write */
	int		 flags;		/* write: RH_WRITE_* */
	const char	*mime;		/* stream_start */
	/* On error: the id to put in the error frame's in_reply_to. */
	const char	*in_reply_to;
};

/* Parses and checks one text frame of len bytes.  Returns 0, or -1 with
 * err filled; in both cases the caller calls rh_frame_free. */
int	rh_frame_parse(const char *text, size_t len, struct rh_frame *f,
	    struct rh_err *err);
/* Frees what a frame holds; safe on a zeroed or failed frame. */
void	rh_frame_free(struct rh_frame *f);

#endif
