/*
 * aish-private.h: libaish's internals, shared by its files and no one else.
 *
 * Internal functions that are not static are named aishi_*, which the
 * library's export pattern (^aish_[a-z]) leaves out.
 */
#ifndef AISH_PRIVATE_H
#define AISH_PRIVATE_H

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "aish/aish.h"

struct aishi_http;

/* A write kept until it is finished (see DELIVERY in aish.h). */
struct aishi_write {
	struct aishi_write	*next;
	char			 id[AISH_ID_SIZE];
	char			*content;	/* text, or a stream's bytes */
	size_t			 len;
	int			 synthesis;	/* team chat with moderation */
	int			 fresh;		/* one-shot: "fresh":true */
	char			*mime;		/* a binary stream, or NULL */
	int			 stream_stage;	/* 0 start, 1 bytes, 2 end */
	size_t			 stream_off;	/* bytes sent so far */
	int			 sent;		/* on the current connection */
	int			 ever_sent;	/* reached a connection once */
	int			 acked;
	int			 turn_told;	/* its local turn was delivered */
	int			 team;		/* members known from an ack */
	char			**members;	/* team chat: from the ack */
	size_t			 n_members;
	char			**finished;	/* sockets whose final came */
	size_t			 n_finished;
};

/* A control frame (cancel, ping) waiting for the current connection. */
struct aishi_ctl {
	struct aishi_ctl	*next;
	size_t			 len;
	char			 json[];
};

/* One socket's WebSocket and everything waiting for it. */
struct aishi_conn {
	struct aishi_conn	*next;
	struct aish		*h;
	char			 socket_id[AISH_NAME_MAX + 1];
	struct lws		*wsi;
	aish_conn_state_t	 state;
	int			 wanted;	/* 0 after aish_close() */
	int			 closing;	/* close frame to send */
	lws_sorted_usec_list_t	 retry_sul;
	size_t			 node;		/* of the last attempt */
	unsigned		 hops;		/* nodes tried since the last
						 * back-off or connection */
	uint16_t		 retry_count;
	unsigned		 failures;
	int64_t			 down_since;	/* lws_now_usecs(); 0 when up */
	struct aishi_write	*writes;
	struct aishi_ctl	*ctl;
	char			*rx;
	size_t			 rx_len;
	size_t			 rx_cap;
};

/* A final frame already delivered: (socket, seq). */
struct aishi_seen {
	int64_t			 seq;
	int			 used;
	char			 socket_id[AISH_NAME_MAX + 1];
};

/* How far a streamed reply was delivered: (socket, write id, next
 * delta index). */
struct aishi_streamed {
	int64_t			 next;
	char			 socket_id[AISH_NAME_MAX + 1];
	char			 write_id[AISH_ID_SIZE];
};

/* What was delivered is remembered in buckets chosen by a hash, each a
 * ring of AISHI_WAYS slots: a lookup reads one bucket, not all. */
#define AISHI_WAYS		16
#define AISHI_SEEN_BUCKETS	64	/* 1024 final frames */
#define AISHI_STREAMED_BUCKETS	16	/* 256 streamed replies */

struct aishi_seen_bucket {
	struct aishi_seen	 slot[AISHI_WAYS];
	unsigned		 next;
};

struct aishi_streamed_bucket {
	struct aishi_streamed	 slot[AISHI_WAYS];
	unsigned		 next;
};

#define AISHI_RETRY_STEPS	16
/* A Host header: the host, a colon and a port. */
#define AISHI_HOST_SIZE		(256 + 8)

/* One server (a node of a cluster) of the handle's URL list. */
struct aishi_node {
	char			*url;		/* without a trailing slash */
	char			 host[256];
	int			 port;
	char			 path_prefix[256];	/* "" or "/x" */
	int			 tls;
};

/* Where each protocol sits in aishi_protocols. */
enum {
	AISHI_PROTOCOL_WS,		/* "aish": the sockets' WebSockets */
	AISHI_PROTOCOL_HTTP		/* "aish-http": the HTTP requests */
};

struct aish {
	struct lws_context	*ctx;
	int			 own_ctx;
	struct lws_vhost	*vhost;
	char			 vhost_name[40];

	char			*url;		/* the nodes' URLs, joined by
						 * commas */
	struct aishi_node	*nodes;		/* in the order given */
	size_t			 n_nodes;
	size_t			 node;		/* the one in use now */
	int			 tls;		/* any node wants TLS */
	char			*auth;		/* "Bearer TOKEN" or NULL */

	aish_msg_cb		 on_message;
	aish_state_cb		 on_state;
	void			*user;
	long			 http_timeout_ms;

	uint32_t		 retry_table[AISHI_RETRY_STEPS];
	lws_retry_bo_t		 retry;

	struct aishi_conn	*conns;
	struct aishi_http	*http;

	struct aishi_seen_bucket *seen;		/* AISHI_SEEN_BUCKETS */
	struct aishi_streamed_bucket *streamed;	/* AISHI_STREAMED_BUCKETS */

	char			 id_prefix[20];
	uint64_t		 id_counter;

	lws_sorted_usec_list_t	 tick_sul;
	int			 freeing;
};

/* ws.c */
extern const struct lws_protocols aishi_protocols[];
struct aishi_conn *aishi_conn_get(struct aish *h, const char *socket_id,
		    int create);
void		 aishi_conn_connect(struct aishi_conn *c);
void		 aishi_conn_free_all(struct aish *h);
void		 aishi_write_free(struct aishi_write *w);
void		 aishi_local_error(struct aish *h, const char *socket_id,
		    const char *write_id, const char *code, const char *text);

/* http.c */
int		 aishi_http_callback(struct lws *wsi,
		    enum lws_callback_reasons reason, void *user, void *in,
		    size_t len);
void		 aishi_http_free_all(struct aish *h);

/* seen.c */
int		 aishi_final_seen(struct aish *h, const char *socket_id,
		    int64_t seq);
int		 aishi_delta_seen(struct aish *h, const char *socket_id,
		    const char *write_id, int64_t index);

/* handle.c */
int		 aishi_id_valid(const char *id);
void		 aishi_make_id(struct aish *h, char *out);
aish_error_t	 aishi_error_from_status(long status);
/* reply.c: fills m from a parsed frame f heard on the connection to
 * conn_socket_id; its strings point into f, its headers and members into
 * *headers and *members (allocated, the caller frees them).  0, with m
 * cleared, when f is no frame libaish knows. */
int		 aishi_msg_read(aish_msg_t *m, const cJSON *f,
		    const char *conn_socket_id, const char ***headers,
		    const char ***members);
/* reply.c: reads an HTTP answer with status that came whole (body of
 * len bytes, or NULL) into res: its error (from the status and the
 * server's error object, or AISH_E_PROTOCOL when it is no JSON), code,
 * message and socket_id.  Returns the parsed body, which res's strings
 * point into (the caller deletes it), or NULL. */
cJSON		*aishi_result_read(aish_result_t *res, long status,
		    const char *body, size_t len);
/* The Host header for node n: host, with the port unless default. */
void		 aishi_host_header(const struct aishi_node *n, char *buf,
		    size_t len);
/* handle.c: an attempt on node failed or its connection dropped: when it
 * is the node in use, the next one of the list is used from now on. */
void		 aishi_node_failed(struct aish *h, size_t node);

#endif
