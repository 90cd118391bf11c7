/*
 * provider-stream.h: the pieces of a streamed provider answer, taken apart as
 * the bytes arrive in chunks of any size.
 *
 * - sp_lines splits bytes into lines (ending in "\n", "\r\n" or "\r"),
 *   for NDJSON (Ollama) and as the first step of SSE.
 * - sp_sse turns lines into Server-Sent Events (OpenAI, Anthropic):
 *   "event:" and "data:" fields, an empty line ending each event.
 * - sp_utf8 passes text on in whole UTF-8 characters only, holding back an
 *   incomplete character until the rest of it arrives, and turning bytes
 *   that can never be UTF-8 into U+FFFD.
 *
 * A chunk boundary may fall anywhere: inside a line, between "\r" and
 * "\n", inside a character.  Ownership: each parser owns its buffers until
 * its _free; the text handed to a callback is valid during that call only.
 */
#ifndef RH_PROVIDER_STREAM_H
#define RH_PROVIDER_STREAM_H

#include <stddef.h>

#include "buf.h"

/* The longest line or event accepted (bytes); longer ones are an error. */
#define SP_MAX_LINE	(16u * 1024 * 1024)

/* Called for each complete line (without its end); a non-zero return stops
 * the parse and is returned by the feed. */
typedef int (*sp_line_cb)(void *ud, const char *line, size_t len);

struct sp_lines {
	struct ac_buf	 partial;	/* the line so far */
	int		 after_cr;	/* last byte was "\r": skip one "\n" */
};

/* Feeds a chunk.  Returns 0, the callback's non-zero value, or -1 when a
 * line grows past SP_MAX_LINE. */
int	sp_lines_feed(struct sp_lines *p, const char *data, size_t len,
	    sp_line_cb cb, void *ud);
/* The end of the stream: a last line without an end is handed over. */
int	sp_lines_finish(struct sp_lines *p, sp_line_cb cb, void *ud);
void	sp_lines_free(struct sp_lines *p);

/* Called for each complete event: its "event:" name ("message" when none
 * was given) and its data lines joined by "\n". */
typedef int (*sp_event_cb)(void *ud, const char *event, const char *data,
    size_t len);

struct sp_sse {
	struct sp_lines	 lines;
	struct ac_buf	 event;
	struct ac_buf	 data;
	int		 has_data;
	sp_event_cb	 cb;		/* set during a feed */
	void		*ud;
};

/* Feeds a chunk; returns as sp_lines_feed does. */
int	sp_sse_feed(struct sp_sse *p, const char *data, size_t len,
	    sp_event_cb cb, void *ud);
/* The end of the stream: an event not closed by an empty line is still
 * handed over.  Returns as sp_lines_feed does. */
int	sp_sse_finish(struct sp_sse *p, sp_event_cb cb, void *ud);
void	sp_sse_free(struct sp_sse *p);

struct sp_utf8 {
	unsigned char	 pending[4];	/* the start of a character */
	size_t		 npending;
};

/* Appends to out the whole characters of the chunk (and of what was held
 * back before); bytes that cannot be UTF-8, and NUL, become U+FFFD. */
void	sp_utf8_feed(struct sp_utf8 *u, const char *data, size_t len,
	    struct ac_buf *out);
/* The end of the text: a character still incomplete becomes U+FFFD. */
void	sp_utf8_finish(struct sp_utf8 *u, struct ac_buf *out);

#endif
