/*
 * bridge-bench.c: figures of aish-bridge as an editor sees them, from the
 * other end of its stdin and stdout (NDJSON framing).
 *
 *   bridge-bench rtt BRIDGE URL        aish/send to an echo socket, one
 *                                      request in flight: p50 and p99,
 *                                      plain, with an instruction, with a
 *                                      4 KiB context item and plain with
 *                                      the very text that item makes,
 *                                      taken in turn (--plain: plain
 *                                      only)
 *   bridge-bench throughput BRIDGE URL K requests in flight: messages/s
 *   bridge-bench startup BRIDGE URL    exec to the initialize answer
 *   bridge-bench memory BRIDGE URL     VmRSS of an idle bridge
 *   bridge-bench fanout BRIDGE URL     aish/teamChat to N echo sockets
 *                                      that answer after D ms, against
 *                                      aish/send to one of them
 *   bridge-bench lsp BRIDGE URL        an LSP workspace/executeCommand
 *                                      (a rewrite by an echo socket that
 *                                      answers at once) to the bridge's
 *                                      workspace/applyEdit, in turn with
 *                                      aish/send of the same text: p50
 *                                      and p99 of each
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
#define BENCH_CONTEXT		4096
#define BENCH_INSTRUCTION	"fix the grammar"
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
	bool		 plain;		/* rtt: plain aish/send only */
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
	char small[4096], *line = small;
	size_t size = strlen(method) + strlen(params) + 96;
	long id = b->next_id++;
	int len;

	if (size > sizeof small)
		line = xmalloc(size);
	else
		size = sizeof small;
	len = snprintf(line, size, "{\"jsonrpc\":\"2.0\",\"id\":%ld,"
	    "\"method\":\"%s\",\"params\":%s}\n", id, method, params);
	if (len < 0 || (size_t)len >= size)
		die("request too long");
	bridge_write(b, line, (size_t)len);
	if (line != small)
		free(line);
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

/* The kinds of aish/send the rtt mode measures. */
enum send_kind {
	SEND_PLAIN,		/* 100 bytes of content */
	SEND_INSTRUCTION,	/* the same with an instruction */
	SEND_CONTEXT,		/* the same with a 4 KiB context item */
	SEND_AS_CONTENT,	/* plain, the text SEND_CONTEXT makes as content:
				 * the same bytes through the server and the
				 * AI, without the bridge's composing */
	SEND_KINDS
};

/* The params of an aish/send of 100 bytes to socket, of a given kind. */
static void
send_params_kind(char *out, size_t size, const char *socket,
    enum send_kind kind)
{
	char payload[BENCH_PAYLOAD + 1], context[BENCH_CONTEXT + 1];

	memset(payload, 'x', BENCH_PAYLOAD);
	payload[BENCH_PAYLOAD] = '\0';
	memset(context, 'y', BENCH_CONTEXT);
	context[BENCH_CONTEXT] = '\0';
	if (kind == SEND_INSTRUCTION)
		snprintf(out, size, "{\"ai\":\"%s\",\"content\":\"%s\","
		    "\"instruction\":\"" BENCH_INSTRUCTION "\"}", socket,
		    payload);
	else if (kind == SEND_CONTEXT)
		snprintf(out, size, "{\"ai\":\"%s\",\"content\":\"%s\","
		    "\"context\":[{\"name\":\"src/cache.c\",\"text\":\"%s\","
		    "\"language\":\"c\"}]}", socket, payload, context);
	else if (kind == SEND_AS_CONTENT)
		snprintf(out, size, "{\"ai\":\"%s\",\"content\":\"src/cache.c"
		    "\\n```c\\n%s\\n```\\n\\n%s\"}", socket, context, payload);
	else
		snprintf(out, size, "{\"ai\":\"%s\",\"content\":\"%s\"}",
		    socket, payload);
}

/* The params of a plain aish/send of 100 bytes to socket. */
static void
send_params(char *out, size_t size, const char *socket)
{
	send_params_kind(out, size, socket, SEND_PLAIN);
}

/* Checks once that the bridge really sent what kind says: the echo AI's
 * reply is the text it received. */
static void
check_reply(struct bridge *b, const char *params, enum send_kind kind)
{
	const cJSON	*content;
	const char	*text, *want;
	cJSON		*msg;
	size_t		 len;

	content = cJSON_GetObjectItemCaseSensitive(bridge_result(b,
	    bridge_request(b, "aish/send", params), &msg), "content");
	text = cJSON_IsString(content) ? content->valuestring : "";
	len = strlen(text);
	want = kind == SEND_INSTRUCTION ? BENCH_AI_NAME ": " BENCH_INSTRUCTION
	    "\n\n" : kind >= SEND_CONTEXT ? BENCH_AI_NAME ": src/cache.c\n"
	    "```c\nyyy" : BENCH_AI_NAME ": xxx";
	if (strncmp(text, want, strlen(want)) != 0 || len < BENCH_PAYLOAD ||
	    (kind >= SEND_CONTEXT && len < BENCH_CONTEXT + BENCH_PAYLOAD))
		die("the echo AI received something else: %.80s", text);
	cJSON_Delete(msg);
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

/*
 * rtt: aish/send one at a time; per round p50 and p99 of each kind.  The
 * kinds take turns request by request, so that each sees the same load
 * and their ratios hold even on a busy machine; a light one (100 bytes)
 * always follows a heavy one (4 KiB) and the other way round, so that
 * what a heavy request leaves behind (its history row, a checkpoint)
 * weighs alike on both light kinds.
 */
static void
mode_rtt(const struct options *o)
{
	static const char *const names[SEND_KINDS][2] = {
		{ "bridge_rtt_p50_us", "bridge_rtt_p99_us" },
		{ "bridge_rtt_instruction_p50_us",
		    "bridge_rtt_instruction_p99_us" },
		{ "bridge_rtt_context_p50_us", "bridge_rtt_context_p99_us" },
		{ "bridge_rtt_as_content_p50_us",
		    "bridge_rtt_as_content_p99_us" },
	};
	static const enum send_kind turns[SEND_KINDS] = {
		SEND_CONTEXT, SEND_PLAIN, SEND_AS_CONTENT, SEND_INSTRUCTION
	};
	double *samples[SEND_KINDS], *p50[SEND_KINDS], *p99[SEND_KINDS], t0;
	char *params[SEND_KINDS], *socket;
	struct bridge b = { 0 };
	int j, k, kinds = o->plain ? 1 : SEND_KINDS;
	long r, i;

	socket = bridge_ready(&b, o, 0);
	for (k = 0; k < kinds; k++) {
		params[k] = xmalloc(BENCH_CONTEXT + 1024);
		send_params_kind(params[k], BENCH_CONTEXT + 1024, socket,
		    (enum send_kind)k);
		samples[k] = xcalloc((size_t)o->count, sizeof *samples[k]);
		p50[k] = xcalloc((size_t)o->repeat, sizeof *p50[k]);
		p99[k] = xcalloc((size_t)o->repeat, sizeof *p99[k]);
		check_reply(&b, params[k], (enum send_kind)k);
	}
	bench_print_affinity("bridge-bench", getpid());
	bench_print_affinity("aish-bridge", b.pid);
	printf("# aish/send of %d bytes to echo socket %s%s: %ld rounds of "
	    "%ld, one in flight\n", BENCH_PAYLOAD, socket, kinds > 1 ?
	    "; in turn plain, with an instruction, with a 4 KiB context "
	    "item, and plain with that item's text as content" :
	    "", o->repeat, o->count);
	for (i = 0; i < 100; i++)	/* warm up: the WebSocket is open */
		for (k = 0; k < kinds; k++)
			bridge_call(&b, "aish/send", params[k]);
	for (r = 0; r < o->repeat; r++) {
		for (i = 0; i < o->count; i++) {
			for (j = 0; j < kinds; j++) {
				k = kinds == 1 ? SEND_PLAIN : turns[j];
				t0 = bench_now_us();
				bridge_call(&b, "aish/send", params[k]);
				samples[k][i] = bench_now_us() - t0;
			}
		}
		for (k = 0; k < kinds; k++) {
			p50[k][r] = bench_percentile(samples[k],
			    (size_t)o->count, 0.50);
			p99[k][r] = bench_percentile(samples[k],
			    (size_t)o->count, 0.99);
		}
	}
	if (!bridge_stop(&b))
		die("the bridge did not exit cleanly");
	for (k = 0; k < kinds; k++) {
		bench_summary(names[k][0], p50[k], (size_t)o->repeat, "us");
		bench_summary(names[k][1], p99[k], (size_t)o->repeat, "us");
		free(samples[k]);
		free(p50[k]);
		free(p99[k]);
		free(params[k]);
	}
	free(b.buf);
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

/* The capabilities of an LSP client like VS Code's: progress, edits,
 * versioned documentChanges. */
#define LSP_INIT_PARAMS	"{\"processId\":null,\"rootUri\":null," \
	"\"capabilities\":{\"workspace\":{\"applyEdit\":true," \
	"\"workspaceEdit\":{\"documentChanges\":true}}," \
	"\"window\":{\"workDoneProgress\":true}," \
	"\"textDocument\":{\"codeAction\":{\"codeActionLiteralSupport\":{}}}}}"
#define LSP_URI		"file:///bench/notes.txt"

/* Answers the bridge's request msg (whose id is a string) with result. */
static void
lsp_answer(struct bridge *b, const cJSON *msg, const char *result)
{
	const cJSON	*id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	char		 line[256];
	int		 len;

	if (!cJSON_IsString(id))
		die("a request of the bridge without a string id");
	len = snprintf(line, sizeof line, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\","
	    "\"result\":%s}\n", id->valuestring, result);
	if (len < 0 || (size_t)len >= sizeof line)
		die("an id too long");
	bridge_write(b, line, (size_t)len);
}

/*
 * Runs one executeCommand: answers the progress token's creation and the
 * edit as a client does, and waits for the command's answer.  Returns
 * the microseconds from the request to the applyEdit; the edit's new text
 * goes to *text once (when text is not NULL).
 */
static double
lsp_rewrite(struct bridge *b, const char *params, char **text)
{
	const cJSON	*method, *id, *edit;
	double		 t0 = bench_now_us(), applied = -1;
	long		 rid = bridge_request(b, "workspace/executeCommand",
			    params);
	cJSON		*msg;
	char		*line;

	for (;;) {
		line = bridge_line(b);
		if (strncmp(line, NOTIFICATION_PREFIX,
		    sizeof NOTIFICATION_PREFIX - 1) == 0)
			continue;	/* $/progress */
		if (strstr(line, "\"method\":\"workspace/applyEdit\"") != NULL)
			applied = bench_now_us() - t0;
		if ((msg = cJSON_Parse(line)) == NULL)
			die("the bridge wrote a line that is not JSON: %.200s",
			    line);
		method = cJSON_GetObjectItemCaseSensitive(msg, "method");
		id = cJSON_GetObjectItemCaseSensitive(msg, "id");
		if (cJSON_IsString(method) && strcmp(method->valuestring,
		    "workspace/applyEdit") == 0) {
			edit = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(
			    msg, "params"), "edit"), "documentChanges"), 0),
			    "edits"), 0);
			if (text != NULL && *text == NULL)
				*text = strdup(cJSON_GetStringValue(
				    cJSON_GetObjectItem(edit, "newText")) ?
				    cJSON_GetStringValue(cJSON_GetObjectItem(
				    edit, "newText")) : "");
			lsp_answer(b, msg, "{\"applied\":true}");
		} else if (cJSON_IsString(method))
			lsp_answer(b, msg, "null");	/* progress/create */
		else if (cJSON_IsNumber(id) && (long)id->valuedouble == rid) {
			if (cJSON_GetObjectItem(msg, "error") != NULL)
				die("executeCommand failed: %.200s", line);
			cJSON_Delete(msg);
			break;
		}
		cJSON_Delete(msg);
	}
	if (applied < 0)
		die("executeCommand answered without an applyEdit");
	return applied;
}

/*
 * lsp: the time from an LSP executeCommand to the bridge's applyEdit, for
 * a rewrite of 100 bytes by an echo socket that answers at once, taking
 * turns with aish/send of the same 100 bytes to the same socket in the
 * same bridge, so that the two are seen under the same load.
 */
static void
mode_lsp(const struct options *o)
{
	char payload[BENCH_PAYLOAD + 1], open[512], params[512], send[512];
	double *apply, *sent, *ap50, *ap99, *sp50, *sp99, t0;
	struct bridge b = { 0 };
	char *socket, *text = NULL;
	long r, i;
	int len;

	memset(payload, 'x', BENCH_PAYLOAD);
	payload[BENCH_PAYLOAD] = '\0';
	bridge_start(&b, o);
	bridge_call(&b, "initialize", LSP_INIT_PARAMS);
	socket = bridge_create_socket(&b, 0);
	len = snprintf(open, sizeof open, "{\"jsonrpc\":\"2.0\",\"method\":"
	    "\"textDocument/didOpen\",\"params\":{\"textDocument\":{\"uri\":"
	    "\"" LSP_URI "\",\"languageId\":\"plaintext\",\"version\":1,"
	    "\"text\":\"%s\\n\"}}}\n", payload);
	bridge_write(&b, open, (size_t)len);
	snprintf(params, sizeof params, "{\"command\":\"aish.rewrite\","
	    "\"arguments\":[{\"uri\":\"" LSP_URI "\",\"range\":{\"start\":"
	    "{\"line\":0,\"character\":0},\"end\":{\"line\":0,\"character\":"
	    "%d}},\"pipeline\":\"%s\"}]}", BENCH_PAYLOAD, socket);
	send_params(send, sizeof send, socket);
	lsp_rewrite(&b, params, &text);
	if (text == NULL || strncmp(text, BENCH_AI_NAME ": xxx", 9) != 0 ||
	    strlen(text) != strlen(BENCH_AI_NAME) + 2 + BENCH_PAYLOAD)
		die("the edit is not the echo AI's rewrite: %.80s", text);
	apply = xcalloc((size_t)o->count, sizeof *apply);
	sent = xcalloc((size_t)o->count, sizeof *sent);
	ap50 = xcalloc((size_t)o->repeat, sizeof *ap50);
	ap99 = xcalloc((size_t)o->repeat, sizeof *ap99);
	sp50 = xcalloc((size_t)o->repeat, sizeof *sp50);
	sp99 = xcalloc((size_t)o->repeat, sizeof *sp99);
	bench_print_affinity("bridge-bench", getpid());
	bench_print_affinity("aish-bridge", b.pid);
	printf("# LSP executeCommand (a rewrite of %d bytes by echo socket "
	    "%s) to its applyEdit, in turn with aish/send of the same text: "
	    "%ld rounds of %ld, one in flight\n", BENCH_PAYLOAD, socket,
	    o->repeat, o->count);
	for (i = 0; i < 100; i++) {	/* warm up */
		lsp_rewrite(&b, params, NULL);
		bridge_call(&b, "aish/send", send);
	}
	for (r = 0; r < o->repeat; r++) {
		for (i = 0; i < o->count; i++) {
			apply[i] = lsp_rewrite(&b, params, NULL);
			t0 = bench_now_us();
			bridge_call(&b, "aish/send", send);
			sent[i] = bench_now_us() - t0;
		}
		ap50[r] = bench_percentile(apply, (size_t)o->count, 0.50);
		ap99[r] = bench_percentile(apply, (size_t)o->count, 0.99);
		sp50[r] = bench_percentile(sent, (size_t)o->count, 0.50);
		sp99[r] = bench_percentile(sent, (size_t)o->count, 0.99);
	}
	if (!bridge_stop(&b))
		die("the bridge did not exit cleanly");
	bench_summary("lsp_apply_p50_us", ap50, (size_t)o->repeat, "us");
	bench_summary("lsp_apply_p99_us", ap99, (size_t)o->repeat, "us");
	bench_summary("lsp_send_p50_us", sp50, (size_t)o->repeat, "us");
	bench_summary("lsp_send_p99_us", sp99, (size_t)o->repeat, "us");
	free(apply);
	free(sent);
	free(ap50);
	free(ap99);
	free(sp50);
	free(sp99);
	free(text);
	free(socket);
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
	fputs("usage: bridge-bench rtt|throughput|startup|memory|fanout|lsp "
	    "BRIDGE URL [--repeat R] [--count N]\n"
	    "           [--inflight K] [--messages M] [--sockets N] "
	    "[--delay-ms D] [--bridge-log FILE] [--plain]\n"
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
		if (strcmp(argv[i], "--plain") == 0) {
			o->plain = true;
			i--;		/* takes no value */
			continue;
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
		{ "lsp", mode_lsp },
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
