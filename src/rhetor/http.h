/*
 * http.h: HTTP requests: reading them, routing them, answering them.
 *
 * A route handler answers at once with rh_http_reply(), or keeps the
 * request and answers later (a /read that waits, a team chat); the answer
 * is written from the loop's writeable callback either way.
 */
#ifndef RH_HTTP_H
#define RH_HTTP_H

#include "server.h"

enum rh_method {
	RH_GET,
	RH_POST,
	RH_PUT,
	RH_DELETE,
	RH_OTHER
};

/* One HTTP request and its answer. */
struct rh_http_req {
	struct lws		*wsi;
	struct rh_server	*srv;
	enum rh_method		 method;
	char			*path;
	char			*body;
	size_t			 body_len;
	int			 body_too_big;
	int			 answered;	/* reply set (maybe not sent) */
	int			 headers_sent;
	int			 close_after;
	int			 status;
	const char		*content_type;	/* NULL: application/json */
	char			*resp;
	size_t			 resp_len;
	size_t			 resp_sent;
	/* A /read waiting for its first message. */
	struct rh_socket	*wait_sock;
	struct rh_http_req	*wait_next;
	lws_sorted_usec_list_t	 wait_sul;
	/* A team chat collecting replies. */
	struct rh_team		*team;
};

/* The HTTP events of the protocol callback. */
int	rh_http_event(struct lws *wsi, enum lws_callback_reasons reason,
	    struct rh_http_req *req, void *in, size_t len);
/* Answers a request with a JSON body; consumes body. */
void	rh_http_reply(struct rh_http_req *req, int status, cJSON *body);
/* Answers a request with a text body of the given content type. */
void	rh_http_reply_text(struct rh_http_req *req, int status,
	    const char *content_type, const char *text, size_t len);
/* Answers a request with an error. */
void	rh_http_reply_err(struct rh_http_req *req, const struct rh_err *err);
void	rh_http_error(struct rh_http_req *req, int status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Writes a whole error answer at once, for refused WebSocket upgrades. */
void	rh_http_send_now(struct lws *wsi, int status, const char *code,
	    const char *message);
/* Parses a request's JSON body as an object; answers 400 and returns NULL
 * when it is not one. */
cJSON	*rh_http_json_body(struct rh_http_req *req);

/* Keeps a request that answers later from being closed for ms. */
void	rh_http_hold(struct rh_http_req *req, int64_t ms);
/* /read requests: wait on a socket, and wake when its queue grows. */
void	rh_http_wait(struct rh_http_req *req, struct rh_socket *s,
	    int wait_ms);
void	rh_http_wake_readers(struct rh_server *srv, struct rh_socket *s);
void	rh_http_socket_gone(struct rh_socket *s);

/* Routes (routes.c). */
void	rh_route(struct rh_http_req *req);
/* Answers a /read: drains the socket's queue into {"messages":[…]}. */
void	rh_route_read_answer(struct rh_http_req *req, struct rh_socket *s);

#endif
