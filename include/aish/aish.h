/*
 * aish.h: libaish, the client library of aish.
 *
 * libaish talks to aish-rhetor, the AI socket server: it creates, lists,
 * resets and deletes AI sockets over HTTP, and writes to them, reads from
 * them and runs team chats over one WebSocket per socket in use.  Both go
 * through libwebsockets, on the handle's loop: libaish starts no thread
 * and needs no other network library.  Everything is asynchronous: no
 * function blocks the event loop, results and incoming messages arrive
 * through callbacks, always on the loop thread.
 *
 * OWNERSHIP (the one rule): every pointer passed in is only borrowed; the
 * library copies what it keeps before the call returns.  Every pointer
 * handed to a callback (an aish_msg, an aish_result and everything they
 * point to) belongs to the library and is valid only until the callback
 * returns; copy what you keep.  The caller frees nothing but the handle,
 * with aish_free().  Write ids come back in caller-supplied buffers of
 * AISH_ID_SIZE bytes.
 *
 * LOOPS: a handle works in one of two modes, chosen by aish_options.context.
 *  - Own loop (context NULL): aish_new() makes a libwebsockets context of
 *    its own and the caller drives it with aish_service() or
 *    aish_run_until(); nothing happens between those calls.
 *  - Caller's loop (context set): libaish adds a vhost of its own to the
 *    caller's context and never services it; the caller's loop (for
 *    example lws_service() in a loop) runs libaish's callbacks.
 *    aish_service() and aish_run_until() then return AISH_E_INVALID.
 * A handle belongs to the loop thread: call its functions from that
 * thread only (or from the thread that calls aish_service()).
 *
 * DELIVERY: a write is queued at once and kept until its socket's server
 * acknowledges it and its final reply (read or error) arrives; for a
 * team-chat write, until a final reply came from every member in the ack.
 * The socket's WebSocket opens on first use and is reused; when it drops,
 * libaish reconnects with back-off (100 ms doubling to 5 s, 30% jitter),
 * and at once whenever a new write, control frame or aish_open() wants
 * the socket (a server that is back is used without waiting out the
 * back-off), and re-sends, with the same id, every write still kept; the server
 * acknowledges a repeated id again (ack.duplicate) and never runs it
 * twice, and a reply that found no connection waits in the server's queue
 * for the next one.  So writes made while disconnected, or in flight when
 * the server restarts, are delivered once.  A final frame (read or error
 * with a seq) already delivered for the same socket and seq is dropped,
 * so the callback sees each reply once, even when it reaches the handle
 * on two connections (an AI's socket and team-chat-all).  Deltas carry
 * their place in the reply (index): a piece heard on two connections is
 * passed on once, in order.  libaish never gives up on its own:
 * the state callback and aish_socket_state() tell how long a socket has
 * been unreachable, and the caller decides when to stop (aish_close()).
 *
 * SEVERAL NODES: aish_options_t.url may name the nodes of a cluster
 * (SPEC section 11), separated by commas: "http://h1:8300,http://h2:8300"
 * (up to AISH_MAX_URLS; a URL holding a comma is written with %2C).  The
 * handle uses one node at a time, the first to begin with.  When an
 * attempt on it fails or its connection drops, every later attempt (each
 * socket's WebSocket, each HTTP request) goes to the next node of the
 * list, at once, without back-off; only when every node failed in turn
 * does the socket wait out the back-off, in state AISH_CONN_RETRYING
 * (while it moves from node to node it is AISH_CONN_CONNECTING).  Kept
 * writes go again with the same id to the new node, which the cluster
 * acknowledges as duplicates and never runs twice; a final frame already
 * delivered is dropped as above (seqs are the cluster's, the same on every
 * node).  An HTTP request goes to the next node only when the one it tried
 * never took it (no connection could be made within 5 s), or, for GET and
 * HEAD, closed before answering; when none answers, its result is
 * AISH_E_UNREACHABLE with a message naming every URL.  aish_node_url()
 * tells which node is in use.  With one URL nothing of this changes.
 *
 * Symbols: every exported name starts with aish_ or AISH_.
 */
#ifndef AISH_AISH_H
#define AISH_AISH_H

#include <stddef.h>
#include <stdint.h>

#include <aish/protocol.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AISH_VERSION		"0.1.0"
/* Size of a buffer that holds any write id, with its NUL. */
#define AISH_ID_SIZE		(AISH_MAX_WRITE_ID + 1)
/* Most node URLs in aish_options_t.url. */
#define AISH_MAX_URLS		16
/* Longest socket id, AI name or group name. */
#define AISH_NAME_MAX		AISH_MAX_NAME

struct lws_context;

/* The opaque handle. */
typedef struct aish aish_t;

/* Error codes.  aish_strerror() gives a sentence for each. */
typedef enum aish_error {
	AISH_OK = 0,
	AISH_E_INVALID,		/* a bad argument: NULL, bad name, ... */
	AISH_E_NOMEM,		/* out of memory */
	AISH_E_UNREACHABLE,	/* no answer from the server */
	AISH_E_UNAUTHORIZED,	/* 401: token missing or wrong */
	AISH_E_FORBIDDEN,	/* 403: not allowed (e.g. delete a roster AI) */
	AISH_E_NOT_FOUND,	/* 404: no such socket */
	AISH_E_CONFLICT,	/* 409: conflict or socket not active */
	AISH_E_TOO_LARGE,	/* 413: over a size limit */
	AISH_E_PROVIDER,	/* 502: the AI's provider failed */
	AISH_E_OVERLOADED,	/* 503: the server is overloaded */
	AISH_E_SERVER,		/* any other error status from the server */
	AISH_E_PROTOCOL,	/* the server's answer made no sense */
	AISH_E_TIMEOUT,		/* a wait or a request ran out of time
				 * (also provider_timeout) */
	AISH_E_CANCELLED,	/* cancelled, or the handle is being freed */
	AISH_E_LWS,		/* libwebsockets could not do what was asked */
	AISH_E_COUNT		/* number of codes, not a code */
} aish_error_t;

/* The kind of an incoming WebSocket frame.  Later versions may add kinds
 * at the end: a caller ignores those it does not know. */
typedef enum aish_msg_type {
	AISH_MSG_ACK,		/* the server stored a write */
	AISH_MSG_DELTA,		/* a piece of a reply being streamed */
	AISH_MSG_READ,		/* a whole reply: the end of a write */
	AISH_MSG_ERROR,		/* an error, final when in_reply_to is set */
	AISH_MSG_PONG,		/* the answer to aish_ping() */
	AISH_MSG_TURN		/* a user's turn joined the socket's
				 * conversation (see TURNS below) */
} aish_msg_type_t;

/*
 * One incoming message.  Strings are NUL-terminated; a field the frame
 * lacks is NULL (seq: -1).  Valid only during the callback.
 */
typedef struct aish_msg {
	aish_msg_type_t		 type;
	const char		*conn_socket_id; /* the connection it came on */
	const char		*socket_id;	/* the AI socket it is about */
	const char		*ai_name;
	const char		*content;	/* delta, read */
	size_t			 content_len;
	const char		*in_reply_to;	/* the write id (ack: its id) */
	int64_t			 seq;		/* read, error, turn; ack: its
						 * turn's, when it has one;
						 * -1 when none */
	const char		*timestamp;	/* read */
	const char *const	*headers;	/* read: e.g. team-chat-from-X */
	size_t			 n_headers;
	const char *const	*members;	/* ack of a team-chat write */
	size_t			 n_members;
	int			 duplicate;	/* ack: the id was known */
	const char		*code;		/* error: snake_case code */
	const char		*message;	/* error: human text */
	int			 local;		/* 1: made by libaish, not the
						 * server (see below) */
	const char		*raw;		/* the frame's JSON (NULL when
						 * local) */
	size_t			 raw_len;
	int64_t			 index;		/* delta: its place in the
						 * reply, from 0; -1: none */
	const char		*role;		/* "user" (turn), "assistant"
						 * (delta, read), else NULL */
	int			 fresh;		/* delta, read, error: the
						 * reply to a fresh write,
						 * which joins no
						 * conversation */
	int			 finished;	/* ack, read, error: 1 when
						 * this message finishes the
						 * write in_reply_to (see
						 * FINISHED below) */
} aish_msg_t;

/*
 * FINISHED: a write of this handle is finished by its final message (a
 * READ, or an ERROR with in_reply_to set, local ones included); a team
 * chat only by the final of the last member the ACK named (by the ACK
 * itself when it names none, or when every member already answered).
 * That message has finished = 1, once per write; libaish then forgets
 * the write, and its caller can stop waiting without counting members.
 * A message about a write that is already finished has finished = 0.
 */

/*
 * libaish itself makes AISH_MSG_ERROR messages (local = 1), each with
 * in_reply_to set to the write it ends, when a kept write can never be
 * delivered: code "unknown_socket" (the server refused the socket's
 * WebSocket with 404), "unauthorized" (401), "closed" (aish_close() or
 * aish_free() dropped it), "cancelled" (aish_cancel() before the write
 * ever reached the server).
 */

/*
 * TURNS: an AISH_MSG_TURN tells that a write joined a socket's
 * conversation (it was not fresh): content is the user's text, socket_id
 * the socket whose conversation it is, in_reply_to the write's id, seq the
 * seq the socket's history gives it (aish_history()), role "user".  A
 * write made by another client comes from the server (to every handle
 * with the socket's WebSocket open; for a team chat, also on each
 * member's socket); a write made by this handle is told by libaish
 * itself (local = 1, no timestamp) as soon as the server acknowledges it,
 * right after its ACK.  A turn is no reply: it never ends a write.  Turns
 * are live only; what happened while no connection was open is in the
 * history.
 */

/* Connection state of one socket's WebSocket. */
typedef enum aish_conn_state {
	AISH_CONN_IDLE,		/* not opened (yet), or closed */
	AISH_CONN_CONNECTING,	/* first attempt under way */
	AISH_CONN_UP,		/* open */
	AISH_CONN_RETRYING,	/* dropped or refused; retrying with back-off */
	AISH_CONN_FAILED	/* refused for good (404/401); see local errors */
} aish_conn_state_t;

/* Every incoming message, on the loop thread. */
typedef void	(*aish_msg_cb)(aish_t *h, const aish_msg_t *msg, void *user);

/*
 * A socket's connection changed state.  failures counts the attempts
 * that failed since it was last up; down_ms is how long it has been
 * down (0 when up).  To give up, call aish_close(h, socket_id).
 */
typedef void	(*aish_state_cb)(aish_t *h, const char *socket_id,
		    aish_conn_state_t state, unsigned failures,
		    int64_t down_ms, void *user);

/* The end of an HTTP request (create, list, ...). */
typedef struct aish_result {
	aish_error_t		 err;		/* AISH_OK on a 2xx answer */
	long			 status;	/* HTTP status; 0 when none */
	const char		*code;		/* server's error code or NULL */
	const char		*message;	/* what failed, or NULL */
	const char		*socket_id;	/* create: the new socket's id */
	const char		*body;		/* the answer's JSON, or NULL */
	size_t			 body_len;
} aish_result_t;

typedef void	(*aish_result_cb)(aish_t *h, const aish_result_t *res,
		    void *user);

/* Options of aish_new(); zero-initialise, then set what you need. */
typedef struct aish_options {
	const char		*url;		/* NULL: http://127.0.0.1:8300;
						 * or several, comma-separated
						 * (SEVERAL NODES above) */
	const char		*token;		/* bearer token, or NULL (the
						 * library never reads the
						 * environment: pass
						 * getenv("AISH_TOKEN")) */
	struct lws_context	*context;	/* NULL: own loop */
	aish_msg_cb		 on_message;
	aish_state_cb		 on_state;
	void			*user;		/* passed to every callback */
	long			 http_timeout_ms;	/* 0: 30000 */
	unsigned		 retry_min_ms;	/* 0: 100 */
	unsigned		 retry_max_ms;	/* 0: 5000 */
} aish_options_t;

/* What to create; ai_name is required, the rest optional. */
typedef struct aish_create_opts {
	const char		*ai_name;
	const char		*socket_id;
	const char		*model;
	const char		*prompt;
	const char		*provider;
	const char		*context_json;	/* a JSON object, as text */
	int			 private_socket; /* non-zero: no team chat
						  * reaches the socket */
} aish_create_opts_t;

/* ---- the handle ---- */

/* Makes a handle in *out.  Fast: no thread and no connection yet. */
aish_error_t	 aish_new(const aish_options_t *opts, aish_t **out);
/* Closes every connection, drops every kept write (each reported with a
 * local "closed" error) and frees the handle.  NULL is a no-op. */
void		 aish_free(aish_t *h);
/* The libwebsockets context the handle runs in (its own or the caller's). */
struct lws_context *aish_context(aish_t *h);
/* The server URL the handle talks to (with several, all of them, joined
 * by commas, each without a trailing slash). */
const char	*aish_url(aish_t *h);
/* The URL of the node the handle uses now (with one URL: aish_url()). */
const char	*aish_node_url(aish_t *h);

/* ---- own-loop mode ---- */

/* Runs the loop for at most timeout_ms (0: handle what is ready and
 * return). */
aish_error_t	 aish_service(aish_t *h, int timeout_ms);
/* Runs the loop until *done becomes non-zero (AISH_OK) or timeout_ms
 * pass (AISH_E_TIMEOUT); a negative timeout waits for ever. */
aish_error_t	 aish_run_until(aish_t *h, const volatile int *done,
		    int timeout_ms);

/* ---- WebSocket: writes, cancel, team chat ---- */

/*
 * Queues a write of content to socket_id and opens the socket's
 * WebSocket if needed.  id: the write's id (up to 128 bytes of
 * [A-Za-z0-9._:-]), or NULL to make a unique one.  out_id, when not NULL,
 * receives the id (AISH_ID_SIZE bytes).  Its ack, deltas and final read or
 * error come to the message callback with in_reply_to = id.
 */
aish_error_t	 aish_write(aish_t *h, const char *socket_id,
		    const char *content, const char *id, char *out_id);
/* The same with content of a given length (no NUL needed; none allowed). */
aish_error_t	 aish_write_len(aish_t *h, const char *socket_id,
		    const char *content, size_t len, const char *id,
		    char *out_id);
/* Flags of aish_write_flags(). */
#define AISH_WRITE_FRESH	0x1	/* one-shot: the AI answers from its
					 * prompt and this message alone, and
					 * the socket's history is neither
					 * read nor extended */
/* aish_write_len() with flags (0 or AISH_WRITE_FRESH); a fresh write is
 * sent with "fresh":true, also when re-sent after a reconnect. */
aish_error_t	 aish_write_flags(aish_t *h, const char *socket_id,
		    const char *content, size_t len, unsigned flags,
		    const char *id, char *out_id);
/*
 * Asks the server to cancel write_id on socket_id; the write then ends
 * with an error "cancelled" (or "not_found" when nothing runs with that
 * id).  A write that never reached the server is dropped at once and
 * ends with a local "cancelled" error.
 */
aish_error_t	 aish_cancel(aish_t *h, const char *socket_id,
		    const char *write_id);
/*
 * Writes message to every AI at once: to team-chat-all, or to
 * team-chat-<group> when group is not NULL.  The ack lists the members
 * whose replies follow, each read carrying team-chat-from-<socket_id>.
 */
aish_error_t	 aish_team_chat(aish_t *h, const char *message,
		    const char *group, char *out_id);
/* Flags of aish_team_chat_flags(). */
#define AISH_TEAM_SYNTHESIS	0x1	/* rhetor writes a synthesis of the
					 * replies; the ack lists "rhetor"
					 * last and its read comes last */
#define AISH_TEAM_FRESH		0x2	/* each member answers fresh: from
					 * its prompt and this message alone,
					 * its history untouched */
/* aish_team_chat() with flags (0, or any of AISH_TEAM_SYNTHESIS and
 * AISH_TEAM_FRESH). */
aish_error_t	 aish_team_chat_flags(aish_t *h, const char *message,
		    const char *group, unsigned flags, char *out_id);
/*
 * Queues len bytes of data (any bytes, up to 64 MiB) as a binary stream
 * of type mime ("audio/wav": printable ASCII with a '/') to socket_id: a
 * stream_start frame, the bytes in binary frames, a stream_end frame.  id
 * and out_id as in aish_write().  The socket's provider must take media
 * (exec does); others end the stream with an error "unsupported_media".
 * The server does not store streams: after a reconnect libaish sends a
 * stream that had no reply yet again, whole, and it runs again.
 */
aish_error_t	 aish_write_stream(aish_t *h, const char *socket_id,
		    const char *mime, const void *data, size_t len,
		    const char *id, char *out_id);
/* Opens socket_id's WebSocket now (to receive its messages). */
aish_error_t	 aish_open(aish_t *h, const char *socket_id);
/* Sends a ping on socket_id's WebSocket; a PONG message follows. */
aish_error_t	 aish_ping(aish_t *h, const char *socket_id);
/* Closes socket_id's WebSocket and stops retrying; its kept writes end
 * with a local "closed" error.  A later write opens it again. */
aish_error_t	 aish_close(aish_t *h, const char *socket_id);
/* State of socket_id's WebSocket; failures and down_ms as in
 * aish_state_cb (either may be NULL). */
aish_conn_state_t aish_socket_state(aish_t *h, const char *socket_id,
		    unsigned *failures, int64_t *down_ms);
/* Writes kept for socket_id (queued, unacknowledged or awaiting reply);
 * with socket_id NULL, for every socket. */
size_t		 aish_pending(aish_t *h, const char *socket_id);
/* 1 when write_id, kept for socket_id, has gone out on a connection at
 * least once (so the server may have it, and will answer it even after
 * a restart once acknowledged); 0 when it never left the handle (while
 * the server cannot be reached, say) or is not kept. */
int		 aish_write_sent(aish_t *h, const char *socket_id,
		    const char *write_id);

/* ---- HTTP: the socket registry ----
 *
 * Each request has a connection of its own.  Its result callback runs
 * after the call returns, never inside it, and within http_timeout_ms
 * (aish_read_queue: plus wait_ms), with AISH_E_TIMEOUT at the latest.  A
 * JSON body over 8 MiB is refused at once with AISH_E_TOO_LARGE. */

/* POST /api/ai/socket/create; res->socket_id is the new socket. */
aish_error_t	 aish_create(aish_t *h, const aish_create_opts_t *opts,
		    aish_result_cb cb, void *user);
/* GET /api/ai/sockets; res->body is {"sockets":[...]}. */
aish_error_t	 aish_list(aish_t *h, aish_result_cb cb, void *user);
/* GET /api/ai/socket/{id}; res->body describes the socket. */
aish_error_t	 aish_get(aish_t *h, const char *socket_id, aish_result_cb cb,
		    void *user);
/* DELETE /api/ai/socket/{id}. */
aish_error_t	 aish_delete(aish_t *h, const char *socket_id,
		    aish_result_cb cb, void *user);
/* POST /api/ai/socket/{id}/reset. */
aish_error_t	 aish_reset(aish_t *h, const char *socket_id,
		    aish_result_cb cb, void *user);
/* GET /api/ai/socket/{id}/read?wait_ms=N: drains the server's queue. */
aish_error_t	 aish_read_queue(aish_t *h, const char *socket_id,
		    int wait_ms, aish_result_cb cb, void *user);
/*
 * GET /api/ai/socket/{id}/history?limit=N&before=SEQ: the socket's
 * conversation, oldest first; res->body is {"turns":[{"role":"user" or
 * "assistant","content","seq","timestamp"}...]}.  before > 0 keeps only
 * the turns with seq < before, limit > 0 the newest limit of those;
 * limit <= 0 takes the server's default, before <= 0 no bound.
 */
aish_error_t	 aish_history(aish_t *h, const char *socket_id, int limit,
		    int64_t before, aish_result_cb cb, void *user);
/* GET /health. */
aish_error_t	 aish_health(aish_t *h, aish_result_cb cb, void *user);
/* Any other request: method, a path starting with "/", an optional JSON
 * body (NULL for none). */
aish_error_t	 aish_request(aish_t *h, const char *method, const char *path,
		    const char *json_body, aish_result_cb cb, void *user);

/* ---- helpers ---- */

/* A sentence describing err (never NULL). */
const char	*aish_strerror(aish_error_t err);
/* The error code for a server error code string ("not_found", ...). */
aish_error_t	 aish_error_from_code(const char *code);
/* True when s is a valid socket id, AI name or group name:
 * [A-Za-z0-9._-]{1,64}, not "." or "..". */
int		 aish_valid_name(const char *s);

#ifdef __cplusplus
}
#endif

#endif
