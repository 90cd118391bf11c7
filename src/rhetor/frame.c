/*
 * frame.c: parses and checks the text frames a WebSocket client sends
 * (see frame.h).  The messages are those ws.c has always sent; only where
 * they are decided moved here.
 */
#include <string.h>

#include "body.h"
#include "delivery.h"
#include "frame.h"
#include "json-parse.h"

/* Checks a write: an optional string id, a string content, moderation,
 * fresh. */
static int
parse_write(struct rh_frame *f, struct rh_err *err)
{
	const cJSON	*content, *id;

	content = cJSON_GetObjectItemCaseSensitive(f->json, "content");
	id = cJSON_GetObjectItemCaseSensitive(f->json, "id");
	if (id != NULL && !cJSON_IsString(id)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST,
		    "id must be a string");
		return -1;
	}
	f->id = f->in_reply_to = id ? id->valuestring : NULL;
	if (!cJSON_IsString(content)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST,
		    "a write needs \"content\": a string");
		return -1;
	}
	f->content = content->valuestring;
	return rh_write_flags(f->json, &f->flags, err);
}

/* Checks a cancel: the id of the write to stop. */
static int
parse_cancel(struct rh_frame *f, struct rh_err *err)
{
	const cJSON	*id = cJSON_GetObjectItemCaseSensitive(f->json, "id");

	if (!cJSON_IsString(id)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST,
		    "a cancel needs \"id\": the write's id");
		return -1;
	}
	f->id = id->valuestring;
	return 0;
}

/* Checks a stream_start: an optional id and a media type. */
static int
parse_stream_start(struct rh_frame *f, struct rh_err *err)
{
	const cJSON	*mime, *id;

	mime = cJSON_GetObjectItemCaseSensitive(f->json, "mime");
	id = cJSON_GetObjectItemCaseSensitive(f->json, "id");
	if (id != NULL && (!cJSON_IsString(id) || *id->valuestring == '\0' ||
	    strlen(id->valuestring) > AISH_MAX_WRITE_ID)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "id must be a "
		    "non-empty string of at most %d bytes", AISH_MAX_WRITE_ID);
		return -1;
	}
	f->id = f->in_reply_to = id ? id->valuestring : NULL;
	if (!cJSON_IsString(mime) || !aish_mime_valid(mime->valuestring)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "a stream_start "
		    "needs \"mime\": a media type such as \"audio/wav\"");
		return -1;
	}
	f->mime = mime->valuestring;
	return 0;
}

/* Notes a stream_end's id, which ws.c matches against the open stream. */
static int
parse_stream_end(struct rh_frame *f, struct rh_err *err)
{
	const cJSON	*id = cJSON_GetObjectItemCaseSensitive(f->json, "id");

	f->has_id = id != NULL;
	f->id = cJSON_IsString(id) ? id->valuestring : NULL;
	return 0;
}

/* Parses and checks one text frame (see frame.h). */
int
rh_frame_parse(const char *text, size_t len, struct rh_frame *f,
    struct rh_err *err)
{
	const cJSON	*type;
	const char	*t;

	memset(f, 0, sizeof *f);
	if ((f->json = ac_json_parse(text, len)) == NULL) {
		rh_err_set(err, 400, AISH_ERR_BAD_JSON,
		    "the frame is not valid JSON");
		return -1;
	}
	type = cJSON_GetObjectItemCaseSensitive(f->json, "type");
	if (!cJSON_IsObject(f->json) || !cJSON_IsString(type)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "a frame is a JSON "
		    "object with a string \"type\"");
		return -1;
	}
	t = type->valuestring;
	if (strcmp(t, AISH_FRAME_WRITE) == 0) {
		f->type = RH_FRAME_WRITE;
		return parse_write(f, err);
	}
	if (strcmp(t, AISH_FRAME_CANCEL) == 0) {
		f->type = RH_FRAME_CANCEL;
		return parse_cancel(f, err);
	}
	if (strcmp(t, AISH_FRAME_STREAM_START) == 0) {
		f->type = RH_FRAME_STREAM_START;
		return parse_stream_start(f, err);
	}
	if (strcmp(t, AISH_FRAME_STREAM_END) == 0) {
		f->type = RH_FRAME_STREAM_END;
		return parse_stream_end(f, err);
	}
	if (strcmp(t, AISH_FRAME_PING) == 0) {
		f->type = RH_FRAME_PING;
		return 0;
	}
	rh_err_set(err, 400, AISH_ERR_BAD_REQUEST, "unknown frame type "
	    "'%.64s'", t);
	return -1;
}

/* Frees what a frame holds. */
void
rh_frame_free(struct rh_frame *f)
{
	cJSON_Delete(f->json);
	memset(f, 0, sizeof *f);
}
