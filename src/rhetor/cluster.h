/*
 * cluster.h: aish-rhetor as a node of a cluster on NATS JetStream
 * (--cluster URLS --node NAME; doc/cluster.md).
 *
 * The engine (cluster-engine.c) owns the nats.c connection, the streams
 * and KV buckets; nats.c runs on threads of its own, and everything it
 * hears is handed to the event loop through a locked list and
 * lws_cancel_service (cluster-handoff.c), the way http-worker.c hands
 * over provider answers.  Writes (cluster-write.c) are stored in the
 * engine by a thread of the node, never by the loop; jobs are pulled from
 * the shared consumer and run by the loop's providers (cluster-run.c);
 * stored replies come back live to every node (cluster-live.c).  The
 * sockets made with create and the groups live in the AISH_SOCKETS
 * bucket, which every node watches and follows (cluster-sockets.c); each
 * node queues every stored reply for its socket's next reader, and a
 * reply got on one node leaves every node's queue (cluster-queue.c).
 *
 * Built without NATS (no HAVE_NATS), every function here is a no-op and
 * srv->cluster stays NULL.
 */
#ifndef RH_CLUSTER_H
#define RH_CLUSTER_H

#include "config.h"
#include "server.h"

struct rh_cluster;
struct rh_conn;
struct rh_err;
struct rh_write_result;
struct rh_http_req;

/* Who waits for a change the cluster makes: an HTTP request and how it
 * is answered (obj the socket or group made, or NULL; err NULL, or why
 * not).  req is NULL once the request went away: nobody is answered. */
struct rh_cl_waiter {
	struct rh_http_req	*req;
	void			(*answer)(struct rh_http_req *req, void *obj,
				    const struct rh_err *err);
};
/* What a change does here once the cluster answered it (see below). */
typedef void (*rh_cl_done_cb)(struct rh_server *srv, void *arg, int rc,
    const char *why, const struct rh_cl_waiter *w);

/* Answers w, unless its request went away. */
static inline void
rh_cl_answer(const struct rh_cl_waiter *w, void *obj,
    const struct rh_err *err)
{
	if (w != NULL && w->req != NULL)
		w->answer(w->req, obj, err);
}
/* How long an HTTP request waits for a change of the cluster at most
 * (ms): the store thread's bounded tries, with a margin. */
#define RH_CLUSTER_CHANGE_MS	15000

#ifdef HAVE_NATS
/* Connects to the NATS servers of srv->opt.cluster, makes (or finds) the
 * streams and buckets, and starts the node's threads.  0, or -1 after
 * logging why. */
int	 rh_cluster_open(struct rh_server *srv);
/* Stops the threads and the connection; safe with srv->cluster NULL. */
void	 rh_cluster_close(struct rh_server *srv);
/* Runs on the loop what the engine's threads handed over; from
 * EVENT_WAIT_CANCELLED. */
void	 rh_cluster_dispatch(struct rh_server *srv);
/* A WebSocket connection is going away: nothing more is sent to it. */
void	 rh_cluster_conn_gone(struct rh_server *srv, struct rh_conn *c);
/* A write made on origin in cluster mode (see rh_delivery_write): it is
 * stored in the engine off the loop, and accepted() comes once it is,
 * with ud the writer's connection (flags has RH_WRITE_FROM_WS) or its
 * HTTP request (held meanwhile; an error is answered 500 to it).  res
 * comes with its id and members set, and stays the caller's.  0, or -1
 * with err filled. */
int	 rh_cluster_write(struct rh_server *srv, struct rh_socket *origin,
	    const char *content, int flags, struct rh_team *team,
	    void (*accepted)(void *, const struct rh_write_result *),
	    void *ud, struct rh_write_result *res, struct rh_err *err);
/* Provider callbacks of a job the cluster handed out (cluster-run.c). */
void	 rh_cluster_job_delta(struct rh_job *job, const char *text,
	    size_t len);
void	 rh_cluster_job_finish(struct rh_job *job, const char *text,
	    const char *code);
/* The node's engine figures for /metrics (allocated), or NULL. */
char	*rh_cluster_metrics_text(struct rh_server *srv);
/* Changes of the AISH_SOCKETS bucket (cluster-sockets.c), made by the
 * store thread, never on the loop: done(srv, arg, rc, why, w) comes
 * later on the loop, exactly once, with rc 0 when the bucket took the
 * change, 1 when a create found the id taken there, -1 when it could not
 * be made (why says; also at shutdown, with w->req NULL).  done makes
 * the change here too, then answers w.  Changes of the bucket heard
 * while one waits are made here after it. */
void	 rh_cluster_socket_create(struct rh_server *srv,
	    const struct rh_socket *s, rh_cl_done_cb done, void *arg,
	    const struct rh_cl_waiter *w);
void	 rh_cluster_socket_delete(struct rh_server *srv, const char *id,
	    rh_cl_done_cb done, void *arg, const struct rh_cl_waiter *w);
void	 rh_cluster_group_put(struct rh_server *srv, const char *name,
	    const cJSON *members, rh_cl_done_cb done, void *arg,
	    const struct rh_cl_waiter *w);
void	 rh_cluster_group_delete(struct rh_server *srv, const char *name,
	    rh_cl_done_cb done, void *arg, const struct rh_cl_waiter *w);
void	 rh_cluster_socket_reset(struct rh_server *srv, const char *id,
	    rh_cl_done_cb done, void *arg, const struct rh_cl_waiter *w);
/* An HTTP request is going away: the changes and writes it waits for
 * answer no one. */
void	 rh_cluster_req_gone(struct rh_server *srv, struct rh_http_req *req);
/* A socket leaves this node: the cluster's jobs on it end. */
void	 rh_cluster_socket_gone(struct rh_server *srv, struct rh_socket *s);
/* A reader here got the queued reply seq of socket_id: the other nodes
 * take it off their queues (cluster-queue.c); no-op without a cluster. */
void	 rh_cluster_queue_got(struct rh_server *srv, const char *socket_id,
	    int64_t seq);
#else
static inline int rh_cluster_open(struct rh_server *srv) { return 0; }
static inline void rh_cluster_close(struct rh_server *srv) { }
static inline void rh_cluster_dispatch(struct rh_server *srv) { }
static inline void rh_cluster_conn_gone(struct rh_server *srv,
    struct rh_conn *c) { }
static inline char *rh_cluster_metrics_text(struct rh_server *srv)
{ return NULL; }
static inline void rh_cluster_socket_gone(struct rh_server *srv,
    struct rh_socket *s) { }
static inline void rh_cluster_req_gone(struct rh_server *srv,
    struct rh_http_req *req) { }
static inline void rh_cluster_queue_got(struct rh_server *srv,
    const char *socket_id, int64_t seq) { }
/* Never called without a cluster: each says it could not. */
static inline void rh_cluster_socket_create(struct rh_server *srv,
    const struct rh_socket *s, rh_cl_done_cb done, void *arg,
    const struct rh_cl_waiter *w) { done(srv, arg, -1, "no cluster", w); }
static inline void rh_cluster_socket_delete(struct rh_server *srv,
    const char *id, rh_cl_done_cb done, void *arg,
    const struct rh_cl_waiter *w) { done(srv, arg, -1, "no cluster", w); }
static inline void rh_cluster_group_put(struct rh_server *srv,
    const char *name, const cJSON *members, rh_cl_done_cb done, void *arg,
    const struct rh_cl_waiter *w) { done(srv, arg, -1, "no cluster", w); }
static inline void rh_cluster_group_delete(struct rh_server *srv,
    const char *name, rh_cl_done_cb done, void *arg,
    const struct rh_cl_waiter *w) { done(srv, arg, -1, "no cluster", w); }
static inline void rh_cluster_socket_reset(struct rh_server *srv,
    const char *id, rh_cl_done_cb done, void *arg,
    const struct rh_cl_waiter *w) { done(srv, arg, -1, "no cluster", w); }
#endif

#endif
