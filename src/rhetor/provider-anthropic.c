/*
 * provider-anthropic.c: Anthropic's POST /v1/messages, streamed as
 * Server-Sent Events.
 *
 * The text comes in "content_block_delta" events ({"delta":{"type":
 * "text_delta","text":"Hel"}}) and the reply ends with "message_stop"; an
 * "error" event ({"error":{"type":"overloaded_error","message":...}}) or
 * an HTTP error with the same body is a failure.  Other events (ping,
 * message_start, ...) carry nothing to show.  The prompt goes in
 * "system", the key in "x-api-key".
 */
#include <stdlib.h>
#include <string.h>

#include "provider-http.h"
#include "xalloc.h"

#define ANTHROPIC_VERSION	"2023-06-01"
#define DEFAULT_MAX_TOKENS	4096

/* The event's type: its "event:" name, else the data's "type". */
static const char *
event_type(const char *event, const cJSON *obj)
{
	const cJSON	*type = cJSON_GetObjectItemCaseSensitive(obj, "type");

	if (strcmp(event, "message") != 0)
		return event;
	return cJSON_IsString(type) ? type->valuestring : "";
}

/* One SSE event of the answer. */
static int
anthropic_event(struct ph_call *pc, const char *event, const char *data,
    size_t len)
{
	const cJSON	*delta, *text;
	const char	*type;
	cJSON		*obj;
	char		*err;
	int		 rc = 0;

	if ((obj = ph_parse(pc, data, len)) == NULL)
		return PH_STOP;
	type = event_type(event, obj);
	if (strcmp(type, "content_block_delta") == 0) {
		delta = cJSON_GetObjectItemCaseSensitive(obj, "delta");
		text = cJSON_GetObjectItemCaseSensitive(delta, "text");
		if (cJSON_IsString(text))
			ph_emit(pc, text->valuestring,
			    strlen(text->valuestring));
	} else if (strcmp(type, "message_stop") == 0)
		rc = ph_complete(pc);
	else if (strcmp(type, "error") == 0) {
		err = ph_error_text(obj);
		rc = ph_error(pc, "%s", err ? err : "an error event");
		free(err);
	}
	cJSON_Delete(obj);
	return rc;
}

static const struct ph_wire anthropic_wire = {
	.on_event = anthropic_event,
};

/* The conversation without any leading assistant turn: the API wants
 * the user to speak first. */
static cJSON *
anthropic_messages(struct rh_job *job, struct rh_socket *s)
{
	cJSON		*arr = ph_messages(job, s, 0);
	const cJSON	*role;

	while (cJSON_GetArraySize(arr) > 1) {
		role = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetArrayItem(arr, 0), "role");
		if (cJSON_IsString(role) && strcmp(role->valuestring,
		    "user") == 0)
			break;
		cJSON_DeleteItemFromArray(arr, 0);
	}
	return arr;
}

/* Starts a reply: POST {url}/v1/messages with the conversation. */
static int
anthropic_start(struct rh_job *job, struct rh_socket *s, struct rh_err *err)
{
	const struct rh_provider	*p = s->provider;
	struct ph_request		 rq;

	memset(&rq, 0, sizeof rq);
	rq.path = "/v1/messages";
	rq.headers[0] = "Accept: text/event-stream";
	rq.headers[1] = "anthropic-version: " ANTHROPIC_VERSION;
	rq.key_header = "x-api-key";
	rq.body = cJSON_CreateObject();
	cJSON_AddStringToObject(rq.body, "model", rh_provider_model(p, s));
	cJSON_AddNumberToObject(rq.body, "max_tokens", p->max_tokens > 0 ?
	    p->max_tokens : DEFAULT_MAX_TOKENS);
	if (s->prompt != NULL && *s->prompt != '\0')
		cJSON_AddStringToObject(rq.body, "system", s->prompt);
	cJSON_AddItemToObject(rq.body, "messages", anthropic_messages(job, s));
	cJSON_AddTrueToObject(rq.body, "stream");
	return ph_start(job, s, &anthropic_wire, &rq, err);
}

const struct rh_provider_type rh_type_anthropic = {
	.name = "anthropic",
	.start = anthropic_start,
	.stop = ph_stop,
	.default_url = "https://api.anthropic.com",
	.default_model = "claude-3-5-haiku-latest",
};
