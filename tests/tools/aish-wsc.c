/*
 * aish-wsc.c: a scripted WebSocket client for the aish-rhetor tests.
 *
 * aish-wsc reads a whole script from stdin, connects to one ws:// URL,
 * plays the script (send frames, sleep, wait for replies, close) and prints
 * every text frame it receives as one line on stdout, so that a shell test
 * can drive a conversation and check it with jq.
 *
 * Script lines:
 *	sleep MS	pause MS milliseconds (after what was queued is sent)
 *	wait N		wait until N final frames ("read" or "error") arrived
 *	waitack N	wait until N "ack" frames arrived
 *	big N [ID]	send {"type":"write","content":"xxx..."} with N bytes
 *	raw N		send a text frame of N bytes that is not JSON
 *	bin N [SIZE]	send N bytes (byte i is i % 251) as binary frames of
 *			SIZE bytes each (default: one frame)
 *	binfile PATH	send the bytes of PATH as one binary frame
 *	close		close the connection cleanly and exit 0
 *	anything else	sent verbatim as one text frame (empty lines skipped)
 *
 * With -r FILE, FILE is created once the upgrade is accepted: the server
 * has taken the connection in (it does before it reads anything more), so
 * a test can go on as soon as this reader is there.
 *
 * Exit status: 0 done, 1 usage error, 2 connection failed or upgrade
 * refused, 3 timed out, 4 the server closed the connection too early.
 */

#include <libwebsockets.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WSC_EXIT_OK		0
#define WSC_EXIT_USAGE		1
#define WSC_EXIT_CONNECT	2
#define WSC_EXIT_TIMEOUT	3
#define WSC_EXIT_CLOSED		4

#define WSC_MAX_HEADERS		16
#define WSC_DEFAULT_TIMEOUT_MS	10000

enum step_kind {
	STEP_SEND,
	STEP_SLEEP,
	STEP_WAIT,
	STEP_WAITACK,
	STEP_BIG,
	STEP_RAW,
	STEP_BIN,
	STEP_BINFILE,
	STEP_CLOSE
};

/* One line of the script. */
struct step {
	enum step_kind	 kind;
	const char	*text;		/* STEP_SEND: the frame; STEP_BIG: id;
					 * STEP_BINFILE: the path */
	size_t		 len;
	long		 n;
	long		 size;		/* STEP_BIN: bytes per frame */
};

/* One frame waiting to be written. */
struct outmsg {
	struct outmsg	*next;
	size_t		 len;
	int		 binary;
	char		 data[];
};

/* Where the client is in its life. */
enum phase {
	PH_CONNECTING,
	PH_SCRIPT,	/* playing the script */
	PH_AFTER,	/* script done, waiting for -n final frames */
	PH_LINGER,	/* -n reached, still printing for -l ms */
	PH_CLOSING,	/* close frame queued, waiting for the close */
	PH_DONE
};

/* A -H header, split into "Name:" and its value. */
struct header {
	char		*name;
	const char	*value;
};

/* The whole state of the one connection. */
struct client {
	struct lws_context	*context;
	struct lws		*wsi;
	char			*url_copy;	/* what lws_parse_uri cut up */
	char			*path;		/* the request path */
	char			*script;	/* stdin, which the steps cut */
	enum phase		 phase;
	int			 exit_code;

	struct step		*steps;
	size_t			 nsteps;
	size_t			 next_step;
	int			 sleeping;

	struct outmsg		*out_head;
	struct outmsg		*out_tail;

	char			*rx;
	size_t			 rx_len;
	size_t			 rx_size;

	long			 finals;
	long			 acks;
	long			 want_finals;	/* -n, or -1 */
	long			 timeout_ms;
	long			 linger_ms;
	const char		*ready_file;	/* -r, or NULL */
	int			 peer_close_code;

	struct header		 headers[WSC_MAX_HEADERS];
	int			 nheaders;

	lws_sorted_usec_list_t	 step_timer;
	lws_sorted_usec_list_t	 deadline_timer;
};

static struct client wsc;

/* ----------------------------------------------------------------------
 * Small helpers
 */

/* Allocates or ends the program: a test tool has nothing better to do. */
static void *
xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);

	if (q == NULL) {
		fprintf(stderr, "aish-wsc: out of memory\n");
		exit(WSC_EXIT_USAGE);
	}
	return q;
}

/* Prints the usage text and returns the usage exit code. */
static int
usage(void)
{
	fprintf(stderr, "usage: aish-wsc [-H 'Name: value']... [-O ORIGIN] "
	    "[-t TIMEOUT_MS] [-l LINGER_MS] [-n N] [-r READY_FILE] WSURL < SCRIPT\n");
	return WSC_EXIT_USAGE;
}

/* Parses a whole non-negative decimal number; -1 when it is not one. */
static long
parse_count(const char *s)
{
	char *end;
	long n;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return n;
}

/* Ends the client with CODE, unless it has already ended. */
static void
finish_with(struct client *c, int code)
{
	if (c->phase == PH_DONE)
		return;
	c->phase = PH_DONE;
	c->exit_code = code;
	lws_sul_cancel(&c->step_timer);
	lws_sul_cancel(&c->deadline_timer);
	/* Ended from a timer: the poll of this lws_service would otherwise
	 * wait on for lws's next own timer, up to 30 s. */
	lws_cancel_service(c->context);
}

/* ----------------------------------------------------------------------
 * The script
 */

/* Recognises "WORD N" and returns N, or -1 when LINE is not that command. */
static long
command_arg(const char *line, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(line, word, n) != 0 || line[n] != ' ')
		return -1;
	return parse_count(line + n + 1);
}

/* Recognises "big N" and "big N ID"; fills STEP and returns 0 on a match. */
static int
parse_big(char *line, struct step *st)
{
	char *space;
	long n;

	if (strncmp(line, "big ", 4) != 0)
		return -1;
	space = strchr(line + 4, ' ');
	if (space != NULL)
		*space = '\0';
	n = parse_count(line + 4);
	if (n < 0 || (space != NULL && space[1] == '\0')) {
		if (space != NULL)
			*space = ' ';
		return -1;
	}
	st->kind = STEP_BIG;
	st->n = n;
	st->text = space != NULL ? space + 1 : NULL;
	return 0;
}

/* Recognises "bin N" and "bin N SIZE"; fills STEP and returns 0 on a
 * match. */
static int
parse_bin(char *line, struct step *st)
{
	char *space;
	long n, size;

	if (strncmp(line, "bin ", 4) != 0)
		return -1;
	space = strchr(line + 4, ' ');
	if (space != NULL)
		*space = '\0';
	n = parse_count(line + 4);
	size = space != NULL ? parse_count(space + 1) : n;
	if (space != NULL)
		*space = ' ';
	if (n < 0 || size < 0 || (size == 0 && n > 0))
		return -1;
	st->kind = STEP_BIN;
	st->n = n;
	st->size = size;
	return 0;
}

/* Turns one script line into a step. */
static void
parse_line(char *line, struct step *st)
{
	memset(st, 0, sizeof *st);
	if (parse_bin(line, st) == 0)
		return;
	if (strncmp(line, "binfile ", 8) == 0 && line[8] != '\0') {
		st->kind = STEP_BINFILE;
		st->text = line + 8;
		return;
	}
	if ((st->n = command_arg(line, "sleep")) >= 0)
		st->kind = STEP_SLEEP;
	else if ((st->n = command_arg(line, "wait")) >= 0)
		st->kind = STEP_WAIT;
	else if ((st->n = command_arg(line, "waitack")) >= 0)
		st->kind = STEP_WAITACK;
	else if ((st->n = command_arg(line, "raw")) >= 0)
		st->kind = STEP_RAW;
	else if (strcmp(line, "close") == 0)
		st->kind = STEP_CLOSE;
	else if (parse_big(line, st) != 0) {
		st->kind = STEP_SEND;
		st->text = line;
		st->len = strlen(line);
	}
}

/* Reads all of stdin and cuts it into script steps. */
static int
read_script(struct client *c)
{
	char *buf = NULL, *line, *nl;
	size_t len = 0, size = 0, n;

	for (;;) {
		if (size - len < 65536)
			buf = xrealloc(buf, size = size * 2 + 65536);
		n = fread(buf + len, 1, size - len - 1, stdin);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(stdin)) {
		fprintf(stderr, "aish-wsc: reading the script: %s\n",
		    strerror(errno));
		return -1;
	}
	buf[len] = '\0';
	c->script = buf;
	for (line = buf; line < buf + len; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = buf + len;
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (*line == '\0')
			continue;
		c->steps = xrealloc(c->steps, (c->nsteps + 1) * sizeof *c->steps);
		parse_line(line, &c->steps[c->nsteps++]);
	}
	return 0;	/* buf stays alive: the steps point into it */
}

/* ----------------------------------------------------------------------
 * Outgoing frames
 */

/* Appends a frame of LEN bytes to the outgoing queue; returns its data. */
static char *
queue_frame(struct client *c, size_t len)
{
	struct outmsg *m = xrealloc(NULL, sizeof *m + len);

	m->next = NULL;
	m->len = len;
	m->binary = 0;
	if (c->out_tail != NULL)
		c->out_tail->next = m;
	else
		c->out_head = m;
	c->out_tail = m;
	lws_callback_on_writable(c->wsi);
	return m->data;
}

/* Queues N bytes of the test pattern as binary frames of SIZE bytes. */
static void
queue_bin(struct client *c, long n, long size)
{
	long done = 0, i, k;
	char *p;

	if (n == 0) {
		queue_frame(c, 0);
		c->out_tail->binary = 1;
		return;
	}
	while (done < n) {
		k = n - done < size ? n - done : size;
		p = queue_frame(c, (size_t)k);
		c->out_tail->binary = 1;
		for (i = 0; i < k; i++)
			p[i] = (char)((done + i) % 251);
		done += k;
	}
}

/* Queues the bytes of a file as one binary frame. */
static int
queue_binfile(struct client *c, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, size = 0, n;

	if (f == NULL) {
		fprintf(stderr, "aish-wsc: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (size - len < 65536)
			buf = xrealloc(buf, size = size * 2 + 65536);
		if ((n = fread(buf + len, 1, size - len, f)) == 0)
			break;
		len += n;
	}
	fclose(f);
	memcpy(queue_frame(c, len), buf, len);
	c->out_tail->binary = 1;
	free(buf);
	return 0;
}

/* Queues the frame a send, big or raw step stands for. */
static void
queue_step(struct client *c, const struct step *st)
{
	static const char head[] = "{\"type\":\"write\",\"content\":\"";
	char tail[160];
	size_t hl = sizeof head - 1, tl;
	char *p;

	switch (st->kind) {
	case STEP_SEND:
		memcpy(queue_frame(c, st->len), st->text, st->len);
		break;
	case STEP_RAW:
		memset(queue_frame(c, st->n), 'x', st->n);
		break;
	case STEP_BIN:
		queue_bin(c, st->n, st->size);
		break;
	case STEP_BINFILE:
		if (queue_binfile(c, st->text) != 0)
			finish_with(c, WSC_EXIT_USAGE);
		break;
	case STEP_BIG:
		if (st->text != NULL)
			snprintf(tail, sizeof tail, "\",\"id\":\"%.120s\"}",
			    st->text);
		else
			snprintf(tail, sizeof tail, "\"}");
		tl = strlen(tail);
		p = queue_frame(c, hl + st->n + tl);
		memcpy(p, head, hl);
		memset(p + hl, 'x', st->n);
		memcpy(p + hl + st->n, tail, tl);
		break;
	default:
		break;
	}
}

/*
 * Writes the first queued frame.  lws masks the payload in place, so the
 * frame is copied into a fresh buffer with LWS_PRE headroom every time.
 */
static int
write_next(struct client *c)
{
	struct outmsg *m = c->out_head;
	unsigned char *buf;
	int n;

	buf = xrealloc(NULL, LWS_PRE + m->len);
	memcpy(buf + LWS_PRE, m->data, m->len);
	n = lws_write(c->wsi, buf + LWS_PRE, m->len, m->binary ?
	    LWS_WRITE_BINARY : LWS_WRITE_TEXT);
	free(buf);
	c->out_head = m->next;
	if (c->out_head == NULL)
		c->out_tail = NULL;
	free(m);
	if (n < 0) {
		fprintf(stderr, "aish-wsc: write failed\n");
		return -1;
	}
	return 0;
}

/* ----------------------------------------------------------------------
 * Progress through the script
 */

static void advance(struct client *);

/* Asks for a clean close: the writeable callback sends the close frame. */
static void
begin_close(struct client *c)
{
	c->phase = PH_CLOSING;
	lws_sul_cancel(&c->step_timer);
	lws_callback_on_writable(c->wsi);
}

/* Ends a sleep step or the linger time. */
static void
on_step_timer(lws_sorted_usec_list_t *sul)
{
	struct client *c = lws_container_of(sul, struct client, step_timer);

	if (c->phase == PH_LINGER)
		begin_close(c);
	else {
		c->sleeping = 0;
		advance(c);
	}
}

/* Starts what follows the script: waiting for -n frames, lingering, closing. */
static void
after_script(struct client *c)
{
	if (c->want_finals >= 0 && c->finals < c->want_finals) {
		c->phase = PH_AFTER;
		return;
	}
	if (c->want_finals >= 0 && c->linger_ms > 0) {
		c->phase = PH_LINGER;
		lws_sul_schedule(c->context, 0, &c->step_timer, on_step_timer,
		    c->linger_ms * LWS_US_PER_MS);
		return;
	}
	begin_close(c);
}

/* Runs script steps until one has to wait for something. */
static void
advance(struct client *c)
{
	const struct step *st;

	if (c->phase == PH_AFTER) {
		after_script(c);
		return;
	}
	while (c->phase == PH_SCRIPT && !c->sleeping) {
		if (c->next_step == c->nsteps) {
			after_script(c);
			return;
		}
		st = &c->steps[c->next_step];
		switch (st->kind) {
		case STEP_WAIT:
			if (c->finals < st->n)
				return;
			break;
		case STEP_WAITACK:
			if (c->acks < st->n)
				return;
			break;
		case STEP_SLEEP:
			if (c->out_head != NULL)
				return;	/* sleep from when all was sent */
			c->sleeping = 1;
			lws_sul_schedule(c->context, 0, &c->step_timer,
			    on_step_timer, st->n * LWS_US_PER_MS);
			break;
		case STEP_CLOSE:
			begin_close(c);
			return;
		default:
			queue_step(c, st);
			break;
		}
		c->next_step++;
	}
}

/* Describes on stderr what the client was waiting for. */
static void
describe_wait(struct client *c, const char *what)
{
	const struct step *st = NULL;

	if (c->phase == PH_SCRIPT && c->next_step < c->nsteps)
		st = &c->steps[c->next_step];
	if (c->phase == PH_CONNECTING)
		fprintf(stderr, "aish-wsc: %s while connecting\n", what);
	else if (c->sleeping || (st != NULL && st->kind == STEP_SLEEP))
		fprintf(stderr, "aish-wsc: %s while sleeping (script line %zu)\n",
		    what, c->next_step);
	else if (st != NULL && st->kind == STEP_WAITACK)
		fprintf(stderr, "aish-wsc: %s waiting for %ld acks (got %ld)\n",
		    what, st->n, c->acks);
	else if (st != NULL && st->kind == STEP_WAIT)
		fprintf(stderr, "aish-wsc: %s waiting for %ld final frames "
		    "(got %ld)\n", what, st->n, c->finals);
	else if (c->phase == PH_AFTER)
		fprintf(stderr, "aish-wsc: %s waiting for %ld final frames "
		    "(-n, got %ld)\n", what, c->want_finals, c->finals);
	else if (c->phase == PH_CLOSING)
		fprintf(stderr, "aish-wsc: %s while closing\n", what);
	else
		fprintf(stderr, "aish-wsc: %s while sending\n", what);
}

/* The -t deadline passed. */
static void
on_deadline(lws_sorted_usec_list_t *sul)
{
	struct client *c = lws_container_of(sul, struct client, deadline_timer);
	char what[64];

	snprintf(what, sizeof what, "timed out after %ld ms", c->timeout_ms);
	describe_wait(c, what);
	finish_with(c, WSC_EXIT_TIMEOUT);
}

/* ----------------------------------------------------------------------
 * Incoming frames
 */

/* Copies the JSON string starting at S[I] (a '"') into OUT. */
static int
copy_string(const char *s, size_t len, size_t i, char *out, size_t size)
{
	size_t o = 0;

	if (i >= len || s[i] != '"')
		return -1;
	for (i++; i < len && s[i] != '"' && s[i] != '\\'; i++)
		if (o + 1 < size)
			out[o++] = s[i];
	out[o] = '\0';
	return i < len && s[i] == '"' ? 0 : -1;
}

/* Reads the value of the top-level key that ends just before S[I]. */
static int
value_after_key(const char *s, size_t len, size_t i, char *out, size_t size)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i >= len || s[i] != ':')
		return -1;
	for (i++; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	return copy_string(s, len, i, out, size);
}

/*
 * Finds the string value of the top-level "type" key of a JSON object,
 * skipping strings and nested values, so that a "type" inside content or a
 * nested object never counts.
 */
static int
frame_type(const char *s, size_t len, char *out, size_t size)
{
	size_t i = 0, start;
	int depth = 0, expect_key = 0;

	while (i < len) {
		if (s[i] == '"') {
			start = ++i;
			while (i < len && s[i] != '"')
				i += s[i] == '\\' ? 2 : 1;
			if (i >= len)
				return -1;
			if (depth == 1 && expect_key && i - start == 4 &&
			    memcmp(s + start, "type", 4) == 0)
				return value_after_key(s, len, i + 1, out, size);
			expect_key = 0;
			i++;
			continue;
		}
		if (s[i] == '{' || s[i] == '[') {
			depth++;
			expect_key = depth == 1 && s[i] == '{';
		} else if (s[i] == '}' || s[i] == ']')
			depth--;
		else if (s[i] == ',' && depth == 1)
			expect_key = s[0] == '{';
		i++;
	}
	return -1;
}

/* Prints one whole frame and counts it. */
static void
take_frame(struct client *c)
{
	char type[32];

	fwrite(c->rx, 1, c->rx_len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	if (frame_type(c->rx, c->rx_len, type, sizeof type) == 0) {
		if (strcmp(type, "read") == 0 || strcmp(type, "error") == 0)
			c->finals++;
		else if (strcmp(type, "ack") == 0)
			c->acks++;
	}
	c->rx_len = 0;
	advance(c);
}

/* Adds a received fragment; a whole text message is printed and counted. */
static void
receive(struct client *c, struct lws *wsi, const void *in, size_t len)
{
	if (c->rx_size - c->rx_len < len)
		c->rx = xrealloc(c->rx, c->rx_size = c->rx_len + len + 4096);
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (!lws_is_final_fragment(wsi))
		return;
	if (lws_frame_is_binary(wsi)) {
		c->rx_len = 0;	/* the tests only read text frames */
		return;
	}
	take_frame(c);
}

/* ----------------------------------------------------------------------
 * The connection
 */

/* Reports a failed connection or a refused upgrade. */
static void
connection_failed(struct client *c, struct lws *wsi, const char *why)
{
	unsigned int status = wsi != NULL ? lws_http_client_http_response(wsi) : 0;

	if (status != 0 && status != 101)
		fprintf(stderr, "aish-wsc: upgrade refused: HTTP %u\n", status);
	else
		fprintf(stderr, "aish-wsc: connection failed: %s\n",
		    why != NULL ? why : "unknown error");
	finish_with(c, WSC_EXIT_CONNECT);
}

/* The connection ended: fine when asked for, too early otherwise. */
static void
connection_closed(struct client *c)
{
	char what[96];

	c->wsi = NULL;
	if (c->phase == PH_CLOSING || c->phase == PH_LINGER) {
		finish_with(c, WSC_EXIT_OK);
		return;
	}
	if (c->peer_close_code)
		snprintf(what, sizeof what, "server closed the connection "
		    "(code %d)", c->peer_close_code);
	else
		snprintf(what, sizeof what, "server closed the connection");
	describe_wait(c, what);
	finish_with(c, WSC_EXIT_CLOSED);
}

/* Adds the -H headers to the upgrade request. */
static int
append_headers(struct client *c, struct lws *wsi, void *in, size_t len)
{
	unsigned char **p = in, *end = *p + len;
	int i;

	for (i = 0; i < c->nheaders; i++)
		if (lws_add_http_header_by_name(wsi,
		    (const unsigned char *)c->headers[i].name,
		    (const unsigned char *)c->headers[i].value,
		    (int)strlen(c->headers[i].value), p, end))
			return -1;
	return 0;
}

/* Sends one queued frame, or the close frame once all are sent. */
static int
on_writeable(struct client *c, struct lws *wsi)
{
	if (c->out_head != NULL) {
		if (write_next(c) != 0)
			return -1;
		if (c->out_head != NULL || c->phase == PH_CLOSING)
			lws_callback_on_writable(wsi);
		advance(c);
		return 0;
	}
	if (c->phase == PH_CLOSING) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}
	return 0;
}

/* Creates the -r file: the connection is established. */
static void
say_ready(struct client *c)
{
	FILE *f;

	if (c->ready_file == NULL)
		return;
	if ((f = fopen(c->ready_file, "w")) == NULL || fclose(f) != 0)
		fprintf(stderr, "aish-wsc: cannot create %s\n", c->ready_file);
}

/* The one protocol callback: one case per event. */
static int
callback_wsc(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct client *c = &wsc;

	if (c->phase == PH_DONE)
		return reason == LWS_CALLBACK_CLIENT_WRITEABLE ? -1 : 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return append_headers(c, wsi, in, len);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		connection_failed(c, wsi, in);
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->wsi = wsi;
		c->phase = PH_SCRIPT;
		say_ready(c);
		advance(c);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		receive(c, wsi, in, len);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2)
			c->peer_close_code = ((const unsigned char *)in)[0] << 8 |
			    ((const unsigned char *)in)[1];
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		connection_closed(c);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "aish-wsc", callback_wsc, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ----------------------------------------------------------------------
 * Start-up
 */

/* Splits "Name: value" into the header table. */
static int
add_header(struct client *c, const char *arg)
{
	const char *colon = strchr(arg, ':');
	struct header *h;

	if (colon == NULL || colon == arg || c->nheaders == WSC_MAX_HEADERS) {
		fprintf(stderr, "aish-wsc: bad header '%s' (want 'Name: value')\n",
		    arg);
		return -1;
	}
	h = &c->headers[c->nheaders++];
	h->name = xrealloc(NULL, colon - arg + 2);
	memcpy(h->name, arg, colon - arg + 1);
	h->name[colon - arg + 1] = '\0';
	for (h->value = colon + 1; *h->value == ' '; h->value++)
		;
	return 0;
}

/* Reads the options; returns the index of the URL argument or -1. */
static int
parse_options(struct client *c, int argc, char **argv, const char **origin)
{
	int ch;

	while ((ch = getopt(argc, argv, "H:O:t:l:n:r:")) != -1) {
		switch (ch) {
		case 'H':
			if (add_header(c, optarg) != 0)
				return -1;
			break;
		case 'O':
			*origin = optarg;
			break;
		case 't':
			if ((c->timeout_ms = parse_count(optarg)) <= 0)
				return -1;
			break;
		case 'l':
			if ((c->linger_ms = parse_count(optarg)) < 0)
				return -1;
			break;
		case 'n':
			if ((c->want_finals = parse_count(optarg)) < 0)
				return -1;
			break;
		case 'r':
			c->ready_file = optarg;
			break;
		default:
			return -1;
		}
	}
	return optind == argc - 1 ? optind : -1;
}

/* Connects to URL (ws:// only); returns 0 when the attempt has started. */
static int
connect_to(struct client *c, const char *url, const char *origin)
{
	struct lws_client_connect_info i;
	const char *prot, *address, *path;
	char *copy = strdup(url), *fullpath;
	static char host[300];
	int port;

	c->url_copy = copy;
	if (copy == NULL || lws_parse_uri(copy, &prot, &address, &port, &path) ||
	    strcmp(prot, "ws") != 0 || *address == '\0') {
		fprintf(stderr, "aish-wsc: not a ws:// URL: %s\n", url);
		return -1;
	}
	fullpath = xrealloc(NULL, strlen(path) + 2);
	fullpath[0] = '/';
	strcpy(fullpath + 1, path);
	c->path = fullpath;

	memset(&i, 0, sizeof i);
	i.context = c->context;
	i.address = address;
	i.port = port;
	i.path = fullpath;
	/* Host names the server's port too, as the server's guard wants. */
	snprintf(host, sizeof host, "%s:%d", address, port);
	i.host = host;
	i.origin = origin;
	i.local_protocol_name = protocols[0].name;
	i.pwsi = &c->wsi;
	lws_client_connect_via_info(&i);
	return 0;
}

/* Reads the script, connects, and services the loop until done. */
int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct client *c = &wsc;
	const char *origin = NULL;
	int url;

	c->timeout_ms = WSC_DEFAULT_TIMEOUT_MS;
	c->want_finals = -1;
	if ((url = parse_options(c, argc, argv, &origin)) < 0)
		return usage();
	if (read_script(c) != 0)
		return WSC_EXIT_USAGE;
	lws_set_log_level(getenv("AISH_WSC_DEBUG") ? LLL_ERR | LLL_WARN |
	    LLL_NOTICE | LLL_CLIENT : 0, NULL);

	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.fd_limit_per_thread = 4;
	info.options = LWS_SERVER_OPTION_JUST_USE_RAW_ORIGIN;
	c->context = lws_create_context(&info);
	if (c->context == NULL) {
		fprintf(stderr, "aish-wsc: cannot create the lws context\n");
		return WSC_EXIT_CONNECT;
	}
	lws_sul_schedule(c->context, 0, &c->deadline_timer, on_deadline,
	    c->timeout_ms * LWS_US_PER_MS);
	if (connect_to(c, argv[url], origin) != 0) {
		lws_context_destroy(c->context);
		free(c->url_copy);
		return WSC_EXIT_USAGE;
	}
	if (c->wsi == NULL && c->phase != PH_DONE) {
		fprintf(stderr, "aish-wsc: connection failed: %s\n", argv[url]);
		finish_with(c, WSC_EXIT_CONNECT);
	}
	while (c->phase != PH_DONE)
		if (lws_service(c->context, 0) < 0)
			finish_with(c, WSC_EXIT_CONNECT);
	lws_context_destroy(c->context);
	free(c->url_copy);
	free(c->path);
	free(c->script);
	return c->exit_code;
}
