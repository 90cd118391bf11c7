/*
 * rpc.c: JSON-RPC 2.0 for aish-bridge: checks each message, dispatches
 * requests to the method tables of the session's face, answers them
 * (alone or in a batch), hands the client's answers to the calls the
 * bridge made (client-calls.c), and keeps the table of requests in flight
 * with their time-outs, cancels and limits.
 *
 * Rules kept here: an id of either type (or null) is echoed as it came;
 * a notification is never answered, even when it fails; "params": null
 * and "params": [] mean no params; a batch is answered with one array
 * once all its requests are answered (nothing when they were all
 * notifications); an empty batch is one Invalid Request; nothing but the
 * methods marked before_init (initialize, shutdown, exit) is served
 * before initialize (-32002).
 *
 * A request is answered in two steps: its method answers (req_result,
 * req_error: r->done), then the answer is written (req_answer: r->answered).
 * For the aish face the two are one; a face that runs a core method
 * through core_start() gets the method's answer in its xlat and writes
 * its own, maybe after calls to the client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "json-parse.h"
#include "names.h"
#include "xalloc.h"

/* The core's methods: aish's own protocol (SPEC section 4). */
static const struct method *const core_tables[] = {
	methods_session, methods_socket, methods_send, NULL
};

/* The aish face: the core's methods as they are. */
const struct face face_aish = {
	.name = "aish",
	.tables = core_tables,
	.aish_notifications = 1,
	.client_requests = 0,
};

/* ---- answers ---- */

/* Builds a response object for id (NULL: null) with result or error. */
static cJSON *
make_response(const cJSON *id, cJSON *result, cJSON *error)
{
	cJSON	*resp = cJSON_CreateObject();

	cJSON_AddStringToObject(resp, "jsonrpc", "2.0");
	if (error != NULL)
		cJSON_AddItemToObject(resp, "error", error);
	else
		cJSON_AddItemToObject(resp, "result",
		    result ? result : cJSON_CreateNull());
	cJSON_AddItemToObject(resp, "id",
	    id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
	return resp;
}

/* Builds an error object. */
static cJSON *
make_error(int code, const char *message, cJSON *data)
{
	cJSON	*e = cJSON_CreateObject();

	cJSON_AddNumberToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	if (data != NULL)
		cJSON_AddItemToObject(e, "data", data);
	return e;
}

/* Writes a batch's array once every request in it is answered. */
static void
batch_settle(struct batch *b)
{
	if (b->pending > 0)
		return;
	if (cJSON_GetArraySize(b->answers) > 0)
		framing_write(b->answers);
	cJSON_Delete(b->answers);
	free(b);
	br.batches_open--;
	bridge_maybe_quit();
}

/* Sends a response, alone or into its batch. */
static void
deliver(struct batch *b, cJSON *resp)
{
	if (b == NULL) {
		framing_write(resp);
		cJSON_Delete(resp);
		return;
	}
	cJSON_AddItemToArray(b->answers, resp);
	b->pending--;
	batch_settle(b);
}

/* Answers an error for a message that has no usable id. */
void
rpc_frame_error(int code, const char *message)
{
	deliver(NULL, make_response(NULL, NULL,
	    make_error(code, message, NULL)));
}

/* ---- the request table ---- */

/* Unlinks r from the in-flight table. */
static void
req_unlink(struct req *r)
{
	struct req	**pp;

	for (pp = &br.reqs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			br.n_inflight--;
			return;
		}
	}
}

/* Frees r. */
static void
req_free(struct req *r)
{
	if (r->ops != NULL && r->ops->free_state != NULL)
		r->ops->free_state(r);
	if (r->xlat != NULL && r->xlat->free_state != NULL)
		r->xlat->free_state(r);
	cJSON_Delete(r->id);
	free(r->method);
	free(r);
}

/* Notes that libaish (or the client) owes r a callback. */
void
req_hold(struct req *r)
{
	r->holds++;
}

/* A method's callback came: returns 1 when the method still waits for
 * it, 0 when r was answered meanwhile (and is freed once nothing is
 * owed). */
int
req_release(struct req *r)
{
	r->holds--;
	if (!r->done)
		return 1;
	if (r->answered && r->holds == 0)
		req_free(r);
	return 0;
}

/* A face's callback came: returns 1 while r's answer is still to be
 * written, 0 when it was (cancelled meanwhile; freed once nothing is
 * owed). */
int
req_release_answer(struct req *r)
{
	r->holds--;
	if (!r->answered)
		return 1;
	if (r->holds == 0)
		req_free(r);
	return 0;
}

/* The method has answered: its time-out ends. */
static void
req_method_done(struct req *r)
{
	r->done = 1;
	if (r->timer_set)
		lws_sul_cancel(&r->timer);
	r->timer_set = 0;
}

/* Writes r's answer (resp; NULL writes nothing) and takes r out of the
 * table. */
static void
req_finish(struct req *r, cJSON *resp)
{
	struct batch	*b = r->batch;

	req_method_done(r);
	r->answered = 1;
	req_unlink(r);
	if (r->id != NULL && resp != NULL)
		deliver(b, resp);
	else {
		cJSON_Delete(resp);	/* a notification is never answered */
		if (r->id != NULL && b != NULL) {
			b->pending--;
			batch_settle(b);
		}
	}
	if (r->holds == 0)
		req_free(r);
	bridge_maybe_quit();
}

/* Writes r's answer: a result (consumed). */
void
req_answer(struct req *r, cJSON *result)
{
	if (r->answered) {
		cJSON_Delete(result);
		return;
	}
	req_finish(r, make_response(r->id, result, NULL));
}

/* Writes r's answer: an error; data (consumed) may be NULL. */
void
req_answer_error(struct req *r, int code, const char *message, cJSON *data)
{
	if (r->answered) {
		cJSON_Delete(data);
		return;
	}
	logmsg("%s: error %d: %s", r->method, code, message);
	req_finish(r, make_response(r->id, NULL,
	    make_error(code, message, data)));
}

/* Ends r without any answer (a protocol whose cancelled requests get
 * none). */
void
req_drop(struct req *r)
{
	if (!r->answered)
		req_finish(r, NULL);
}

/* The method answers r with a result (consumed): written now, or handed
 * to the face that started it. */
void
req_result(struct req *r, cJSON *result)
{
	if (r->done) {
		cJSON_Delete(result);
		return;
	}
	req_method_done(r);
	if (r->xlat != NULL && r->xlat->result != NULL)
		r->xlat->result(r, result);
	else
		req_answer(r, result);
}

/* The method answers r with an error; data (consumed) may be NULL. */
void
req_error(struct req *r, int code, const char *message, cJSON *data)
{
	if (r->done) {
		cJSON_Delete(data);
		return;
	}
	req_method_done(r);
	if (r->xlat != NULL && r->xlat->error != NULL) {
		logmsg("%s: error %d: %s", r->method, code, message);
		r->xlat->error(r, code, message, data);
	} else
		req_answer_error(r, code, message, data);
}

/* Answers r with the JSON-RPC error that fits a libaish error. */
void
req_error_aish(struct req *r, aish_error_t err, const char *code,
    const char *message)
{
	cJSON	*data = cJSON_CreateObject();
	int	 rpc;

	if (message == NULL)
		message = aish_strerror(err);
	if (err == AISH_E_UNREACHABLE) {
		cJSON_Delete(data);
		req_fail_unreachable(r, message);
		return;
	}
	if (code != NULL)
		cJSON_AddStringToObject(data, "code", code);
	switch (err) {
	case AISH_E_UNAUTHORIZED:
		rpc = RPC_UNREACHABLE;
		break;
	case AISH_E_TIMEOUT:
		rpc = RPC_TIMEOUT;
		break;
	case AISH_E_CANCELLED:
		rpc = RPC_CANCELLED;
		break;
	case AISH_E_PROVIDER:
	case AISH_E_OVERLOADED:
	case AISH_E_SERVER:
	case AISH_E_PROTOCOL:
		rpc = RPC_AI_ERROR;
		break;
	case AISH_E_NOMEM:
	case AISH_E_LWS:
		rpc = RPC_INTERNAL_ERROR;
		break;
	default:
		rpc = RPC_INVALID_PARAMS;
		break;
	}
	req_error(r, rpc, message, data);
}

/* Timer: r's time may be up.  It is when nothing came for the whole
 * time-out; otherwise the timer waits again for what is left since the
 * last progress (so a reply that keeps streaming is never cut, and no
 * timer is moved on each piece of it). */
static void
req_timed_out(lws_sorted_usec_list_t *sul)
{
	struct req	*r = lws_container_of(sul, struct req, timer);
	lws_usec_t	 limit = (lws_usec_t)r->timeout_ms * LWS_US_PER_MS;
	lws_usec_t	 quiet = lws_now_usecs() - r->progress_us;

	r->timer_set = 0;
	if (quiet < limit) {
		lws_sul_schedule(br.ctx, 0, &r->timer, req_timed_out,
		    limit - quiet);
		r->timer_set = 1;
		return;
	}
	if (r->ops != NULL && r->ops->on_timeout != NULL) {
		r->ops->on_timeout(r);
		return;
	}
	if (r->ops != NULL && r->ops->on_stop != NULL)
		r->ops->on_stop(r);
	req_error(r, RPC_TIMEOUT, "timed out", NULL);
}

/* Answers r with -32003 (or calls its on_timeout) once nothing has come
 * for ms milliseconds: the time-out counts from the last progress. */
void
req_set_timeout(struct req *r, long ms)
{
	r->timeout_ms = ms;
	r->progress_us = lws_now_usecs();
	lws_sul_schedule(br.ctx, 0, &r->timer, req_timed_out,
	    (lws_usec_t)ms * LWS_US_PER_MS);
	r->timer_set = 1;
}

/* Something came for r (an ack, a delta, a reply): its time-out starts
 * again. */
void
req_progress(struct req *r)
{
	r->progress_us = lws_now_usecs();
}

/* The request whose current write is write_id, or NULL. */
struct req *
req_by_write(const char *write_id)
{
	struct req	*r;

	for (r = br.reqs; r != NULL; r = r->next) {
		if (r->write_id[0] != '\0' && strcmp(r->write_id, write_id) == 0)
			return r;
	}
	return NULL;
}

/* The value of a numeric id, kept as a number or as its raw text. */
static double
id_number(const cJSON *v)
{
	return cJSON_IsRaw(v) ? strtod(v->valuestring, NULL) : v->valuedouble;
}

/* True when two ids are the same string or the same number. */
static int
same_id(const cJSON *a, const cJSON *b)
{
	if (a == NULL || b == NULL)
		return 0;
	if (cJSON_IsString(a) && cJSON_IsString(b))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if ((cJSON_IsNumber(a) || cJSON_IsRaw(a)) &&
	    (cJSON_IsNumber(b) || cJSON_IsRaw(b)))
		return id_number(a) == id_number(b);
	return 0;
}

/* Cancels one request: its AI's work stops and it answers -32800 (after
 * its method answered, while a face still works on it, the face's answer
 * is -32800). */
static void
req_cancel(struct req *r)
{
	r->cancelled = 1;
	if (r->done) {
		req_answer_error(r, RPC_CANCELLED, "cancelled", NULL);
		return;
	}
	if (r->ops != NULL && r->ops->on_stop != NULL)
		r->ops->on_stop(r);
	req_error(r, RPC_CANCELLED, "cancelled", NULL);
}

/* Cancels the request with id (every aish/ request when id is NULL) and
 * returns the array of the ids cancelled; a cancel never cancels itself
 * (a $/cancelRequest may carry its own id). */
cJSON *
req_cancel_matching(const cJSON *id)
{
	cJSON		*ids = cJSON_CreateArray();
	struct req	*r, *next;

	for (r = br.reqs; r != NULL; r = next) {
		next = r->next;
		if (r->id == NULL || r->cancelled || r->answered ||
		    strcmp(r->method, "aish/cancel") == 0 ||
		    strcmp(r->method, "$/cancelRequest") == 0 ||
		    (id != NULL && !same_id(id, r->id)) ||
		    (id == NULL && strncmp(r->method, "aish/", 5) != 0))
			continue;
		cJSON_AddItemToArray(ids, cJSON_Duplicate(r->id, 1));
		req_cancel(r);
		next = br.reqs;		/* the table changed */
	}
	return ids;
}

/* Answers -32001, naming the server's URL and why (data: {"url"}). */
void
req_fail_unreachable(struct req *r, const char *why)
{
	const char	*url = br.url ? br.url : "?";
	cJSON		*data = cJSON_CreateObject();
	char		*text = xasprintf("cannot reach aish-rhetor at %s: %s",
	    url, why);

	cJSON_AddStringToObject(data, "url", url);
	req_error(r, RPC_UNREACHABLE, text, data);
	free(text);
}

/* ---- methods ---- */

/* Finds a method by name in tables. */
static const struct method *
find_in(const struct method *const *tables, const char *name)
{
	const struct method	*m;
	size_t			 i;

	for (i = 0; tables[i] != NULL; i++) {
		for (m = tables[i]; m->name != NULL; m++) {
			if (strcmp(m->name, name) == 0)
				return m;
		}
	}
	return NULL;
}

/* The session's face: aish's own protocol until another is chosen. */
const struct face *
session_face(void)
{
	return br.face != NULL ? br.face : &face_aish;
}

/* Finds a method of the session's face by name. */
const struct method *
rpc_find_method(const char *name)
{
	return find_in(session_face()->tables, name);
}

/* The names of every core method, as a JSON array. */
cJSON *
rpc_method_names(void)
{
	cJSON			*a = cJSON_CreateArray();
	const struct method	*m;
	size_t			 i;

	for (i = 0; core_tables[i] != NULL; i++) {
		for (m = core_tables[i]; m->name != NULL; m++) {
			if (m->name[0] != '$')
				cJSON_AddItemToArray(a,
				    cJSON_CreateString(m->name));
		}
	}
	return a;
}

/* Starts the core method named method on r, a face's request, with params
 * (an object, or NULL for none); its answer and progress go through xlat.
 * Returns 0, or -1 when there is no such method (r is not answered). */
int
core_start(struct req *r, const char *method, const cJSON *params,
    const struct xlat *xlat)
{
	const struct method	*m = find_in(core_tables, method);
	cJSON			*empty = NULL;

	if (m == NULL)
		return -1;
	r->xlat = xlat;
	if (params == NULL)
		params = empty = cJSON_CreateObject();
	m->start(r, params);
	cJSON_Delete(empty);
	return 0;
}

/* ---- checking and dispatching one message ---- */

/* Deepest nesting of arrays and objects in the n bytes at p. */
static int
nesting_depth(const char *p, size_t n)
{
	int	depth = 0, max = 0, in_str = 0;
	size_t	i;

	for (i = 0; i < n; i++) {
		if (in_str) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				in_str = 0;
		} else if (p[i] == '"')
			in_str = 1;
		else if (p[i] == '{' || p[i] == '[') {
			if (++depth > max)
				max = depth;
		} else if (p[i] == '}' || p[i] == ']')
			depth--;
	}
	return max;
}

/* True when v may be a JSON-RPC id (a raw one is a number as sent). */
static int
valid_id(const cJSON *v)
{
	return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsNull(v) ||
	    cJSON_IsRaw(v);
}

/* ---- numeric ids echoed as sent ---- */

/*
 * cJSON keeps numbers as doubles, so 9007199254740993 or 1e2 would come
 * back changed.  These scan the (valid) message text for the "id" of
 * each request and put the number's own text in its place.
 */

/* Skips JSON white space. */
static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

/* Skips one value of valid JSON text; returns where it ends. */
static const char *
skip_value(const char *p, const char *end)
{
	int	depth = 0, in_str = 0;

	if (p < end && *p != '"' && *p != '{' && *p != '[') {
		while (p < end && strchr(",]} \t\r\n", *p) == NULL)
			p++;
		return p;
	}
	for (; p < end; p++) {
		if (in_str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				in_str = 0;
			else
				continue;
		} else if (*p == '"')
			in_str = 1;
		else if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		if (!in_str && depth == 0)
			return p + 1;
	}
	return end;
}

/* Puts the raw text of a numeric "id" member of the object at p into
 * obj, which is that object parsed. */
static void
keep_raw_id(cJSON *obj, const char *p, const char *end)
{
	const char	*key, *key_end, *val;
	char		*text;
	cJSON		*id = cJSON_GetObjectItemCaseSensitive(obj, "id");

	if (!cJSON_IsNumber(id) || p >= end || *p != '{')
		return;
	for (p++; ; p++) {
		p = skip_ws(p, end);
		if (p >= end || *p != '"')
			return;
		key = p;
		p = key_end = skip_value(p, end);
		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return;
		val = skip_ws(p + 1, end);
		p = skip_value(val, end);
		if (key_end - key == 4 && memcmp(key, "\"id\"", 4) == 0) {
			text = xstrndup(val, (size_t)(p - val));
			cJSON_ReplaceItemInObjectCaseSensitive(obj, "id",
			    cJSON_CreateRaw(text));
			free(text);
			return;
		}
		p = skip_ws(p, end);
		if (p >= end || *p != ',')
			return;
	}
}

/* Keeps the raw numeric ids of a message or of each batch element. */
static void
keep_raw_ids(cJSON *msg, const char *buf, size_t len)
{
	const char	*p = skip_ws(buf, buf + len), *end = buf + len;
	cJSON		*elt;

	if (!cJSON_IsArray(msg)) {
		keep_raw_id(msg, p, end);
		return;
	}
	p++;
	cJSON_ArrayForEach(elt, msg) {
		p = skip_ws(p, end);
		keep_raw_id(elt, p, end);
		p = skip_ws(skip_value(p, end), end);
		if (p < end && *p == ',')
			p++;
	}
}

/* True when msg is the client's answer to a call of the bridge: an id,
 * a result or an error, and no method. */
static int
is_response(const cJSON *msg, const cJSON *ver, const cJSON *method,
    const cJSON *id)
{
	return method == NULL && id != NULL && cJSON_IsString(ver) &&
	    strcmp(ver->valuestring, "2.0") == 0 &&
	    (cJSON_GetObjectItemCaseSensitive(msg, "result") != NULL ||
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(msg, "error")));
}

/* Answers an error to a request that is not started; nothing to a
 * notification (has_id 0). */
static void
early_error(struct batch *b, const cJSON *id, int has_id, int code,
    const char *message)
{
	if (!has_id)
		return;
	if (b != NULL)
		b->pending++;
	deliver(b, make_response(id, NULL, make_error(code, message, NULL)));
}

/* Makes a request record and starts its method. */
static void
start_request(struct batch *b, const cJSON *id, int has_id,
    const char *name, const struct method *m, const cJSON *params)
{
	struct req	*r = xcalloc(1, sizeof *r);
	cJSON		*empty = NULL;

	r->id = has_id ? cJSON_Duplicate(id, 1) : NULL;
	r->method = xstrdup(name);
	r->started_us = lws_now_usecs();
	if (has_id && b != NULL) {
		r->batch = b;
		b->pending++;
	}
	r->next = br.reqs;
	br.reqs = r;
	br.n_inflight++;
	/* Neovim 0.7 sends an empty Lua table as "params":[]. */
	if (params == NULL || cJSON_IsNull(params) ||
	    (cJSON_IsArray(params) && cJSON_GetArraySize(params) == 0))
		params = empty = cJSON_CreateObject();
	if (!cJSON_IsObject(params))
		req_error(r, RPC_INVALID_PARAMS,
		    "params must be an object (named parameters)", NULL);
	else
		m->start(r, params);
	cJSON_Delete(empty);
}

/* Handles one request or notification object. */
static void
handle_one(struct batch *b, const cJSON *msg)
{
	const cJSON		*id, *method, *params, *ver;
	const struct method	*m;
	int			 has_id;
	char			 text[160];

	id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	has_id = id != NULL;
	if (!cJSON_IsObject(msg)) {
		early_error(b, NULL, 1, RPC_INVALID_REQUEST,
		    "a request must be an object");
		return;
	}
	ver = cJSON_GetObjectItemCaseSensitive(msg, "jsonrpc");
	method = cJSON_GetObjectItemCaseSensitive(msg, "method");
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	if (is_response(msg, ver, method, id)) {
		client_answered(id, cJSON_GetObjectItemCaseSensitive(msg,
		    "result"), cJSON_GetObjectItemCaseSensitive(msg, "error"));
		return;
	}
	if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0") != 0 ||
	    !cJSON_IsString(method) || (has_id && !valid_id(id)) ||
	    (params != NULL && !cJSON_IsObject(params) &&
	    !cJSON_IsArray(params) && !cJSON_IsNull(params))) {
		/* Not a valid request: it has no valid id either way. */
		early_error(b, valid_id(id) ? id : NULL, 1,
		    RPC_INVALID_REQUEST, "invalid request");
		return;
	}
	if ((m = rpc_find_method(method->valuestring)) == NULL) {
		snprintf(text, sizeof text, "method not found: %.100s",
		    method->valuestring);
		early_error(b, id, has_id, RPC_METHOD_NOT_FOUND, text);
		return;
	}
	if (!br.initialized && !m->before_init) {
		early_error(b, id, has_id, RPC_NOT_INITIALIZED,
		    "the bridge is not initialized: send initialize first");
		return;
	}
	if (br.shut_down && !m->before_init) {
		early_error(b, id, has_id, RPC_INVALID_REQUEST,
		    "the bridge is shut down: only exit remains");
		return;
	}
	if (has_id && br.n_inflight >= br.max_inflight &&
	    strcmp(m->name, "aish/cancel") != 0) {
		snprintf(text, sizeof text, "too many requests in flight "
		    "(the limit is %zu)", br.max_inflight);
		early_error(b, id, has_id, RPC_TOO_MANY, text);
		return;
	}
	start_request(b, id, has_id, method->valuestring, m, params);
}

/* Handles a batch: one answer array once all its requests are done. */
static void
handle_batch(const cJSON *arr)
{
	struct batch	*b;
	const cJSON	*msg;

	if (cJSON_GetArraySize(arr) == 0) {
		rpc_frame_error(RPC_INVALID_REQUEST, "empty batch");
		return;
	}
	b = xcalloc(1, sizeof *b);
	b->answers = cJSON_CreateArray();
	b->pending = 1;		/* held until every element is started */
	br.batches_open++;
	cJSON_ArrayForEach(msg, arr)
		handle_one(b, msg);
	b->pending--;
	batch_settle(b);
}

/* Handles one framed message of len bytes. */
void
rpc_handle(const char *buf, size_t len)
{
	cJSON	*msg;
	char	 text[120];

	if (!ac_utf8_valid(buf, len)) {
		rpc_frame_error(RPC_PARSE_ERROR,
		    "parse error: not UTF-8 text");
		return;
	}
	if (nesting_depth(buf, len) > br.max_depth) {
		snprintf(text, sizeof text, "nested too deeply (the limit is "
		    "%d levels)", br.max_depth);
		rpc_frame_error(RPC_INVALID_REQUEST, text);
		return;
	}
	if ((msg = ac_json_parse(buf, len)) == NULL) {
		rpc_frame_error(RPC_PARSE_ERROR, "parse error: invalid JSON");
		return;
	}
	keep_raw_ids(msg, buf, len);
	if (cJSON_IsArray(msg))
		handle_batch(msg);
	else
		handle_one(NULL, msg);
	cJSON_Delete(msg);
}
