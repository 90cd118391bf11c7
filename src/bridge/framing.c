/*
 * framing.c: messages in and out of stdio, in LSP base-protocol framing
 * (Content-Length headers) or one JSON message per line.
 *
 * In auto mode the first non-blank byte decides: '{' or '[' means lines,
 * anything else headers.  The reader accepts any header case, extra
 * headers (Vim sends Content-Type), "\r\n" or bare "\n" line ends, and
 * blank lines between messages.  A message over the size limit is
 * answered with an error and skipped without being kept in memory; a
 * header block that makes no sense is answered too, and the reader
 * resynchronises on the next "Content-Length:".
 *
 * The writer puts header and body in one buffer and hands it to one
 * write(2): Vim drops a body that comes ~100 ms after its header, and
 * frames must never interleave.  The frames of one pass of the loop go
 * out together (framing_flush after each lws_service), so an answer and
 * its notifications cost the client one wake-up.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bridge.h"
#include "xalloc.h"

/* The reader's state. */
static struct {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	size_t	 body_len;	/* LSP: the body being read */
	int	 in_body;
	size_t	 skip;		/* bytes of a too-large body left to drop */
	int	 drop_line;	/* lines: dropping a too-long line */
	int	 resync;	/* LSP: looking for the next Content-Length */
} rd;

/* Appends n bytes to the reader's buffer. */
static void
buf_add(const char *data, size_t n)
{
	if (rd.len + n + 1 > rd.cap) {
		size_t cap = rd.cap ? rd.cap : 4096;

		while (cap < rd.len + n + 1)
			cap *= 2;
		rd.buf = xrealloc(rd.buf, cap);
		rd.cap = cap;
	}
	memcpy(rd.buf + rd.len, data, n);
	rd.len += n;
	rd.buf[rd.len] = '\0';
}

/* Drops the first n bytes of the reader's buffer. */
static void
buf_consume(size_t n)
{
	memmove(rd.buf, rd.buf + n, rd.len - n);
	rd.len -= n;
	if (rd.buf != NULL)
		rd.buf[rd.len] = '\0';
}

/* Answers a message that was too large to read. */
static void
too_large(size_t n)
{
	char	text[160];

	snprintf(text, sizeof text, "message too large: %zu bytes or more, "
	    "the limit is %zu", n, br.max_message);
	rpc_frame_error(RPC_INVALID_REQUEST, text);
}

/* ---- one JSON message per line ---- */

/* Handles one line (without its "\n"). */
static void
line_message(char *line, size_t n)
{
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (strspn(line, " \t\r") >= n)
		return;		/* blank */
	rpc_handle(line, n);
}

/* Splits what is buffered into lines. */
static void
lines_run(void)
{
	char	*nl;
	size_t	 n;

	while (!br.quit && rd.len > 0) {
		if (rd.drop_line) {
			if ((nl = memchr(rd.buf, '\n', rd.len)) == NULL) {
				rd.len = 0;
				return;
			}
			buf_consume((size_t)(nl - rd.buf) + 1);
			rd.drop_line = 0;
			continue;
		}
		if ((nl = memchr(rd.buf, '\n', rd.len)) == NULL) {
			if (rd.len > br.max_message) {
				too_large(rd.len);
				rd.len = 0;
				rd.drop_line = 1;
			}
			return;
		}
		n = (size_t)(nl - rd.buf);
		if (n > br.max_message)
			too_large(n);
		else {
			*nl = '\0';
			line_message(rd.buf, n);
		}
		buf_consume(n + 1);
	}
}

/* ---- LSP base protocol ---- */

/* Finds the end of a header block; *hdr_end gets its length with the
 * blank line.  0 when it is not all here. */
static int
header_end(size_t *hdr_end)
{
	size_t	i;

	for (i = 0; i + 1 < rd.len; i++) {
		if (rd.buf[i] != '\n')
			continue;
		if (rd.buf[i + 1] == '\n') {
			*hdr_end = i + 2;
			return 1;
		}
		if (rd.buf[i + 1] == '\r' && i + 2 < rd.len &&
		    rd.buf[i + 2] == '\n') {
			*hdr_end = i + 3;
			return 1;
		}
	}
	return 0;
}

/* Reads Content-Length from a header block; -1 when there is none or it
 * is not a number, and 0 for a line that is no header at all. */
static long long
content_length(char *hdr, size_t n, int *bad_line)
{
	char		*line, *end = hdr + n, *nl, *colon, *num;
	long long	 len = -1;

	*bad_line = 0;
	for (line = hdr; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (*line == '\0')
			continue;
		if ((colon = strchr(line, ':')) == NULL) {
			*bad_line = 1;
			continue;
		}
		*colon = '\0';
		if (strcasecmp(line, "Content-Length") != 0)
			continue;
		num = colon + 1;
		num += strspn(num, " \t");
		if (*num < '0' || *num > '9' || strlen(num) > 15 ||
		    strspn(num, "0123456789") != strlen(num))
			return -1;
		len = strtoll(num, NULL, 10);
	}
	return len;
}

/* Drops bytes until a line that starts a header block (resync). */
static void
lsp_resync(void)
{
	size_t	i, key = strlen("Content-Length:");

	for (i = 0; i + key <= rd.len; i++) {
		if (strncasecmp(rd.buf + i, "Content-Length:", key) == 0) {
			buf_consume(i);
			rd.resync = 0;
			return;
		}
	}
	/* Keep a tail that could be the start of the key. */
	if (rd.len >= key)
		buf_consume(rd.len - key + 1);
}

/* Reads one header block; 0 when more input is needed. */
static int
lsp_header(void)
{
	size_t		 n, lead;
	long long	 clen;
	int		 bad_line;

	lead = strspn(rd.buf, "\r\n \t");
	if (lead > 0)
		buf_consume(lead);
	if (rd.len == 0)
		return 0;
	if (!header_end(&n)) {
		if (rd.len > br.max_header) {
			rpc_frame_error(RPC_PARSE_ERROR, "header too long");
			buf_consume(rd.len);
			rd.resync = 1;
			return 1;
		}
		return 0;
	}
	if (n > br.max_header) {
		rpc_frame_error(RPC_PARSE_ERROR, "header too long");
		buf_consume(n);
		rd.resync = 1;
		return 1;
	}
	clen = content_length(rd.buf, n, &bad_line);
	buf_consume(n);
	if (clen < 0 || bad_line) {
		rpc_frame_error(RPC_PARSE_ERROR, clen < 0 ?
		    "header without a valid Content-Length" :
		    "malformed header line");
		rd.resync = 1;
		return 1;
	}
	if ((unsigned long long)clen > br.max_message) {
		too_large((size_t)clen);
		rd.skip = (size_t)clen;
		return 1;
	}
	rd.body_len = (size_t)clen;
	rd.in_body = 1;
	return 1;
}

/* Works through what is buffered in LSP framing. */
static void
lsp_run(void)
{
	size_t	n;

	while (!br.quit && rd.len > 0) {
		if (rd.skip > 0) {
			n = rd.skip < rd.len ? rd.skip : rd.len;
			buf_consume(n);
			rd.skip -= n;
			continue;
		}
		if (rd.resync) {
			lsp_resync();
			if (rd.resync)
				return;
			continue;
		}
		if (!rd.in_body) {
			if (!lsp_header())
				return;
			continue;
		}
		if (rd.len < rd.body_len)
			return;
		rd.in_body = 0;
		n = rd.body_len;
		rpc_handle(rd.buf, n);
		buf_consume(n);
	}
}

/* ---- input ---- */

/* Decides the framing from the first non-blank byte. */
static void
decide(void)
{
	size_t	lead = strspn(rd.buf, " \t\r\n");

	if (lead == rd.len)
		return;
	br.framing = rd.buf[lead] == '{' || rd.buf[lead] == '[' ?
	    FRAMING_NDJSON : FRAMING_LSP;
	logmsg("framing: %s", br.framing == FRAMING_LSP ? "lsp" : "ndjson");
}

/* Takes bytes read from stdin. */
void
framing_feed(const char *data, size_t len)
{
	size_t	n;

	if (rd.skip > 0 && rd.len == 0) {
		n = rd.skip < len ? rd.skip : len;
		rd.skip -= n;
		data += n;
		len -= n;
	}
	if (len == 0)
		return;
	buf_add(data, len);
	if (br.framing == FRAMING_AUTO)
		decide();
	if (br.framing == FRAMING_NDJSON)
		lines_run();
	else if (br.framing == FRAMING_LSP)
		lsp_run();
}

/* The end of stdin: a last line without "\n" still counts. */
void
framing_eof(void)
{
	if (br.framing == FRAMING_NDJSON && rd.len > 0 && !rd.drop_line &&
	    !br.quit) {
		buf_add("\n", 1);
		lines_run();
	} else if (br.framing == FRAMING_LSP && rd.in_body && !br.quit)
		rpc_frame_error(RPC_PARSE_ERROR,
		    "input ended inside a message");
	free(rd.buf);
	memset(&rd, 0, sizeof rd);
}

/* ---- output ---- */

/* Room for "Content-Length: N\r\n\r\n" with any size_t N. */
#define FRAME_HEADER_MAX	48
/* Room kept free to print a message in place; larger ones are printed
 * apart and copied. */
#define FRAME_PRINT_ROOM	(16u * 1024)

/* Frames written during one pass of the loop, waiting for framing_flush. */
static struct {
	char	*buf;
	size_t	 len;
	size_t	 cap;
} out;

/* Writes all n bytes at p to stdout, waiting when the pipe is full. */
static void
write_all(const char *p, size_t n)
{
	struct pollfd	pfd = { .fd = STDOUT_FILENO, .events = POLLOUT };
	ssize_t		w;

	while (n > 0) {
		w = write(STDOUT_FILENO, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EAGAIN)
			(void)poll(&pfd, 1, 1000);
		else if (w < 0 && errno == EINTR)
			continue;
		else {
			logmsg("stdout: %s; stopping", strerror(errno));
			br.quit = 1;
			br.exit_code = 1;
			return;
		}
	}
}

/* Makes room for n more bytes in the output buffer. */
static void
out_reserve(size_t n)
{
	size_t	cap = out.cap ? out.cap : 4096;

	if (out.len + n <= out.cap)
		return;
	while (cap < out.len + n)
		cap *= 2;
	out.buf = xrealloc(out.buf, cap);
	out.cap = cap;
}

/* Writes the frames of this pass in one write(2): an answer and the
 * notifications before it wake the client once. */
void
framing_flush(void)
{
	if (out.len > 0)
		write_all(out.buf, out.len);
	out.len = 0;
	if (out.cap > BRIDGE_OUT_KEEP) {	/* after a huge answer */
		free(out.buf);
		out.buf = NULL;
		out.cap = 0;
	}
}

/* Prints msg into the output buffer, FRAME_HEADER_MAX bytes past its end;
 * returns the body's length, or 0 when it did not fit in the room there
 * is (a large message: printed apart). */
static size_t
print_in_place(const cJSON *msg)
{
	size_t	 room;
	char	*body;

	out_reserve(FRAME_PRINT_ROOM);
	room = out.cap - out.len - FRAME_HEADER_MAX;
	body = out.buf + out.len + FRAME_HEADER_MAX;
	if (!cJSON_PrintPreallocated((cJSON *)msg, body, (int)room, 0))
		return 0;
	return strlen(body);
}

/* Adds one message to the output, header and body together; it goes out
 * with the others of this pass at framing_flush. */
void
framing_write(const cJSON *msg)
{
	char	*json = NULL, *body;
	size_t	 n;
	int	 hlen = 0;

	if (br.quit && br.exit_code != 0)
		return;
	/* What a timer writes (libaish runs timers before it waits) must not
	 * sit here until something else wakes the loop: the first message of
	 * a pass makes the wait that follows end at once. */
	if (out.len == 0 && br.ctx != NULL)
		lws_cancel_service(br.ctx);
	if ((n = print_in_place(msg)) > 0)
		body = out.buf + out.len + FRAME_HEADER_MAX;
	else if ((json = cJSON_PrintUnformatted(msg)) != NULL) {
		n = strlen(json);
		out_reserve(n + FRAME_HEADER_MAX + 1);
		body = json;
	} else {
		logmsg("out of memory printing a message");
		return;
	}
	if (br.framing != FRAMING_NDJSON)
		hlen = snprintf(out.buf + out.len, FRAME_HEADER_MAX,
		    "Content-Length: %zu\r\n\r\n", n);
	memmove(out.buf + out.len + hlen, body, n);
	out.len += (size_t)hlen + n;
	if (br.framing == FRAMING_NDJSON)
		out.buf[out.len++] = '\n';
	cJSON_free(json);
	if (out.len >= BRIDGE_OUT_KEEP)
		framing_flush();
}
