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

/* Starts a reply: POST {url}/api/chat with the conversation. */
static int
ollama_start(struct rh_job *job, struct rh_socket *s, struct rh_err *err)
{
	const struct rh_provider	*p = s->provider;
	const char			*key = rh_provider_key(p);
	struct ph_request		 rq;
	cJSON				*body;
	char				*auth = NULL;
	int				 rc;

	/* A key is for an Ollama behind a proxy that wants one. */
	if (p->api_key_env != NULL && key == NULL) {
		rh_provider_err(err, p, "the environment variable %s that "
		    "should hold the API key is not set", p->api_key_env);
		return -1;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "model", rh_provider_model(p, s));
	cJSON_AddItemToObject(body, "messages", ph_messages(job, s, 1));
	cJSON_AddTrueToObject(body, "stream");
	memset(&rq, 0, sizeof rq);
	rq.url = ph_url(p->url, "/api/chat");
	rq.headers[0] = "Content-Type: application/json";
	rq.headers[1] = "Accept: application/x-ndjson";
	if (key != NULL) {
		auth = xasprintf("Authorization: Bearer %s", key);
		rq.headers[2] = auth;
	}
	rq.body = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	rc = ph_start(job, s, &ollama_wire, &rq, err);
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	return rc;
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
