/*
 * reply-frame.c: the frames of a reply as JSON text: the delta frames it
 * streams in, and its final read or error frame (SPEC section 3).
 */
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "job.h"
#include "json-build.h"
#include "xalloc.h"

/* A frame as JSON text; consumes obj. */
static char *
frame_text(cJSON *obj)
{
	char	*text = cJSON_PrintUnformatted(obj);

	cJSON_Delete(obj);
	return text;
}

/* The final frame of a job as JSON text: a read frame, or an error frame
 * when code is not NULL. */
char *
rh_frame_final(struct rh_job *job, const char *ai_name, const char *content,
    const char *code, int64_t seq, int64_t now)
{
	cJSON	*obj = cJSON_CreateObject();
	cJSON	*headers = cJSON_CreateArray();
	char	*from = xstrcat3(AISH_FROM_HEADER_PREFIX, job->socket_id, ""),
		*json;
	char	 when[32];

	ac_json_add_ref(obj, "type", code ? AISH_FRAME_ERROR :
	    AISH_FRAME_READ);
	if (code != NULL) {
		ac_json_add_ref(obj, "code", code);
		ac_json_add_ref(obj, "message", content);
	} else
		ac_json_add_ref(obj, "content", content);
	cJSON_AddItemToArray(headers, cJSON_CreateStringReference(from));
	ac_json_add_item(obj, "headers", headers);
	ac_json_add_ref(obj, "socket_id", job->socket_id);
	ac_json_add_ref(obj, "ai_name", ai_name);
	ac_json_add_ref(obj, "in_reply_to", job->write_id);
	ac_json_add_int(obj, "seq", seq);
	rh_format_time(now, when, sizeof when);
	ac_json_add_ref(obj, "timestamp", when);
	if (job->fresh)
		cJSON_AddTrueToObject(obj, "fresh");
	json = frame_text(obj);
	free(from);
	return json;
}

/* A delta frame carrying len bytes of text (allocated, cJSON_free). */
char *
rh_frame_delta(struct rh_job *job, const char *text, size_t len)
{
	cJSON	*obj = cJSON_CreateObject();
	char	*piece = xstrndup(text, len), *json;

	ac_json_add_ref(obj, "type", AISH_FRAME_DELTA);
	ac_json_add_ref(obj, "content", piece);
	ac_json_add_ref(obj, "socket_id", job->socket_id);
	ac_json_add_ref(obj, "in_reply_to", job->write_id);
	/* A client hearing the AI on two connections drops the copies. */
	ac_json_add_int(obj, "index", job->deltas++);
	if (job->fresh)
		cJSON_AddTrueToObject(obj, "fresh");
	json = frame_text(obj);
	free(piece);
	return json;
}
