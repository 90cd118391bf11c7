/*
 * fuzz-stream.c: fuzzes the parsers of streamed provider answers
 * (src/rhetor/provider-stream.c): NDJSON lines, Server-Sent Events and the
 * UTF-8 splitter.
 *
 * The first byte of an input picks how the rest is cut into chunks.  Each
 * parser is fed the stream twice, whole and in those chunks, and must
 * hand over exactly the same lines, events and text both ways; the
 * UTF-8 splitter's output must be valid UTF-8 without NUL bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "names.h"
#include "provider-stream.h"

/* How a stream is cut: a small generator seeded by the input. */
struct chunker {
	unsigned	 state;
};

/* The length of the next chunk: mostly small, sometimes large. */
static size_t
next_chunk(struct chunker *ch)
{
	ch->state = ch->state * 1103515245u + 12345u;
	if ((ch->state >> 16) % 8 == 0)
		return 1 + (ch->state >> 20) % 512;
	return 1 + (ch->state >> 20) % 7;
}

/* Line callback: appends the line's length and bytes to a transcript. */
static int
record_line(void *ud, const char *line, size_t len)
{
	struct ac_buf	*out = ud;
	char		 head[32];

	FUZZ_CHECK(memchr(line, '\n', len) == NULL);
	FUZZ_CHECK(memchr(line, '\r', len) == NULL);
	snprintf(head, sizeof head, "[%zu]", len);
	ac_buf_add(out, head, strlen(head));
	ac_buf_add(out, line, len);
	return 0;
}

/* Event callback: appends the event's name and data to a transcript. */
static int
record_event(void *ud, const char *event, const char *data, size_t len)
{
	struct ac_buf	*out = ud;
	char		 head[64];

	FUZZ_CHECK(data[len] == '\0');
	snprintf(head, sizeof head, "[%zu:%zu]", strlen(event), len);
	ac_buf_add(out, head, strlen(head));
	ac_buf_add(out, event, strlen(event));
	ac_buf_add(out, data, len);
	return 0;
}

/* Feeds the stream to a line splitter in chunks (whole when seed < 0). */
static void
run_lines(const char *s, size_t n, int seed, struct ac_buf *out)
{
	struct sp_lines	 p;
	struct chunker	 ch = { (unsigned)seed };
	size_t		 off = 0, k;

	memset(&p, 0, sizeof p);
	while (off < n) {
		k = seed < 0 ? n : next_chunk(&ch);
		if (k > n - off)
			k = n - off;
		FUZZ_CHECK(sp_lines_feed(&p, s + off, k, record_line,
		    out) == 0);
		off += k;
	}
	FUZZ_CHECK(sp_lines_finish(&p, record_line, out) == 0);
	sp_lines_free(&p);
}

/* Feeds the stream to an event parser in chunks (whole when seed < 0). */
static void
run_sse(const char *s, size_t n, int seed, struct ac_buf *out)
{
	struct sp_sse	 p;
	struct chunker	 ch = { (unsigned)seed };
	size_t		 off = 0, k;

	memset(&p, 0, sizeof p);
	while (off < n) {
		k = seed < 0 ? n : next_chunk(&ch);
		if (k > n - off)
			k = n - off;
		FUZZ_CHECK(sp_sse_feed(&p, s + off, k, record_event,
		    out) == 0);
		off += k;
	}
	FUZZ_CHECK(sp_sse_finish(&p, record_event, out) == 0);
	sp_sse_free(&p);
}

/* Feeds the stream to a UTF-8 splitter in chunks (whole when seed < 0). */
static void
run_utf8(const char *s, size_t n, int seed, struct ac_buf *out)
{
	struct sp_utf8	 u;
	struct chunker	 ch = { (unsigned)seed };
	size_t		 off = 0, k, before;

	memset(&u, 0, sizeof u);
	while (off < n) {
		k = seed < 0 ? n : next_chunk(&ch);
		if (k > n - off)
			k = n - off;
		before = out->len;
		sp_utf8_feed(&u, s + off, k, out);
		/* Each chunk's output stands on its own as whole text. */
		FUZZ_CHECK(ac_utf8_valid(out->data ? out->data + before :
		    "", out->len - before));
		FUZZ_CHECK(u.npending < sizeof u.pending);
		off += k;
	}
	sp_utf8_finish(&u, out);
	FUZZ_CHECK(out->len == 0 || ac_utf8_valid(out->data, out->len));
}

/* True when two transcripts hold the same bytes. */
static int
same(const struct ac_buf *a, const struct ac_buf *b)
{
	return a->len == b->len &&
	    (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* One input: a chunking seed, then the stream. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	void		(*run[])(const char *, size_t, int,
			    struct ac_buf *) = { run_lines, run_sse, run_utf8 };
	struct ac_buf	 whole, chunked;
	const char	*s = (const char *)data + 1;
	size_t		 i;
	int		 seed;

	if (len == 0)
		return 0;
	seed = data[0];
	for (i = 0; i < sizeof run / sizeof run[0]; i++) {
		memset(&whole, 0, sizeof whole);
		memset(&chunked, 0, sizeof chunked);
		run[i](s, len - 1, -1, &whole);
		run[i](s, len - 1, seed, &chunked);
		FUZZ_CHECK(same(&whole, &chunked));
		ac_buf_free(&whole);
		ac_buf_free(&chunked);
	}
	return 0;
}
