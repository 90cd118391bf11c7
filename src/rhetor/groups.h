/*
 * groups.h: named groups of AI sockets.  Each group has a broadcast
 * socket, team-chat-<name>, that exists as long as the group does: a
 * write to it reaches the group's active members, and their replies come
 * back on it.  Groups live in the store and survive restarts.
 */
#ifndef RH_GROUPS_H
#define RH_GROUPS_H

#include "cluster.h"
#include "server.h"
#include "strmap.h"

/* Group names are socket names, short enough that team-chat-<name> is
 * one too. */
#define RH_GROUP_NAME_MAX	(AISH_MAX_NAME - 10)

struct rh_group {
	struct rh_group	*next;		/* creation order */
	char		*name;
	char		*socket_id;	/* team-chat-<name> */
	char		**members;	/* socket ids, in order */
	size_t		 n;
	struct ac_strmap member_set;	/* the same ids, to look up */
};

/* Loads the stored groups; makes missing group sockets and removes group
 * sockets whose group is gone.  After rh_registry_load.  0 or -1. */
int	 rh_groups_load(struct rh_server *srv);
void	 rh_groups_free(struct rh_server *srv);
/* The group of this name, or NULL. */
struct rh_group *rh_group_find(struct rh_server *srv, const char *name);
/* The group whose broadcast socket is s, or NULL (team-chat-all too). */
struct rh_group *rh_group_of_socket(struct rh_server *srv,
	    const struct rh_socket *s);
/* True when a valid group name: a socket name, short enough, not "all". */
int	 rh_group_name_valid(const char *name);
/* Creates or replaces a group; members is a JSON array of socket ids of
 * AI sockets.  On failure returns NULL with err filled. */
struct rh_group *rh_group_put(struct rh_server *srv, const char *name,
	    const cJSON *members, struct rh_err *err);
/* Deletes a group and its socket.  0 or -1 (storage error). */
int	 rh_group_delete(struct rh_server *srv, struct rh_group *g);
/* The same in cluster mode, where the group changes in AISH_SOCKETS
 * first, off the loop, then here, and w is answered then (with the
 * group, for a put).  put_later returns 0, or -1 with err filled when
 * refused at once. */
int	 rh_group_put_later(struct rh_server *srv, const char *name,
	    const cJSON *members, const struct rh_cl_waiter *w,
	    struct rh_err *err);
void	 rh_group_delete_later(struct rh_server *srv, struct rh_group *g,
	    const struct rh_cl_waiter *w);
/* A group another node of the cluster put or deleted, here too, without
 * asking the cluster: apply keeps the members that are AI sockets here.
 * 0 or -1 (storage error). */
int	 rh_group_apply(struct rh_server *srv, const char *name,
	    const cJSON *members);
int	 rh_group_drop(struct rh_server *srv, struct rh_group *g);
/* True when socket_id is a member of g. */
int	 rh_group_has(const struct rh_group *g, const char *socket_id);
/* A socket is being deleted: it leaves every group (in memory; the store
 * does the same in rh_store_socket_delete). */
void	 rh_groups_socket_gone(struct rh_server *srv, const char *socket_id);
/* {"name","members":[…],"socket_id"}; the caller owns it. */
cJSON	*rh_group_describe(const struct rh_group *g);
/* The names of the groups socket_id belongs to, as a JSON array. */
cJSON	*rh_groups_of(struct rh_server *srv, const char *socket_id);

#endif
