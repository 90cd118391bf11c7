/*
 * http.c: libaish's HTTP requests (create, list, get, delete, reset, read,
 * health, any other), made by libwebsockets' HTTP client on the handle's
 * loop: no thread and no library beyond the one the WebSockets use.
 *
 * Life of a request: start() opens a connection of its own (the request
 * says "connection: close") bound to libaish's "aish-http" protocol.  The
 * callback adds the headers, sends the body a piece per writeable
 * callback, gathers the answer and its status.  Whatever ends a request
 * (the whole answer, a failed connection, the server hanging up, the time
 * limit) goes through finish(): the request leaves its connection at
 * once, and a zero-delay timer reports it to the caller on the next turn
 * of the loop, never from inside the connection's own callbacks.
 *
 * With several node URLs, a request that no node took yet (its
 * connection failed, or did not come within the connect limit), or a GET
 * or HEAD closed before its answer, goes to the next node instead
 * (move_on()), at most once to each node, within its one time limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "aish-private.h"
#include <aish/protocol.h>

/* Bytes of a request body sent per writeable callback. */
#define BODY_CHUNK	(16 * 1024)
/* Bytes of an answer read per receive callback. */
#define READ_CHUNK	(16 * 1024)
/* The longest wait for the connection itself. */
#define CONNECT_MS	5000
/*
 * How often a request still waiting for its answer pushes back the time
 * limit libwebsockets keeps for it (the context's timeout_secs: 5 s in
 * libwebsockets 4.1 unless the caller's context says otherwise), which
 * would otherwise end a long /read wait early; the request's own limit is
 * http_timeout_ms.
 */
#define WATCH_MS	1000
#define LWS_LIMIT_S	10
/* Room for a reason: a sentence, a host and port, libwebsockets' words,
 * and the URLs tried when none answered. */
#define WHY_SIZE	(AISHI_HOST_SIZE + 256 + 1536)

/* One request in flight. */
struct aishi_http {
	struct aishi_http	*next;
	struct aish		*h;
	struct lws		*wsi;		/* NULL once finished */
	aish_result_cb		 cb;
	void			*user;
	char			*method;
	char			*rel_path;	/* as the caller gave it */
	char			*path;		/* with the node's prefix */
	size_t			 node;		/* the node being tried */
	unsigned		 tries;		/* nodes tried before it */
	char			*out;		/* LWS_PRE bytes, then the body */
	size_t			 out_len;	/* body bytes */
	size_t			 out_off;	/* body bytes sent */
	int			 has_body;
	char			*body;		/* the answer */
	size_t			 len;
	size_t			 cap;
	long			 status;
	int			 connected;	/* the request is being sent */
	int			 answered;	/* its status line came */
	int			 finished;
	aish_error_t		 err;		/* once finished */
	char			 why[WHY_SIZE];	/* what failed, or "" */
	long			 timeout_ms;
	long			 connect_ms;
	lws_usec_t		 connect_by;
	lws_usec_t		 deadline;
	char			 host[AISHI_HOST_SIZE];	/* Host: */
	lws_sorted_usec_list_t	 sul;		/* watch, then report */
};

/* Unlinks and frees a request record. */
static void
http_free(struct aishi_http *q)
{
	struct aishi_http	**pp;

	for (pp = &q->h->http; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	}
	lws_sul_cancel(&q->sul);
	free(q->method);
	free(q->rel_path);
	free(q->path);
	free(q->out);
	free(q->body);
	free(q);
}

/* Frees every request without telling its caller (aish_free): each
 * connection still open is left to close with the vhost or context. */
void
aishi_http_free_all(struct aish *h)
{
	struct aishi_http	*q;

	while ((q = h->http) != NULL) {
		if (q->wsi != NULL) {
			lws_set_opaque_user_data(q->wsi, NULL);
			lws_set_timeout(q->wsi, PENDING_TIMEOUT_USER_OK,
			    LWS_TO_KILL_ASYNC);
		}
		http_free(q);
	}
}

/* Timer: the end of a request: builds the result and calls the caller. */
static void
report(lws_sorted_usec_list_t *sul)
{
	struct aishi_http	*q = lws_container_of(sul, struct aishi_http,
				    sul);
	struct aish		*h = q->h;
	aish_result_t		 res;
	cJSON			*root = NULL;

	memset(&res, 0, sizeof res);
	if (q->err != AISH_OK) {
		res.status = q->status;
		res.body = q->body;
		res.body_len = q->len;
		res.err = q->err;
		res.message = q->why[0] != '\0' ? q->why : NULL;
	} else
		root = aishi_result_read(&res, q->status, q->body, q->len);
	if (res.err != AISH_OK && res.message == NULL)
		res.message = aish_strerror(res.err);
	if (q->cb != NULL && !h->freeing)
		q->cb(h, &res, q->user);
	cJSON_Delete(root);
	http_free(q);
	/* Timers run before the loop waits: end this wait, so that a caller
	 * of aish_service() sees what the callback did at once. */
	lws_cancel_service(h->ctx);
}

/* Lets go of q's connection, if any (drop: closes it while still open). */
static void
let_go(struct aishi_http *q, int drop)
{
	if (q->wsi == NULL)
		return;
	lws_set_opaque_user_data(q->wsi, NULL);
	if (drop)
		lws_set_timeout(q->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
	q->wsi = NULL;
}

/* Ends a request (once): err is AISH_OK when the answer came whole; drop
 * closes a connection that is still open.  The caller hears of it from
 * report(), on the next turn of the loop. */
static void
finish(struct aishi_http *q, aish_error_t err, const char *why, int drop)
{
	if (q->finished)
		return;
	q->finished = 1;
	q->err = err;
	if (why != NULL && why != q->why)
		snprintf(q->why, sizeof q->why, "%s", why);
	let_go(q, drop);
	lws_sul_cancel(&q->sul);
	lws_sul_schedule(q->h->ctx, 0, &q->sul, report, 1);
}

static void	watch(lws_sorted_usec_list_t *);
static void	schedule_watch(struct aishi_http *);
static void	connect_request(struct aishi_http *);

/* True when q may go to the next node: there are nodes it did not try,
 * and the one it tried never took it (or, for GET and HEAD, took it but
 * did not answer). */
static int
may_move(const struct aishi_http *q)
{
	if (q->h->freeing || q->tries + 1 >= q->h->n_nodes)
		return 0;
	if (!q->connected)
		return 1;
	return !q->answered && (strcmp(q->method, "GET") == 0 ||
	    strcmp(q->method, "HEAD") == 0);
}

/* why, after the URLs tried (in q->why), when q tried every node; else
 * why alone (its host names the one node tried). */
static const char *
tried(struct aishi_http *q, const char *why)
{
	if (q->h->n_nodes < 2 || q->tries + 1 < q->h->n_nodes)
		return why;
	snprintf(q->why, sizeof q->why, "no server answered (tried %s); the "
	    "last: %.600s", q->h->url, why);
	return q->why;
}

/* Timer: q's attempt on its next node. */
static void
retry_request(lws_sorted_usec_list_t *sul)
{
	struct aishi_http	*q = lws_container_of(sul, struct aishi_http,
				    sul);

	q->connect_by = lws_now_usecs() + (lws_usec_t)q->connect_ms *
	    LWS_US_PER_MS;
	schedule_watch(q);
	connect_request(q);
}

/* Leaves q's node, which did not take it (drop: close a connection
 * still open), and tries the next node from the loop. */
static void
move_on(struct aishi_http *q, int drop)
{
	struct aish	*h = q->h;

	let_go(q, drop);
	aishi_node_failed(h, q->node);
	q->node = h->node;
	q->tries++;
	q->connected = q->answered = 0;
	q->status = 0;
	q->len = 0;
	q->out_off = 0;
	lws_sul_cancel(&q->sul);
	lws_sul_schedule(h->ctx, 0, &q->sul, retry_request, 1);
}

/* Schedules the next watch: at the deadline, the connect limit or
 * WATCH_MS from now, whichever comes first. */
static void
schedule_watch(struct aishi_http *q)
{
	lws_usec_t	now = lws_now_usecs();
	lws_usec_t	at = now + (lws_usec_t)WATCH_MS * LWS_US_PER_MS;

	if (q->deadline < at)
		at = q->deadline;
	if (!q->connected && q->connect_by < at)
		at = q->connect_by;
	lws_sul_schedule(q->h->ctx, 0, &q->sul, watch,
	    at > now ? at - now : 1);
}

/* Timer: ends a request that ran out of time, else keeps libwebsockets
 * from ending it first. */
static void
watch(lws_sorted_usec_list_t *sul)
{
	struct aishi_http	*q = lws_container_of(sul, struct aishi_http,
				    sul);
	lws_usec_t		 now = lws_now_usecs();
	char			 why[WHY_SIZE];

	if (q->finished)
		return;
	if (now >= q->deadline) {
		snprintf(why, sizeof why, "no answer from the server within "
		    "%ld ms", q->timeout_ms);
		finish(q, AISH_E_TIMEOUT, why, 1);
		return;
	}
	if (!q->connected && now >= q->connect_by) {
		snprintf(why, sizeof why, "cannot connect to %s within %ld ms",
		    q->host, q->connect_ms);
		if (may_move(q))
			move_on(q, 1);
		else
			finish(q, AISH_E_TIMEOUT, tried(q, why), 1);
		return;
	}
	if (q->wsi != NULL && !q->answered)
		lws_set_timeout(q->wsi, PENDING_TIMEOUT_AWAITING_SERVER_RESPONSE,
		    LWS_LIMIT_S);
	schedule_watch(q);
}

/* ---- the connection's callbacks ---- */

/* Adds the token and, with a body, its type and length to the request. */
static int
add_headers(struct aishi_http *q, struct lws *wsi, void *in, size_t len)
{
	unsigned char	**p = in, *end = *p + len;
	const char	*auth = q->h->auth;
	char		 n[24];

	q->connected = 1;
	if (auth != NULL && lws_add_http_header_by_token(wsi,
	    WSI_TOKEN_HTTP_AUTHORIZATION, (const unsigned char *)auth,
	    (int)strlen(auth), p, end) != 0)
		return -1;
	if (!q->has_body)
		return 0;
	snprintf(n, sizeof n, "%zu", q->out_len);
	if ((q->out_len > 0 && lws_add_http_header_by_token(wsi,
	    WSI_TOKEN_HTTP_CONTENT_TYPE,
	    (const unsigned char *)"application/json", 16, p, end) != 0) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
	    (const unsigned char *)n, (int)strlen(n), p, end) != 0)
		return -1;
	if (q->out_len > 0) {
		lws_client_http_body_pending(wsi, 1);
		lws_callback_on_writable(wsi);
	}
	return 0;
}

/* Sends the next piece of the body; the last one ends the request. */
static int
send_body(struct aishi_http *q, struct lws *wsi)
{
	size_t			 n = q->out_len - q->out_off;
	enum lws_write_protocol	 kind = LWS_WRITE_HTTP;
	unsigned char		*at;

	if (n == 0)
		return 0;
	if (n > BODY_CHUNK)
		n = BODY_CHUNK;
	else
		kind = LWS_WRITE_HTTP_FINAL;
	/* lws may use the LWS_PRE bytes before at: only sent bytes (or the
	 * headroom) lie there. */
	at = (unsigned char *)q->out + LWS_PRE + q->out_off;
	if (lws_write(wsi, at, n, kind) != (int)n)
		return -1;
	q->out_off += n;
	if (kind == LWS_WRITE_HTTP_FINAL)
		lws_client_http_body_pending(wsi, 0);
	else
		lws_callback_on_writable(wsi);
	return 0;
}

/* Keeps a piece of the answer; -1 when the answer is over the limit. */
static int
keep(struct aishi_http *q, const void *data, size_t len)
{
	size_t	 cap;
	char	*p;

	if (q->len + len + 1 > q->cap) {
		if (q->len + len > AISH_MAX_BODY) {
			finish(q, AISH_E_TOO_LARGE, "the answer is over the "
			    "size limit", 1);
			return -1;
		}
		cap = q->cap ? q->cap : 1024;
		while (cap < q->len + len + 1)
			cap *= 2;
		if ((p = realloc(q->body, cap)) == NULL) {
			finish(q, AISH_E_NOMEM, "the answer could not be kept",
			    1);
			return -1;
		}
		q->body = p;
		q->cap = cap;
	}
	memcpy(q->body + q->len, data, len);
	q->len += len;
	q->body[q->len] = '\0';
	return 0;
}

/* Drains what arrived; the pieces come to RECEIVE_CLIENT_HTTP_READ. */
static int
drain(struct lws *wsi)
{
	char	 buf[LWS_PRE + READ_CHUNK], *p = buf + LWS_PRE;
	int	 n = READ_CHUNK;

	return lws_http_client_read(wsi, &p, &n) < 0 ? -1 : 0;
}

/* A connection that failed or closed before its answer was whole. */
static void
lost(struct aishi_http *q, const char *reason)
{
	char	why[WHY_SIZE];

	if (q->answered)
		snprintf(why, sizeof why, "the server closed the connection "
		    "before the whole answer came");
	else if (q->connected)
		snprintf(why, sizeof why, "the server closed the connection "
		    "before answering (%zu of %zu body bytes sent)",
		    q->out_off, q->out_len);
	else
		snprintf(why, sizeof why, "cannot reach %s: %s", q->host,
		    reason ? reason : "the connection failed");
	if (may_move(q))
		move_on(q, 0);
	else
		finish(q, AISH_E_UNREACHABLE, tried(q, why), 0);
}

/* libwebsockets calls this for everything about libaish's HTTP
 * connections. */
int
aishi_http_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct aishi_http	*q = lws_get_opaque_user_data(wsi);
	char			 reason_text[128];

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return q != NULL ? add_headers(q, wsi, in, len) : -1;
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
		return q != NULL ? send_body(q, wsi) : -1;
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		if (q == NULL)
			return -1;
		q->answered = 1;
		q->status = (long)lws_http_client_http_response(wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
		return q != NULL ? drain(wsi) : -1;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		return q != NULL ? keep(q, in, len) : -1;
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		if (q != NULL)
			finish(q, AISH_OK, NULL, 0);
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (q != NULL) {
			snprintf(reason_text, sizeof reason_text, "%.*s",
			    in != NULL ? (int)len : 0,
			    in != NULL ? (const char *)in : "");
			lost(q, reason_text[0] != '\0' ? reason_text : NULL);
		}
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (q != NULL)
			lost(q, "the connection closed");
		return 0;
	default:
		return 0;
	}
}

/* ---- starting requests ---- */

/* Opens the request's connection; it ends through finish() either way. */
static void
connect_request(struct aishi_http *q)
{
	struct aish			*h = q->h;
	const struct aishi_node		*n = &h->nodes[q->node];
	struct lws_client_connect_info	 i;
	struct lws			*wsi;
	char				*path;
	unsigned			 tries;

	if ((path = malloc(strlen(n->path_prefix) + strlen(q->rel_path) +
	    1)) == NULL) {
		finish(q, AISH_E_NOMEM, "the request could not be made", 0);
		return;
	}
	sprintf(path, "%s%s", n->path_prefix, q->rel_path);
	free(q->path);
	q->path = path;
	aishi_host_header(n, q->host, sizeof q->host);
	memset(&i, 0, sizeof i);
	i.context = h->ctx;
	i.vhost = h->vhost;
	i.address = n->host;
	i.port = n->port;
	i.path = q->path;
	i.host = q->host;
	i.method = q->method;
	i.protocol = aishi_protocols[AISHI_PROTOCOL_HTTP].name;
	i.local_protocol_name = i.protocol;
	i.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT |
	    (n->tls ? LCCSCF_USE_SSL : 0);
	i.alpn = "http/1.1";
	i.opaque_user_data = q;
	tries = q->tries;
	wsi = lws_client_connect_via_info(&i);
	/* Its callbacks may have ended it, or moved it on, already. */
	if (q->finished || q->tries != tries)
		return;
	if (wsi == NULL) {
		lost(q, NULL);
		return;
	}
	q->wsi = wsi;
}

/* True for the methods whose request always says how long its body is. */
static int
method_has_body(const char *method)
{
	return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "PATCH") == 0;
}

/* Starts a request: method, path (with the server's prefix added), an
 * optional JSON body, and extra_ms more than the usual time limit. */
static aish_error_t
start(struct aish *h, const char *method, const char *path,
    const char *body, long extra_ms, aish_result_cb cb, void *user)
{
	struct aishi_http	*q;
	size_t			 n = body != NULL ? strlen(body) : 0;
	lws_usec_t		 now;

	if (n > AISH_MAX_BODY)
		return AISH_E_TOO_LARGE;
	if ((q = calloc(1, sizeof *q)) == NULL)
		return AISH_E_NOMEM;
	q->h = h;
	q->cb = cb;
	q->user = user;
	q->method = strdup(method);
	q->rel_path = strdup(path);
	q->out = malloc(LWS_PRE + n + 1);
	if (q->method == NULL || q->rel_path == NULL || q->out == NULL) {
		free(q->method);
		free(q->rel_path);
		free(q->out);
		free(q);
		return AISH_E_NOMEM;
	}
	q->node = h->node;
	if (n > 0)
		memcpy(q->out + LWS_PRE, body, n);
	q->out_len = n;
	q->has_body = body != NULL || method_has_body(method);
	q->timeout_ms = h->http_timeout_ms + extra_ms;
	q->connect_ms = h->http_timeout_ms < CONNECT_MS ? h->http_timeout_ms :
	    CONNECT_MS;
	now = lws_now_usecs();
	q->connect_by = now + (lws_usec_t)q->connect_ms * LWS_US_PER_MS;
	q->deadline = now + (lws_usec_t)q->timeout_ms * LWS_US_PER_MS;
	q->next = h->http;
	h->http = q;
	schedule_watch(q);
	connect_request(q);
	return AISH_OK;
}

/* Adds name: value to obj when value is set; 0 when out of memory. */
static int
add_opt(cJSON *obj, const char *name, const char *value)
{
	return value == NULL || cJSON_AddStringToObject(obj, name, value);
}

/* Builds the body of a create request into *out. */
static aish_error_t
create_body(const aish_create_opts_t *o, char **out)
{
	cJSON		*obj, *ctx = NULL;
	aish_error_t	 err = AISH_E_NOMEM;

	*out = NULL;
	if (o->context_json != NULL) {
		ctx = cJSON_Parse(o->context_json);
		if (!cJSON_IsObject(ctx)) {
			cJSON_Delete(ctx);
			return AISH_E_INVALID;
		}
	}
	if ((obj = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(ctx);
		return AISH_E_NOMEM;
	}
	if (ctx != NULL && !cJSON_AddItemToObject(obj, "context", ctx)) {
		cJSON_Delete(ctx);
		goto end;
	}
	if (add_opt(obj, AISH_FIELD_AI_NAME, o->ai_name) &&
	    add_opt(obj, AISH_FIELD_SOCKET_ID, o->socket_id) &&
	    add_opt(obj, "model", o->model) &&
	    add_opt(obj, "prompt", o->prompt) &&
	    add_opt(obj, "provider", o->provider) &&
	    (!o->private_socket || cJSON_AddTrueToObject(obj, "private")) &&
	    (*out = cJSON_PrintUnformatted(obj)) != NULL)
		err = AISH_OK;
end:
	cJSON_Delete(obj);
	return err;
}

/* POST /api/ai/socket/create. */
aish_error_t
aish_create(aish_t *h, const aish_create_opts_t *opts, aish_result_cb cb,
    void *user)
{
	char		*body;
	aish_error_t	 err;

	if (h == NULL || h->freeing || opts == NULL ||
	    !aish_valid_name(opts->ai_name) ||
	    (opts->socket_id != NULL && !aish_valid_name(opts->socket_id)) ||
	    (opts->provider != NULL && !aish_valid_name(opts->provider)))
		return AISH_E_INVALID;
	if ((err = create_body(opts, &body)) != AISH_OK)
		return err;
	err = start(h, "POST", AISH_PATH_CREATE, body, 0, cb, user);
	cJSON_free(body);
	return err;
}

/* Starts a request about one socket: /api/ai/socket/{id}{suffix}. */
static aish_error_t
socket_request(aish_t *h, const char *method, const char *socket_id,
    const char *suffix, const char *body, long extra_ms, aish_result_cb cb,
    void *user)
{
	char	path[AISH_NAME_MAX + 64];

	if (h == NULL || h->freeing || !aish_valid_name(socket_id))
		return AISH_E_INVALID;
	snprintf(path, sizeof path, AISH_PATH_SOCKET "%s%s", socket_id,
	    suffix);
	return start(h, method, path, body, extra_ms, cb, user);
}

/* GET /api/ai/sockets. */
aish_error_t
aish_list(aish_t *h, aish_result_cb cb, void *user)
{
	if (h == NULL || h->freeing)
		return AISH_E_INVALID;
	return start(h, "GET", AISH_PATH_SOCKETS, NULL, 0, cb, user);
}

/* GET /api/ai/socket/{id}. */
aish_error_t
aish_get(aish_t *h, const char *socket_id, aish_result_cb cb, void *user)
{
	return socket_request(h, "GET", socket_id, "", NULL, 0, cb, user);
}

/* DELETE /api/ai/socket/{id}. */
aish_error_t
aish_delete(aish_t *h, const char *socket_id, aish_result_cb cb,
    void *user)
{
	return socket_request(h, "DELETE", socket_id, "", NULL, 0, cb, user);
}

/* POST /api/ai/socket/{id}/reset. */
aish_error_t
aish_reset(aish_t *h, const char *socket_id, aish_result_cb cb, void *user)
{
	return socket_request(h, "POST", socket_id, AISH_PATH_RESET, "{}", 0, cb,
	    user);
}

/* GET /api/ai/socket/{id}/read?wait_ms=N. */
aish_error_t
aish_read_queue(aish_t *h, const char *socket_id, int wait_ms,
    aish_result_cb cb, void *user)
{
	char	suffix[48];

	if (wait_ms < 0 || wait_ms > AISH_MAX_WAIT_MS)
		return AISH_E_INVALID;
	snprintf(suffix, sizeof suffix, AISH_PATH_READ "?wait_ms=%d", wait_ms);
	return socket_request(h, "GET", socket_id, suffix, NULL, wait_ms, cb, user);
}

/* GET /api/ai/socket/{id}/history?limit=N&before=SEQ. */
aish_error_t
aish_history(aish_t *h, const char *socket_id, int limit, int64_t before,
    aish_result_cb cb, void *user)
{
	char	suffix[80];
	int	n;

	n = snprintf(suffix, sizeof suffix, AISH_PATH_HISTORY);
	if (limit > 0)
		n += snprintf(suffix + n, sizeof suffix - (size_t)n,
		    "?limit=%d", limit);
	if (before > 0)
		snprintf(suffix + n, sizeof suffix - (size_t)n,
		    "%cbefore=%lld", limit > 0 ? '&' : '?',
		    (long long)before);
	return socket_request(h, "GET", socket_id, suffix, NULL, 0, cb, user);
}

/* GET /health. */
aish_error_t
aish_health(aish_t *h, aish_result_cb cb, void *user)
{
	if (h == NULL || h->freeing)
		return AISH_E_INVALID;
	return start(h, "GET", AISH_PATH_HEALTH, NULL, 0, cb, user);
}

/* Any other request. */
aish_error_t
aish_request(aish_t *h, const char *method, const char *path,
    const char *json_body, aish_result_cb cb, void *user)
{
	if (h == NULL || h->freeing || method == NULL || path == NULL ||
	    path[0] != '/' || strpbrk(path, " \r\n") != NULL ||
	    strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method) ||
	    *method == '\0')
		return AISH_E_INVALID;
	return start(h, method, path, json_body, 0, cb, user);
}
