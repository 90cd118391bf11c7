/*
 * bridge.h: aish-bridge's shared state and the interfaces between its
 * files: framing (bytes <-> messages), rpc (JSON-RPC 2.0 dispatch and the
 * table of requests in flight), the method families and the
 * notifications.
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
#define BRIDGE_INBOX_CAP	1000
#define BRIDGE_OUT_KEEP		(256u * 1024)	/* output flushed past this */

enum framing {
	FRAMING_AUTO,
	FRAMING_LSP,
	FRAMING_NDJSON
};

struct req;

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
	/* Frees r->state. */
	void	(*free_state)(struct req *r);
};

/* One method: its name and how to start it. */
struct method {
	const char	*name;
	/* Starts r with its params (an object, never NULL); answers at once
	 * or later through req_result() / req_error(). */
	void		(*start)(struct req *r, const cJSON *params);
	int		 before_init;	/* allowed before initialize */
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
	int			 done;		/* answered */
	int			 holds;		/* callbacks still owed */
	int64_t			 started_us;
	char			 write_id[AISH_ID_SIZE];	/* current write */
	char			 socket_id[AISH_NAME_MAX + 1];	/* its socket */
};

/* The bridge: one per process. */
struct bridge {
	struct lws_context	*ctx;
	struct lws_vhost	*vhost;
	aish_t			*aish;
	const char		*url;
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
void		 rpc_handle(const char *buf, size_t len);
void		 rpc_frame_error(int code, const char *message);
void		 req_result(struct req *r, cJSON *result);
void		 req_error(struct req *r, int code, const char *message,
		    cJSON *data);
void		 req_error_aish(struct req *r, aish_error_t err,
		    const char *code, const char *message);
void		 req_hold(struct req *r);
int		 req_release(struct req *r);
void		 req_set_timeout(struct req *r, long ms);
struct req	*req_by_write(const char *write_id);
cJSON		*req_cancel_matching(const cJSON *id);
void		 req_unreachable(const char *socket_id);
const struct method *rpc_find_method(const char *name);
cJSON		*rpc_method_names(void);

/* params.c */
int		 param_str(struct req *r, const cJSON *p, const char *name,
		    int required, const char **out);
int		 param_timeout(struct req *r, const cJSON *p, long dflt,
		    long *out);
int		 param_target(struct req *r, const cJSON *p,
		    const char **out);
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

/* ainames.c */
const char	*ainame_get(const char *socket_id);
void		 ainame_put(const char *socket_id, const char *ai_name);
void		 ainame_learn(const cJSON *sock);
void		 ainame_learn_list(const cJSON *root);
void		 ainame_prefetch(void);

/* methods-session.c, methods-socket.c */
void		 session_probe(void);
int		 socket_down(struct req *r, const char *socket_id);

/* method tables */
extern const struct method methods_session[];
extern const struct method methods_socket[];
extern const struct method methods_send[];

#endif
