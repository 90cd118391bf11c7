/*
 * <aish/protocol.h>: the wire contract between aish-rhetor and its
 * clients, installed with libaish.
 *
 * Frame types, field names, route paths, error codes, limits, defaults
 * and the media type rule live here and nowhere else, so that the server,
 * libaish, the CLI, the bridge and any other client agree on them.  The
 * meaning of each is given in doc/protocol.md and doc/libaish.md.  This
 * header needs nothing but libc and may be used without libaish.
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
/* A client's libwebsockets service buffer (pt_serv_buf_size), where each
 * request's headers are built: room for a 4 KiB token and the rest. */
#define AISH_CLIENT_SERV_BUF	(16 * 1024)
#define AISH_MAX_STREAM		(64u * 1024 * 1024)	/* binary stream */
#define AISH_MAX_NAME		64			/* ai_name, socket_id, group */
#define AISH_MAX_WRITE_ID	128			/* client-chosen write id */
#define AISH_QUEUE_CAP		1000			/* queued replies per socket */
#define AISH_MAX_WAIT_MS	600000			/* longest /read or team-chat wait */

/* Route paths (HTTP).  A socket's routes are AISH_PATH_SOCKET, its id,
 * then AISH_PATH_RESET, AISH_PATH_WRITE, AISH_PATH_READ or
 * AISH_PATH_HISTORY (nothing more for GET and DELETE of the socket). */
#define AISH_PATH_HEALTH	"/health"
#define AISH_PATH_METRICS	"/metrics"
#define AISH_PATH_CREATE	"/api/ai/socket/create"
#define AISH_PATH_SOCKETS	"/api/ai/sockets"
#define AISH_PATH_SOCKET	"/api/ai/socket/"	/* + id */
#define AISH_PATH_RESET		"/reset"
#define AISH_PATH_WRITE		"/write"
#define AISH_PATH_READ		"/read"
#define AISH_PATH_HISTORY	"/history"
#define AISH_PATH_TEAM_CHAT	"/api/team-chat"
#define AISH_PATH_GROUPS	"/api/ai/groups"	/* + "/" + name */
#define AISH_PATH_SPECIALISTS	"/api/ai/specialists/"	/* + id + "/message" */
#define AISH_PATH_WS_SOCKET	"/ws/socket/"		/* + id: WebSocket */
#define AISH_WS_PROTOCOL	"aish"			/* its subprotocol */

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
#define AISH_FRAME_TURN		"turn"		/* a user turn, pushed live */
#define AISH_FRAME_STREAM_START	"stream_start"
#define AISH_FRAME_STREAM_END	"stream_end"

/* Field names of frames and JSON bodies. */
#define AISH_FIELD_TYPE		"type"
#define AISH_FIELD_ID		"id"		/* write, cancel, ack */
#define AISH_FIELD_CONTENT	"content"
#define AISH_FIELD_IN_REPLY_TO	"in_reply_to"
#define AISH_FIELD_SOCKET_ID	"socket_id"
#define AISH_FIELD_AI_NAME	"ai_name"
#define AISH_FIELD_SEQ		"seq"
#define AISH_FIELD_INDEX	"index"
#define AISH_FIELD_TIMESTAMP	"timestamp"
#define AISH_FIELD_HEADERS	"headers"
#define AISH_FIELD_MEMBERS	"members"	/* ack of a team chat */
#define AISH_FIELD_DUPLICATE	"duplicate"
#define AISH_FIELD_FRESH	"fresh"
#define AISH_FIELD_MODERATION	"moderation"	/* "synthesis" */
#define AISH_FIELD_MIME		"mime"		/* stream_start */
#define AISH_FIELD_ERROR	"error"		/* {"error":{code,message}} */
#define AISH_FIELD_CODE		"code"
#define AISH_FIELD_MESSAGE	"message"
#define AISH_MODERATION_SYNTHESIS "synthesis"

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
#define AISH_ERR_PROVIDER_TIMEOUT "provider_timeout"	/* 504 */
#define AISH_ERR_NOT_SUPPORTED	"not_supported"		/* 501 */
#define AISH_ERR_TIMEOUT	"timeout"		/* a synthesis */
#define AISH_ERR_CANCELLED	"cancelled"		/* frame only */
#define AISH_ERR_OVERLOADED	"overloaded"		/* 503 */
#define AISH_ERR_INTERNAL	"internal_error"	/* 500 */
#define AISH_ERR_STORAGE	"storage_error"		/* 500 */
/* libaish's own error codes (aish_msg_t.local, <aish/aish.h>), beside
 * unknown_socket, unauthorized and cancelled. */
#define AISH_ERR_CLOSED		"closed"		/* local */
#define AISH_ERR_UNREACHABLE	"unreachable"

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
