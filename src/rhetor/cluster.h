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
 * bucket, which every node watches and follows (cluster-sockets.c).
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
 * with ud the writer's connection (flags has RH_WRITE_FROM_WS).  res
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
/* Puts a socket made by create in the cluster, if its id is free there
 * (on the loop, waiting for the engine up to RH_CL_SOCKETS_WAIT_MS).
 * 0; 1 when the id is taken (err: 409 conflict); -1 (err: 500). */
int	 rh_cluster_socket_create(struct rh_server *srv,
	    const struct rh_socket *s, struct rh_err *err);
/* Deletes a socket from the cluster; 0, or -1 after logging why. */
int	 rh_cluster_socket_delete(struct rh_server *srv, const char *id);
/* Puts a group (n member ids) in the cluster; 0, or -1 with err. */
int	 rh_cluster_group_put(struct rh_server *srv, const char *name,
	    const char **ids, size_t n, struct rh_err *err);
/* Deletes a group from the cluster; 0, or -1 after logging why. */
int	 rh_cluster_group_delete(struct rh_server *srv, const char *name);
/* A socket leaves this node: the cluster's jobs on it end. */
void	 rh_cluster_socket_gone(struct rh_server *srv, struct rh_socket *s);
/* Tells every node to reset a socket; 0, or -1 after logging why. */
int	 rh_cluster_socket_reset(struct rh_server *srv, const char *id);
#else
static inline int rh_cluster_open(struct rh_server *srv) { return 0; }
static inline void rh_cluster_close(struct rh_server *srv) { }
static inline void rh_cluster_dispatch(struct rh_server *srv) { }
static inline void rh_cluster_conn_gone(struct rh_server *srv,
    struct rh_conn *c) { }
static inline char *rh_cluster_metrics_text(struct rh_server *srv)
{ return NULL; }
static inline int rh_cluster_socket_create(struct rh_server *srv,
    const struct rh_socket *s, struct rh_err *err) { return 0; }
static inline int rh_cluster_socket_delete(struct rh_server *srv,
    const char *id) { return 0; }
static inline int rh_cluster_group_put(struct rh_server *srv,
    const char *name, const char **ids, size_t n, struct rh_err *err)
{ return 0; }
static inline int rh_cluster_group_delete(struct rh_server *srv,
    const char *name) { return 0; }
static inline void rh_cluster_socket_gone(struct rh_server *srv,
    struct rh_socket *s) { }
static inline int rh_cluster_socket_reset(struct rh_server *srv,
    const char *id) { return 0; }
#endif

#endif
