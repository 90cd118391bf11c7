/*
 * bridge-bench.c: figures of aish-bridge as an editor sees them, from the
 * other end of its stdin and stdout (NDJSON framing).
 *
 *   bridge-bench rtt BRIDGE URL        aish/send to an echo socket, one
 *                                      request in flight: p50 and p99
 *   bridge-bench throughput BRIDGE URL K requests in flight: messages/s
 *   bridge-bench startup BRIDGE URL    exec to the initialize answer
 *   bridge-bench memory BRIDGE URL     VmRSS of an idle bridge
 *   bridge-bench fanout BRIDGE URL     aish/teamChat to N echo sockets
 *                                      that answer after D ms, against
 *                                      aish/send to one of them
 *   bridge-bench exec -- CMD ARG...    exec to exit of any command
 *
 * The bridge runs as "BRIDGE --rhetor URL --no-spawn --framing ndjson",
 * started with posix_spawn and connected by pipes; it inherits this
 * program's CPU affinity. Each mode repeats its measurement --repeat
 * times and prints "KEY MEDIAN MIN MAX UNIT" lines (bench-stats.h); any
 * error answer, early exit or 30 s of silence ends the run (exit 1).
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench-stats.h"
#include "xalloc.h"

extern char **environ;

#define BENCH_TIMEOUT_MS	30000
#define BENCH_PAYLOAD		100
#define BENCH_LINE_MAX		(1 << 20)
#define BENCH_AI_NAME		"bench"
#define NOTIFICATION_PREFIX	"{\"jsonrpc\":\"2.0\",\"method\":"

/* What the command line asked for. */
struct options {
	const char	*mode;
	const char	*bridge;
	const char	*url;
	const char	*bridge_log;	/* the bridge's stderr, or /dev/null */
	char		**command;	/* exec mode: the command to time */
	long		 count;		/* rtt: round trips per round */
	long		 repeat;
	long		 inflight;	/* throughput */
	long		 messages;	/* throughput: answers per round */
	long		 sockets;	/* fanout */
	long		 delay_ms;	/* fanout */
};

/* A running bridge and the unread part of its output. */
struct bridge {
	pid_t	 pid;
	int	 to;		/* its stdin */
	int	 from;		/* its stdout */
	char	*buf;
	size_t	 len;		/* bytes in buf */
	size_t	 start;		/* first unread byte */
	long	 next_id;
};

/* Prints a message prefixed with the program name and exits with 1. */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("bridge-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ------------------------------------------------------------------ */
/* The bridge process                                                  */
/* ------------------------------------------------------------------ */

/* Starts the bridge with its stdin and stdout on pipes. */
static void
bridge_start(struct bridge *b, const struct options *o)
{
	posix_spawn_file_actions_t fa;
	int in[2], out[2], err;
	char *argv[] = { (char *)o->bridge, "--rhetor", (char *)o->url,
	    "--no-spawn", "--framing", "ndjson", NULL };

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		die("pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, o->bridge_log,
	    O_WRONLY | O_CREAT | O_APPEND, 0600);
	err = posix_spawn(&b->pid, o->bridge, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err != 0)
		die("cannot start %s: %s", o->bridge, strerror(err));
	close(in[0]);
	close(out[1]);
	b->to = in[1];
	b->from = out[0];
	if (b->buf == NULL)
		b->buf = xcalloc(1, BENCH_LINE_MAX + 1);
	b->len = b->start = 0;
	b->next_id = 1;
}

/* Closes the bridge's stdin and waits for it to exit; false if it failed. */
static bool
bridge_stop(struct bridge *b)
{
	int status;

	close(b->to);
	close(b->from);
	if (waitpid(b->pid, &status, 0) < 0)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Writes all of text to the bridge. */
static void
bridge_write(struct bridge *b, const char *text, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(b->to, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("writing to the bridge: %s", strerror(errno));
		text += n;
		len -= (size_t)n;
	}
}

/* Sends a request; returns its id. params is a JSON object text. */
static long
bridge_request(struct bridge *b, const char *method, const char *params)
{
	char line[4096];
	long id = b->next_id++;
	int len;

	len = snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":%ld,"
	    "\"method\":\"%s\",\"params\":%s}\n", id, method, params);
	if (len < 0 || (size_t)len >= sizeof line)
		die("request too long");
	bridge_write(b, line, (size_t)len);
	return id;
}

/* Reads more output from the bridge, waiting at most 30 s. */
static void
bridge_fill(struct bridge *b)
{
	struct pollfd pfd = { .fd = b->from, .events = POLLIN };
	ssize_t n;
	int rc;

	if (b->start > 0) {
		memmove(b->buf, b->buf + b->start, b->len - b->start);
		b->len -= b->start;
		b->start = 0;
	}
	if (b->len == BENCH_LINE_MAX)
		die("the bridge wrote a line longer than %d bytes",
		    BENCH_LINE_MAX);
	while ((rc = poll(&pfd, 1, BENCH_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	if (rc == 0)
		die("the bridge said nothing for %d s", BENCH_TIMEOUT_MS / 1000);
	n = read(b->from, b->buf + b->len, BENCH_LINE_MAX - b->len);
	if (n == 0)
		die("the bridge closed its output (it exited?)");
	if (n < 0)
		die("reading from the bridge: %s", strerror(errno));
	b->len += (size_t)n;
}

/* Returns the next output line (NUL-terminated, valid until next call). */
static char *
bridge_line(struct bridge *b)
{
	char *line, *nl;

	for (;;) {
		line = b->buf + b->start;
		nl = memchr(line, '\n', b->len - b->start);
		if (nl != NULL) {
			*nl = '\0';
			b->start = (size_t)(nl + 1 - b->buf);
			return line;
		}
		bridge_fill(b);
	}
}

/*
 * Returns the next response (not a notification) as parsed JSON; the
 * caller deletes it. An error response ends the program.
 */
static cJSON *
bridge_response(struct bridge *b, long *id)
{
	const cJSON *jid, *error, *message;
	cJSON *msg;
	char *line;

	for (;;) {
		line = bridge_line(b);
		/* a notification (the bridge prints "method" right after
		 * "jsonrpc"); skipped unparsed, so that this side of the pipe
		 * costs the round trip as little as possible */
		if (strncmp(line, NOTIFICATION_PREFIX,
		    sizeof NOTIFICATION_PREFIX - 1) == 0)
			continue;
		if ((msg = cJSON_Parse(line)) == NULL)
			die("the bridge wrote a line that is not JSON: %.200s",
			    line);
		jid = cJSON_GetObjectItemCaseSensitive(msg, "id");
		if (cJSON_IsNumber(jid))
			break;
		cJSON_Delete(msg);
	}
	if ((error = cJSON_GetObjectItemCaseSensitive(msg, "error")) != NULL) {
		message = cJSON_GetObjectItemCaseSensitive(error, "message");
		die("request %d failed: %s", jid->valueint,
		    cJSON_IsString(message) ? message->valuestring : "?");
	}
	*id = (long)jid->valuedouble;
	return msg;
}

/* Waits for the response to request id; returns its result (caller
 * deletes the whole message through *msg). */
static const cJSON *
bridge_result(struct bridge *b, long id, cJSON **msg)
{
	long got;

	for (;;) {
		*msg = bridge_response(b, &got);
		if (got == id)
			return cJSON_GetObjectItemCaseSensitive(*msg, "result");
		cJSON_Delete(*msg);
	}
}

/* Sends a request and waits for its answer; discards the result. */
static void
bridge_call(struct bridge *b, const char *method, const char *params)
{
	cJSON *msg;

	bridge_result(b, bridge_request(b, method, params), &msg);
	cJSON_Delete(msg);
}

/* Creates an echo socket answering after delay_ms; returns its id. */
static char *
bridge_create_socket(struct bridge *b, long delay_ms)
{
	const cJSON *result, *sid;
	char params[256];
	cJSON *msg;
	char *id;

	snprintf(params, sizeof params, "{\"ai_name\":\"%s\",\"context\":"
	    "{\"echo\":{\"delay_ms\":%ld}}}", BENCH_AI_NAME, delay_ms);
	result = bridge_result(b, bridge_request(b, "aish/create", params),
	    &msg);
	sid = cJSON_GetObjectItemCaseSensitive(result, "socket_id");
	if (!cJSON_IsString(sid))
		die("aish/create answered without a socket_id");
	if ((id = strdup(sid->valuestring)) == NULL)
		die("out of memory");
	cJSON_Delete(msg);
	return id;
}

/* The params of an aish/send of 100 bytes to socket. */
static void
send_params(char *out, size_t size, const char *socket)
{
	char payload[BENCH_PAYLOAD + 1];

	memset(payload, 'x', BENCH_PAYLOAD);
	payload[BENCH_PAYLOAD] = '\0';
	snprintf(out, size, "{\"ai\":\"%s\",\"content\":\"%s\"}", socket,
	    payload);
}

/* Starts a bridge, initializes it and creates one echo socket. */
static char *
bridge_ready(struct bridge *b, const struct options *o, long delay_ms)
{
	bridge_start(b, o);
	bridge_call(b, "initialize", "{}");
	return bridge_create_socket(b, delay_ms);
}

/* ------------------------------------------------------------------ */
/* The modes                                                           */
/* ------------------------------------------------------------------ */

/* rtt: aish/send one at a time; per round p50 and p99. */
static void
mode_rtt(const struct options *o)
{
	double *samples, *p50, *p99, t0;
	char params[512], *socket;
	struct bridge b = { 0 };
	long r, i;

	socket = bridge_ready(&b, o, 0);
	send_params(params, sizeof params, socket);
	bench_print_affinity("bridge-bench", getpid());
	bench_print_affinity("aish-bridge", b.pid);
	printf("# aish/send of %d bytes to echo socket %s: %ld rounds of "
	    "%ld, one in flight\n", BENCH_PAYLOAD, socket, o->repeat, o->count);
	samples = xcalloc((size_t)o->count, sizeof *samples);
	p50 = xcalloc((size_t)o->repeat, sizeof *p50);
	p99 = xcalloc((size_t)o->repeat, sizeof *p99);
	for (i = 0; i < 100; i++)	/* warm up: the WebSocket is open */
		bridge_call(&b, "aish/send", params);
	for (r = 0; r < o->repeat; r++) {
		for (i = 0; i < o->count; i++) {
			t0 = bench_now_us();
			bridge_call(&b, "aish/send", params);
			samples[i] = bench_now_us() - t0;
		}
		p50[r] = bench_percentile(samples, (size_t)o->count, 0.50);
		p99[r] = bench_percentile(samples, (size_t)o->count, 0.99);
	}
	if (!bridge_stop(&b))
		die("the bridge did not exit cleanly");
	bench_summary("bridge_rtt_p50_us", p50, (size_t)o->repeat, "us");
	bench_summary("bridge_rtt_p99_us", p99, (size_t)o->repeat, "us");
	free(samples);
	free(b.buf);
	free(p50);
	free(p99);
	free(socket);
}

/* throughput: K aish/send in flight until M answers; messages/s. */
static void
mode_throughput(const struct options *o)
{
	struct bridge b = { 0 };
	char params[512], *socket;
	double *rate, t0;
	long r, sent, answered, id;
	cJSON *msg;

	socket = bridge_ready(&b, o, 0);
	send_params(params, sizeof params, socket);
	bench_print_affinity("bridge-bench", getpid());
	bench_print_affinity("aish-bridge", b.pid);
	printf("# aish/send of %d bytes to echo socket %s: %ld rounds of "
	    "%ld answers, %ld in flight\n", BENCH_PAYLOAD, socket, o->repeat,
	    o->messages, o->inflight);
	rate = xcalloc((size_t)o->repeat, sizeof *rate);
	for (r = 0; r < o->repeat; r++) {
		t0 = bench_now_us();
		sent = answered = 0;
		while (sent < o->inflight && sent < o->messages) {
			bridge_request(&b, "aish/send", params);
			sent++;
		}
		while (answered < o->messages) {
			msg = bridge_response(&b, &id);
			cJSON_Delete(msg);
			answered++;
			if (sent < o->messages) {
				bridge_request(&b, "aish/send", params);
				sent++;
			}
		}
		rate[r] = (double)o->messages / (bench_now_us() - t0) * 1e6;
	}
	if (!bridge_stop(&b))
		die("the bridge did not exit cleanly");
	bench_summary("bridge_throughput_msgs", rate, (size_t)o->repeat,
	    "msg/s");
	free(rate);
	free(socket);
	free(b.buf);
}

/* startup: exec of the bridge to its answer to initialize, in ms. */
static void
mode_startup(const struct options *o)
{
	struct bridge b = { 0 };
	double *ms, t0;
	long r;

	ms = xcalloc((size_t)o->repeat, sizeof *ms);
	for (r = 0; r < o->repeat; r++) {
		t0 = bench_now_us();
		bridge_start(&b, o);
		bridge_call(&b, "initialize", "{}");
		ms[r] = (bench_now_us() - t0) / 1000;
		if (r == 0)
			bench_print_affinity("aish-bridge", b.pid);
		if (!bridge_stop(&b))
			die("the bridge did not exit cleanly");
	}
	printf("# aish-bridge: exec to the initialize answer, %ld starts\n",
	    o->repeat);
	bench_summary("bridge_startup_ms", ms, (size_t)o->repeat, "ms");
	free(ms);
	free(b.buf);
}

/* memory: VmRSS once initialized, and once it has sent to a socket. */
static void
mode_memory(const struct options *o)
{
	struct bridge b = { 0 };
	char params[512], *socket;
	double *init, *used;
	long r;

	init = xcalloc((size_t)o->repeat, sizeof *init);
	used = xcalloc((size_t)o->repeat, sizeof *used);
	for (r = 0; r < o->repeat; r++) {
		bridge_start(&b, o);
		bridge_call(&b, "initialize", "{}");
		usleep(100000);
		init[r] = (double)bench_rss_kib(b.pid);
		socket = bridge_create_socket(&b, 0);
		send_params(params, sizeof params, socket);
		bridge_call(&b, "aish/send", params);
		usleep(100000);
		used[r] = (double)bench_rss_kib(b.pid);
		free(socket);
		if (!bridge_stop(&b))
			die("the bridge did not exit cleanly");
	}
	printf("# aish-bridge VmRSS: idle after initialize, and idle after "
	    "one aish/send (one WebSocket open); %ld starts\n", o->repeat);
	bench_summary("bridge_rss_init_kib", init, (size_t)o->repeat, "KiB");
	bench_summary("bridge_rss_idle_kib", used, (size_t)o->repeat, "KiB");
	free(init);
	free(used);
	free(b.buf);
}

/* Checks a teamChat result: at least want answers and none timed out. */
static void
check_team_result(const cJSON *result, long want)
{
	const cJSON *responses, *timed_out;

	responses = cJSON_GetObjectItemCaseSensitive(result, "responses");
	timed_out = cJSON_GetObjectItemCaseSensitive(result, "timed_out");
	if (!cJSON_IsArray(responses) ||
	    cJSON_GetArraySize(responses) < want)
		die("aish/teamChat answered with %d responses, want %ld",
		    cJSON_IsArray(responses) ? cJSON_GetArraySize(responses) :
		    -1, want);
	if (cJSON_IsArray(timed_out) && cJSON_GetArraySize(timed_out) > 0)
		die("aish/teamChat: %d members timed out",
		    cJSON_GetArraySize(timed_out));
}

/* fanout: teamChat to N delayed echo sockets against one of them. */
static void
mode_fanout(const struct options *o)
{
	double *one, *team, ratio, t0;
	char params[512], *first = NULL, *socket;
	struct bridge b = { 0 };
	const cJSON *result;
	cJSON *msg;
	long i, r, members = 0;

	bridge_start(&b, o);
	bridge_call(&b, "initialize", "{}");
	for (i = 0; i < o->sockets; i++) {
		socket = bridge_create_socket(&b, o->delay_ms);
		if (first == NULL)
			first = socket;
		else
			free(socket);
	}
	bench_print_affinity("bridge-bench", getpid());
	bench_print_affinity("aish-bridge", b.pid);
	one = xcalloc((size_t)o->repeat, sizeof *one);
	team = xcalloc((size_t)o->repeat, sizeof *team);
	send_params(params, sizeof params, first);
	bridge_call(&b, "aish/send", params);	/* opens its WebSocket */
	for (r = 0; r < o->repeat; r++) {
		t0 = bench_now_us();
		bridge_call(&b, "aish/send", params);
		one[r] = (bench_now_us() - t0) / 1000;
	}
	snprintf(params, sizeof params, "{\"message\":\"hi\","
	    "\"timeout_ms\":%d}", BENCH_TIMEOUT_MS);
	for (r = 0; r < o->repeat; r++) {
		t0 = bench_now_us();
		result = bridge_result(&b, bridge_request(&b, "aish/teamChat",
		    params), &msg);
		team[r] = (bench_now_us() - t0) / 1000;
		check_team_result(result, o->sockets);
		members = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
		    result, "responses"));
		cJSON_Delete(msg);
	}
	if (!bridge_stop(&b))
		die("the bridge did not exit cleanly");
	printf("# aish/teamChat to %ld members (%ld echo sockets answering "
	    "after %ld ms, the rest at once) against aish/send to %s; "
	    "%ld rounds each\n", members, o->sockets, o->delay_ms, first,
	    o->repeat);
	ratio = bench_percentile(team, (size_t)o->repeat, 0.5) /
	    bench_percentile(one, (size_t)o->repeat, 0.5);
	bench_summary("bridge_one_ai_ms", one, (size_t)o->repeat, "ms");
	bench_summary("bridge_teamchat_ms", team, (size_t)o->repeat, "ms");
	printf("bridge_teamchat_ratio %.3f %.3f %.3f x\n", ratio, ratio, ratio);
	printf("bridge_teamchat_members %ld %ld %ld members\n", members,
	    members, members);
	free(one);
	free(team);
	free(first);
	free(b.buf);
}

/* exec: the time from posix_spawn to the exit of a command, in ms. */
static void
mode_exec(const struct options *o)
{
	posix_spawn_file_actions_t fa;
	double *ms, t0;
	int status, err;
	pid_t pid;
	long r;

	ms = xcalloc((size_t)o->repeat, sizeof *ms);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (r = 0; r < o->repeat; r++) {
		t0 = bench_now_us();
		err = posix_spawnp(&pid, o->command[0], &fa, NULL, o->command,
		    environ);
		if (err != 0)
			die("cannot start %s: %s", o->command[0],
			    strerror(err));
		if (waitpid(pid, &status, 0) < 0)
			die("waitpid: %s", strerror(errno));
		ms[r] = (bench_now_us() - t0) / 1000;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("%s failed (status %d)", o->command[0], status);
	}
	posix_spawn_file_actions_destroy(&fa);
	bench_summary("exec_ms", ms, (size_t)o->repeat, "ms");
	free(ms);
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */
/* ------------------------------------------------------------------ */

/* Prints the usage and exits with 2. */
static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: bridge-bench rtt|throughput|startup|memory|fanout "
	    "BRIDGE URL [--repeat R] [--count N]\n"
	    "           [--inflight K] [--messages M] [--sockets N] "
	    "[--delay-ms D] [--bridge-log FILE]\n"
	    "       bridge-bench exec [--repeat R] -- COMMAND [ARG...]\n",
	    stderr);
	exit(2);
}

/* The value of the option at opt[0], a number from 1 to 10,000,000. */
static long
number(char **opt)
{
	return bench_positive("bridge-bench", opt[0], opt[1]);
}

/* Parses the options after the mode (and BRIDGE URL, but for exec). */
static void
parse_options(int argc, char **argv, struct options *o)
{
	int i = 2;

	if (argc < 2)
		usage();
	o->mode = argv[1];
	o->bridge_log = "/dev/null";
	o->count = 2000;
	o->repeat = 5;
	o->inflight = 64;
	o->messages = 5000;
	o->sockets = 100;
	o->delay_ms = 200;
	if (strcmp(o->mode, "exec") != 0) {
		if (argc < 4)
			usage();
		o->bridge = argv[2];
		o->url = argv[3];
		i = 4;
	}
	for (; i < argc; i += 2) {
		if (strcmp(argv[i], "--") == 0) {
			o->command = argv + i + 1;
			break;
		}
		if (i + 1 == argc)
			usage();
		if (strcmp(argv[i], "--repeat") == 0)
			o->repeat = number(argv + i);
		else if (strcmp(argv[i], "--count") == 0)
			o->count = number(argv + i);
		else if (strcmp(argv[i], "--inflight") == 0)
			o->inflight = number(argv + i);
		else if (strcmp(argv[i], "--messages") == 0)
			o->messages = number(argv + i);
		else if (strcmp(argv[i], "--sockets") == 0)
			o->sockets = number(argv + i);
		else if (strcmp(argv[i], "--delay-ms") == 0)
			o->delay_ms = number(argv + i);
		else if (strcmp(argv[i], "--bridge-log") == 0)
			o->bridge_log = argv[i + 1];
		else
			usage();
	}
	if (strcmp(o->mode, "exec") == 0 &&
	    (o->command == NULL || o->command[0] == NULL))
		usage();
}

/* Runs the mode the command line names. */
int
main(int argc, char **argv)
{
	static const struct {
		const char	*name;
		void		(*run)(const struct options *);
	} modes[] = {
		{ "rtt", mode_rtt },
		{ "throughput", mode_throughput },
		{ "startup", mode_startup },
		{ "memory", mode_memory },
		{ "fanout", mode_fanout },
		{ "exec", mode_exec },
	};
	struct options opts = { 0 };
	size_t i;

	parse_options(argc, argv, &opts);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (strcmp(opts.mode, modes[i].name) == 0) {
			modes[i].run(&opts);
			return 0;
		}
	usage();
}
