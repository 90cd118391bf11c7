/*
 * bridge.h: aish-bridge's shared state and the interfaces between its
 * files: framing (bytes <-> messages), rpc (JSON-RPC 2.0 dispatch and the
 * table of requests in flight), the calls the bridge makes to its client,
 * the method families, the notifications, and the faces (the protocols
 * spoken over the one core: aish's own, LSP, ...).
 *
 * Everything runs on one thread, in one libwebsockets loop: stdin is an
 * adopted descriptor, libaish adds its own vhost to the same context, and
 * nothing ever waits.  A request that needs the server stays in the
 * in-flight table until libaish calls back; the table is also where
 * cancels, time-outs and the end of stdin find it.
 */
#ifndef AISH_BRIDGE_H
#define AISH_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "aish/aish.h"
#include "compose.h"

/* JSON-RPC 2.0 error codes (the standard ones and aish-bridge's own). */
#define RPC_PARSE_ERROR		-32700
#define RPC_INVALID_REQUEST	-32600
#define RPC_METHOD_NOT_FOUND	-32601
#define RPC_INVALID_PARAMS	-32602
#define RPC_INTERNAL_ERROR	-32603
#define RPC_NOT_INITIALIZED	-32002
#define RPC_CANCELLED		-32800
#define RPC_UNREACHABLE		-32001
#define RPC_TIMEOUT		-32003
#define RPC_AI_ERROR		-32004
#define RPC_TOO_MANY		-32005

/* Defaults of the limits (each has an option). */
#define BRIDGE_MAX_MESSAGE	(16u * 1024 * 1024)
#define BRIDGE_MAX_DEPTH	64
#define BRIDGE_MAX_HEADER	8192
#define BRIDGE_MAX_INFLIGHT	128
#define BRIDGE_TIMEOUT_MS	120000L
#define BRIDGE_MAX_TIMEOUT_MS	3600000L
#define BRIDGE_UNREACHABLE_MS	10000L
#define BRIDGE_RETRY_MAX_MS	1000u	/* longest wait between reconnects */
#define BRIDGE_INBOX_CAP	1000
#define BRIDGE_OUT_KEEP		(256u * 1024)	/* output flushed past this */

enum framing {
	FRAMING_AUTO,
	FRAMING_LSP,
	FRAMING_NDJSON
};

struct req;

/* One progress event of a request: a stage's (or a team member's)
 * begin, a streamed piece, or its end with the whole text. */
struct progress {
	int		 stage;		/* 0-based; 0 for team members */
	const char	*ai;		/* the AI's name */
	const char	*socket_id;	/* its socket, or NULL */
	const char	*kind;		/* "begin", "delta" or "end" */
	const char	*content;	/* the piece, the whole text, or NULL */
};

/*
 * How a face turns what a core method answers into its own protocol, for
 * one request.  A face sets it with core_start(); each hook is optional.
 * result and error receive the core's answer (result consumed, data
 * consumed) and must in the end answer the request with req_answer(),
 * req_answer_error() or req_drop(), at once or after calls to the client.
 */
struct xlat {
	void	(*result)(struct req *r, cJSON *result);
	void	(*error)(struct req *r, int code, const char *message,
		    cJSON *data);
	/* Instead of an aish/progress notification. */
	void	(*progress)(struct req *r, const struct progress *p);
	/* Frees r->face_state. */
	void	(*free_state)(struct req *r);
};

/* What a method does with a request; only start is required. */
struct req_ops {
	/* A message from libaish whose in_reply_to is r->write_id. */
	void	(*on_msg)(struct req *r, const aish_msg_t *m);
	/* The request is being cancelled or timed out: stop the AI's work. */
	void	(*on_stop)(struct req *r);
	/* A socket used by r has been unreachable too long. */
	void	(*on_unreachable)(struct req *r);
	/* The time-out came; when NULL the request answers -32003. */
	void	(*on_timeout)(struct req *r);
	/* The WebSocket of r->socket_id changed state (called from the
	 * loop, never from inside a libaish call). */
	void	(*on_conn)(struct req *r, aish_conn_state_t state);
	/* Frees r->state. */
	void	(*free_state)(struct req *r);
};

/* One method: its name and how to start it. */
struct method {
	const char	*name;
	/* Starts r with its params (an object, never NULL: null, [] and no
	 * params are {}); answers at once or later through req_result() /
	 * req_error(). */
	void		(*start)(struct req *r, const cJSON *params);
	int		 before_init;	/* allowed before initialize */
};

/*
 * A face: one protocol spoken over the core (doc/bridge-internals.md).
 * Its tables are searched in order, so a face's own methods come first
 * and may take a core name (initialize); the core's tables usually
 * follow.  The framing, the request table (ids, batches, cancels,
 * limits, time-outs) and the core methods are the same for every face.
 */
struct face {
	const char			 *name;		/* "aish", "lsp", ... */
	const struct method *const	 *tables;	/* NULL-terminated */
	/* aish/message and aish/progress go out (for the requests that
	 * have no xlat of their own). */
	int				  aish_notifications;
	/* The bridge may send requests to the client (client_call). */
	int				  client_requests;
};

/* A batch being answered: the array is written when pending is 0. */
struct batch {
	cJSON		*answers;
	int		 pending;
};

/* A request: in the in-flight table until answered, kept alive after
 * that while libaish still owes it a callback (holds). */
struct req {
	struct req		*next;
	cJSON			*id;		/* a copy of the request's id */
	char			*method;
	struct batch		*batch;
	const struct req_ops	*ops;
	void			*state;		/* the method's own */
	lws_sorted_usec_list_t	 timer;
	int			 timer_set;
	int			 done;		/* the method has answered */
	int			 answered;	/* the answer is written */
	int			 cancelled;
	int			 holds;		/* callbacks still owed */
	const struct xlat	*xlat;		/* a face's, or NULL */
	void			*face_state;	/* the face's own */
	int64_t			 started_us;
	long			 timeout_ms;	/* since the last progress */
	int64_t			 progress_us;	/* when it last came */
	char			 write_id[AISH_ID_SIZE];	/* current write */
	char			 socket_id[AISH_NAME_MAX + 1];	/* its socket */
};

/* The bridge: one per process. */
struct bridge {
	struct lws_context	*ctx;
	struct lws_vhost	*vhost;
	aish_t			*aish;
	const char		*url;		/* one, or several (nodes) */
	const char		*node_url;	/* the node last used */
	const char		*token;
	int			 spawn;
	enum framing		 framing;	/* as decided from input */
	size_t			 max_message;
	int			 max_depth;
	size_t			 max_header;
	size_t			 max_inflight;
	long			 unreachable_ms;
	int			 initialized;
	int			 shut_down;
	int			 eof;
	int			 quit;
	int			 exit_code;
	int			 connected;	/* -1 unknown, 0 no, 1 yes */
	const struct face	*face;		/* the session's protocol */
	struct req		*reqs;		/* in flight */
	size_t			 n_inflight;
	int			 batches_open;
};

extern struct bridge br;

/* main.c */
void		 logmsg(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));
void		 bridge_maybe_quit(void);

/* framing.c */
void		 framing_feed(const char *data, size_t len);
void		 framing_eof(void);
void		 framing_write(const cJSON *msg);
void		 framing_flush(void);

/* rpc.c */
extern const struct face face_aish;
const struct face *session_face(void);
void		 rpc_handle(const char *buf, size_t len);
void		 rpc_frame_error(int code, const char *message);
void		 req_result(struct req *r, cJSON *result);
void		 req_error(struct req *r, int code, const char *message,
		    cJSON *data);
void		 req_error_aish(struct req *r, aish_error_t err,
		    const char *code, const char *message);
void		 req_answer(struct req *r, cJSON *result);
void		 req_answer_error(struct req *r, int code, const char *message,
		    cJSON *data);
void		 req_drop(struct req *r);
int		 core_start(struct req *r, const char *method,
		    const cJSON *params, const struct xlat *xlat);
void		 req_hold(struct req *r);
int		 req_release(struct req *r);
int		 req_release_answer(struct req *r);
void		 req_set_timeout(struct req *r, long ms);
void		 req_progress(struct req *r);
struct req	*req_by_write(const char *write_id);
cJSON		*req_cancel_matching(const cJSON *id);
void		 req_unreachable(const char *socket_id);
void		 req_fail_unreachable(struct req *r, const char *why);
void		 req_conn_changed(const char *socket_id,
		    aish_conn_state_t state);
void		 req_fail_unsent(struct req *r, aish_conn_state_t state);
void		 reach_note_node(void);
void		 req_stop_write(struct req *r);
const struct method *rpc_find_method(const char *name);
cJSON		*rpc_method_names(void);

/* client-calls.c */
typedef void	(*client_done_fn)(void *ctx, const cJSON *result,
		    const cJSON *error);
int		 client_call(const char *method, cJSON *params,
		    client_done_fn done, void *ctx);
void		 client_answered(const cJSON *id, const cJSON *result,
		    const cJSON *error);
void		 client_calls_end(void);
void		 client_notify(const char *method, cJSON *params);

/* params.c */
int		 param_str(struct req *r, const cJSON *p, const char *name,
		    int required, const char **out);
int		 param_timeout(struct req *r, const cJSON *p, long dflt,
		    long *out);
int		 param_target(struct req *r, const cJSON *p,
		    const char **out);
int		 param_bool(struct req *r, const cJSON *p, const char *name,
		    int dflt, int *out);
int		 param_int(struct req *r, const cJSON *p, const char *name,
		    long min, long max, long dflt, long *out);
int		 param_context(struct req *r, const cJSON *p,
		    struct ac_context_item **items, size_t *n);
int		 compose_text(struct req *r,
		    const struct ac_context_item *items, size_t n,
		    const char *instruction, const char *input, char **out,
		    size_t *len);
cJSON		*command_params(const char *line, const char *text,
		    size_t len, int *team);
void		 answer_unknown(struct req *r, int group, const char *name,
		    const cJSON *list);
void		 fail_unknown_ai(struct req *r, const char *name);

/* notify.c */
void		 notify_progress(struct req *r, int stage,
		    const char *ai, const char *socket_id, const char *kind,
		    const char *content);
void		 on_aish_message(aish_t *h, const aish_msg_t *m, void *user);
void		 on_aish_state(aish_t *h, const char *socket_id,
		    aish_conn_state_t state, unsigned failures, int64_t down_ms,
		    void *user);
cJSON		*inbox_take(const char *socket_id);
void		 message_unclaimed(const aish_msg_t *m);
void		 inbox_wait(struct req *r);
void		 subscribe(const char *socket_id);
int		 is_open(const char *socket_id);

/* ainames.c */
const char	*ainame_get(const char *socket_id);
void		 ainame_put(const char *socket_id, const char *ai_name);
void		 ainame_forget(const char *socket_id);
void		 ainame_learn(const cJSON *sock);
void		 ainame_learn_list(const cJSON *root);
void		 ainame_prefetch(void);

/* methods-session.c */
void		 session_probe(void);

/* method tables */
extern const struct method methods_session[];
extern const struct method methods_socket[];
extern const struct method methods_send[];

/* the faces chosen by an option (mcp.c, acp-session.c) */
extern const struct face face_mcp;
extern const struct face face_acp;

#endif
