/*
 * teamchat-fanout.c: how long does a write to team-chat-all take to come
 * back from every member, when each member answers after a fixed delay?
 *
 * Against an aish-rhetor that is already running, it
 *   1. creates N echo sockets (POST /api/ai/socket/create) whose replies
 *      take D ms (context.echo.delay_ms);
 *   2. opens one WebSocket on /ws/socket/team-chat-all and, R times, writes
 *      "hi", reads the ack (whose "members" names every socket that will
 *      answer) and times the write up to the last member's "read";
 *   3. prints each round, then the median, min and max, and the ratio of
 *      the median to D. Provider calls never block the server, so the
 *      ratio should stay close to 1 (goal: under 1.25).
 * With --create-only it stops after step 1 (to measure memory per socket).
 * Every wait is bounded: no answer within 30 s is an error (exit 1).
 */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libwebsockets.h>

#include <aish/protocol.h>
#include "buf.h"
#include "xalloc.h"

#define FANOUT_TIMEOUT_MS	30000
#define FANOUT_AI_NAME		"bench"
#define FANOUT_CONTENT		"hi"

/* What the command line asked for. */
struct options {
	const char	*url;
	long		 sockets;
	long		 delay_ms;
	long		 repeat;
	bool		 create_only;
};

/* Where the server is, taken apart by libcurl's URL parser. */
struct target {
	char		*host;
	int		 port;
	char		*http_base;	/* scheme://host:port, no trailing slash */
	char		*origin;	/* host:port, sent as Origin: http://... */
	const char	*token;		/* AISH_TOKEN, or NULL */
};

/* A growable list of owned strings. */
struct strlist {
	char		**items;
	size_t		  len;
	size_t		  cap;
};

/* The state of the WebSocket part, shared by the callback and main(). */
struct fanout {
	const struct options	*opts;
	const struct target	*target;
	const struct strlist	*created;
	struct lws_context	*context;
	struct lws		*wsi;
	lws_sorted_usec_list_t	 deadline;

	long			 round;		/* 0-based, < opts->repeat */
	char			 write_id[32];
	bool			 write_pending;	/* waiting for WRITEABLE */
	int64_t			 sent_us;
	bool			 acked;
	struct strlist		 members;	/* from the ack */
	struct strlist		 replied;	/* socket ids read this round */
	size_t			 members_replied;
	size_t			 strangers;	/* reads from non-members */
	double			*totals_ms;

	struct ac_buf		 rx;		/* fragments of one message */
	bool			 closing;
	bool			 finished;	/* the loop may stop */
	bool			 failed;
	char			 error[256];
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* Prints a message prefixed with the program name and exits with 1. */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("teamchat-fanout: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Microseconds on the monotonic clock. */
static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Appends a copy of s to the list. */
static void
strlist_add(struct strlist *l, const char *s)
{
	if (l->len == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->items = xrealloc(l->items, l->cap * sizeof *l->items);
	}
	l->items[l->len++] = xstrdup(s);
}

/* Tells whether s is in the list. */
static bool
strlist_has(const struct strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->len; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

/* Empties the list and frees its strings (the list stays usable). */
static void
strlist_clear(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->len; i++)
		free(l->items[i]);
	l->len = 0;
}

/* Frees the list entirely. */
static void
strlist_free(struct strlist *l)
{
	strlist_clear(l);
	free(l->items);
	l->items = NULL;
	l->cap = 0;
}

/* Appends bytes to the buffer; false when it would pass limit. */
static bool
buffer_append(struct ac_buf *b, const char *data, size_t len, size_t limit)
{
	if (len > limit - b->len)
		return false;
	ac_buf_add(b, data, len);
	return true;
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */
/* ------------------------------------------------------------------ */

/* Prints the usage line and exits with status. */
static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: teamchat-fanout URL [--sockets N] [--delay-ms D] "
	    "[--repeat R] [--create-only]\n"
	    "  URL is the running server, e.g. http://127.0.0.1:8300\n"
	    "  defaults: --sockets 100 --delay-ms 200 --repeat 5\n"
	    "  AISH_TOKEN, when set, is sent as a bearer token\n");
	exit(status);
}

/* Parses a whole decimal number in [min, max] or dies naming the option. */
static long
parse_number(const char *option, const char *text, long min, long max)
{
	char *end;
	long value;

	if (text == NULL)
		die("%s needs a value", option);
	errno = 0;
	value = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' ||
	    !isdigit((unsigned char)*text))
		die("%s: '%s' is not a decimal count", option, text);
	if (value < min || value > max)
		die("%s: %ld is out of range [%ld, %ld]", option, value, min, max);
	return value;
}

/* Fills opts from argv, or exits with a usage message. */
static void
parse_options(int argc, char **argv, struct options *opts)
{
	int i;

	opts->url = NULL;
	opts->sockets = 100;
	opts->delay_ms = 200;
	opts->repeat = 5;
	opts->create_only = false;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
			usage(0);
		else if (strcmp(arg, "--sockets") == 0)
			opts->sockets = parse_number(arg, value, 0, 100000), i++;
		else if (strcmp(arg, "--delay-ms") == 0)
			opts->delay_ms = parse_number(arg, value, 0,
			    FANOUT_TIMEOUT_MS / 2), i++;
		else if (strcmp(arg, "--repeat") == 0)
			opts->repeat = parse_number(arg, value, 1, 1000), i++;
		else if (strcmp(arg, "--create-only") == 0)
			opts->create_only = true;
		else if (arg[0] == '-') {
			fprintf(stderr, "teamchat-fanout: unknown option %s\n", arg);
			usage(2);
		} else if (opts->url == NULL)
			opts->url = arg;
		else {
			fprintf(stderr, "teamchat-fanout: unexpected argument %s\n", arg);
			usage(2);
		}
	}
	if (opts->url == NULL)
		usage(2);
}

/* Takes the server URL apart; only plain http:// is accepted. */
static void
parse_target(const char *url, struct target *t)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	size_t size;

	if (u == NULL)
		die("out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		die("'%s' is not a URL (want http://HOST:PORT)", url);
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    strcmp(scheme, "http") != 0)
		die("'%s': only http:// URLs are measured (plain ws://)", url);
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		die("'%s' has no host", url);
	if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		die("'%s' has no port", url);
	t->host = xstrdup(host);
	t->port = atoi(port);
	size = strlen(host) + 32;
	t->http_base = xrealloc(NULL, size);
	snprintf(t->http_base, size, "http://%s:%d", host, t->port);
	t->origin = xrealloc(NULL, size);
	snprintf(t->origin, size, "%s:%d", host, t->port);
	t->token = getenv("AISH_TOKEN");
	if (t->token != NULL && *t->token == '\0')
		t->token = NULL;
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

/* ------------------------------------------------------------------ */
/* Step 1: create the sockets over HTTP                                */
/* ------------------------------------------------------------------ */

/* libcurl write callback: collects the response body. */
static size_t
collect_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct ac_buf *body = user;

	if (!buffer_append(body, data, size * nmemb, AISH_MAX_BODY))
		return 0;
	return size * nmemb;
}

/* The JSON body of one create request. */
static char *
create_request_body(long delay_ms)
{
	cJSON *root = cJSON_CreateObject(), *context, *echo;
	char *text;

	cJSON_AddStringToObject(root, "ai_name", FANOUT_AI_NAME);
	context = cJSON_AddObjectToObject(root, "context");
	echo = cJSON_AddObjectToObject(context, "echo");
	cJSON_AddNumberToObject(echo, "delay_ms", (double)delay_ms);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text == NULL)
		die("out of memory");
	return text;
}

/* Takes the socket id out of a create answer, or dies showing the answer. */
static void
take_socket_id(long status, const struct ac_buf *body, struct strlist *created)
{
	cJSON *root = cJSON_ParseWithLength(body->data ? body->data : "", body->len);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "socket_id");

	if ((status != 200 && status != 201) || !cJSON_IsString(id))
		die("create #%zu: HTTP %ld, answer: %.300s", created->len + 1,
		    status, body->data ? body->data : "(empty)");
	strlist_add(created, id->valuestring);
	cJSON_Delete(root);
}

/* Creates n echo sockets with one reused connection; dies on any failure. */
static void
create_sockets(const struct options *opts, const struct target *t,
    struct strlist *created)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = NULL;
	char url[512], auth[512], errbuf[CURL_ERROR_SIZE];
	char *request = create_request_body(opts->delay_ms);
	struct ac_buf body = { NULL, 0, 0 };
	long i, status;
	CURLcode rc;

	if (curl == NULL)
		die("cannot start libcurl");
	snprintf(url, sizeof url, "%s/api/ai/socket/create", t->http_base);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	if (t->token != NULL) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", t->token);
		headers = curl_slist_append(headers, auth);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)FANOUT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	for (i = 0; i < opts->sockets; i++) {
		body.len = 0;
		errbuf[0] = '\0';
		rc = curl_easy_perform(curl);
		if (rc != CURLE_OK)
			die("create #%ld: %s", i + 1,
			    errbuf[0] ? errbuf : curl_easy_strerror(rc));
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		take_socket_id(status, &body, created);
	}
	free(body.data);
	cJSON_free(request);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
}

/* ------------------------------------------------------------------ */
/* Step 2: time the rounds over one WebSocket                          */
/* ------------------------------------------------------------------ */

/* Lets run_rounds() leave its loop, waking it if it is about to wait. */
static void
stop_loop(struct fanout *f)
{
	f->finished = true;
	if (f->context != NULL)
		lws_cancel_service(f->context);
}

/* Records the first failure and asks the loop to stop. */
static void __attribute__((format(printf, 2, 3)))
fanout_fail(struct fanout *f, const char *fmt, ...)
{
	va_list ap;

	if (!f->failed) {
		va_start(ap, fmt);
		vsnprintf(f->error, sizeof f->error, fmt, ap);
		va_end(ap);
	}
	f->failed = true;
	stop_loop(f);
}

/* Fires when the server has not answered within the timeout. */
static void
on_deadline(lws_sorted_usec_list_t *sul)
{
	struct fanout *f = lws_container_of(sul, struct fanout, deadline);

	if (f->closing) {
		stop_loop(f);	/* the close handshake may be skipped */
		return;
	}
	fanout_fail(f, "round %ld: no complete answer within %d ms "
	    "(ack %s, %zu of %zu members replied)", f->round + 1,
	    FANOUT_TIMEOUT_MS, f->acked ? "received" : "missing",
	    f->members_replied, f->members.len);
}

/* (Re)arms the timeout for whatever we wait for next. */
static void
arm_deadline(struct fanout *f, struct lws_context *context)
{
	lws_sul_schedule(context, 0, &f->deadline, on_deadline,
	    (lws_usec_t)FANOUT_TIMEOUT_MS * 1000);
}

/* Prepares the next round's write and asks for a writeable callback. */
static void
start_round(struct fanout *f)
{
	snprintf(f->write_id, sizeof f->write_id, "b-%ld", f->round + 1);
	f->acked = false;
	f->members_replied = 0;
	f->strangers = 0;
	strlist_clear(&f->members);
	strlist_clear(&f->replied);
	f->write_pending = true;
	arm_deadline(f, lws_get_context(f->wsi));
	lws_callback_on_writable(f->wsi);
}

/* Ends the current round; starts the next one or the close handshake. */
static void
finish_round(struct fanout *f)
{
	f->totals_ms[f->round] = (double)(now_us() - f->sent_us) / 1000.0;
	printf("round %ld: %.1f ms (%zu members)\n", f->round + 1,
	    f->totals_ms[f->round], f->members.len);
	fflush(stdout);
	if (f->strangers > 0)
		fprintf(stderr, "teamchat-fanout: round %ld: %zu reads came from "
		    "sockets that the ack did not list\n", f->round + 1, f->strangers);
	if (++f->round < f->opts->repeat) {
		start_round(f);
		return;
	}
	f->closing = true;
	arm_deadline(f, lws_get_context(f->wsi));
	lws_callback_on_writable(f->wsi);
}

/* Checks that every created socket is among the members of the ack. */
static void
check_members(struct fanout *f)
{
	size_t i;

	for (i = 0; i < f->created->len; i++)
		if (!strlist_has(&f->members, f->created->items[i])) {
			fanout_fail(f, "the ack of %s does not list socket %s, "
			    "created for this run (%zu members listed)",
			    f->write_id, f->created->items[i], f->members.len);
			return;
		}
}

/* Handles the ack of this round's write: who is going to answer. */
static void
handle_ack(struct fanout *f, const cJSON *frame)
{
	const cJSON *members = cJSON_GetObjectItemCaseSensitive(frame, "members");
	const cJSON *m;
	size_t i;

	if (f->acked)
		return;
	if (!cJSON_IsArray(members)) {
		fanout_fail(f, "the ack of %s has no \"members\" array", f->write_id);
		return;
	}
	cJSON_ArrayForEach(m, members) {
		if (!cJSON_IsString(m)) {
			fanout_fail(f, "the ack of %s lists a member that is not "
			    "a string", f->write_id);
			return;
		}
		strlist_add(&f->members, m->valuestring);
	}
	f->acked = true;
	check_members(f);
	for (i = 0; i < f->replied.len; i++)	/* replies that beat the ack */
		if (strlist_has(&f->members, f->replied.items[i]))
			f->members_replied++;
		else
			f->strangers++;
	if (!f->failed && f->members_replied == f->members.len)
		finish_round(f);
}

/* Handles one member's reply to this round's write. */
static void
handle_read(struct fanout *f, const cJSON *frame)
{
	const cJSON *sid = cJSON_GetObjectItemCaseSensitive(frame, "socket_id");

	if (!cJSON_IsString(sid)) {
		fanout_fail(f, "a read frame for %s has no socket_id", f->write_id);
		return;
	}
	if (strlist_has(&f->replied, sid->valuestring)) {
		fprintf(stderr, "teamchat-fanout: %s: second read from %s\n",
		    f->write_id, sid->valuestring);
		return;
	}
	strlist_add(&f->replied, sid->valuestring);
	if (!f->acked)
		return;
	if (!strlist_has(&f->members, sid->valuestring)) {
		f->strangers++;
		return;
	}
	if (++f->members_replied == f->members.len)
		finish_round(f);
}

/* Dispatches one whole message from the server. */
static void
handle_message(struct fanout *f, const char *text, size_t len)
{
	cJSON *frame = cJSON_ParseWithLength(text, len);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(frame, "type");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(frame, "id");
	const cJSON *reply_to = cJSON_GetObjectItemCaseSensitive(frame, "in_reply_to");
	bool ours_id = cJSON_IsString(id) && strcmp(id->valuestring, f->write_id) == 0;
	bool ours_reply = cJSON_IsString(reply_to) &&
	    strcmp(reply_to->valuestring, f->write_id) == 0;

	if (!cJSON_IsString(type)) {
		fanout_fail(f, "the server sent a frame without a type: %.200s", text);
	} else if (f->closing || f->write_pending) {
		/* between rounds: late frames of earlier rounds are ignored */
	} else if (strcmp(type->valuestring, AISH_FRAME_ACK) == 0 && ours_id) {
		handle_ack(f, frame);
	} else if (strcmp(type->valuestring, AISH_FRAME_READ) == 0 && ours_reply) {
		handle_read(f, frame);
	} else if (strcmp(type->valuestring, AISH_FRAME_ERROR) == 0 &&
	    (ours_reply || reply_to == NULL)) {
		fanout_fail(f, "the server answered %s with an error: %.200s",
		    f->write_id, text);
	}
	cJSON_Delete(frame);
}

/* Sends this round's write; one lws_write per writeable callback. */
static int
send_write(struct fanout *f, struct lws *wsi)
{
	unsigned char buf[LWS_PRE + 256];
	cJSON *root = cJSON_CreateObject();
	char *text;
	size_t len;

	cJSON_AddStringToObject(root, "type", AISH_FRAME_WRITE);
	cJSON_AddStringToObject(root, "content", FANOUT_CONTENT);
	cJSON_AddStringToObject(root, "id", f->write_id);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (text == NULL)
		die("out of memory");
	len = strlen(text);
	memcpy(buf + LWS_PRE, text, len);	/* lws masks it in place */
	cJSON_free(text);
	f->write_pending = false;
	f->sent_us = now_us();
	if (lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len) {
		fanout_fail(f, "sending %s failed", f->write_id);
		return -1;
	}
	return 0;
}

/* Collects a fragment; hands over the message when it is complete. */
static int
receive_fragment(struct fanout *f, struct lws *wsi, const void *in, size_t len)
{
	if (!buffer_append(&f->rx, (const char *)in, len, AISH_MAX_BODY)) {
		fanout_fail(f, "a message from the server is larger than %u bytes",
		    AISH_MAX_BODY);
		return -1;
	}
	if (!lws_is_final_fragment(wsi))
		return 0;
	handle_message(f, f->rx.data, f->rx.len);
	f->rx.len = 0;
	return f->failed ? -1 : 0;
}

/* Adds the bearer token to the upgrade request when there is one. */
static int
append_token(struct fanout *f, void *in, size_t len)
{
	char **p = in, *end = *p + len;
	int n;

	if (f->target->token == NULL)
		return 0;
	n = snprintf(*p, (size_t)(end - *p), "Authorization: Bearer %s\r\n",
	    f->target->token);
	if (n < 0 || n >= end - *p)
		return -1;
	*p += n;
	return 0;
}

/* The client protocol callback: one switch, as in the lws examples. */
static int
fanout_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct fanout *f = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return append_token(f, in, len);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		fanout_fail(f, "cannot open ws://%s/ws/socket/%s: %s",
		    f->target->origin, AISH_TEAM_CHAT_ALL,
		    in ? (const char *)in : "connection failed");
		f->wsi = NULL;
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		start_round(f);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return receive_fragment(f, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (f->closing) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
			return -1;
		}
		if (f->write_pending)
			return send_write(f, wsi);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
	case LWS_CALLBACK_WSI_DESTROY:
		if (!f->closing && !f->failed)
			fanout_fail(f, "the server closed the WebSocket during "
			    "round %ld", f->round + 1);
		f->wsi = NULL;
		stop_loop(f);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols fanout_protocols[] = {
	{ "aish-fanout", fanout_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Opens the team-chat-all WebSocket and runs every round; false on error. */
static bool
run_rounds(struct fanout *f)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info ci;
	struct lws_context *context;
	char path[128];

	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = fanout_protocols;
	info.user = f;
	info.fd_limit_per_thread = 16;
	context = lws_create_context(&info);
	if (context == NULL)
		die("cannot create the libwebsockets context");
	f->context = context;

	snprintf(path, sizeof path, "/ws/socket/%s", AISH_TEAM_CHAT_ALL);
	memset(&ci, 0, sizeof ci);
	ci.context = context;
	ci.address = f->target->host;
	ci.port = f->target->port;
	ci.path = path;
	ci.host = f->target->origin;
	ci.origin = f->target->origin;
	ci.local_protocol_name = fanout_protocols[0].name;
	ci.pwsi = &f->wsi;
	arm_deadline(f, context);
	if (lws_client_connect_via_info(&ci) == NULL && !f->failed)
		fanout_fail(f, "cannot open ws://%s%s", f->target->origin, path);

	while (!f->finished)
		if (lws_service(context, 0) < 0)
			break;
	lws_sul_cancel(&f->deadline);
	f->context = NULL;
	lws_context_destroy(context);
	return !f->failed && f->round == f->opts->repeat;
}

/* ------------------------------------------------------------------ */
/* Step 3: report                                                      */
/* ------------------------------------------------------------------ */

/* qsort comparison for doubles. */
static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Prints the median, min, max and the median/delay ratio of the rounds. */
static void
report(const struct options *opts, double *totals_ms)
{
	size_t n = (size_t)opts->repeat;
	double median;

	qsort(totals_ms, n, sizeof *totals_ms, compare_doubles);
	median = n % 2 ? totals_ms[n / 2] :
	    (totals_ms[n / 2 - 1] + totals_ms[n / 2]) / 2;
	printf("median %.1f ms\n", median);
	printf("min %.1f ms\n", totals_ms[0]);
	printf("max %.1f ms\n", totals_ms[n - 1]);
	if (opts->delay_ms > 0)
		printf("ratio %.3f (median / delay; goal < 1.25)\n",
		    median / (double)opts->delay_ms);
	else
		printf("ratio n/a (delay 0)\n");
}

/* Frees what parse_target allocated. */
static void
free_target(struct target *t)
{
	free(t->host);
	free(t->http_base);
	free(t->origin);
}

/* Creates the sockets, then (unless --create-only) times the rounds. */
int
main(int argc, char **argv)
{
	struct options opts;
	struct target target;
	struct strlist created = { NULL, 0, 0 };
	struct fanout f;
	int64_t started;
	int status = 0;

	parse_options(argc, argv, &opts);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("cannot initialise libcurl");
	parse_target(opts.url, &target);
	lws_set_log_level(LLL_ERR, NULL);

	started = now_us();
	create_sockets(&opts, &target, &created);
	printf("created %ld sockets in %.1f ms\n", opts.sockets,
	    (double)(now_us() - started) / 1000.0);
	fflush(stdout);

	if (!opts.create_only) {
		memset(&f, 0, sizeof f);
		f.opts = &opts;
		f.target = &target;
		f.created = &created;
		f.totals_ms = xrealloc(NULL,
		    (size_t)opts.repeat * sizeof *f.totals_ms);
		printf("fan-out: %ld sockets, delay %ld ms, %ld rounds on %s\n",
		    opts.sockets, opts.delay_ms, opts.repeat, AISH_TEAM_CHAT_ALL);
		if (run_rounds(&f))
			report(&opts, f.totals_ms);
		else {
			fprintf(stderr, "teamchat-fanout: %s\n",
			    f.error[0] ? f.error : "the WebSocket ended early");
			status = 1;
		}
		strlist_free(&f.members);
		strlist_free(&f.replied);
		free(f.rx.data);
		free(f.totals_ms);
	}
	strlist_free(&created);
	free_target(&target);
	curl_global_cleanup();
	return status;
}
