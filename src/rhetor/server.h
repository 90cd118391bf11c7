/*
 * server.h: the shape of aish-rhetor, shared by all its files.
 *
 * One process, one libwebsockets event loop.  The server owns a list of AI
 * sockets (registry.c), the jobs that are producing replies (delivery.c),
 * the WebSocket connections reading each socket (ws.c), the HTTP requests
 * that wait for replies (http.c, routes.c, teamchat.c), and the SQLite
 * store that makes all of it survive a restart (store.c).
 */
#ifndef RH_SERVER_H
#define RH_SERVER_H

#include <stdint.h>

#include <libwebsockets.h>
#include <cjson/cJSON.h>

#include "aish-protocol.h"
#include "options.h"
#include "held.h"
#include "socket-index.h"
#include "store.h"

struct rh_conn;
struct rh_http_req;
struct rh_abandon;
struct rh_team;
struct rh_provider;
struct rh_group;
struct rh_stat;

/* What a socket is: the server treats each kind a little differently. */
enum rh_socket_kind {
	RH_KIND_USER = 0,	/* made with create; can be deleted */
	RH_KIND_ROSTER = 1,	/* a roster AI; reset but never deleted */
	RH_KIND_TEAM_CHAT = 2,	/* team-chat-all and team-chat-<group> */
	RH_KIND_RHETOR = 3	/* the server's own AI */
};

/* One AI socket. */
struct rh_socket {
	struct rh_socket	*next;		/* registry, creation order */
	struct rh_socket	*hnext;		/* socket-index.c, same chain */
	char			*id;
	char			*ai_name;
	char			*model;		/* may be NULL */
	char			*provider_name;
	const struct rh_provider *provider;	/* NULL for team-chat sockets */
	char			*prompt;	/* may be NULL */
	cJSON			*context;	/* always an object */
	int			 unresponsive;
	char			*reason;	/* why unresponsive, or NULL */
	int			 failures;	/* provider failures in a row */
	int64_t			 created_at;
	int64_t			 last_activity;
	enum rh_socket_kind	 kind;
	struct rh_conn		*conns;		/* WebSocket readers */
	struct rh_http_req	*waiters;	/* HTTP /read requests waiting */
	struct rh_abandon	*abandon;	/* timer once its last reader
						 * left, or NULL (ws.c) */
};

/* One AI owing one reply to one accepted write. */
struct rh_job {
	struct rh_job		*next;
	struct rh_server	*srv;
	int64_t			 job_id;	/* row in the store; 0 if not stored */
	char			*origin;	/* socket the write was made to */
	char			*write_id;
	char			*socket_id;	/* socket whose AI answers */
	char			*content;
	int64_t			 started_ms;
	struct rh_team		*team;		/* HTTP team-chat waiting, or NULL */
	int64_t			 deltas;	/* delta frames sent so far */
	int			 abandonable;	/* written over a WebSocket */
	void			*provider_state;
	/* A binary stream (SPEC section 2): the bytes and their type; for
	 * such a job content is a short description.  NULL for text. */
	unsigned char		*media;
	size_t			 media_len;
	char			*mime;
	/* The synthesis of a moderated team-chat write: waits (deferred)
	 * until every member has answered, collecting their replies. */
	int			 deferred;
	cJSON			*collected;	/* [{"socket_id","content"|"error"}] */
};

/* The whole server. */
struct rh_server {
	struct rh_options	 opt;
	struct lws_context	*context;
	struct lws_vhost	*vhost;
	struct lws_vhost	*pipes_vhost;	/* exec pipes; listens nowhere */
	struct rh_store		*store;
	struct rh_socket	*sockets;
	struct rh_socket_index	 socket_index;	/* the sockets by id */
	struct rh_job		*jobs;
	struct rh_group		*groups;	/* groups.c, creation order */
	struct rh_stat		*stats;		/* metrics.c, per provider */
	struct rh_held_list	 held;		/* delivery.c: frames not yet
						   committed */
	/* stores the changes noted with the store's _later functions */
	lws_sorted_usec_list_t	 flush_sul;
	int			 flush_due;	/* flush_sul is scheduled */
	int			 port;		/* the port actually bound */
	int			 interrupted;
	int			 nsockets;
	uint64_t		 queue_drops;
	uint64_t		 messages_in;
	uint64_t		 messages_out;
	uint64_t		 streams_in;
	uint64_t		 streams_refused;
};

/* An error to report: HTTP status, error code and human text. */
struct rh_err {
	int		 status;
	const char	*code;
	char		 message[512];
};

/* Fills an rh_err. */
void	 rh_err_set(struct rh_err *err, int status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Milliseconds since the epoch. */
int64_t	 rh_now_ms(void);
/* Milliseconds of a monotonic clock. */
int64_t	 rh_mono_ms(void);
/* Formats an epoch time in ms as "2026-11-26T10:00:00Z" into buf. */
void	 rh_format_time(int64_t ms, char *buf, size_t len);
/* Logs a line on stderr with the server's prefix. */
void	 rh_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Starts, runs and stops the server (server.c). */
int	 rh_server_init(struct rh_server *srv, const struct rh_options *opt);
int	 rh_server_run(struct rh_server *srv);
void	 rh_server_free(struct rh_server *srv);
/* Has the changes noted with the store's _later functions stored soon. */
void	 rh_server_flush_soon(struct rh_server *srv);
/* The server that owns a connection. */
struct rh_server *rh_server_of(struct lws *wsi);

#endif
