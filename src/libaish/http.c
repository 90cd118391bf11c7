/*
 * http.c: libaish's HTTP requests (create, list, get, delete, reset, read,
 * health, any other) run by the http-worker thread, so the loop never
 * waits for the server.  The worker starts on the first request: a handle
 * that only writes never pays for a thread or for libcurl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "aish-private.h"
#include "aish-protocol.h"
#include "http-worker.h"

/* One request in flight. */
struct aishi_http {
	struct aishi_http	*next;
	struct aish		*h;
	struct hw_request	*r;
	aish_result_cb		 cb;
	void			*user;
	char			*body;
	size_t			 len;
	size_t			 cap;
	int			 too_big;
};

/* Worker thread: makes the loop call hw_dispatch() soon. */
static void
wake_loop(void *ud)
{
	struct aish	*h = ud;

	lws_cancel_service(h->ctx);
}

/* Runs the callbacks of finished requests (loop thread). */
void
aishi_http_dispatch(struct aish *h)
{
	if (h->hw != NULL)
		hw_dispatch(h->hw);
}

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
	free(q->body);
	free(q);
}

/* Frees every request record (the worker is gone by then). */
void
aishi_http_free_all(struct aish *h)
{
	while (h->http != NULL)
		http_free(h->http);
}

/* A piece of the answer. */
static void
on_data(void *ud, long status, const char *data, size_t len)
{
	struct aishi_http	*q = ud;
	size_t			 cap;
	char			*p;

	if (q->too_big)
		return;
	if (q->len + len + 1 > q->cap) {
		if (q->len + len > AISH_MAX_BODY) {
			q->too_big = 1;
			return;
		}
		cap = q->cap ? q->cap : 1024;
		while (cap < q->len + len + 1)
			cap *= 2;
		if ((p = realloc(q->body, cap)) == NULL) {
			q->too_big = 1;
			return;
		}
		q->body = p;
		q->cap = cap;
	}
	memcpy(q->body + q->len, data, len);
	q->len += len;
	q->body[q->len] = '\0';
}

/* Reads the server's {"error":{code,message}} into res. */
static void
read_error(aish_result_t *res, const cJSON *root)
{
	const cJSON	*e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON	*v;

	if (!cJSON_IsObject(e))
		return;
	v = cJSON_GetObjectItemCaseSensitive(e, "code");
	if (cJSON_IsString(v)) {
		res->code = v->valuestring;
		res->err = aish_error_from_code(v->valuestring);
		if (res->err == AISH_E_SERVER)
			res->err = aishi_error_from_status(res->status);
	}
	v = cJSON_GetObjectItemCaseSensitive(e, "message");
	if (cJSON_IsString(v))
		res->message = v->valuestring;
}

/* The end of a request: builds the result and calls the caller. */
static void
on_done(void *ud, long status, const char *error)
{
	struct aishi_http	*q = ud;
	struct aish		*h = q->h;
	aish_result_t		 res;
	cJSON			*root = NULL;
	const cJSON		*v;

	memset(&res, 0, sizeof res);
	res.status = status;
	res.body = q->body;
	res.body_len = q->len;
	if (error != NULL) {
		res.err = strstr(error, "timed out") != NULL ? AISH_E_TIMEOUT :
		    AISH_E_UNREACHABLE;
		res.message = error;
	} else if (q->too_big) {
		res.err = q->len > 0 ? AISH_E_TOO_LARGE : AISH_E_NOMEM;
		res.message = "the answer could not be kept";
	} else {
		res.err = aishi_error_from_status(status);
		if (q->body != NULL)
			root = cJSON_ParseWithLength(q->body, q->len);
		if (res.err != AISH_OK)
			read_error(&res, root);
		else if (root == NULL && q->len > 0) {
			res.err = AISH_E_PROTOCOL;
			res.message = "the answer is not JSON";
		}
		v = cJSON_GetObjectItemCaseSensitive(root, "socket_id");
		if (res.err == AISH_OK && cJSON_IsString(v))
			res.socket_id = v->valuestring;
	}
	if (res.err != AISH_OK && res.message == NULL)
		res.message = aish_strerror(res.err);
	if (q->cb != NULL && !h->freeing)
		q->cb(h, &res, q->user);
	cJSON_Delete(root);
	http_free(q);
}

/* Starts a request: method, path (with the server's prefix added), an
 * optional JSON body, and extra_ms more than the usual time limit. */
static aish_error_t
start(struct aish *h, const char *method, const char *path,
    const char *body, long extra_ms, aish_result_cb cb, void *user)
{
	static const struct hw_callbacks	 callbacks = { on_data, on_done };
	struct hw_opts				 o;
	struct aishi_http			*q;
	const char				*headers[3];
	char					*url;
	size_t					 n = 0;

	if (h->hw == NULL && (h->hw = hw_new(wake_loop, h)) == NULL)
		return AISH_E_NOMEM;
	if ((url = malloc(strlen(h->url) + strlen(path) + 1)) == NULL)
		return AISH_E_NOMEM;
	sprintf(url, "%s%s", h->url, path);
	if ((q = calloc(1, sizeof *q)) == NULL) {
		free(url);
		return AISH_E_NOMEM;
	}
	q->h = h;
	q->cb = cb;
	q->user = user;
	if (h->auth_header != NULL)
		headers[n++] = h->auth_header;
	if (body != NULL)
		headers[n++] = "Content-Type: application/json";
	headers[n] = NULL;
	memset(&o, 0, sizeof o);
	o.method = method;
	o.url = url;
	o.headers = headers;
	o.body = body;
	o.body_len = body ? strlen(body) : 0;
	o.timeout_ms = h->http_timeout_ms + extra_ms;
	o.connect_timeout_ms = h->http_timeout_ms < 5000 ?
	    h->http_timeout_ms : 5000;
	q->r = hw_start(h->hw, &o, &callbacks, q);
	free(url);
	if (q->r == NULL) {
		free(q);
		return AISH_E_NOMEM;
	}
	q->next = h->http;
	h->http = q;
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
	if (add_opt(obj, "ai_name", o->ai_name) &&
	    add_opt(obj, "socket_id", o->socket_id) &&
	    add_opt(obj, "model", o->model) &&
	    add_opt(obj, "prompt", o->prompt) &&
	    add_opt(obj, "provider", o->provider) &&
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
	err = start(h, "POST", "/api/ai/socket/create", body, 0, cb, user);
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
	snprintf(path, sizeof path, "/api/ai/socket/%s%s", socket_id, suffix);
	return start(h, method, path, body, extra_ms, cb, user);
}

/* GET /api/ai/sockets. */
aish_error_t
aish_list(aish_t *h, aish_result_cb cb, void *user)
{
	if (h == NULL || h->freeing)
		return AISH_E_INVALID;
	return start(h, "GET", "/api/ai/sockets", NULL, 0, cb, user);
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
	return socket_request(h, "POST", socket_id, "/reset", "{}", 0, cb, user);
}

/* GET /api/ai/socket/{id}/read?wait_ms=N. */
aish_error_t
aish_read_queue(aish_t *h, const char *socket_id, int wait_ms,
    aish_result_cb cb, void *user)
{
	char	suffix[48];

	if (wait_ms < 0 || wait_ms > AISH_MAX_WAIT_MS)
		return AISH_E_INVALID;
	snprintf(suffix, sizeof suffix, "/read?wait_ms=%d", wait_ms);
	return socket_request(h, "GET", socket_id, suffix, NULL, wait_ms, cb, user);
}

/* GET /health. */
aish_error_t
aish_health(aish_t *h, aish_result_cb cb, void *user)
{
	if (h == NULL || h->freeing)
		return AISH_E_INVALID;
	return start(h, "GET", "/health", NULL, 0, cb, user);
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
