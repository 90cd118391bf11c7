/*
 * http.c: the server's HTTP/1.1, on the raw connections of its port.
 *
 * libwebsockets 4.1 serves a request pipelined behind another (two in one
 * packet) from a buffer it has not advanced past the request's head: a
 * POST's body is read from the wrong bytes, then the loop spins for ever
 * (lws_http_action() re-reads the connection's buflist).  So the port is
 * a raw one, and the requests on it are read with http-parser (the
 * reader of http-parse.c, over Debian's libhttp-parser): one request at
 * a time per connection, the parser paused after each head and after
 * each request, each routed and answered before the next is read, in
 * order.  A WebSocket upgrade, once checked, is handed to libwebsockets
 * with every byte read since its first (lws_adopt_socket_vhost_readbuf
 * on the WebSocket vhost), which then owns the connection.
 *
 * Life of a request: its head is read and checked (the reader's framing
 * checks, then the browser guard, token, sizes, Content-Type); a body,
 * announced by Content-Length or sent chunked, is read whole (after a
 * "100 Continue" when the client asked for one); the request is routed;
 * the answer is written from the writeable callback, head and body,
 * without a body for HEAD.  A request refused at its head is done with
 * like any other (the connection closes after the answer when a body
 * may follow).  Then the next request on the connection is read from
 * what is left.  While a request waits for its answer, at most
 * PIPELINE_MAX bytes more are read.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "body.h"
#include "cluster.h"
#include "guard.h"
#include "http.h"
#include "names.h"
#include "registry.h"
#include "sent.h"
#include "route-teamchat.h"
#include "routes.h"
#include "xalloc.h"

/* Bytes of the body written per writeable callback. */
#define WRITE_CHUNK	(64 * 1024)
/* Bytes read ahead of the request being answered before reading stops. */
#define PIPELINE_MAX	(64 * 1024)
/* Seconds for a whole request head, from the connection's start or the
 * end of the last answer; for each piece of a body; for each piece of an
 * answer to be taken. */
#define HEAD_SECS	10
#define BODY_SECS	10
#define WRITE_SECS	30
/* Seconds a connection that asked to be closed after its answer stays
 * open for the reader to close it, while the replies of a /read answer
 * wait to be known got (read-held.h). */
#define LINGER_SECS	(RH_SENT_CONFIRM_MS / 1000 + 2)

/* Where a connection's current request stands. */
enum conn_step {
	STEP_HEAD,	/* reading a request head */
	STEP_BODY,	/* reading its body */
	STEP_ANSWER,	/* routed: answering it */
	STEP_LINGER	/* answered, waiting for the reader to close */
};

/* One connection on the port. */
struct rh_http_conn {
	struct lws		*wsi;
	char			*in;		/* read, not yet taken */
	size_t			 in_len;
	size_t			 fed;		/* of in, given to the reader */
	int			 paused;	/* reading stopped */
	int			 gone;		/* handed over or closing */
	enum conn_step		 step;
	struct rh_http_reader	 rd;		/* the current request */
	int			 continue_due;	/* send "100 Continue" */
	struct rh_http_req	 req;
	int64_t			 written;	/* bytes written to it */
	struct rh_read_held	 held;		/* /read answers written, not
						 * yet known got */
};

/* Stops waiting: off the socket's list, timer cancelled. */
static void
wait_end(struct rh_http_req *req)
{
	struct rh_http_req	**pp;

	if (req->wait_sock == NULL)
		return;
	for (pp = &req->wait_sock->waiters; *pp != NULL;
	    pp = &(*pp)->wait_next) {
		if (*pp == req) {
			*pp = req->wait_next;
			break;
		}
	}
	lws_sul_cancel(&req->wait_sul);
	req->wait_sock = NULL;
	req->wait_next = NULL;
}

/* Frees what a request holds and makes it ready for the next one. */
static void
req_clear(struct rh_http_req *req)
{
	wait_end(req);
	if (req->srv != NULL) {
		rh_read_take_drop(req->srv, &req->take);
		/* A change of the cluster it waits for answers no one. */
		rh_cluster_req_gone(req->srv, req);
	}
	if (req->team != NULL) {
		rh_team_abandon(req->team);
		req->team = NULL;
	}
	free(req->path);
	free(req->body);
	free(req->resp);
	memset(req, 0, sizeof *req);
}

/* Answers a request with a text body (see http.h). */
void
rh_http_reply_text(struct rh_http_req *req, int status,
    const char *content_type, const char *text, size_t len)
{
	wait_end(req);
	if (req->answered)
		return;
	req->answered = 1;
	req->status = status;
	req->content_type = content_type;
	req->resp_len = len;
	/* LWS_PRE bytes of headroom; later pieces use sent bytes as theirs. */
	req->resp = xmalloc(LWS_PRE + req->resp_len);
	memcpy(req->resp + LWS_PRE, text, req->resp_len);
	lws_callback_on_writable(req->wsi);
}

/* Answers a request with a JSON body (see http.h). */
void
rh_http_reply(struct rh_http_req *req, int status, cJSON *body)
{
	char	*text = cJSON_PrintUnformatted(body);

	cJSON_Delete(body);
	rh_http_reply_text(req, status, NULL, text, strlen(text));
	cJSON_free(text);
}

/* The JSON of an error answer. */
static cJSON *
error_body(const char *code, const char *message)
{
	cJSON	*obj = cJSON_CreateObject();
	cJSON	*err = cJSON_AddObjectToObject(obj, "error");

	cJSON_AddStringToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", message);
	return obj;
}

/* Answers a request with an error. */
void
rh_http_reply_err(struct rh_http_req *req, const struct rh_err *err)
{
	rh_http_reply(req, err->status, error_body(err->code, err->message));
}

/* Replaces each byte that is not part of a valid UTF-8 character with
 * '?', so that a message quoting a hostile path stays valid JSON text. */
static void
utf8_scrub(char *s)
{
	size_t	n = strlen(s), i, len;

	for (i = 0; i < n; i += len) {
		len = ac_utf8_char_len(s + i, n - i);
		if (len == 1 && (unsigned char)s[i] >= 0x80)
			s[i] = '?';
	}
}

/* Answers a request with an error built from a format. */
void
rh_http_error(struct rh_http_req *req, int status, const char *code,
    const char *fmt, ...)
{
	struct rh_err	err;
	va_list		ap;

	err.status = status;
	err.code = code;
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof err.message, fmt, ap);
	va_end(ap);
	utf8_scrub(err.message);
	rh_http_reply_err(req, &err);
}

/* The reason phrase of a status. */
static const char *
status_text(int status)
{
	static const struct {
		int		 status;
		const char	*text;
	} texts[] = {
		{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" },
		{ 202, "Accepted" }, { 204, "No Content" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 409, "Conflict" }, { 413, "Content Too Large" },
		{ 415, "Unsupported Media Type" }, { 417, "Expectation Failed" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 505, "HTTP Version Not Supported" }
	};
	size_t	i;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		if (texts[i].status == status)
			return texts[i].text;
	}
	return "Error";
}

/* Writes a whole error answer at once (refused WebSocket upgrades, which
 * libwebsockets reads). */
void
rh_http_send_now(struct lws *wsi, int status, const char *code,
    const char *message)
{
	static const char fmt[] = "HTTP/1.1 %d %s\r\n"
	    "content-type: application/json\r\n"
	    "content-length: %zu\r\n"
	    "connection: close\r\n\r\n%s";
	cJSON		*body = error_body(code, message);
	char		*text = cJSON_PrintUnformatted(body);
	unsigned char	*buf;
	int		 len;

	cJSON_Delete(body);
	len = snprintf(NULL, 0, fmt, status, status_text(status),
	    strlen(text), text);
	buf = xmalloc(LWS_PRE + (size_t)len + 1);
	snprintf((char *)buf + LWS_PRE, (size_t)len + 1, fmt, status,
	    status_text(status), strlen(text), text);
	lws_write(wsi, buf + LWS_PRE, (size_t)len, LWS_WRITE_HTTP);
	free(buf);
	cJSON_free(text);
}

/* Parses the body as a JSON object, or answers 400. */
cJSON *
rh_http_json_body(struct rh_http_req *req)
{
	struct rh_err	 err;
	cJSON		*obj;

	if ((obj = rh_body_parse(req->body, req->body_len, &err)) == NULL)
		rh_http_reply_err(req, &err);
	return obj;
}

/* The decoded value of a query argument (see http.h). */
int
rh_http_arg(struct rh_http_req *req, const char *name, char *out,
    size_t outlen)
{
	if (req->query == NULL)
		return -1;
	return rh_http_query_get(req->query, name, out, outlen);
}

/* ---- a connection ---- */

/* Drops the first n bytes read. */
static void
take(struct rh_http_conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
}

/* Stops or restarts reading from the client. */
static void
set_paused(struct rh_http_conn *c, int paused)
{
	if (c->paused == paused)
		return;
	c->paused = paused;
	lws_rx_flow_control(c->wsi, !paused);
}

/* Answers the current request with a refusal and, when bytes of it may
 * still be unread (or its head asked for it), closes the connection after
 * the answer. */
static void
refuse(struct rh_http_conn *c, const struct rh_http_refusal *why, int close)
{
	c->step = STEP_ANSWER;
	c->req.wsi = c->wsi;
	c->req.srv = rh_server_of(c->wsi);
	c->req.close_after |= close || !c->rd.head.keep_alive;
	if (close)
		c->gone = 1;	/* read nothing more */
	rh_http_error(&c->req, why->status, why->code, "%s", why->message);
}

/* True when the server listens on every address. */
static int
listens_everywhere(const char *host)
{
	return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
	    *host == '\0';
}

/* Hands a checked WebSocket upgrade, with every byte read since its first
 * one, to libwebsockets on the WebSocket vhost; -1: close this side. */
static int
hand_over(struct rh_http_conn *c)
{
	struct rh_server	*srv = rh_server_of(c->wsi);
	int			 fd;

	/* The raw side closes its descriptor without a shutdown(): the
	 * copy keeps the connection open for its new owner. */
	fd = fcntl(lws_get_socket_fd(c->wsi), F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || lws_adopt_socket_vhost_readbuf(srv->ws_vhost, fd,
	    c->in, c->in_len) == NULL)
		rh_log("cannot hand a WebSocket connection over");
	c->gone = 1;
	return -1;
}

/* True when h asks to become a WebSocket. */
static int
is_upgrade(const struct rh_http_head *h)
{
	return h->upgrade != NULL && strcasecmp(h->upgrade, "websocket") == 0;
}

/* True when path is /ws/socket/{id} of a socket that exists. */
static int
upgrade_target_ok(struct rh_server *srv, const char *path)
{
	static const char	prefix[] = AISH_PATH_WS_SOCKET;

	return strncmp(path, prefix, sizeof prefix - 1) == 0 &&
	    ac_name_valid(path + sizeof prefix - 1) &&
	    rh_registry_find(srv, path + sizeof prefix - 1) != NULL;
}

/* Routes the request whose head and body are in. */
static void
route(struct rh_http_conn *c)
{
	struct rh_http_req	*req = &c->req;

	c->step = STEP_ANSWER;
	c->continue_due = 0;
	lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	req->close_after = !c->rd.head.keep_alive;
	rh_route(req);
}

/* Checks a complete request head and starts its body or routes it;
 * returns -1 when the connection was handed over. */
static int
start_request(struct rh_http_conn *c)
{
	struct rh_server	*srv = rh_server_of(c->wsi);
	struct rh_http_req	*req = &c->req;
	struct rh_http_head	*h = &c->rd.head;
	struct rh_http_refusal	 why;
	struct rh_guard_self	 self;

	req->wsi = c->wsi;
	req->srv = srv;
	req->head_only = h->method == RH_HEAD;
	req->method = req->head_only ? RH_GET : h->method;
	if ((req->path = rh_http_path(h->target, &req->query, &why)) == NULL) {
		refuse(c, &why, h->has_body);
		return 0;
	}
	self.host = srv->opt.host;
	self.port = srv->port;
	self.wildcard = listens_everywhere(srv->opt.host);
	self.token = srv->opt.token;
	if (rh_guard_check(&self, h, req->path, &why) != 0) {
		if (why.status == 403)
			srv->http_refused++;
		refuse(c, &why, h->has_body);
		return 0;
	}
	if (is_upgrade(h) && h->method == RH_GET && !h->has_body) {
		if (upgrade_target_ok(srv, req->path))
			return hand_over(c);
		why.status = 404;
		why.code = AISH_ERR_UNKNOWN_SOCKET;
		why.message = "no such socket";
		refuse(c, &why, 1);
		return 0;
	}
	if (h->content_length > (long long)AISH_MAX_BODY) {
		why.status = 413;
		why.code = AISH_ERR_TOO_LARGE;
		why.message = "request bodies are limited to 8 MiB";
		refuse(c, &why, 1);
		return 0;
	}
	if (h->expect != NULL && strcasecmp(h->expect, "100-continue") != 0) {
		why.status = 417;
		why.code = AISH_ERR_BAD_REQUEST;
		why.message = "the only expectation met is 100-continue";
		refuse(c, &why, 1);
		return 0;
	}
	if (!h->has_body) {
		route(c);
		return 0;
	}
	c->step = STEP_BODY;
	c->continue_due = h->expect != NULL && h->minor == 1;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_CONTENT, BODY_SECS);
	return 0;
}

/* Reads what it can of the requests in c->in, up to the first that must
 * wait for its answer; -1 when the connection ends here. */
static int
advance(struct rh_http_conn *c)
{
	size_t	used;
	int	more = 1;

	while (more && !c->gone && c->step != STEP_ANSWER) {
		switch (rh_http_read(&c->rd, c->in + c->fed, c->in_len - c->fed,
		    &used)) {
		case RH_HTTP_REFUSED:
			refuse(c, &c->rd.why, 1);
			break;
		case RH_HTTP_HEAD:
			c->fed += used;
			if (start_request(c) != 0)
				return -1;
			/* The head is done with, refused or not. */
			take(c, c->fed);
			c->fed = 0;
			break;
		case RH_HTTP_REQUEST:
			take(c, c->fed + used);
			c->fed = 0;
			c->req.body = c->rd.body;
			c->req.body_len = c->rd.body_len;
			c->rd.body = NULL;
			route(c);
			break;
		case RH_HTTP_MORE:
			more = 0;
			if (c->step == STEP_HEAD) {
				/* A head is kept whole, for a hand-over. */
				c->fed += used;
				break;
			}
			take(c, c->fed + used);
			c->fed = 0;
			if (used > 0)
				lws_set_timeout(c->wsi,
				    PENDING_TIMEOUT_HTTP_CONTENT, BODY_SECS);
			if (c->continue_due)
				lws_callback_on_writable(c->wsi);
			break;
		}
	}
	/* Pipelined bytes wait, a bounded amount, behind an answer. */
	set_paused(c, c->step == STEP_ANSWER && c->in_len >= PIPELINE_MAX);
	return 0;
}

/* Bytes from the client. */
static int
on_rx(struct rh_http_conn *c, const char *in, size_t len)
{
	if (c->gone)
		return 0;
	c->in = xrealloc(c->in, c->in_len + len);
	memcpy(c->in + c->in_len, in, len);
	c->in_len += len;
	return advance(c);
}

/* Formats the answer's head into buf; returns its length. */
static size_t
answer_head(struct rh_http_conn *c, char *buf, size_t size)
{
	struct rh_http_req	*req = &c->req;
	int			 n;

	n = snprintf(buf, size, "HTTP/1.1 %d %s\r\n"
	    "content-type: %s\r\n"
	    "content-length: %zu\r\n"
	    "cache-control: no-store\r\n"
	    "x-content-type-options: nosniff\r\n"
	    "%s\r\n", req->status, status_text(req->status),
	    req->content_type ? req->content_type : "application/json",
	    req->resp_len, req->close_after ? "connection: close\r\n" :
	    c->rd.head.minor == 0 ? "connection: keep-alive\r\n" : "");
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* Writes the head of the answer with as much of its body as fits. */
static int
write_head(struct rh_http_conn *c)
{
	struct rh_http_req	*req = &c->req;
	unsigned char		*buf;
	size_t			 hlen, blen;
	char			 head[1024];
	int			 rc;

	if ((hlen = answer_head(c, head, sizeof head)) == 0)
		return -1;
	blen = req->head_only ? 0 : req->resp_len;
	if (blen > WRITE_CHUNK)
		blen = WRITE_CHUNK;
	buf = xmalloc(LWS_PRE + hlen + blen);
	memcpy(buf + LWS_PRE, head, hlen);
	memcpy(buf + LWS_PRE + hlen, req->resp + LWS_PRE, blen);
	rc = lws_write(c->wsi, buf + LWS_PRE, hlen + blen, LWS_WRITE_RAW);
	free(buf);
	if (rc != (int)(hlen + blen))
		return -1;
	c->written += rc;
	req->headers_sent = 1;
	req->resp_sent = blen;
	return 0;
}

/* The answer is out: the replies of a /read answer wait to be known got,
 * and the next request may be read.  A connection to close after its
 * answer stays open while they wait, for the reader to close it: closed
 * by the server, it could not tell a reader that read them from one that
 * drops the connection with them unread. */
static int
answer_done(struct rh_http_conn *c)
{
	rh_read_held_sent(&c->held, &c->req.take, c->written);
	if (c->req.close_after && rh_read_held_pending(&c->held)) {
		c->step = STEP_LINGER;
		c->gone = 1;		/* read nothing more */
		c->held.close_when_got = 1;
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LINGER_SECS);
		return 0;
	}
	if (c->req.close_after)
		return -1;
	req_clear(&c->req);
	rh_http_next(&c->rd);
	c->step = STEP_HEAD;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE,
	    HEAD_SECS);
	return advance(c);
}

/* The client can take more: a "100 Continue", or the answer. */
static int
on_writeable(struct rh_http_conn *c)
{
	static const char	 cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct rh_http_req	*req = &c->req;
	unsigned char		 buf[LWS_PRE + sizeof cont];
	size_t			 n, end;

	if (c->step == STEP_BODY && c->continue_due) {
		c->continue_due = 0;
		memcpy(buf + LWS_PRE, cont, sizeof cont - 1);
		if (lws_write(c->wsi, buf + LWS_PRE, sizeof cont - 1,
		    LWS_WRITE_RAW) != (int)sizeof cont - 1)
			return -1;
		c->written += sizeof cont - 1;
		return 0;
	}
	if (c->step != STEP_ANSWER || !req->answered)
		return 0;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_HTTP_CONTENT, WRITE_SECS);
	if (!req->headers_sent) {
		if (write_head(c) != 0)
			return -1;
	} else {
		n = req->resp_len - req->resp_sent;
		if (n > WRITE_CHUNK)
			n = WRITE_CHUNK;
		if (lws_write(c->wsi, (unsigned char *)req->resp + LWS_PRE +
		    req->resp_sent, n, LWS_WRITE_RAW) != (int)n)
			return -1;
		c->written += (int64_t)n;
		req->resp_sent += n;
	}
	end = req->head_only ? req->resp_sent : req->resp_len;
	if (req->resp_sent < end) {
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	return answer_done(c);
}

/* The connection is over: whatever its request waited for is let go. */
static void
on_close(struct rh_http_conn *c)
{
	rh_read_held_settle(&c->held);
	req_clear(&c->req);
	rh_http_reader_free(&c->rd);
	free(c->in);
	c->in = NULL;
	c->in_len = 0;
}

/* The raw protocol of the port. */
static int
rh_http_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct rh_http_conn	*c = user;

	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
		memset(c, 0, sizeof *c);
		c->wsi = wsi;
		rh_read_held_init(&c->held, rh_server_of(wsi), wsi);
		rh_http_reader_init(&c->rd, AISH_MAX_BODY);
		lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE,
		    HEAD_SECS);
		return 0;
	case LWS_CALLBACK_RAW_RX:
		return c ? on_rx(c, in, len) : -1;
	case LWS_CALLBACK_RAW_WRITEABLE:
		return c ? on_writeable(c) : -1;
	case LWS_CALLBACK_RAW_CLOSE:
		if (c != NULL)
			on_close(c);
		return 0;
	default:
		return 0;
	}
}

const struct lws_protocols rh_http_protocols[] = {
	{ "aish-http", rh_http_callback, sizeof(struct rh_http_conn),
	    64 * 1024, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* ---- requests that answer later ---- */

/* Timer: a /read waited long enough; answer with what there is. */
static void
wait_timeout(lws_sorted_usec_list_t *sul)
{
	struct rh_http_req	*req = lws_container_of(sul,
	    struct rh_http_req, wait_sul);
	struct rh_socket	*s = req->wait_sock;

	wait_end(req);
	rh_route_read_answer(req, s);
}

/* Keeps the connection of a request that answers later open for ms (and
 * a margin), and no longer: a request never answered still ends. */
void
rh_http_hold(struct rh_http_req *req, int64_t ms)
{
	lws_set_timeout(req->wsi, PENDING_TIMEOUT_USER_OK,
	    (int)(ms / 1000) + 10);
}

/* Keeps a /read waiting on s for up to wait_ms. */
void
rh_http_wait(struct rh_http_req *req, struct rh_socket *s, int wait_ms)
{
	rh_http_hold(req, wait_ms);
	req->wait_sock = s;
	req->wait_next = s->waiters;
	s->waiters = req;
	lws_sul_schedule(req->srv->context, 0, &req->wait_sul, wait_timeout,
	    (lws_usec_t)wait_ms * LWS_US_PER_MS);
}

/* The queue of s grew: every /read waiting on it answers now. */
void
rh_http_wake_readers(struct rh_server *srv, struct rh_socket *s)
{
	struct rh_http_req	*req;

	/* What WebSocket readers hold is not for /read (sent.h). */
	if (s->waiters != NULL && rh_sent_available(srv, s) == 0)
		return;
	while ((req = s->waiters) != NULL) {
		wait_end(req);
		rh_route_read_answer(req, s);
	}
}

const struct rh_listener rh_http_listener = {
	.name = "http",
	.queued = rh_http_wake_readers,
	.gone = rh_http_socket_gone,
};

/* The socket is being deleted: its waiting /reads answer 404. */
void
rh_http_socket_gone(struct rh_server *srv, struct rh_socket *s)
{
	struct rh_http_req	*req;

	(void)srv;
	while ((req = s->waiters) != NULL) {
		wait_end(req);
		rh_http_error(req, 404, AISH_ERR_UNKNOWN_SOCKET,
		    "socket '%s' was deleted", s->id);
	}
}
