/*
 * check_libaish.c: libaish against the real aish-rhetor.
 *
 * Each test starts its own server (RHETOR, else $top_builddir/aish-rhetor,
 * else ./aish-rhetor) on a free port with a fresh state directory, and
 * every wait is bounded.  Covered: the error enum, bad arguments, the HTTP
 * registry calls, writes and replies, team chat, cancel, the write queue
 * while the server is down, a server killed with -9 and restarted in the
 * middle of a write (the reply arrives exactly once), the drop of repeated
 * final frames, aish_close(), the caller's-loop mode, users' turns
 * (AISH_MSG_TURN, another handle's and the handle's own, never a reply),
 * a write that connects at once to a server that is back, and a list of
 * server URLs: parsed, every node tried before the back-off, an error
 * naming them all, the next node used when the first does not answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <check.h>
#include <libwebsockets.h>

#include "aish/aish.h"

#define WAIT_MS		8000
#define MAX_SEEN	256

/* ---- the server ---- */

static pid_t	server_pid = -1;
static char	state_dir[256];
static char	server_url[128];
static int	server_port;

/* The aish-rhetor binary to run. */
static const char *
rhetor_path(void)
{
	static char	 path[1024];
	const char	*p;

	if ((p = getenv("RHETOR")) != NULL)
		return p;
	if ((p = getenv("top_builddir")) != NULL) {
		snprintf(path, sizeof path, "%s/aish-rhetor", p);
		return path;
	}
	return "./aish-rhetor";
}

/* Starts aish-rhetor on port (0: a free one) with state in state_dir and
 * reads its first line to learn the URL. */
static void
server_start(int port)
{
	char		 portbuf[16], line[256];
	int		 fds[2];
	size_t		 n = 0;
	struct pollfd	 pfd;
	ssize_t		 r;

	snprintf(portbuf, sizeof portbuf, "%d", port);
	ck_assert_int_eq(pipe(fds), 0);
	server_pid = fork();
	ck_assert_int_ge(server_pid, 0);
	if (server_pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, 2);
		execl(rhetor_path(), "aish-rhetor", "--port", portbuf,
		    "--state-dir", state_dir, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	while (n < sizeof line - 1 && memchr(line, '\n', n) == NULL) {
		ck_assert_msg(poll(&pfd, 1, 5000) == 1,
		    "aish-rhetor (%s) said nothing in 5 s", rhetor_path());
		r = read(fds[0], line + n, sizeof line - 1 - n);
		ck_assert_msg(r > 0, "aish-rhetor (%s) exited at start",
		    rhetor_path());
		n += (size_t)r;
		line[n] = '\0';
	}
	close(fds[0]);
	ck_assert_msg(sscanf(line, "listening on %127s", server_url) == 1,
	    "unexpected first line: %s", line);
	server_port = atoi(strrchr(server_url, ':') + 1);
	ck_assert_int_gt(server_port, 0);
}

/* Kills the server (SIGKILL) and reaps it. */
static void
server_kill(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, 0);
	}
	server_pid = -1;
}

/* A loopback port nothing listens on (for now). */
static int
free_port(void)
{
	struct sockaddr_in	 a;
	socklen_t		 len = sizeof a;
	int			 fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ---- what the callbacks saw ---- */

struct seen {
	aish_msg_type_t	 type;
	char		 conn[80];
	char		 socket_id[80];
	char		 id[AISH_ID_SIZE];
	char		 content[256];
	char		 code[64];
	char		 header[96];
	int64_t		 seq;
	size_t		 n_members;
	int		 local;
	int		 duplicate;
	int		 fresh;
	int		 finished;
	char		 role[16];
	aish_t		*handle;	/* whose callback saw it */
};

static struct seen	seen[MAX_SEEN];
static int		n_seen;
static int		n_states_up;

/* Records every message. */
static void
on_message(aish_t *h, const aish_msg_t *m, void *user)
{
	struct seen	*s;

	ck_assert_int_lt(n_seen, MAX_SEEN);
	s = &seen[n_seen++];
	memset(s, 0, sizeof *s);
	s->type = m->type;
	s->seq = m->seq;
	s->n_members = m->n_members;
	s->local = m->local;
	s->duplicate = m->duplicate;
	s->fresh = m->fresh;
	s->finished = m->finished;
	s->handle = h;
	snprintf(s->role, sizeof s->role, "%s", m->role ? m->role : "");
	snprintf(s->conn, sizeof s->conn, "%s", m->conn_socket_id);
	snprintf(s->socket_id, sizeof s->socket_id, "%s",
	    m->socket_id ? m->socket_id : "");
	snprintf(s->id, sizeof s->id, "%s",
	    m->in_reply_to ? m->in_reply_to : "");
	snprintf(s->content, sizeof s->content, "%s",
	    m->content ? m->content : "");
	snprintf(s->code, sizeof s->code, "%s", m->code ? m->code : "");
	if (m->n_headers > 0)
		snprintf(s->header, sizeof s->header, "%s", m->headers[0]);
}

/* Counts the times a connection came up. */
static void
on_state(aish_t *h, const char *socket_id, aish_conn_state_t state,
    unsigned failures, int64_t down_ms, void *user)
{
	if (state == AISH_CONN_UP)
		n_states_up++;
}

/* Messages of a type for write id (type -1: any). */
static int
count(int type, const char *id)
{
	int	i, n = 0;

	for (i = 0; i < n_seen; i++) {
		if ((type < 0 || (int)seen[i].type == type) &&
		    strcmp(seen[i].id, id) == 0)
			n++;
	}
	return n;
}

/* The first message of a type for write id, or NULL. */
static const struct seen *
find(aish_msg_type_t type, const char *id)
{
	int	i;

	for (i = 0; i < n_seen; i++) {
		if (seen[i].type == type && strcmp(seen[i].id, id) == 0)
			return &seen[i];
	}
	return NULL;
}

/* The place in seen of the one message that finished write id (there
 * must be exactly one). */
static int
finished_at(const char *id)
{
	int	i, at = -1, n = 0;

	for (i = 0; i < n_seen; i++) {
		if (seen[i].finished && strcmp(seen[i].id, id) == 0) {
			at = i;
			n++;
		}
	}
	ck_assert_msg(n == 1, "write %s finished %d times", id, n);
	return at;
}

/* The first message of a type for write id that handle hh saw, or NULL. */
static const struct seen *
find_by(aish_t *hh, aish_msg_type_t type, const char *id)
{
	int	i;

	for (i = 0; i < n_seen; i++) {
		if (seen[i].handle == hh && seen[i].type == type &&
		    strcmp(seen[i].id, id) == 0)
			return &seen[i];
	}
	return NULL;
}

/* ---- the handle ---- */

static aish_t	*h;

/* An HTTP result kept for the test. */
struct result {
	int		 done;
	aish_error_t	 err;
	long		 status;
	char		 socket_id[80];
	char		 body[8192];
};

/* Copies an HTTP result. */
static void
on_result(aish_t *hh, const aish_result_t *res, void *user)
{
	struct result	*r = user;

	r->err = res->err;
	r->status = res->status;
	snprintf(r->socket_id, sizeof r->socket_id, "%s",
	    res->socket_id ? res->socket_id : "");
	snprintf(r->body, sizeof r->body, "%.*s", (int)res->body_len,
	    res->body ? res->body : "");
	r->done = 1;
}

/* An HTTP result's error and message. */
struct failed_result {
	int		 done;
	aish_error_t	 err;
	char		 message[1024];
};

/* Keeps an HTTP result's error and message. */
static void
on_result_message(aish_t *hh, const aish_result_t *res, void *user)
{
	struct failed_result	*got = user;

	got->err = res->err;
	snprintf(got->message, sizeof got->message, "%s",
	    res->message ? res->message : "");
	got->done = 1;
}

/* Makes the handle for url with the recording callbacks. */
static aish_t *
make_handle(const char *url)
{
	aish_options_t	 o;
	aish_t		*hh;

	memset(&o, 0, sizeof o);
	o.url = url;
	o.on_message = on_message;
	o.on_state = on_state;
	o.http_timeout_ms = 5000;
	ck_assert_int_eq(aish_new(&o, &hh), AISH_OK);
	return hh;
}

/* Fixture: a fresh server and a handle on it. */
static void
setup(void)
{
	char	tmpl[] = "/tmp/check-libaish.XXXXXX";

	lws_set_log_level(LLL_ERR, NULL);
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(state_dir, sizeof state_dir, "%s", tmpl);
	n_seen = 0;
	n_states_up = 0;
	server_start(0);
	h = make_handle(server_url);
}

/* Fixture end: frees the handle, kills the server, removes its state. */
static void
teardown(void)
{
	char	cmd[300];

	aish_free(h);
	h = NULL;
	server_kill();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", state_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", state_dir);
}

/* State for wait_final. */
static const char	*wait_id;
static int		 wait_finals;
static volatile int	 wait_done;

/* Services the loop until n finals (read or error) arrived for id. */
static void
wait_for_finals(const char *id, int n)
{
	lws_usec_t	end = lws_now_usecs() + WAIT_MS * LWS_US_PER_MS;

	wait_id = id;
	wait_finals = n;
	while (count(AISH_MSG_READ, id) + count(AISH_MSG_ERROR, id) < n) {
		ck_assert_msg(lws_now_usecs() < end,
		    "no %d final(s) for %s within %d ms", n, id, WAIT_MS);
		ck_assert_int_eq(aish_service(h, 50), AISH_OK);
	}
}

/* Services the loop for ms more (to see that nothing else comes). */
static void
linger(int ms)
{
	lws_usec_t	end = lws_now_usecs() + ms * LWS_US_PER_MS;

	while (lws_now_usecs() < end)
		ck_assert_int_eq(aish_service(h, 20), AISH_OK);
}

/* Runs the loop until an HTTP result came. */
static void
wait_result(struct result *r)
{
	ck_assert_int_eq(aish_run_until(h, &r->done, WAIT_MS), AISH_OK);
}

/* Creates a socket of ai with an echo delay; returns its id in out. */
static void
create_slow(const char *ai, int delay_ms, int chunks, char *out)
{
	aish_create_opts_t	 co;
	struct result		 r;
	char			 ctx[128];

	memset(&co, 0, sizeof co);
	memset(&r, 0, sizeof r);
	snprintf(ctx, sizeof ctx, "{\"echo\":{\"delay_ms\":%d,\"chunks\":%d}}",
	    delay_ms, chunks);
	co.ai_name = ai;
	co.context_json = ctx;
	ck_assert_int_eq(aish_create(h, &co, on_result, &r), AISH_OK);
	wait_result(&r);
	ck_assert_int_eq(r.err, AISH_OK);
	ck_assert_str_ne(r.socket_id, "");
	strcpy(out, r.socket_id);
}

/* ---- tests without a server ---- */

/* Every error code has its own sentence. */
START_TEST(test_strerror)
{
	int		 i, j;
	const char	*a, *b;

	for (i = 0; i < AISH_E_COUNT; i++) {
		a = aish_strerror((aish_error_t)i);
		ck_assert_ptr_nonnull(a);
		ck_assert_int_gt(strlen(a), 3);
		for (j = 0; j < i; j++) {
			b = aish_strerror((aish_error_t)j);
			ck_assert_msg(strcmp(a, b) != 0, "codes %d and %d "
			    "share \"%s\"", i, j, a);
		}
	}
	ck_assert_str_eq(aish_strerror(AISH_E_COUNT), "unknown error");
	ck_assert_str_eq(aish_strerror((aish_error_t)-1), "unknown error");
	ck_assert_int_eq(aish_error_from_code("not_found"), AISH_E_NOT_FOUND);
	ck_assert_int_eq(aish_error_from_code("unknown_socket"),
	    AISH_E_NOT_FOUND);
	ck_assert_int_eq(aish_error_from_code("provider_error"),
	    AISH_E_PROVIDER);
	ck_assert_int_eq(aish_error_from_code("cancelled"), AISH_E_CANCELLED);
	ck_assert_int_eq(aish_error_from_code("whatever"), AISH_E_SERVER);
	ck_assert_int_eq(aish_error_from_code(NULL), AISH_E_INVALID);
}
END_TEST

/* Names follow [A-Za-z0-9._-]{1,64}. */
START_TEST(test_names)
{
	char	long_name[80];

	ck_assert(aish_valid_name("apollo"));
	ck_assert(aish_valid_name("team-chat-all"));
	ck_assert(aish_valid_name("a.b_c-9"));
	ck_assert(!aish_valid_name(NULL));
	ck_assert(!aish_valid_name(""));
	ck_assert(!aish_valid_name("."));
	ck_assert(!aish_valid_name(".."));
	ck_assert(!aish_valid_name("a/b"));
	ck_assert(!aish_valid_name("a b"));
	memset(long_name, 'x', 65);
	long_name[65] = '\0';
	ck_assert(!aish_valid_name(long_name));
	long_name[64] = '\0';
	ck_assert(aish_valid_name(long_name));
}
END_TEST

/* Bad arguments give AISH_E_INVALID and never crash. */
START_TEST(test_bad_arguments)
{
	aish_options_t	 o;
	aish_t		*hh;
	char		 id[AISH_ID_SIZE], big_id[200];
	struct result	 r;

	ck_assert_int_eq(aish_new(NULL, NULL), AISH_E_INVALID);
	memset(&o, 0, sizeof o);
	o.url = "ftp://example";
	ck_assert_int_eq(aish_new(&o, &hh), AISH_E_INVALID);
	ck_assert_ptr_null(hh);
	o.url = "not a url";
	ck_assert_int_eq(aish_new(&o, &hh), AISH_E_INVALID);
	o.url = "http://127.0.0.1:1";
	o.token = "bad\ntoken";
	ck_assert_int_eq(aish_new(&o, &hh), AISH_E_INVALID);
	o.token = NULL;
	ck_assert_int_eq(aish_new(&o, &hh), AISH_OK);

	ck_assert_int_eq(aish_write(NULL, "apollo", "x", NULL, id),
	    AISH_E_INVALID);
	ck_assert_int_eq(aish_write(hh, NULL, "x", NULL, id), AISH_E_INVALID);
	ck_assert_int_eq(aish_write(hh, "bad name", "x", NULL, id),
	    AISH_E_INVALID);
	ck_assert_int_eq(aish_write(hh, "../x", "x", NULL, id),
	    AISH_E_INVALID);
	ck_assert_int_eq(aish_write(hh, "apollo", NULL, NULL, id),
	    AISH_E_INVALID);
	ck_assert_int_eq(aish_write(hh, "apollo", "x", "bad id", id),
	    AISH_E_INVALID);
	ck_assert_int_eq(aish_write(hh, "apollo", "x", "", id),
	    AISH_E_INVALID);
	memset(big_id, 'a', 150);
	big_id[150] = '\0';
	ck_assert_int_eq(aish_write(hh, "apollo", "x", big_id, id),
	    AISH_E_INVALID);
	ck_assert_int_eq(aish_write_len(hh, "apollo", "a\0b", 3, NULL, id),
	    AISH_E_INVALID);
	ck_assert_int_eq(aish_write_flags(hh, "apollo", "x", 1, 0x80, NULL,
	    id), AISH_E_INVALID);
	ck_assert_int_eq(aish_write_flags(hh, "apollo", NULL, 0,
	    AISH_WRITE_FRESH, NULL, id), AISH_E_INVALID);
	ck_assert_int_eq(aish_write_flags(hh, "a b", "x", 1, AISH_WRITE_FRESH,
	    NULL, id), AISH_E_INVALID);
	ck_assert_int_eq(aish_history(hh, "a b", 0, 0, on_result, &r),
	    AISH_E_INVALID);
	ck_assert_int_eq(aish_history(NULL, "apollo", 0, 0, on_result, &r),
	    AISH_E_INVALID);
	ck_assert_int_eq(aish_team_chat(hh, NULL, NULL, id), AISH_E_INVALID);
	ck_assert_int_eq(aish_team_chat(hh, "hi", "all", id), AISH_E_INVALID);
	ck_assert_int_eq(aish_team_chat(hh, "hi", "a/b", id), AISH_E_INVALID);
	ck_assert_int_eq(aish_team_chat_flags(hh, "hi", NULL, 0x80, id),
	    AISH_E_INVALID);
	ck_assert_int_eq(aish_write_stream(hh, "apollo", "wav", "x", 1, NULL,
	    id), AISH_E_INVALID);
	ck_assert_int_eq(aish_write_stream(hh, "apollo", "audio/\"x", "x", 1,
	    NULL, id), AISH_E_INVALID);
	ck_assert_int_eq(aish_write_stream(hh, "apollo", NULL, "x", 1, NULL,
	    id), AISH_E_INVALID);
	ck_assert_int_eq(aish_write_stream(hh, "apollo", "audio/wav", NULL, 1,
	    NULL, id), AISH_E_INVALID);
	ck_assert_int_eq(aish_write_stream(hh, "a b", "audio/wav", "x", 1,
	    NULL, id), AISH_E_INVALID);
	ck_assert_int_eq(aish_write_stream(hh, "apollo", "audio/wav", "x",
	    (size_t)64 * 1024 * 1024 + 1, NULL, id), AISH_E_TOO_LARGE);
	ck_assert_int_eq(aish_cancel(hh, "apollo", NULL), AISH_E_INVALID);
	ck_assert_int_eq(aish_cancel(hh, "apollo", "x y"), AISH_E_INVALID);
	ck_assert_int_eq(aish_cancel(NULL, "apollo", "x"), AISH_E_INVALID);
	ck_assert_int_eq(aish_open(hh, ""), AISH_E_INVALID);
	ck_assert_int_eq(aish_ping(hh, NULL), AISH_E_INVALID);
	ck_assert_int_eq(aish_close(hh, "a b"), AISH_E_INVALID);
	ck_assert_int_eq(aish_create(hh, NULL, on_result, &r), AISH_E_INVALID);
	ck_assert_int_eq(aish_delete(hh, "no/such", on_result, &r),
	    AISH_E_INVALID);
	ck_assert_int_eq(aish_reset(NULL, "apollo", on_result, &r),
	    AISH_E_INVALID);
	ck_assert_int_eq(aish_get(hh, NULL, on_result, &r), AISH_E_INVALID);
	ck_assert_int_eq(aish_read_queue(hh, "apollo", -1, on_result, &r),
	    AISH_E_INVALID);
	ck_assert_int_eq(aish_request(hh, "GET", "no-slash", NULL, on_result,
	    &r), AISH_E_INVALID);
	ck_assert_int_eq(aish_request(hh, "get me", "/x", NULL, on_result,
	    &r), AISH_E_INVALID);
	ck_assert_int_eq(aish_list(NULL, on_result, &r), AISH_E_INVALID);
	ck_assert_int_eq(aish_service(NULL, 0), AISH_E_INVALID);
	ck_assert_int_eq(aish_service(hh, -5), AISH_E_INVALID);
	ck_assert_int_eq(aish_run_until(hh, NULL, 10), AISH_E_INVALID);
	ck_assert_int_eq(aish_pending(hh, NULL), 0);
	ck_assert_int_eq(aish_socket_state(hh, "apollo", NULL, NULL),
	    AISH_CONN_IDLE);
	ck_assert_int_eq(aish_write(hh, "apollo", "x", "c-1", id), AISH_OK);
	ck_assert_str_eq(id, "c-1");
	ck_assert_int_eq(aish_pending(hh, "apollo"), 1);
	aish_free(hh);
	aish_free(NULL);
}
END_TEST

/* A server that does not answer: the HTTP call says so, the WebSocket
 * retries, and the caller learns how long it has been down. */
START_TEST(test_unreachable)
{
	struct result		 r;
	char			 url[64];
	unsigned		 failures = 0;
	int64_t			 down_ms = 0;
	lws_usec_t		 end;

	lws_set_log_level(LLL_ERR, NULL);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", free_port());
	h = make_handle(url);
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(aish_health(h, on_result, &r), AISH_OK);
	wait_result(&r);
	ck_assert_int_eq(r.err, AISH_E_UNREACHABLE);
	ck_assert_int_eq(aish_open(h, "apollo"), AISH_OK);
	end = lws_now_usecs() + 5 * LWS_USEC_PER_SEC;
	while (failures < 3 && lws_now_usecs() < end) {
		aish_service(h, 50);
		aish_socket_state(h, "apollo", &failures, &down_ms);
	}
	ck_assert_uint_ge(failures, 3);
	ck_assert_int_gt(down_ms, 100);
	ck_assert_int_eq(aish_socket_state(h, "apollo", NULL, NULL),
	    AISH_CONN_RETRYING);
	aish_free(h);
	h = NULL;
}
END_TEST

/* The RETRYING states a handle told, and the failure count of the
 * first (see on_state_first_retry). */
static aish_conn_state_t	first_retry_state;
static unsigned			first_retry_failures;
static int			n_retrying;

/* Records the first RETRYING state and its failure count. */
static void
on_state_first_retry(aish_t *hh, const char *socket_id,
    aish_conn_state_t state, unsigned failures, int64_t down_ms, void *user)
{
	if (state != AISH_CONN_RETRYING)
		return;
	if (n_retrying++ == 0) {
		first_retry_state = state;
		first_retry_failures = failures;
	}
}

/* A list of URLs: what is a valid one, how aish_url() and
 * aish_node_url() give it, and, with nothing behind any of them, an HTTP
 * error that names every URL and a WebSocket that tries every node once
 * before it waits out the back-off. */
START_TEST(test_url_list)
{
	aish_options_t	 o;
	aish_t		*hh;
	struct result	 r;
	char		 list[2048], url[64], want[256];
	const char	*bad[] = { "http://127.0.0.1:1,", ",http://127.0.0.1:1",
	    "http://127.0.0.1:1,,http://127.0.0.1:2", "http://127.0.0.1:1, ",
	    "http://127.0.0.1:1,ftp://127.0.0.1:2",
	    "http://127.0.0.1:1,http://u:p@127.0.0.1:2",
	    "http://127.0.0.1:1,127.0.0.1:2" };
	size_t		 i;
	int		 p1 = free_port(), p2 = free_port();
	lws_usec_t	 end;

	memset(&o, 0, sizeof o);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		o.url = bad[i];
		ck_assert_msg(aish_new(&o, &hh) == AISH_E_INVALID, "%s taken",
		    bad[i]);
		ck_assert_ptr_null(hh);
	}
	/* Up to AISH_MAX_URLS. */
	list[0] = '\0';
	for (i = 0; i < AISH_MAX_URLS; i++) {
		snprintf(url, sizeof url, "%shttp://127.0.0.1:%zu",
		    i ? "," : "", 1 + i);
		strcat(list, url);
	}
	o.url = list;
	ck_assert_int_eq(aish_new(&o, &hh), AISH_OK);
	ck_assert_str_eq(aish_url(hh), list);
	aish_free(hh);
	strcat(list, ",http://127.0.0.1:99");
	ck_assert_int_eq(aish_new(&o, &hh), AISH_E_INVALID);
	/* One URL: as before. */
	o.url = "http://127.0.0.1:1/";
	ck_assert_int_eq(aish_new(&o, &hh), AISH_OK);
	ck_assert_str_eq(aish_url(hh), "http://127.0.0.1:1");
	ck_assert_str_eq(aish_node_url(hh), "http://127.0.0.1:1");
	aish_free(hh);
	ck_assert_ptr_null(aish_node_url(NULL));

	/* Two dead nodes, written with blanks and trailing slashes. */
	snprintf(list, sizeof list, " http://127.0.0.1:%d/ , "
	    "http://127.0.0.1:%d ", p1, p2);
	memset(&o, 0, sizeof o);
	o.url = list;
	o.on_state = on_state_first_retry;
	o.http_timeout_ms = 5000;
	n_retrying = 0;
	ck_assert_int_eq(aish_new(&o, &h), AISH_OK);
	snprintf(want, sizeof want, "http://127.0.0.1:%d,http://127.0.0.1:%d",
	    p1, p2);
	ck_assert_str_eq(aish_url(h), want);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", p1);
	ck_assert_str_eq(aish_node_url(h), url);
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(aish_health(h, on_result, &r), AISH_OK);
	wait_result(&r);
	ck_assert_int_eq(r.err, AISH_E_UNREACHABLE);
	ck_assert_int_eq(aish_open(h, "apollo"), AISH_OK);
	end = lws_now_usecs() + 5 * LWS_USEC_PER_SEC;
	while (n_retrying == 0 && lws_now_usecs() < end)
		aish_service(h, 50);
	ck_assert_int_eq(n_retrying, 1);
	ck_assert_int_eq(first_retry_state, AISH_CONN_RETRYING);
	/* Both nodes failed before the first back-off. */
	ck_assert_uint_eq(first_retry_failures, 2);
	aish_free(h);
	h = NULL;
}
END_TEST

/* The message of an HTTP request that no node answered names them. */
START_TEST(test_url_list_message)
{
	aish_options_t		 o;
	struct failed_result	 got;
	char			 list[128], want[200];
	int			 p1 = free_port(), p2 = free_port();

	memset(&got, 0, sizeof got);
	snprintf(list, sizeof list, "http://127.0.0.1:%d,http://127.0.0.1:%d",
	    p1, p2);
	memset(&o, 0, sizeof o);
	o.url = list;
	ck_assert_int_eq(aish_new(&o, &h), AISH_OK);
	ck_assert_int_eq(aish_list(h, on_result_message, &got), AISH_OK);
	ck_assert_int_eq(aish_run_until(h, &got.done, WAIT_MS), AISH_OK);
	ck_assert_int_eq(got.err, AISH_E_UNREACHABLE);
	snprintf(want, sizeof want, "no server answered (tried %s)", list);
	ck_assert_msg(strstr(got.message, want) != NULL, "message: %s",
	    got.message);
	snprintf(want, sizeof want, "127.0.0.1:%d", p2);
	ck_assert_msg(strstr(got.message, want) != NULL, "message: %s",
	    got.message);
	aish_free(h);
	h = NULL;
}
END_TEST

/* ---- tests with a server ---- */

/* The first node of the list does not answer: the HTTP request and the
 * WebSocket go to the next at once, which answers; no back-off comes. */
START_TEST(test_url_list_next_node)
{
	aish_options_t	 o;
	struct result	 r;
	char		 list[256], id[AISH_ID_SIZE];
	char		 dead[64];

	snprintf(dead, sizeof dead, "http://127.0.0.1:%d", free_port());
	snprintf(list, sizeof list, "%s,%s", dead, server_url);
	aish_free(h);
	memset(&o, 0, sizeof o);
	o.url = list;
	o.on_message = on_message;
	o.on_state = on_state_first_retry;
	o.http_timeout_ms = 5000;
	n_retrying = 0;
	ck_assert_int_eq(aish_new(&o, &h), AISH_OK);
	/* A write first: its WebSocket finds the dead node, then the
	 * server. */
	ck_assert_int_eq(aish_write(h, "metis", "one", NULL, id), AISH_OK);
	wait_for_finals(id, 1);
	ck_assert_str_eq(find(AISH_MSG_READ, id)->content, "metis: one");
	ck_assert_int_eq(count(AISH_MSG_READ, id), 1);
	ck_assert_str_eq(aish_node_url(h), server_url);
	ck_assert_int_eq(n_retrying, 0);
	aish_free(h);

	/* An HTTP request first, on a new handle. */
	ck_assert_int_eq(aish_new(&o, &h), AISH_OK);
	ck_assert_str_eq(aish_node_url(h), dead);
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(aish_list(h, on_result, &r), AISH_OK);
	wait_result(&r);
	ck_assert_int_eq(r.err, AISH_OK);
	ck_assert_ptr_nonnull(strstr(r.body, "\"metis\""));
	ck_assert_str_eq(aish_node_url(h), server_url);
}
END_TEST

/* create, list, get, reset, delete, health over HTTP. */
START_TEST(test_registry)
{
	struct result	r;
	char		id[80];

	create_slow("apollo", 0, 1, id);
	ck_assert_str_eq(id, "apollo-1");

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(aish_list(h, on_result, &r), AISH_OK);
	wait_result(&r);
	ck_assert_int_eq(r.err, AISH_OK);
	ck_assert_ptr_nonnull(strstr(r.body, "\"apollo-1\""));
	ck_assert_ptr_nonnull(strstr(r.body, "\"team-chat-all\""));

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(aish_get(h, "apollo-1", on_result, &r), AISH_OK);
	wait_result(&r);
	ck_assert_int_eq(r.err, AISH_OK);
	ck_assert_ptr_nonnull(strstr(r.body, "delay_ms"));

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(aish_reset(h, "apollo-1", on_result, &r), AISH_OK);
	wait_result(&r);
	ck_assert_int_eq(r.err, AISH_OK);

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(aish_delete(h, "apollo-1", on_result, &r), AISH_OK);
	wait_result(&r);
	ck_assert_int_eq(r.err, AISH_OK);

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(aish_get(h, "apollo-1", on_result, &r), AISH_OK);
	wait_result(&r);
	ck_assert_int_eq(r.err, AISH_E_NOT_FOUND);
	ck_assert_int_eq(r.status, 404);

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(aish_delete(h, "apollo", on_result, &r), AISH_OK);
	wait_result(&r);
	ck_assert_int_eq(r.err, AISH_E_FORBIDDEN);

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(aish_health(h, on_result, &r), AISH_OK);
	wait_result(&r);
	ck_assert_int_eq(r.err, AISH_OK);
	ck_assert_ptr_nonnull(strstr(r.body, "\"ok\""));
}
END_TEST

/* Reads athena's history (limit, before as for aish_history) into r. */
static void
history(int limit, int64_t before, struct result *r)
{
	memset(r, 0, sizeof *r);
	ck_assert_int_eq(aish_history(h, "athena", limit, before, on_result,
	    r), AISH_OK);
	wait_result(r);
}

/* A fresh write (and a fresh team chat) is answered and leaves no turn in
 * the history, also when re-sent after a reconnect; aish_history pages
 * through the turns with limit and before. */
START_TEST(test_fresh_history)
{
	char			 id[AISH_ID_SIZE], id2[AISH_ID_SIZE];
	char			 id3[AISH_ID_SIZE], want[256], url[64];
	const struct seen	*rd, *rd2, *ack;
	struct result		 r;
	int			 port = free_port();

	/* Written while the server is down: sent once it is up, after
	 * failed attempts. */
	aish_free(h);
	server_kill();
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	h = make_handle(url);
	ck_assert_int_eq(aish_write(h, "athena", "kept", NULL, id), AISH_OK);
	ck_assert_int_eq(aish_write_flags(h, "athena", "one-shot", 8,
	    AISH_WRITE_FRESH, NULL, id2), AISH_OK);
	linger(300);
	server_start(port);
	wait_for_finals(id, 1);
	wait_for_finals(id2, 1);
	rd2 = find(AISH_MSG_READ, id2);
	ck_assert_ptr_nonnull(rd2);
	ck_assert_str_eq(rd2->content, "athena: one-shot");
	ck_assert_int_eq(aish_team_chat_flags(h, "team one-shot", NULL,
	    AISH_TEAM_FRESH, id3), AISH_OK);
	lws_usec_t end = lws_now_usecs() + WAIT_MS * LWS_US_PER_MS;
	while ((ack = find(AISH_MSG_ACK, id3)) == NULL &&
	    lws_now_usecs() < end)
		aish_service(h, 50);
	ck_assert_ptr_nonnull(ack);
	wait_for_finals(id3, (int)ack->n_members);
	rd = find(AISH_MSG_READ, id);

	history(0, 0, &r);
	ck_assert_int_eq(r.err, AISH_OK);
	snprintf(want, sizeof want, "{\"turns\":[{\"role\":\"user\","
	    "\"content\":\"kept\",\"seq\":%lld,", (long long)rd->seq - 1);
	ck_assert_msg(strncmp(r.body, want, strlen(want)) == 0, "%s", r.body);
	snprintf(want, sizeof want, "{\"role\":\"assistant\","
	    "\"content\":\"athena: kept\",\"seq\":%lld,", (long long)rd->seq);
	ck_assert_msg(strstr(r.body, want) != NULL, "%s", r.body);
	ck_assert_msg(strstr(r.body, "one-shot") == NULL, "%s", r.body);
	history(1, 0, &r);
	ck_assert_msg(strstr(r.body, "\"role\":\"user\"") == NULL &&
	    strstr(r.body, "athena: kept") != NULL, "%s", r.body);
	history(5, rd->seq, &r);
	ck_assert_msg(strstr(r.body, "\"content\":\"kept\"") != NULL &&
	    strstr(r.body, "athena: kept") == NULL, "%s", r.body);
	history(0, 1, &r);
	ck_assert_str_eq(r.body, "{\"turns\":[]}");
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(aish_history(h, "nosuch", 0, 0, on_result, &r),
	    AISH_OK);
	wait_result(&r);
	ck_assert_int_eq(r.err, AISH_E_NOT_FOUND);
	ck_assert_int_eq(r.status, 404);
}
END_TEST

/* A write gets its ack, its deltas and exactly one read. */
START_TEST(test_write_read)
{
	char			 id[AISH_ID_SIZE], id2[AISH_ID_SIZE];
	char			 sock[80], joined[256] = "";
	const struct seen	*ack, *rd;
	int			 i, ack_at = -1, read_at = -1;

	ck_assert_int_eq(aish_write(h, "athena", "hi", NULL, id), AISH_OK);
	ck_assert_int_gt(strlen(id), 4);
	wait_for_finals(id, 1);
	ack = find(AISH_MSG_ACK, id);
	rd = find(AISH_MSG_READ, id);
	ck_assert_ptr_nonnull(ack);
	ck_assert_ptr_nonnull(rd);
	ck_assert_str_eq(rd->content, "athena: hi");
	ck_assert_str_eq(rd->socket_id, "athena");
	/* The read finishes the write, the ack does not. */
	ck_assert_int_eq(ack->finished, 0);
	ck_assert_int_eq(seen[finished_at(id)].type, AISH_MSG_READ);
	ck_assert_int_ge(rd->seq, 0);
	ck_assert_int_eq(aish_pending(h, NULL), 0);
	ck_assert_int_eq(aish_socket_state(h, "athena", NULL, NULL),
	    AISH_CONN_UP);

	/* Streamed: the deltas joined are the read. */
	create_slow("hermes", 200, 3, sock);
	ck_assert_int_eq(aish_write(h, sock, "one two three", "my-id.1", id2),
	    AISH_OK);
	ck_assert_str_eq(id2, "my-id.1");
	wait_for_finals(id2, 1);
	for (i = 0; i < n_seen; i++) {
		if (strcmp(seen[i].id, id2) != 0)
			continue;
		if (seen[i].type == AISH_MSG_ACK)
			ack_at = i;
		if (seen[i].type == AISH_MSG_DELTA)
			strcat(joined, seen[i].content);
		if (seen[i].type == AISH_MSG_READ)
			read_at = i;
	}
	ck_assert_int_ge(ack_at, 0);
	ck_assert_int_gt(read_at, ack_at);
	ck_assert_int_eq(count(AISH_MSG_DELTA, id2), 3);
	ck_assert_str_eq(joined, "hermes: one two three");
	ck_assert_str_eq(seen[read_at].content, joined);
	ck_assert_int_eq(finished_at(id2), read_at);
	/* One connection per socket, reused. */
	ck_assert_int_eq(n_states_up, 2);
}
END_TEST

/* A write to a socket the server does not know ends with a local error. */
START_TEST(test_unknown_socket)
{
	char			 id[AISH_ID_SIZE];
	const struct seen	*e;

	ck_assert_int_eq(aish_write(h, "nosuch", "hi", NULL, id), AISH_OK);
	wait_for_finals(id, 1);
	e = find(AISH_MSG_ERROR, id);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->code, "unknown_socket");
	ck_assert_int_eq(e->local, 1);
	ck_assert_int_eq(e->finished, 1);
	ck_assert_int_eq(aish_socket_state(h, "nosuch", NULL, NULL),
	    AISH_CONN_FAILED);
	ck_assert_int_eq(aish_pending(h, NULL), 0);
}
END_TEST

/* Team chat: the ack names the members, one read comes from each. */
START_TEST(test_team_chat)
{
	char			 id[AISH_ID_SIZE], want[96];
	const struct seen	*ack;
	int			 i, members, reads = 0, last = -1, done;

	ck_assert_int_eq(aish_team_chat(h, "hello team", NULL, id), AISH_OK);
	lws_usec_t end = lws_now_usecs() + WAIT_MS * LWS_US_PER_MS;
	while ((ack = find(AISH_MSG_ACK, id)) == NULL &&
	    lws_now_usecs() < end)
		aish_service(h, 50);
	ck_assert_ptr_nonnull(ack);
	members = (int)ack->n_members;
	ck_assert_int_ge(members, 15);
	wait_for_finals(id, members);
	for (i = 0; i < n_seen; i++) {
		if (seen[i].type != AISH_MSG_READ || strcmp(seen[i].id, id))
			continue;
		reads++;
		snprintf(want, sizeof want, "team-chat-from-%s",
		    seen[i].socket_id);
		ck_assert_str_eq(seen[i].header, want);
		ck_assert_str_eq(seen[i].conn, "team-chat-all");
		last = i;
	}
	ck_assert_int_eq(reads, members);
	/* The last member's read, and it alone, finishes the write: the
	 * caller need not count the members. */
	done = finished_at(id);
	ck_assert_int_eq(done, last);
	ck_assert_int_eq(ack->finished, 0);
	/* The write is finished once every member answered. */
	ck_assert_int_eq(aish_pending(h, NULL), 0);
	linger(200);
	ck_assert_int_eq(count(AISH_MSG_READ, id), members);
}
END_TEST

/* A binary stream reaches the server in frames: bytes with NULs, several
 * frames long.  The echo provider takes no media, so the stream ends with
 * the server's unsupported_media error (the exec success is in
 * tests/cli-groups.sh); a text write after it still works. */
START_TEST(test_stream)
{
	char			 id[AISH_ID_SIZE], id2[AISH_ID_SIZE];
	const struct seen	*e, *rd;
	static char		 data[600 * 1024];

	memset(data, 0, sizeof data);
	data[1] = 'x';
	ck_assert_int_eq(aish_write_stream(h, "athena", "audio/wav", data,
	    sizeof data, "st-1", id), AISH_OK);
	ck_assert_str_eq(id, "st-1");
	ck_assert_int_eq(aish_write(h, "athena", "after", NULL, id2), AISH_OK);
	wait_for_finals(id, 1);
	wait_for_finals(id2, 1);
	e = find(AISH_MSG_ERROR, id);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->code, "unsupported_media");
	ck_assert_int_eq(e->local, 0);
	rd = find(AISH_MSG_READ, id2);
	ck_assert_ptr_nonnull(rd);
	ck_assert_str_eq(rd->content, "athena: after");
	ck_assert_int_eq(aish_pending(h, NULL), 0);
}
END_TEST

/* A reply that reaches the handle on two connections is delivered once. */
START_TEST(test_duplicate_dropped)
{
	char	id[AISH_ID_SIZE], ping_id[AISH_ID_SIZE];
	int	i, reads_any = 0;

	/* Connect team-chat-all first: athena's replies reach it too. */
	ck_assert_int_eq(aish_team_chat(h, "warm up", NULL, ping_id), AISH_OK);
	lws_usec_t end = lws_now_usecs() + WAIT_MS * LWS_US_PER_MS;
	while (find(AISH_MSG_ACK, ping_id) == NULL && lws_now_usecs() < end)
		aish_service(h, 50);
	ck_assert_ptr_nonnull(find(AISH_MSG_ACK, ping_id));
	wait_for_finals(ping_id, (int)find(AISH_MSG_ACK, ping_id)->n_members);
	n_seen = 0;
	ck_assert_int_eq(aish_write(h, "athena", "once", NULL, id), AISH_OK);
	wait_for_finals(id, 1);
	linger(300);
	ck_assert_int_eq(count(AISH_MSG_READ, id), 1);
	for (i = 0; i < n_seen; i++)
		if (seen[i].type == AISH_MSG_READ)
			reads_any++;
	ck_assert_int_eq(reads_any, 1);
}
END_TEST

/* Cancel: on the server while it runs, locally before it was sent. */
START_TEST(test_cancel)
{
	char			 id[AISH_ID_SIZE], sock[80];
	const struct seen	*e;

	create_slow("metis", 3000, 1, sock);
	ck_assert_int_eq(aish_write(h, sock, "long job", NULL, id), AISH_OK);
	lws_usec_t end = lws_now_usecs() + WAIT_MS * LWS_US_PER_MS;
	while (find(AISH_MSG_ACK, id) == NULL && lws_now_usecs() < end)
		aish_service(h, 20);
	ck_assert_ptr_nonnull(find(AISH_MSG_ACK, id));
	ck_assert_int_eq(aish_cancel(h, sock, id), AISH_OK);
	wait_for_finals(id, 1);
	e = find(AISH_MSG_ERROR, id);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->code, "cancelled");
	ck_assert_int_eq(e->local, 0);
	ck_assert_int_eq(e->finished, 1);
	ck_assert_int_eq(count(AISH_MSG_READ, id), 0);

	/* Not yet sent: dropped at once. */
	server_kill();
	ck_assert_int_eq(aish_write(h, "numa", "never", NULL, id), AISH_OK);
	ck_assert_int_eq(aish_cancel(h, "numa", id), AISH_OK);
	e = find(AISH_MSG_ERROR, id);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->code, "cancelled");
	ck_assert_int_eq(e->local, 1);
	ck_assert_int_eq(e->finished, 1);
	ck_assert_int_eq(aish_pending(h, "numa"), 0);
}
END_TEST

/* Writes made before the server is up are delivered once it is. */
START_TEST(test_write_before_server)
{
	char	id[AISH_ID_SIZE], id2[AISH_ID_SIZE], url[64];
	int	port = free_port();

	aish_free(h);
	server_kill();
	snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
	h = make_handle(url);
	ck_assert_int_eq(aish_write(h, "sophia", "early", NULL, id), AISH_OK);
	ck_assert_int_eq(aish_write(h, "sophia", "bird", NULL, id2), AISH_OK);
	linger(400);
	ck_assert_int_eq(aish_pending(h, "sophia"), 2);
	ck_assert_int_eq(aish_socket_state(h, "sophia", NULL, NULL),
	    AISH_CONN_RETRYING);
	server_start(port);
	wait_for_finals(id, 1);
	wait_for_finals(id2, 1);
	ck_assert_str_eq(find(AISH_MSG_READ, id)->content, "sophia: early");
	ck_assert_str_eq(find(AISH_MSG_READ, id2)->content, "sophia: bird");
	/* In order. */
	ck_assert_int_lt(find(AISH_MSG_READ, id)->seq,
	    find(AISH_MSG_READ, id2)->seq);
	ck_assert_int_eq(aish_pending(h, NULL), 0);
}
END_TEST

/* The server is killed with -9 in the middle of delayed writes and
 * restarted: every reply arrives, exactly once. */
START_TEST(test_server_restart)
{
	char	ids[3][AISH_ID_SIZE], sock[80];
	int	i, port = server_port;

	create_slow("prometheus", 1200, 2, sock);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(aish_write(h, sock, i == 0 ? "a" : i == 1 ?
		    "b" : "c", NULL, ids[i]), AISH_OK);
	lws_usec_t end = lws_now_usecs() + WAIT_MS * LWS_US_PER_MS;
	while (find(AISH_MSG_ACK, ids[2]) == NULL && lws_now_usecs() < end)
		aish_service(h, 20);
	ck_assert_ptr_nonnull(find(AISH_MSG_ACK, ids[2]));
	linger(200);
	ck_assert_int_eq(count(AISH_MSG_READ, ids[0]), 0);
	server_kill();
	linger(300);
	ck_assert_int_eq(aish_pending(h, sock), 3);
	server_start(port);
	for (i = 0; i < 3; i++)
		wait_for_finals(ids[i], 1);
	linger(1500);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(count(AISH_MSG_READ, ids[i]), 1);
		ck_assert_int_eq(count(AISH_MSG_ERROR, ids[i]), 0);
	}
	ck_assert_str_eq(find(AISH_MSG_READ, ids[1])->content,
	    "prometheus: b");
	ck_assert_int_eq(aish_pending(h, NULL), 0);
	ck_assert_int_eq(n_states_up, 2);
}
END_TEST

/* Services two handles until hh saw a message of type for id. */
static const struct seen *
wait_seen(aish_t *hh, aish_t *other, aish_msg_type_t type, const char *id)
{
	lws_usec_t	end = lws_now_usecs() + WAIT_MS * LWS_US_PER_MS;

	while (find_by(hh, type, id) == NULL) {
		ck_assert_msg(lws_now_usecs() < end, "no message of type %d "
		    "for %s within %d ms", (int)type, id, WAIT_MS);
		aish_service(hh, 10);
		if (other != NULL)
			aish_service(other, 10);
	}
	return find_by(hh, type, id);
}

/* A write that joins the conversation is a turn for every handle with
 * the socket open: from the server for another handle, told by libaish
 * itself to the writer once acknowledged, with the seq the history gives
 * it; a turn ends no write.  A fresh write is no turn, and its reply is
 * marked fresh. */
START_TEST(test_turns)
{
	aish_t			*peer = make_handle(server_url);
	char			 id[AISH_ID_SIZE], fid[AISH_ID_SIZE];
	const struct seen	*ack, *mine, *theirs, *rd;
	struct result		 r;
	char			 turn[160];
	lws_usec_t		 end;

	ck_assert_int_eq(aish_open(peer, "hermes"), AISH_OK);
	end = lws_now_usecs() + WAIT_MS * LWS_US_PER_MS;
	while (aish_socket_state(peer, "hermes", NULL, NULL) != AISH_CONN_UP) {
		ck_assert(lws_now_usecs() < end);
		aish_service(peer, 10);
	}
	ck_assert_int_eq(aish_write(h, "hermes", "hello there", NULL, id),
	    AISH_OK);
	ack = wait_seen(h, peer, AISH_MSG_ACK, id);
	ck_assert_int_gt(ack->seq, 0);
	mine = wait_seen(h, peer, AISH_MSG_TURN, id);
	theirs = wait_seen(peer, h, AISH_MSG_TURN, id);
	rd = wait_seen(peer, h, AISH_MSG_READ, id);
	wait_for_finals(id, 1);
	/* The writer's own turn: local, right after its ack. */
	ck_assert_int_eq(mine->local, 1);
	ck_assert_ptr_eq(mine, ack + 1);
	ck_assert_str_eq(mine->content, "hello there");
	ck_assert_str_eq(mine->role, "user");
	ck_assert_str_eq(mine->socket_id, "hermes");
	ck_assert_int_eq(mine->seq, ack->seq);
	/* The other handle's: from the server, before the reply. */
	ck_assert_int_eq(theirs->local, 0);
	ck_assert_str_eq(theirs->content, "hello there");
	ck_assert_str_eq(theirs->role, "user");
	ck_assert_int_eq(theirs->seq, ack->seq);
	ck_assert(theirs < rd);
	ck_assert_str_eq(rd->role, "assistant");
	ck_assert_int_eq(rd->fresh, 0);
	ck_assert_int_gt(rd->seq, theirs->seq);
	/* Never a reply: the write ended with its read alone. */
	ck_assert_int_eq(count(AISH_MSG_READ, id), 2);
	ck_assert_int_eq(aish_pending(h, NULL), 0);
	/* The history gives the turn the same seq. */
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(aish_history(h, "hermes", 2, 0, on_result, &r),
	    AISH_OK);
	wait_result(&r);
	snprintf(turn, sizeof turn, "{\"role\":\"user\",\"content\":"
	    "\"hello there\",\"seq\":%lld,", (long long)ack->seq);
	ck_assert_msg(strstr(r.body, turn) != NULL, "%s not in %s", turn,
	    r.body);

	/* A fresh write: no turn anywhere, its reply marked. */
	ck_assert_int_eq(aish_write_flags(h, "hermes", "once", 4,
	    AISH_WRITE_FRESH, NULL, fid), AISH_OK);
	rd = wait_seen(peer, h, AISH_MSG_READ, fid);
	wait_for_finals(fid, 2);
	ck_assert_int_eq(rd->fresh, 1);
	ck_assert_int_eq(find(AISH_MSG_ACK, fid)->seq, -1);
	ck_assert_int_eq(count(AISH_MSG_TURN, fid), 0);
	aish_free(peer);
}
END_TEST

/* A new write connects at once: a server that is back is used without
 * waiting out the back-off (here 10 s), and the writes kept meanwhile go
 * with it. */
START_TEST(test_reconnect_at_once)
{
	aish_options_t	 o;
	char		 id[AISH_ID_SIZE], id2[AISH_ID_SIZE];
	int		 port = server_port;
	unsigned	 failures = 0;
	lws_usec_t	 t0, end;

	aish_free(h);
	memset(&o, 0, sizeof o);
	o.url = server_url;
	o.on_message = on_message;
	o.on_state = on_state;
	o.retry_min_ms = 10000;
	o.retry_max_ms = 10000;
	ck_assert_int_eq(aish_new(&o, &h), AISH_OK);
	ck_assert_int_eq(aish_write(h, "metis", "one", NULL, id), AISH_OK);
	wait_for_finals(id, 1);
	server_kill();
	end = lws_now_usecs() + WAIT_MS * LWS_US_PER_MS;
	while (aish_socket_state(h, "metis", NULL, NULL) == AISH_CONN_UP) {
		ck_assert(lws_now_usecs() < end);
		aish_service(h, 10);
	}
	/* The drop, then one attempt made by a write at once (not in 10 s),
	 * which fails: the write never left (the server cannot have it). */
	ck_assert_int_eq(aish_write(h, "metis", "two", NULL, id), AISH_OK);
	while (failures == 0 && lws_now_usecs() < end) {
		aish_service(h, 10);
		aish_socket_state(h, "metis", &failures, NULL);
	}
	ck_assert_uint_gt(failures, 0);
	ck_assert_int_eq(aish_write_sent(h, "metis", id), 0);
	server_start(port);
	t0 = lws_now_usecs();
	ck_assert_int_eq(aish_write(h, "metis", "three", NULL, id2),
	    AISH_OK);
	wait_for_finals(id2, 1);
	wait_for_finals(id, 1);
	ck_assert_msg(lws_now_usecs() - t0 < 2000 * LWS_US_PER_MS,
	    "the write waited %lld ms", (long long)((lws_now_usecs() - t0) /
	    LWS_US_PER_MS));
	ck_assert_str_eq(find(AISH_MSG_READ, id)->content, "metis: two");
	ck_assert_str_eq(find(AISH_MSG_READ, id2)->content, "metis: three");
	ck_assert_int_eq(aish_write_sent(h, "metis", id), 0);	/* not kept */
}
END_TEST

/* aish_close() ends kept writes with a local "closed" error. */
START_TEST(test_close)
{
	char			 id[AISH_ID_SIZE], sock[80];
	const struct seen	*e;

	create_slow("telos", 2000, 1, sock);
	ck_assert_int_eq(aish_write(h, sock, "x", NULL, id), AISH_OK);
	lws_usec_t end = lws_now_usecs() + WAIT_MS * LWS_US_PER_MS;
	while (find(AISH_MSG_ACK, id) == NULL && lws_now_usecs() < end)
		aish_service(h, 20);
	ck_assert_int_eq(aish_close(h, sock), AISH_OK);
	e = find(AISH_MSG_ERROR, id);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->code, "closed");
	ck_assert_int_eq(e->local, 1);
	linger(200);
	ck_assert_int_eq(aish_socket_state(h, sock, NULL, NULL),
	    AISH_CONN_IDLE);
	/* Writing again opens it again. */
	ck_assert_int_eq(aish_write(h, sock, "y", NULL, id), AISH_OK);
	wait_for_finals(id, 1);
	ck_assert_str_eq(find(AISH_MSG_READ, id)->content, "telos: y");
}
END_TEST

/* Caller's loop: libaish adds a vhost to the caller's context and the
 * caller's lws_service() runs everything, HTTP results included. */
START_TEST(test_callers_loop)
{
	struct lws_context_creation_info	 info;
	struct lws_context			*ctx;
	aish_options_t				 o;
	aish_t					*hh;
	struct result				 r;
	char					 id[AISH_ID_SIZE];
	int					 i;

	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.port = CONTEXT_PORT_NO_LISTEN;
	ctx = lws_create_context(&info);
	ck_assert_ptr_nonnull(ctx);
	memset(&o, 0, sizeof o);
	o.url = server_url;
	o.context = ctx;
	o.on_message = on_message;
	ck_assert_int_eq(aish_new(&o, &hh), AISH_OK);
	ck_assert_ptr_eq(aish_context(hh), ctx);
	ck_assert_int_eq(aish_service(hh, 10), AISH_E_INVALID);
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(aish_list(hh, on_result, &r), AISH_OK);
	ck_assert_int_eq(aish_write(hh, "noesis", "loop", NULL, id), AISH_OK);
	for (i = 0; i < 400 && (!r.done || count(AISH_MSG_READ, id) == 0);
	    i++)
		lws_service(ctx, 0);
	ck_assert_int_eq(r.done, 1);
	ck_assert_int_eq(r.err, AISH_OK);
	ck_assert_ptr_nonnull(strstr(r.body, "\"noesis\""));
	ck_assert_str_eq(find(AISH_MSG_READ, id)->content, "noesis: loop");
	aish_free(hh);
	/* The caller's context outlives the handle. */
	for (i = 0; i < 5; i++)
		lws_service(ctx, -1);
	lws_context_destroy(ctx);
}
END_TEST

/* The libaish suite. */
static Suite *
libaish_suite(void)
{
	Suite	*s = suite_create("libaish");
	TCase	*tc;

	tc = tcase_create("offline");
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_unreachable);
	tcase_add_test(tc, test_url_list);
	tcase_add_test(tc, test_url_list_message);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);

	tc = tcase_create("server");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_write_read);
	tcase_add_test(tc, test_fresh_history);
	tcase_add_test(tc, test_unknown_socket);
	tcase_add_test(tc, test_team_chat);
	tcase_add_test(tc, test_stream);
	tcase_add_test(tc, test_duplicate_dropped);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_write_before_server);
	tcase_add_test(tc, test_server_restart);
	tcase_add_test(tc, test_close);
	tcase_add_test(tc, test_callers_loop);
	tcase_add_test(tc, test_turns);
	tcase_add_test(tc, test_reconnect_at_once);
	tcase_add_test(tc, test_url_list_next_node);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(libaish_suite());
	int	 failed;

	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR, NULL);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
