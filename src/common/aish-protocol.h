/*
 * aish-protocol.h: the wire contract between aish-rhetor and its clients.
 *
 * Frame type names, error codes, limits, defaults and the media type rule
 * live here and nowhere else, so that the server, libaish, the CLI and the
 * bridge agree on them.
 * The meaning of each is given in SPEC sections 1 and 2 and in
 * doc/server-internals.md.
 */
#ifndef AISH_PROTOCOL_H
#define AISH_PROTOCOL_H

#include <string.h>

#define AISH_PROTOCOL_VERSION	1

/* Defaults. */
#define AISH_DEFAULT_HOST	"127.0.0.1"
#define AISH_DEFAULT_PORT	8300
#define AISH_DEFAULT_URL	"http://127.0.0.1:8300"

/* Limits (bytes unless named otherwise). */
#define AISH_MAX_CONTENT	(4u * 1024 * 1024)	/* one message's content */
#define AISH_MAX_BODY		(8u * 1024 * 1024)	/* HTTP body, WS message */
#define AISH_MAX_STREAM		(64u * 1024 * 1024)	/* binary stream */
#define AISH_MAX_NAME		64			/* ai_name, socket_id, group */
#define AISH_MAX_WRITE_ID	128			/* client-chosen write id */
#define AISH_QUEUE_CAP		1000			/* queued replies per socket */
#define AISH_MAX_WAIT_MS	600000			/* longest /read or team-chat wait */

/* Special sockets. */
#define AISH_TEAM_CHAT_ALL	"team-chat-all"
#define AISH_TEAM_CHAT_PREFIX	"team-chat-"
#define AISH_RHETOR_SOCKET	"rhetor"
#define AISH_FROM_HEADER_PREFIX	"team-chat-from-"

/* WebSocket frame types. */
#define AISH_FRAME_WRITE	"write"
#define AISH_FRAME_CANCEL	"cancel"
#define AISH_FRAME_PING		"ping"
#define AISH_FRAME_ACK		"ack"
#define AISH_FRAME_DELTA	"delta"
#define AISH_FRAME_READ		"read"
#define AISH_FRAME_ERROR	"error"
#define AISH_FRAME_PONG		"pong"
#define AISH_FRAME_STREAM_START	"stream_start"
#define AISH_FRAME_STREAM_END	"stream_end"

/* Socket states. */
#define AISH_STATE_ACTIVE	"active"
#define AISH_STATE_UNRESPONSIVE	"unresponsive"

/* Error codes, as they appear in {"error":{"code":...}} and error frames. */
#define AISH_ERR_BAD_JSON	"bad_json"		/* 400 */
#define AISH_ERR_BAD_REQUEST	"bad_request"		/* 400 */
#define AISH_ERR_BAD_NAME	"bad_name"		/* 400 */
#define AISH_ERR_UNAUTHORIZED	"unauthorized"		/* 401 */
#define AISH_ERR_FORBIDDEN	"forbidden"		/* 403 */
#define AISH_ERR_NOT_FOUND	"not_found"		/* 404 */
#define AISH_ERR_UNKNOWN_SOCKET	"unknown_socket"	/* 404 */
#define AISH_ERR_UNKNOWN_GROUP	"unknown_group"		/* 404 */
#define AISH_ERR_METHOD		"method_not_allowed"	/* 405 */
#define AISH_ERR_CONFLICT	"conflict"		/* 409 */
#define AISH_ERR_NOT_ACTIVE	"socket_not_active"	/* 409 */
#define AISH_ERR_TOO_LARGE	"too_large"		/* 413 */
#define AISH_ERR_UNSUPPORTED_MEDIA "unsupported_media"	/* 415 */
#define AISH_ERR_PROVIDER	"provider_error"	/* 502 */
#define AISH_ERR_CANCELLED	"cancelled"		/* frame only */
#define AISH_ERR_OVERLOADED	"overloaded"		/* 503 */
#define AISH_ERR_INTERNAL	"internal_error"	/* 500 */
#define AISH_ERR_STORAGE	"storage_error"		/* 500 */

/* True for a media type as a stream may name it: 3 to 127 bytes of
 * printable ASCII with a '/', without quotes or backslashes. */
static inline int
aish_mime_valid(const char *m)
{
	size_t	n = strlen(m), i;

	if (n < 3 || n > 127 || strchr(m, '/') == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		if (m[i] <= ' ' || m[i] > '~' || m[i] == '"' || m[i] == '\\')
			return 0;
	}
	return 1;
}

#endif
