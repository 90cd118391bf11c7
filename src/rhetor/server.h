/*
 * server.h: the shape of aish-rhetor, shared by all its files.
 *
 * One process, one libwebsockets event loop.  The server owns a list of AI
 * sockets (registry.c), the jobs that are producing replies (job.c),
 * the WebSocket connections reading each socket (ws.c), the HTTP requests
 * that wait for replies (http.c, route-read.c, route-teamchat.c), and the
 * SQLite store that makes all of it survive a restart (store.c).
 */
#ifndef RH_SERVER_H
#define RH_SERVER_H

#include <stdint.h>

#include <libwebsockets.h>
#include <cjson/cJSON.h>

#include <aish/protocol.h>
#include "listener.h"
#include "options.h"
#include "socket-index.h"
#include "store.h"
#include "strmap.h"

struct rh_conn;
struct rh_http_req;
struct rh_abandon;
struct rh_team;
struct rh_provider;
struct rh_group;
struct rh_stat;
struct rh_holds;
struct rh_write_jobs;
struct rh_trim;
struct rh_held_list;
struct rh_cluster;
struct rh_cl_item;

/* What a socket is: the server treats each kind a little differently. */
enum rh_socket_kind {
	RH_KIND_USER = 0,	/* made with create; can be deleted */
	RH_KIND_ROSTER = 1,	/* a roster AI; reset but never deleted */
	RH_KIND_TEAM_CHAT = 2,	/* team-chat-all and team-chat-<group> */
	RH_KIND_RHETOR = 3,	/* the server's own AI */
	RH_KIND_PRIVATE = 4	/* made with create "private": an AI socket
				 * that no team chat reaches */
};

/* One AI socket. */
struct rh_socket {
	struct rh_socket	*next;		/* registry, creation order */
	struct rh_socket	*prev;
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
	struct rh_holds		*holds;		/* queued replies readers hold,
						 * or NULL (sent.c) */
	int			 had_reader;	/* a WebSocket reader came since
						 * the server started */
};

/* One AI owing one reply to one accepted write.  Who owns it and when it
 * dies: delivery.h. */
struct rh_job {
	int			 refs;		/* see delivery.h */
	int			 ended;		/* off every list, no frame
						 * will follow */
	struct rh_job		*next;		/* the server's jobs */
	struct rh_job		*prev;
	struct rh_write_jobs	*write;		/* the jobs of the same write */
	struct rh_job		*wnext;		/* (job.c) */
	struct rh_job		*wprev;
	struct rh_job_queue	*queue;		/* waiting to start or to be
						   stored, or NULL */
	struct rh_job		*qnext;
	struct rh_job		*qprev;
	/* A reply given by the provider and waiting to be stored: its text,
	 * and its error code (NULL for a read). */
	int			 finished;
	char			*final_text;
	char			*final_code;
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
	int			 fresh;		/* one-shot: no history read
						 * or extended */
	int64_t			 question_seq;	/* the seq its question takes
						 * in the history, 0: one is
						 * taken with the reply */
	int64_t			 question_ms;	/* when it was asked, or 0 */
	/* While its batched write's transaction is open (start_batched):
	 * where its frames wait for the commit; NULL otherwise. */
	struct rh_held_list	*held;
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
	/* A job of the cluster (cluster-run.c): its message, or NULL. */
	struct rh_cl_item	*cluster;
};

/* Jobs waiting for their turn (job.c, reply.c), oldest first. */
struct rh_job_queue {
	struct rh_job		*first;
	struct rh_job		*last;
	lws_sorted_usec_list_t	 sul;		/* the next slice */
	int			 scheduled;	/* sul is set */
};

/* The whole server. */
struct rh_server {
	struct rh_options	 opt;
	struct lws_context	*context;
	struct lws_vhost	*vhost;		/* the port: raw, read by http.c */
	struct lws_vhost	*ws_vhost;	/* WebSockets handed over */
	char			*listen_addr;	/* the address bound, numeric */
	struct lws_vhost	*pipes_vhost;	/* exec pipes; listens nowhere */
	struct rh_store		*store;
	struct rh_cluster	*cluster;	/* --cluster (cluster.h), or
						 * NULL */
	struct rh_socket	*sockets;
	struct rh_socket	*sockets_last;	/* the newest, or NULL */
	struct rh_socket_index	 socket_index;	/* the sockets by id */
	struct rh_job		*jobs;
	struct ac_strmap	 jobs_by_write;	/* "origin/write id" to its
						   rh_write_jobs */
	/* Jobs are started, and their replies stored, a slice at a time
	 * (job.c, reply.c). */
	struct rh_job_queue	 to_start;
	struct rh_job_queue	 to_store;
	/* The transports that serve readers (listener.h). */
	const struct rh_listener *listeners[RH_LISTENERS_MAX];
	int			 nlisteners;
	struct rh_group		*groups;	/* groups.c, creation order */
	struct rh_stat		*stats;		/* metrics.c, per provider */
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
	/* Memory held for clients (ws.c), bounded server-wide: frames
	 * waiting for readers, at their size in memory; unfinished binary
	 * streams; text messages arriving in pieces. */
	struct rh_trim		*trim;		/* trim.c: the disk bound */
	uint64_t		 trimmed_turns;
	uint64_t		 trimmed_replies;
	size_t			 unwritten_bytes;
	size_t			 stream_bytes;
	size_t			 partial_bytes;
	uint64_t		 readers_dropped;
	uint64_t		 http_refused;	/* by the browser guard */
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
