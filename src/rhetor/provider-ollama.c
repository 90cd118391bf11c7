/*
 * provider-ollama.c: Ollama's POST /api/chat, streamed as NDJSON.
 *
 * Each line is one JSON object: {"message":{"content":"Hel"},"done":false}
 * and at last {"done":true,...}; a failure mid-stream is a line
 * {"error":"..."}, and before the stream an HTTP status with the same
 * body.  The socket's prompt goes first as the "system" message.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "provider-http.h"
#include "xalloc.h"

/* One NDJSON line of the answer. */
static int
ollama_line(struct ph_call *pc, const char *line, size_t len)
{
	cJSON		*obj = ph_parse(pc, line, len);
	const cJSON	*msg, *content, *done;
	char		*err;
	int		 rc = 0;

	if (obj == NULL)
		return PH_STOP;
	if ((err = ph_error_text(obj)) != NULL) {
		rc = ph_error(pc, "%s", err);
		free(err);
		cJSON_Delete(obj);
		return rc;
	}
	msg = cJSON_GetObjectItemCaseSensitive(obj, "message");
	content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	if (cJSON_IsString(content))
		ph_emit(pc, content->valuestring,
		    strlen(content->valuestring));
	done = cJSON_GetObjectItemCaseSensitive(obj, "done");
	if (cJSON_IsTrue(done))
		rc = ph_complete(pc);
	cJSON_Delete(obj);
	return rc;
}

static const struct ph_wire ollama_wire = {
	.on_line = ollama_line,
};

/* Starts a reply: POST {url}/api/chat with the conversation.  A key, when
 * the config names one, is for an Ollama behind a proxy that wants it. */
static int
ollama_start(struct rh_job *job, struct rh_socket *s, struct rh_err *err)
{
	struct ph_request	rq;

	memset(&rq, 0, sizeof rq);
	rq.path = "/api/chat";
	rq.headers[0] = "Accept: application/x-ndjson";
	rq.key_header = "Authorization";
	rq.key_scheme = "Bearer ";
	rq.body = cJSON_CreateObject();
	cJSON_AddStringToObject(rq.body, "model",
	    rh_provider_model(s->provider, s));
	cJSON_AddItemToObject(rq.body, "messages", ph_messages(job, s, 1));
	cJSON_AddTrueToObject(rq.body, "stream");
	return ph_start(job, s, &ollama_wire, &rq, err);
}

const struct rh_provider_type rh_type_ollama = {
	.name = "ollama",
	.start = ollama_start,
	.stop = ph_stop,
	.default_url = "http://127.0.0.1:11434",
	.default_model = "llama3.2",
};

/* curl write callback that keeps nothing. */
static size_t
discard(char *data, size_t size, size_t n, void *ud)
{
	(void)data;
	(void)ud;
	return size * n;
}

/* Asks Ollama for its models list; 0 when it answers 200 in time.  Runs
 * once before the loop starts, so waiting here blocks nothing else. */
int
rh_ollama_probe(const char *url, long timeout_ms)
{
	CURL	*e;
	char	*tags;
	long	 status = 0;
	int	 rc = -1;

	if ((e = curl_easy_init()) == NULL)
		return -1;
	tags = ph_url(url, "/api/tags");
	curl_easy_setopt(e, CURLOPT_URL, tags);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (curl_easy_perform(e) == CURLE_OK &&
	    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
	    status == 200)
		rc = 0;
	curl_easy_cleanup(e);
	free(tags);
	return rc;
}
