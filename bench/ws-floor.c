/*
 * ws-floor.c: the floor the bridge's figures are compared with, a plain
 * libwebsockets WebSocket echo between two processes of this machine.
 *
 * The program forks: the child is an echo server (port 0, answers every
 * text message with the same bytes), the parent a client on one
 * connection that
 *   1. sends 100-byte text frames one at a time and times each round trip
 *      (R rounds of N messages; per round p50 and p99);
 *   2. keeps K frames in flight until M echoes came back (R rounds;
 *      messages per second).
 * Both follow the same rules as aish's own lws code: one lws_write per
 * writeable callback, a fresh payload for every write (lws masks it in
 * place). Results are "KEY MEDIAN MIN MAX UNIT" lines (bench-stats.h).
 * Affinity is inherited: run it under taskset like the other side.
 *
 * With --serve it only runs the echo server, in the foreground, and
 * prints "listening on PORT": a client of its own (bench/scale-curves.py)
 * then times messages of any size on protocol "echo-big", which holds one
 * message at a time, as long as it is, with aish-rhetor's 64 KiB receive
 * buffer.
 */

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "bench-stats.h"
#include "xalloc.h"

#define FLOOR_PAYLOAD		100
#define FLOOR_MAX_MESSAGE	1024
#define FLOOR_QUEUE		256	/* echoes a server connection holds */
#define FLOOR_WARMUP		200
#define FLOOR_TIMEOUT_S		120

/* What the command line asked for. */
struct options {
	long	count;		/* round trips per round */
	long	repeat;		/* rounds of each phase */
	long	inflight;	/* frames in flight when pipelining */
	long	messages;	/* echoes per pipelined round */
	bool	serve;		/* only the echo server, in the foreground */
};

/* One server connection: the echoes it still owes, oldest first. */
struct echo_conn {
	unsigned char	 msg[FLOOR_QUEUE][LWS_PRE + FLOOR_MAX_MESSAGE];
	size_t		 len[FLOOR_QUEUE];
	size_t		 head;		/* next to send */
	size_t		 count;		/* queued, complete or not */
	bool		 partial;	/* the newest is still arriving */
};

/* One server connection of protocol echo-big: the message arriving or
 * being echoed. */
struct big_conn {
	unsigned char	*buf;		/* LWS_PRE bytes, then the message */
	size_t		 len, cap;
	bool		 complete;	/* whole: to be echoed */
};

/* The client's progress through its phases. */
struct client {
	const struct options	*opts;
	struct lws		*wsi;
	bool			 pipelined;	/* phase 2 */
	long			 round;		/* -1 while warming up */
	long			 sent, received;
	double			 sent_at;	/* phase 1: the frame in flight */
	double			 round_started;
	double			*samples;	/* phase 1: this round's RTTs */
	double			*p50, *p99, *rate;
	bool			 closing, done, failed;
};

/* Prints a message prefixed with the program name and exits with 1. */
static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "ws-floor: %s\n", what);
	exit(1);
}

/* Ends the run when it takes far longer than it should. */
static void
on_alarm(int sig)
{
	static const char msg[] = "ws-floor: no progress, giving up\n";

	(void)sig;
	(void)write(2, msg, sizeof msg - 1);
	_exit(1);
}

/* ------------------------------------------------------------------ */
/* The echo server (child process)                                     */
/* ------------------------------------------------------------------ */

/* Queues (part of) a received message for echoing; false when full. */
static bool
echo_queue(struct echo_conn *c, const void *in, size_t len, bool final)
{
	size_t slot;

	if (!c->partial) {
		if (c->count == FLOOR_QUEUE)
			return false;
		slot = (c->head + c->count++) % FLOOR_QUEUE;
		c->len[slot] = 0;
	} else
		slot = (c->head + c->count - 1) % FLOOR_QUEUE;
	if (len > FLOOR_MAX_MESSAGE - c->len[slot])
		return false;
	memcpy(c->msg[slot] + LWS_PRE + c->len[slot], in, len);
	c->len[slot] += len;
	c->partial = !final;
	return true;
}

/* Sends the oldest complete echo; asks for writable again if more wait. */
static int
echo_send(struct lws *wsi, struct echo_conn *c)
{
	size_t complete = c->count - (c->partial ? 1 : 0);
	size_t slot = c->head;

	if (complete == 0)
		return 0;
	if (lws_write(wsi, c->msg[slot] + LWS_PRE, c->len[slot],
	    LWS_WRITE_TEXT) < (int)c->len[slot])
		return -1;
	c->head = (c->head + 1) % FLOOR_QUEUE;
	c->count--;
	if (complete > 1)
		lws_callback_on_writable(wsi);
	return 0;
}

/* The echo protocol's callback. */
static int
echo_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct echo_conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_RECEIVE:
		if (!echo_queue(c, in, len, lws_is_final_fragment(wsi)))
			return -1;
		if (!c->partial)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return echo_send(wsi, c);
	default:
		break;
	}
	return 0;
}

/* Appends a piece of a big message, doubling the buffer as it grows. */
static void
big_append(struct big_conn *c, const void *in, size_t len)
{
	if (c->complete)
		c->len = 0;
	c->complete = false;
	if (LWS_PRE + c->len + len > c->cap) {
		c->cap = c->cap ? c->cap : 64 * 1024;
		while (LWS_PRE + c->len + len > c->cap)
			c->cap *= 2;
		c->buf = xrealloc(c->buf, c->cap);
	}
	memcpy(c->buf + LWS_PRE + c->len, in, len);
	c->len += len;
}

/* The echo-big protocol's callback: echoes each message whole, in one
 * lws_write (lws sends what the socket does not take at once). */
static int
big_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct big_conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_RECEIVE:
		big_append(c, in, len);
		if (lws_is_final_fragment(wsi)) {
			c->complete = true;
			lws_callback_on_writable(wsi);
		}
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c->complete && c->len > 0) {
			if (lws_write(wsi, c->buf + LWS_PRE, c->len,
			    LWS_WRITE_TEXT) < (int)c->len)
				return -1;
			c->len = 0;
		}
		break;
	case LWS_CALLBACK_CLOSED:
		free(c->buf);
		c->buf = NULL;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols echo_protocols[] = {
	{ "echo", echo_callback, sizeof(struct echo_conn), FLOOR_MAX_MESSAGE,
	    0, NULL, 0 },
	{ "echo-big", big_callback, sizeof(struct big_conn), 64 * 1024,
	    0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Runs the echo server until killed; reports its port on report_fd, or
 * prints it when report_fd is -1. */
static void __attribute__((noreturn))
run_server(int report_fd)
{
	struct lws_context_creation_info info;
	struct lws_context *context;
	struct lws_vhost *vhost;
	int port;

	memset(&info, 0, sizeof info);
	info.port = 0;
	info.iface = "127.0.0.1";
	info.protocols = echo_protocols;
	info.fd_limit_per_thread = 16;
	if ((context = lws_create_context(&info)) == NULL)
		die("the echo server's context could not be created");
	vhost = lws_get_vhost_by_name(context, "default");
	port = vhost != NULL ? lws_get_vhost_listen_port(vhost) : -1;
	if (report_fd == -1) {
		printf("listening on %d\n", port);
		fflush(stdout);
	} else {
		if (write(report_fd, &port, sizeof port) != sizeof port)
			die("could not report the echo server's port");
		close(report_fd);
	}
	for (;;)
		if (lws_service(context, 0) < 0)
			break;
	lws_context_destroy(context);
	_exit(0);
}

/* ------------------------------------------------------------------ */
/* The client (parent process)                                         */
/* ------------------------------------------------------------------ */

/* Writes one fresh 100-byte text frame. */
static int
client_write_frame(struct client *cl)
{
	unsigned char buf[LWS_PRE + FLOOR_PAYLOAD];

	memset(buf + LWS_PRE, 'x', FLOOR_PAYLOAD);
	snprintf((char *)buf + LWS_PRE, 16, "%ld", cl->sent);
	buf[LWS_PRE + strlen((char *)buf + LWS_PRE)] = 'x';
	if (lws_write(cl->wsi, buf + LWS_PRE, FLOOR_PAYLOAD,
	    LWS_WRITE_TEXT) < FLOOR_PAYLOAD)
		return -1;
	cl->sent++;
	return 0;
}

/* Moves on to the next round or phase once a round is complete. */
static void
client_next_round(struct client *cl)
{
	const struct options *o = cl->opts;
	double elapsed = bench_now_us() - cl->round_started;

	if (cl->pipelined)
		cl->rate[cl->round] = (double)o->messages / elapsed * 1e6;
	else if (cl->round >= 0) {
		cl->p50[cl->round] = bench_percentile(cl->samples,
		    (size_t)o->count, 0.50);
		cl->p99[cl->round] = bench_percentile(cl->samples,
		    (size_t)o->count, 0.99);
	}
	cl->round++;
	cl->sent = cl->received = 0;
	if (cl->round == o->repeat) {
		if (cl->pipelined) {
			cl->closing = true;
			return;
		}
		cl->pipelined = true;
		cl->round = 0;
	}
	cl->round_started = bench_now_us();
}

/* How many frames this round still needs in total. */
static long
client_round_size(const struct client *cl)
{
	if (cl->pipelined)
		return cl->opts->messages;
	return cl->round < 0 ? FLOOR_WARMUP : cl->opts->count;
}

/* WRITEABLE: sends the next frame if the phase allows one now. */
static int
client_writeable(struct client *cl)
{
	long in_flight = cl->sent - cl->received;
	long limit = cl->pipelined ? cl->opts->inflight : 1;

	if (cl->closing) {
		lws_close_reason(cl->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}
	if (in_flight >= limit || cl->sent >= client_round_size(cl))
		return 0;
	cl->sent_at = bench_now_us();
	if (client_write_frame(cl) < 0)
		return -1;
	if (cl->pipelined && cl->sent - cl->received < limit &&
	    cl->sent < client_round_size(cl))
		lws_callback_on_writable(cl->wsi);
	return 0;
}

/* RECEIVE: one echo back (frames are small enough to come whole). */
static void
client_receive(struct client *cl, size_t len)
{
	if (len != FLOOR_PAYLOAD) {
		cl->failed = true;
		cl->closing = true;
		fprintf(stderr, "ws-floor: an echo of %zu bytes\n", len);
	} else if (!cl->pipelined && cl->round >= 0)
		cl->samples[cl->received] = bench_now_us() - cl->sent_at;
	cl->received++;
	if (cl->received == client_round_size(cl))
		client_next_round(cl);
	lws_callback_on_writable(cl->wsi);
}

/* The client protocol's callback. */
static int
client_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct client *cl = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		fprintf(stderr, "ws-floor: cannot connect: %s\n",
		    in ? (const char *)in : "?");
		cl->failed = cl->done = true;
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		cl->wsi = wsi;
		cl->round_started = bench_now_us();
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		client_receive(cl, len);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return client_writeable(cl);
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!cl->closing)
			cl->failed = true;
		cl->done = true;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols client_protocols[] = {
	{ "echo", client_callback, 0, FLOOR_MAX_MESSAGE, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Runs both phases against the echo server on port; false on failure. */
static bool
run_client(struct client *cl, int port)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info ci;
	struct lws_context *context;

	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = client_protocols;
	info.user = cl;
	info.fd_limit_per_thread = 16;
	if ((context = lws_create_context(&info)) == NULL)
		die("the client's context could not be created");
	memset(&ci, 0, sizeof ci);
	ci.context = context;
	ci.address = "127.0.0.1";
	ci.port = port;
	ci.path = "/";
	ci.host = "127.0.0.1";
	ci.origin = "127.0.0.1";
	ci.protocol = "echo";
	if (lws_client_connect_via_info(&ci) == NULL)
		cl->failed = cl->done = true;
	while (!cl->done)
		if (lws_service(context, 0) < 0)
			break;
	lws_context_destroy(context);
	return !cl->failed;
}

/* The value of the option at opt[0], a number from 1 to 10,000,000. */
static long
number(char **opt)
{
	return bench_positive("ws-floor", opt[0], opt[1]);
}

/* Parses the command line. */
static void
parse_options(int argc, char **argv, struct options *o)
{
	int i;

	o->count = 2000;
	o->serve = false;
	o->repeat = 5;
	o->inflight = 64;
	o->messages = 20000;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--serve") == 0) {
			o->serve = true;
			continue;
		}
		if (i + 1 == argc) {
			fprintf(stderr, "usage: ws-floor [--count N] "
			    "[--repeat R] [--inflight K] [--messages M] | "
			    "--serve\n");
			exit(2);
		}
		if (strcmp(argv[i], "--count") == 0)
			o->count = number(argv + i);
		else if (strcmp(argv[i], "--repeat") == 0)
			o->repeat = number(argv + i);
		else if (strcmp(argv[i], "--inflight") == 0)
			o->inflight = number(argv + i);
		else if (strcmp(argv[i], "--messages") == 0)
			o->messages = number(argv + i);
		else {
			fprintf(stderr, "ws-floor: unknown option '%s'\n",
			    argv[i]);
			exit(2);
		}
		i++;
	}
	if (o->inflight > FLOOR_QUEUE)
		o->inflight = FLOOR_QUEUE;
}

/* Starts the echo server, runs the client, prints the summaries. */
int
main(int argc, char **argv)
{
	struct options opts;
	struct client cl;
	int fds[2], port = -1, status;
	pid_t server;
	bool ok;

	parse_options(argc, argv, &opts);
	lws_set_log_level(LLL_ERR, NULL);
	if (opts.serve)
		run_server(-1);
	signal(SIGALRM, on_alarm);
	alarm(FLOOR_TIMEOUT_S);
	if (pipe(fds) != 0)
		die("pipe failed");
	fflush(stdout);
	if ((server = fork()) < 0)
		die("fork failed");
	if (server == 0) {
		close(fds[0]);
		run_server(fds[1]);
	}
	close(fds[1]);
	if (read(fds[0], &port, sizeof port) != sizeof port || port <= 0) {
		kill(server, SIGKILL);
		die("the echo server did not start");
	}
	close(fds[0]);
	bench_print_affinity("ws-floor echo server", server);
	bench_print_affinity("ws-floor client", getpid());
	printf("# ws-floor: %d-byte text frames on 127.0.0.1:%d; %ld rounds "
	    "of %ld round trips, then of %ld echoes with %ld in flight\n",
	    FLOOR_PAYLOAD, port, opts.repeat, opts.count, opts.messages,
	    opts.inflight);

	memset(&cl, 0, sizeof cl);
	cl.opts = &opts;
	cl.round = -1;
	cl.samples = xcalloc((size_t)opts.count, sizeof *cl.samples);
	cl.p50 = xcalloc((size_t)opts.repeat, sizeof *cl.p50);
	cl.p99 = xcalloc((size_t)opts.repeat, sizeof *cl.p99);
	cl.rate = xcalloc((size_t)opts.repeat, sizeof *cl.rate);
	ok = run_client(&cl, port);
	kill(server, SIGTERM);
	waitpid(server, &status, 0);
	if (!ok)
		die("the echo client failed");
	bench_summary("floor_rtt_p50_us", cl.p50, (size_t)opts.repeat, "us");
	bench_summary("floor_rtt_p99_us", cl.p99, (size_t)opts.repeat, "us");
	bench_summary("floor_pipelined_msgs", cl.rate, (size_t)opts.repeat,
	    "msg/s");
	free(cl.samples);
	free(cl.p50);
	free(cl.p99);
	free(cl.rate);
	return 0;
}
