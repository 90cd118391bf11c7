/*
 * cluster-write.h: a write on its way to the engine, shared by the loop's
 * side (cluster-write.c) and the store thread's (cluster-accept.c).
 */
#ifndef RH_CLUSTER_WRITE_H
#define RH_CLUSTER_WRITE_H

#include "cluster-engine.h"
#include "delivery.h"

/* A write waiting for the engine; the loop owns it. */
struct rh_cl_write {
	struct rh_cl_write	*next;
	struct rh_cl_write	*prev;
	struct rh_conn		*conn;		/* NULL once gone */
	rh_accepted_cb		 accepted;
	struct rh_write_result	 res;		/* id and members */
	/* read by the store thread, never changed after the hand-off */
	char			*origin;
	char			*node;
	char			*content;
	int			 fresh;
};

#endif
