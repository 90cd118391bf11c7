/*
 * cluster-write.h: a write on its way to the engine, shared by the loop's
 * side (cluster-write.c) and the store thread's (cluster-accept.c).
 */
#ifndef RH_CLUSTER_WRITE_H
#define RH_CLUSTER_WRITE_H

#include "cluster-engine.h"
#include "delivery.h"
#include "http.h"

/* A write waiting for the engine; the loop owns it. */
struct rh_cl_write {
	struct rh_cl_write	*next;
	struct rh_cl_write	*prev;
	struct rh_conn		*conn;		/* a WebSocket writer, NULL once
						 * gone */
	struct rh_http_req	*req;		/* or an HTTP one, the same */
	rh_accepted_cb		 accepted;
	struct rh_write_result	 res;		/* id and members */
	/* read by the store thread, never changed after the hand-off */
	char			*origin;
	char			*node;
	char			*content;
	int			 fresh;
};

/* An HTTP request is going away: its writes answer no one. */
void	rh_cl_writes_req_gone(struct rh_cluster *cl, struct rh_http_req *req);

#endif
