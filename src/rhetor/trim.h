/*
 * trim.h: the disk bound.  The state database is kept within
 * max_state_bytes (--max-state-bytes, the config's "max_state_bytes"):
 * once its pages in use pass seven eighths of it, or a write finds no
 * room (the bound, or a full disk), the server trims the oldest history
 * and queued replies, a slice at a time, until the database is back
 * under three quarters of the bound (a full disk: until an eighth of it
 * is free), and counts what it dropped in /metrics.
 */
#ifndef RH_TRIM_H
#define RH_TRIM_H

#include "server.h"

/* Sets the bound and starts watching the state (after the loop exists).
 * 0, or -1 on a storage error. */
int	rh_trim_start(struct rh_server *srv);
/* Stops watching and frees what a trim in progress holds. */
void	rh_trim_stop(struct rh_server *srv);

#endif
