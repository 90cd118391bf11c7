/*
 * provider-openai.c: any OpenAI-compatible POST /v1/chat/completions
 * (OpenAI, llama.cpp's server, vLLM, LM Studio), streamed as Server-Sent
 * Events.
 *
 * Each event's data is a chunk {"choices":[{"delta":{"content":"Hel"},
 * "finish_reason":null}]}; the stream ends with "data: [DONE]".  A
 * failure is {"error":{"message":...}}, as an HTTP error body or as an
 * event.  Some servers end without [DONE]: a stream that ended after a
 * finish_reason is still a whole reply.  The key goes in
 * "Authorization: Bearer".
 */
#include <stdlib.h>
#include <string.h>

#include "provider-http.h"
#include "xalloc.h"

/* Reads one chunk's first choice: its text and whether it finished. */
static void
openai_choice(struct ph_call *pc, const cJSON *obj)
{
	const cJSON	*choices, *choice, *delta, *content, *finish;

	choices = cJSON_GetObjectItemCaseSensitive(obj, "choices");
	choice = cJSON_GetArrayItem(choices, 0);
	delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");
	content = cJSON_GetObjectItemCaseSensitive(delta, "content");
	if (cJSON_IsString(content))
		ph_emit(pc, content->valuestring,
		    strlen(content->valuestring));
	finish = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
	if (cJSON_IsString(finish))
		*ph_flag(pc) = 1;
}

/* One SSE event of the answer. */
static int
openai_event(struct ph_call *pc, const char *event, const char *data,
    size_t len)
{
	cJSON	*obj;
	char	*err;
	int	 rc = 0;

	(void)event;
	if (len == 6 && memcmp(data, "[DONE]", 6) == 0)
		return ph_complete(pc);
	if ((obj = ph_parse(pc, data, len)) == NULL)
		return PH_STOP;
	if (cJSON_GetObjectItemCaseSensitive(obj, "error") != NULL) {
		err = ph_error_text(obj);
		rc = ph_error(pc, "%s", err ? err : "an error event");
		free(err);
	} else
		openai_choice(pc, obj);
	cJSON_Delete(obj);
	return rc;
}

/* A stream that ends after a finish_reason is whole. */
static int
openai_whole_at_eof(struct ph_call *pc)
{
	return *ph_flag(pc);
}

static const struct ph_wire openai_wire = {
	.on_event = openai_event,
	.whole_at_eof = openai_whole_at_eof,
};

/* Starts a reply: POST {url}/v1/chat/completions with the conversation. */
static int
openai_start(struct rh_job *job, struct rh_socket *s, struct rh_err *err)
{
	const struct rh_provider	*p = s->provider;
	struct ph_request		 rq;

	memset(&rq, 0, sizeof rq);
	rq.path = "/v1/chat/completions";
	rq.headers[0] = "Accept: text/event-stream";
	rq.key_header = "Authorization";
	rq.key_scheme = "Bearer ";
	rq.body = cJSON_CreateObject();
	cJSON_AddStringToObject(rq.body, "model", rh_provider_model(p, s));
	cJSON_AddItemToObject(rq.body, "messages", ph_messages(job, s, 1));
	cJSON_AddTrueToObject(rq.body, "stream");
	if (p->max_tokens > 0)
		cJSON_AddNumberToObject(rq.body, "max_tokens", p->max_tokens);
	return ph_start(job, s, &openai_wire, &rq, err);
}

const struct rh_provider_type rh_type_openai = {
	.name = "openai",
	.start = openai_start,
	.stop = ph_stop,
	.default_url = "https://api.openai.com",
	.default_model = "gpt-4o-mini",
};
