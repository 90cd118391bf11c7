/*
 * reply.c: reading what the server answers: a WebSocket frame into an
 * aish_msg_t, an HTTP answer into an aish_result_t.  Whatever the bytes,
 * the result's strings point into the parsed JSON (or are NULL) and its
 * error says what went wrong; fuzz/fuzz-libaish.c feeds it anything.
 */
#include <stdlib.h>
#include <string.h>

#include "aish-private.h"
#include <aish/protocol.h>

/* An empty members list (an ack that names no member). */
static const char *const no_members[1] = { NULL };

/* The string field name of obj, or NULL. */
static const char *
str_field(const cJSON *obj, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The whole number field name of obj (a seq, an index), or -1 when it is
 * missing or no number from 0 to 2^53: a double past the range of int64_t
 * cannot even be cast. */
static int64_t
count_field(const cJSON *obj, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 &&
	    v->valuedouble <= 9007199254740992.0))
		return -1;
	return (int64_t)v->valuedouble;
}

/* Points out[] at the strings of the array field name; returns how many
 * (0 when none or out of memory). */
static size_t
str_array(const cJSON *obj, const char *name, const char ***out)
{
	const cJSON	*a = cJSON_GetObjectItemCaseSensitive(obj, name);
	const cJSON	*v;
	size_t		 n = 0;

	*out = NULL;
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0)
		return 0;
	if ((*out = calloc((size_t)cJSON_GetArraySize(a) + 1,
	    sizeof **out)) == NULL)
		return 0;
	cJSON_ArrayForEach(v, a) {
		if (cJSON_IsString(v))
			(*out)[n++] = v->valuestring;
	}
	return n;
}

/* The type of a frame; 0 when it is no frame we know. */
static int
msg_type(const char *type, aish_msg_type_t *out)
{
	if (type == NULL)
		return 0;
	if (strcmp(type, AISH_FRAME_ACK) == 0)
		*out = AISH_MSG_ACK;
	else if (strcmp(type, AISH_FRAME_DELTA) == 0)
		*out = AISH_MSG_DELTA;
	else if (strcmp(type, AISH_FRAME_READ) == 0)
		*out = AISH_MSG_READ;
	else if (strcmp(type, AISH_FRAME_ERROR) == 0)
		*out = AISH_MSG_ERROR;
	else if (strcmp(type, AISH_FRAME_PONG) == 0)
		*out = AISH_MSG_PONG;
	else if (strcmp(type, AISH_FRAME_TURN) == 0)
		*out = AISH_MSG_TURN;
	else
		return 0;
	return 1;
}

/* Fills m from a parsed frame (see aish-private.h). */
int
aishi_msg_read(aish_msg_t *m, const cJSON *f, const char *conn_socket_id,
    const char ***headers, const char ***members)
{
	memset(m, 0, sizeof *m);
	*headers = *members = NULL;
	if (!msg_type(str_field(f, AISH_FIELD_TYPE), &m->type))
		return 0;
	m->conn_socket_id = conn_socket_id;
	m->socket_id = str_field(f, AISH_FIELD_SOCKET_ID);
	if (m->socket_id == NULL && m->type != AISH_MSG_ERROR)
		m->socket_id = conn_socket_id;
	m->ai_name = str_field(f, AISH_FIELD_AI_NAME);
	if ((m->content = str_field(f, AISH_FIELD_CONTENT)) != NULL)
		m->content_len = strlen(m->content);
	m->in_reply_to = str_field(f, m->type == AISH_MSG_ACK ? AISH_FIELD_ID :
	    AISH_FIELD_IN_REPLY_TO);
	m->seq = count_field(f, AISH_FIELD_SEQ);
	m->index = count_field(f, AISH_FIELD_INDEX);
	m->timestamp = str_field(f, AISH_FIELD_TIMESTAMP);
	m->code = str_field(f, AISH_FIELD_CODE);
	m->message = str_field(f, AISH_FIELD_MESSAGE);
	m->duplicate = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f,
	    AISH_FIELD_DUPLICATE));
	m->fresh = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f,
	    AISH_FIELD_FRESH));
	if (m->type == AISH_MSG_TURN)
		m->role = "user";
	else if (m->type == AISH_MSG_DELTA || m->type == AISH_MSG_READ)
		m->role = "assistant";
	m->n_headers = str_array(f, AISH_FIELD_HEADERS, headers);
	m->headers = *headers;
	m->n_members = str_array(f, AISH_FIELD_MEMBERS, members);
	m->members = *members;
	if (*members == NULL && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(
	    f, AISH_FIELD_MEMBERS)))
		m->members = no_members;	/* empty, not absent */
	return 1;
}

/* Reads the server's {"error":{code,message}} into res. */
static void
read_error(aish_result_t *res, const cJSON *root)
{
	const cJSON	*e = cJSON_GetObjectItemCaseSensitive(root,
	    AISH_FIELD_ERROR);
	const cJSON	*v;

	if (!cJSON_IsObject(e))
		return;
	v = cJSON_GetObjectItemCaseSensitive(e, AISH_FIELD_CODE);
	if (cJSON_IsString(v)) {
		res->code = v->valuestring;
		res->err = aish_error_from_code(v->valuestring);
		if (res->err == AISH_E_SERVER)
			res->err = aishi_error_from_status(res->status);
	}
	v = cJSON_GetObjectItemCaseSensitive(e, AISH_FIELD_MESSAGE);
	if (cJSON_IsString(v))
		res->message = v->valuestring;
}

/* Reads an HTTP answer that came whole (see aish-private.h). */
cJSON *
aishi_result_read(aish_result_t *res, long status, const char *body,
    size_t len)
{
	cJSON		*root = NULL;
	const cJSON	*v;

	res->status = status;
	res->body = body;
	res->body_len = len;
	res->err = aishi_error_from_status(status);
	if (body != NULL)
		root = cJSON_ParseWithLength(body, len);
	if (res->err != AISH_OK)
		read_error(res, root);
	else if (root == NULL && len > 0) {
		res->err = AISH_E_PROTOCOL;
		res->message = "the answer is not JSON";
	}
	v = cJSON_GetObjectItemCaseSensitive(root, AISH_FIELD_SOCKET_ID);
	if (res->err == AISH_OK && cJSON_IsString(v))
		res->socket_id = v->valuestring;
	return root;
}
