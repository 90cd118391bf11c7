/*
 * route-tekton.c: the requests of Tekton's Rhetor API that the first aish (the
 * Python client) makes, answered in the shape it reads (see route-tekton.h and
 * doc/tekton.md).
 *
 * Both run as an HTTP team chat (route-teamchat.c): a specialist's message is a
 * team chat of one, on that AI's socket; a team chat whose message starts
 * with "[To NAME] " is the same for the AI NAME names (the client's way of
 * writing to one AI through the team chat); any other goes to the whole
 * team.  Specialist ids are socket ids with "-ai" after them, as Tekton
 * names its specialists ("apollo-ai"); a bare socket id is taken too.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "registry.h"
#include "route-teamchat.h"
#include "route-tekton.h"
#include "routes.h"
#include "xalloc.h"

/* Tekton's default team-chat timeout is unknown; aish's is used. */
#define TEKTON_DEFAULT_TIMEOUT_MS	60000
#define TEKTON_SUFFIX			"-ai"
#define TEKTON_PASS_THROUGH		"pass_through"
static const char to_prefix[] = "[To ";
static const char specialists_prefix[] = "/api/ai/specialists/";

/* True for a team-chat request in Tekton's shape (see tekton.h). */
int
rh_tekton_asks(const cJSON *body)
{
	return cJSON_GetObjectItemCaseSensitive(body, "timeout_ms") == NULL &&
	    (cJSON_GetObjectItemCaseSensitive(body, "moderation_mode") != NULL ||
	    cJSON_GetObjectItemCaseSensitive(body, "timeout") != NULL);
}

/* The AI socket a specialist id or an AI name means ("apollo-ai",
 * "apollo", "apollo-1"), or NULL. */
static struct rh_socket *
specialist_socket(struct rh_server *srv, const char *id)
{
	struct rh_socket	*s = NULL;
	size_t			 n = strlen(id), k = strlen(TEKTON_SUFFIX);
	char			*bare;

	if (ac_name_valid(id))
		s = rh_registry_resolve(srv, id);
	if (s == NULL && n > k && strcmp(id + n - k, TEKTON_SUFFIX) == 0) {
		bare = xstrndup(id, n - k);
		if (ac_name_valid(bare))
			s = rh_registry_resolve(srv, bare);
		free(bare);
	}
	if (s != NULL && !rh_registry_is_ai(s) && s->kind != RH_KIND_RHETOR)
		s = NULL;	/* team-chat sockets are no specialists */
	return s;
}

/* The specialist id of a socket: its id and "-ai" (allocated). */
static char *
specialist_id(const char *socket_id)
{
	return xstrcat3(socket_id, TEKTON_SUFFIX, "");
}

/* Reads "moderation_mode" and "timeout" (seconds); 0, or -1 with err. */
static int
tekton_options(const cJSON *body, int *timeout_ms, struct rh_err *err)
{
	const cJSON	*mode, *timeout;

	mode = cJSON_GetObjectItemCaseSensitive(body, "moderation_mode");
	if (mode != NULL && !cJSON_IsNull(mode) && (!cJSON_IsString(mode) ||
	    strcmp(mode->valuestring, TEKTON_PASS_THROUGH) != 0)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "moderation_mode: "
		    "only \"%s\" is served (for a moderated team chat, send "
		    "aish's \"moderation\":\"synthesis\")", TEKTON_PASS_THROUGH);
		return -1;
	}
	*timeout_ms = TEKTON_DEFAULT_TIMEOUT_MS;
	timeout = cJSON_GetObjectItemCaseSensitive(body, "timeout");
	if (timeout == NULL || cJSON_IsNull(timeout))
		return 0;
	if (!cJSON_IsNumber(timeout) || !isfinite(timeout->valuedouble) ||
	    timeout->valuedouble < 0) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "timeout must be a "
		    "number of seconds, 0 or more");
		return -1;
	}
	*timeout_ms = timeout->valuedouble * 1000 > AISH_MAX_WAIT_MS ?
	    AISH_MAX_WAIT_MS : (int)(timeout->valuedouble * 1000);
	return 0;
}

/* Gives a team chat's answer Tekton's shape: "responses" keyed by
 * specialist id, each reply as aish gives it (content or error, with
 * socket_id, ai_name, ms), and "timed_out" in specialist ids. */
static int
team_shape(cJSON **answer)
{
	cJSON	*out = cJSON_CreateObject();
	cJSON	*keyed = cJSON_AddObjectToObject(out, "responses");
	cJSON	*late = cJSON_AddArrayToObject(out, "timed_out");
	cJSON	*r, *id, *syn;
	char	*key;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(*answer,
	    "responses")) {
		id = cJSON_GetObjectItemCaseSensitive(r, "socket_id");
		if (!cJSON_IsString(id))
			continue;
		key = specialist_id(id->valuestring);
		cJSON_AddStringToObject(r, "specialist_id", key);
		cJSON_AddItemToObject(keyed, key, cJSON_Duplicate(r, 1));
		free(key);
	}
	cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(*answer,
	    "timed_out")) {
		key = specialist_id(id->valuestring);
		cJSON_AddItemToArray(late, cJSON_CreateString(key));
		free(key);
	}
	if ((syn = cJSON_GetObjectItemCaseSensitive(*answer, "synthesis")))
		cJSON_AddItemToObject(out, "synthesis", cJSON_Duplicate(syn, 1));
	cJSON_AddStringToObject(out, "moderation_mode", TEKTON_PASS_THROUGH);
	cJSON_Delete(*answer);
	*answer = out;
	return 200;
}

/* An error answer {"error":{"code","message"}}. */
static cJSON *
error_body(const char *code, const char *message)
{
	cJSON	*obj = cJSON_CreateObject();
	cJSON	*e = cJSON_AddObjectToObject(obj, "error");

	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	return obj;
}

/* Gives a team chat of one the shape of a specialist's answer:
 * {"response","content","specialist_id","socket_id","ai_name","ms"}, or
 * an error (502 the AI failed, 504 it did not answer in time). */
static int
specialist_shape(cJSON **answer)
{
	cJSON	*r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
	    *answer, "responses"), 0);
	cJSON	*out, *content, *e, *id;
	char	*key;
	int	 status = 200;

	content = cJSON_GetObjectItemCaseSensitive(r, "content");
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	id = cJSON_GetObjectItemCaseSensitive(r, "socket_id");
	if (cJSON_IsString(content) && cJSON_IsString(id)) {
		out = cJSON_CreateObject();
		key = specialist_id(id->valuestring);
		cJSON_AddStringToObject(out, "response", content->valuestring);
		cJSON_AddStringToObject(out, "content", content->valuestring);
		cJSON_AddStringToObject(out, "specialist_id", key);
		cJSON_AddItemToObject(out, "socket_id", cJSON_Duplicate(id, 1));
		cJSON_AddItemToObject(out, "ai_name", cJSON_Duplicate(
		    cJSON_GetObjectItemCaseSensitive(r, "ai_name"), 1));
		cJSON_AddItemToObject(out, "ms", cJSON_Duplicate(
		    cJSON_GetObjectItemCaseSensitive(r, "ms"), 1));
		free(key);
	} else if (e != NULL) {
		status = 502;
		out = cJSON_CreateObject();
		cJSON_AddItemToObject(out, "error", cJSON_Duplicate(e, 1));
	} else {
		status = 504;
		out = error_body(AISH_ERR_PROVIDER_TIMEOUT, "the specialist did "
		    "not answer in time");
	}
	cJSON_Delete(*answer);
	*answer = out;
	return status;
}

/* A team chat in Tekton's shape (see tekton.h). */
void
rh_tekton_team_chat(struct rh_http_req *req, const cJSON *body)
{
	const cJSON		*message = cJSON_GetObjectItemCaseSensitive(body,
	    "message");
	struct rh_socket	*origin = NULL;
	struct rh_err		 err;
	const char		*text, *end;
	char			*name = NULL;
	int			 timeout_ms;

	if (!cJSON_IsString(message)) {
		rh_http_error(req, 400, AISH_ERR_BAD_REQUEST, "a team chat "
		    "needs \"message\": a string");
		return;
	}
	if (tekton_options(body, &timeout_ms, &err) != 0) {
		rh_http_reply_err(req, &err);
		return;
	}
	text = message->valuestring;
	/* "[To NAME] text" is for the AI NAME alone, which gets the text. */
	if (strncmp(text, to_prefix, sizeof to_prefix - 1) == 0 &&
	    (end = strstr(text, "] ")) != NULL) {
		name = xstrndup(text + sizeof to_prefix - 1,
		    (size_t)(end - text) - (sizeof to_prefix - 1));
		if ((origin = specialist_socket(req->srv, name)) != NULL)
			text = end + 2;
		free(name);
	}
	if (origin == NULL)
		origin = rh_registry_find(req->srv, AISH_TEAM_CHAT_ALL);
	if (rh_team_chat_start(req, origin, text, timeout_ms, 0, team_shape,
	    &err) != 0)
		rh_http_reply_err(req, &err);
}

/* POST /api/ai/specialists/{id}/message {"message","temperature"?} */
void
rh_route_specialist_message(struct rh_http_req *req, struct rh_socket *unused)
{
	struct rh_socket	*s;
	struct rh_err		 err;
	const cJSON		*message;
	cJSON			*body;
	const char		*start = req->path + sizeof specialists_prefix - 1;
	char			*id;

	(void)unused;
	id = xstrndup(start, strcspn(start, "/"));
	if ((s = specialist_socket(req->srv, id)) == NULL) {
		rh_http_error(req, 404, AISH_ERR_UNKNOWN_SOCKET, "no specialist "
		    "'%.64s' (specialists are AI sockets: apollo-ai or apollo "
		    "is the socket apollo)", id);
		free(id);
		return;
	}
	free(id);
	if ((body = rh_http_json_body(req)) == NULL)
		return;
	message = cJSON_GetObjectItemCaseSensitive(body, "message");
	if (!cJSON_IsString(message))
		rh_http_error(req, 400, AISH_ERR_BAD_REQUEST, "a specialist's "
		    "message needs \"message\": a string");
	else if (rh_team_chat_start(req, s, message->valuestring,
	    TEKTON_DEFAULT_TIMEOUT_MS, 0, specialist_shape, &err) != 0)
		rh_http_reply_err(req, &err);
	cJSON_Delete(body);
}
