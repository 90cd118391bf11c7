/*
 * http.h: HTTP requests: reading them, routing them, answering them.
 *
 * Every connection to the server's port starts here (http.c reads
 * HTTP/1.1 itself, on a raw socket): each request head goes through the
 * browser guard, then is routed, one request at a time and in order on a
 * connection; a WebSocket upgrade is handed to libwebsockets whole.  A
 * route handler answers at once with rh_http_reply(), or keeps the request
 * and answers later (a /read that waits, a team chat); the answer is
 * written from the loop's writeable callback either way.
 */
#ifndef RH_HTTP_H
#define RH_HTTP_H

#include "http-parse.h"
#include "read-held.h"
#include "server.h"

/* One HTTP request and its answer. */
struct rh_http_req {
	struct lws		*wsi;
	struct rh_server	*srv;
	enum rh_method		 method;	/* HEAD routes as GET */
	int			 head_only;	/* HEAD: no body in the answer */
	char			*path;		/* decoded */
	const char		*query;		/* after '?', or NULL */
	char			*body;
	size_t			 body_len;
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
	/* The queued replies a /read answer carries, held until its reader
	 * got them (read-held.h). */
	struct rh_read_take	 take;
};

/* The protocol of the listening port: raw connections read as HTTP. */
extern const struct lws_protocols rh_http_protocols[];
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
/* The decoded value of a query argument, copied into out; its length, or
 * -1 when absent or too long. */
int	 rh_http_arg(struct rh_http_req *req, const char *name, char *out,
	    size_t outlen);

/* Keeps a request that answers later from being closed for ms. */
void	rh_http_hold(struct rh_http_req *req, int64_t ms);
/* /read requests: wait on a socket, and wake when its queue grows. */
void	rh_http_wait(struct rh_http_req *req, struct rh_socket *s,
	    int wait_ms);
void	rh_http_wake_readers(struct rh_server *srv, struct rh_socket *s);
/* The socket is being deleted: its waiting /reads answer 404. */
void	rh_http_socket_gone(struct rh_server *srv, struct rh_socket *s);

#endif
