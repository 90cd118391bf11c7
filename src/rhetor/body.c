/*
 * body.c: the checks of request bodies and of the fields that HTTP
 * requests and WebSocket frames share (see body.h).  Each answers with an
 * rh_err ready to send: HTTP status, error code of SPEC section 3, text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "body.h"
#include "delivery.h"
#include "json-parse.h"

/* Fills an rh_err. */
void
rh_err_set(struct rh_err *err, int status, const char *code,
    const char *fmt, ...)
{
	va_list	ap;

	err->status = status;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
}

/* Reads the "moderation" and "fresh" fields of a write (see
 * delivery.h). */
int
rh_write_flags(const cJSON *obj, int *flags, struct rh_err *err)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, "moderation");
	const cJSON	*fresh = cJSON_GetObjectItemCaseSensitive(obj, "fresh");

	*flags = 0;
	if (cJSON_IsString(v) && strcmp(v->valuestring, "synthesis") == 0)
		*flags = RH_WRITE_SYNTHESIS;
	else if (v != NULL && !cJSON_IsNull(v)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "\"moderation\" "
		    "must be \"synthesis\" (or absent)");
		return -1;
	}
	if (cJSON_IsTrue(fresh))
		*flags |= RH_WRITE_FRESH;
	else if (fresh != NULL && !cJSON_IsFalse(fresh)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "\"fresh\" must be "
		    "true or false");
		return -1;
	}
	return 0;
}

/* Parses a request body (see body.h). */
cJSON *
rh_body_parse(const char *data, size_t len, struct rh_err *err)
{
	cJSON	*obj;

	if (len == 0) {
		rh_err_set(err, 400, AISH_ERR_BAD_JSON,
		    "the request needs a JSON body");
		return NULL;
	}
	if ((obj = ac_json_parse(data, len)) == NULL) {
		rh_err_set(err, 400, AISH_ERR_BAD_JSON,
		    "the body is not valid JSON");
		return NULL;
	}
	if (!cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST,
		    "the body must be a JSON object");
		return NULL;
	}
	return obj;
}

/* Reads an optional string field: NULL when absent or null; 0, or -1
 * with err filled when it is something else. */
static int
optional_string(const cJSON *body, const char *key, const char **out,
    struct rh_err *err)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(body, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST,
		    "\"%s\" must be a string", key);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

/* The fields of a create request (see body.h). */
int
rh_body_create(const cJSON *body, struct rh_create_req *cr,
    struct rh_err *err)
{
	const cJSON	*context, *priv;

	memset(cr, 0, sizeof *cr);
	if (optional_string(body, "ai_name", &cr->ai_name, err) != 0 ||
	    optional_string(body, "socket_id", &cr->socket_id, err) != 0 ||
	    optional_string(body, "model", &cr->model, err) != 0 ||
	    optional_string(body, "prompt", &cr->prompt, err) != 0 ||
	    optional_string(body, "provider", &cr->provider, err) != 0)
		return -1;
	if (cr->ai_name == NULL) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST,
		    "\"ai_name\" is required");
		return -1;
	}
	context = cJSON_GetObjectItemCaseSensitive(body, "context");
	if (context != NULL && !cJSON_IsNull(context) &&
	    !cJSON_IsObject(context)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST,
		    "\"context\" must be an object");
		return -1;
	}
	cr->context = cJSON_IsObject(context) ? context : NULL;
	priv = cJSON_GetObjectItemCaseSensitive(body, "private");
	if (priv != NULL && !cJSON_IsNull(priv) && !cJSON_IsBool(priv)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST,
		    "\"private\" must be true or false");
		return -1;
	}
	cr->private_socket = cJSON_IsTrue(priv);
	return 0;
}

/* The fields of a write (see body.h). */
int
rh_body_write(const cJSON *body, struct rh_write_fields *w,
    struct rh_err *err)
{
	const cJSON	*content;

	memset(w, 0, sizeof *w);
	if (optional_string(body, "id", &w->id, err) != 0)
		return -1;
	content = cJSON_GetObjectItemCaseSensitive(body, "content");
	if (!cJSON_IsString(content)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST,
		    "a write needs \"content\": a string");
		return -1;
	}
	w->content = content->valuestring;
	return rh_write_flags(body, &w->flags, err);
}

/* The fields of a team chat (see body.h). */
int
rh_body_team_chat(const cJSON *body, int default_timeout_ms,
    struct rh_team_fields *t, struct rh_err *err)
{
	const cJSON	*message, *timeout;

	memset(t, 0, sizeof *t);
	message = cJSON_GetObjectItemCaseSensitive(body, "message");
	if (!cJSON_IsString(message)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST,
		    "a team chat needs \"message\": a string");
		return -1;
	}
	t->message = message->valuestring;
	if (optional_string(body, "group", &t->group, err) != 0 ||
	    rh_write_flags(body, &t->flags, err) != 0)
		return -1;
	timeout = cJSON_GetObjectItemCaseSensitive(body, "timeout_ms");
	t->timeout_ms = default_timeout_ms;
	if (timeout == NULL || cJSON_IsNull(timeout))
		return 0;
	if (!cJSON_IsNumber(timeout) || timeout->valuedouble < 0 ||
	    timeout->valuedouble > AISH_MAX_WAIT_MS) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "timeout_ms must "
		    "be a number from 0 to %d", AISH_MAX_WAIT_MS);
		return -1;
	}
	t->timeout_ms = (int)timeout->valuedouble;
	return 0;
}
