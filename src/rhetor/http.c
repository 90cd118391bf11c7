/*
 * http.c: the HTTP plumbing under the routes: method and body, the bearer
 * token, the answer's headers and body, and requests that wait.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "guard.h"
#include "http.h"
#include "names.h"
#include "teamchat.h"
#include "xalloc.h"

/* Bytes of the body written per writeable callback. */
#define WRITE_CHUNK	(64 * 1024)

/* The request's method, from the header lws recognised. */
static enum rh_method
request_method(struct lws *wsi)
{
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
		return RH_GET;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
		return RH_POST;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI))
		return RH_PUT;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI))
		return RH_DELETE;
	return RH_OTHER;
}

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

/* Frees what a request holds and makes it ready for the next one on the
 * same connection. */
static void
req_clear(struct rh_http_req *req)
{
	wait_end(req);
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
		len = aish_utf8_char_len(s + i, n - i);
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

/* The reason phrase of the statuses a refused upgrade uses. */
static const char *
status_text(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	default:
		return "Error";
	}
}

/* Writes a whole error answer at once (refused WebSocket upgrades).  The
 * status line is written here: at this point of an upgrade libwebsockets
 * does not know the request's HTTP version yet and would say 1.0. */
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

/* The declared body length, or -1 when there is none. */
static long long
content_length(struct lws *wsi)
{
	char	value[32];

	if (lws_hdr_copy(wsi, value, sizeof value,
	    WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
		return -1;
	return atoll(value);
}

/* A new request: method, path, token; routed now or once its body is in. */
static int
on_request(struct lws *wsi, struct rh_http_req *req, const char *path)
{
	struct rh_server	*srv = rh_server_of(wsi);
	long long		 clen;

	req_clear(req);
	req->wsi = wsi;
	req->srv = srv;
	req->method = request_method(wsi);
	req->path = xstrdup(path);
	if (!(req->method == RH_GET && strcmp(path, "/health") == 0) &&
	    !rh_guard_token_ok(srv, wsi)) {
		rh_http_error(req, 401, AISH_ERR_UNAUTHORIZED,
		    "missing or wrong bearer token");
		req->close_after = 1;
		return 0;
	}
	clen = content_length(wsi);
	if (clen > (long long)AISH_MAX_BODY) {
		rh_http_error(req, 413, AISH_ERR_TOO_LARGE, "request bodies "
		    "are limited to %u bytes", AISH_MAX_BODY);
		req->close_after = 1;
		return 0;
	}
	if ((req->method == RH_POST || req->method == RH_PUT) && clen > 0)
		return 0;	/* wait for the body */
	rh_route(req);
	return 0;
}

/* A piece of the body. */
static void
on_body(struct rh_http_req *req, const char *in, size_t len)
{
	if (req->answered || req->body_too_big)
		return;
	if (req->body_len + len > AISH_MAX_BODY) {
		req->body_too_big = 1;
		return;
	}
	req->body = xrealloc(req->body, req->body_len + len + 1);
	memcpy(req->body + req->body_len, in, len);
	req->body_len += len;
	req->body[req->body_len] = '\0';
}

/* The whole body is in: route the request. */
static void
on_body_done(struct rh_http_req *req)
{
	if (req->answered)
		return;
	if (req->body_too_big) {
		rh_http_error(req, 413, AISH_ERR_TOO_LARGE, "request bodies "
		    "are limited to %u bytes", AISH_MAX_BODY);
		return;
	}
	rh_route(req);
}

/* Writes the answer: headers first, then the body in pieces. */
static int
on_writeable(struct rh_http_req *req)
{
	unsigned char	 hdr[LWS_PRE + 1024];
	unsigned char	*p = hdr + LWS_PRE, *end = hdr + sizeof hdr - 1;
	size_t		 n;
	int		 final;

	if (!req->answered)
		return 0;
	if (!req->headers_sent) {
		if (lws_add_http_common_headers(req->wsi,
		    (unsigned int)req->status, req->content_type ?
		    req->content_type : "application/json",
		    req->resp_len, &p, end) ||
		    (req->close_after && lws_add_http_header_by_token(req->wsi,
		    WSI_TOKEN_CONNECTION, (unsigned char *)"close", 5, &p,
		    end)) ||
		    lws_finalize_write_http_header(req->wsi, hdr + LWS_PRE,
		    &p, end))
			return -1;
		req->headers_sent = 1;
		lws_callback_on_writable(req->wsi);
		return 0;
	}
	n = req->resp_len - req->resp_sent;
	if (n > WRITE_CHUNK)
		n = WRITE_CHUNK;
	final = req->resp_sent + n == req->resp_len;
	if (lws_write(req->wsi, (unsigned char *)req->resp + LWS_PRE +
	    req->resp_sent, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
	    (int)n)
		return -1;
	req->resp_sent += n;
	if (!final) {
		lws_callback_on_writable(req->wsi);
		return 0;
	}
	if (req->close_after)
		return -1;
	if (lws_http_transaction_completed(req->wsi))
		return -1;
	return 0;
}

/* The HTTP events of the protocol callback. */
int
rh_http_event(struct lws *wsi, enum lws_callback_reasons reason,
    struct rh_http_req *req, void *in, size_t len)
{
	if (req == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return on_request(wsi, req, in);
	case LWS_CALLBACK_HTTP_BODY:
		on_body(req, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		on_body_done(req);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_writeable(req);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		/* lws frees the per-session data after a transaction without
		 * a close: both mean this request is over. */
		req_clear(req);
		return 0;
	default:
		return 0;
	}
}

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
 * a margin): libwebsockets otherwise closes an HTTP request that has not
 * answered within a few seconds. */
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

	while ((req = s->waiters) != NULL) {
		wait_end(req);
		rh_route_read_answer(req, s);
	}
}

/* The socket is being deleted: its waiting /reads answer 404. */
void
rh_http_socket_gone(struct rh_socket *s)
{
	struct rh_http_req	*req;

	while ((req = s->waiters) != NULL) {
		wait_end(req);
		rh_http_error(req, 404, AISH_ERR_UNKNOWN_SOCKET,
		    "socket '%s' was deleted", s->id);
	}
}
