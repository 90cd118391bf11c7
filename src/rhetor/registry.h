/*
 * registry.h: the AI sockets the server knows, kept in memory in creation
 * order and mirrored in the store.
 */
#ifndef RH_REGISTRY_H
#define RH_REGISTRY_H

#include "cluster.h"
#include "server.h"

/* What a create asks for; NULL fields take their defaults. */
struct rh_create_req {
	const char	*ai_name;
	const char	*socket_id;
	const char	*model;
	const char	*prompt;
	const char	*provider;
	const cJSON	*context;	/* an object, or NULL */
	int		 private_socket; /* "private": true */
};

/* Loads the stored sockets, then adds the special sockets and the roster
 * where they are missing.  Returns 0, or -1 on a storage error. */
int	 rh_registry_load(struct rh_server *srv);
/* Frees every socket in memory (the store keeps them). */
void	 rh_registry_free(struct rh_server *srv);
/* The socket with this id, or NULL. */
struct rh_socket *rh_registry_find(struct rh_server *srv, const char *id);
/* The socket a pipeline stage or an "ai" parameter names: a socket id, or
 * the roster AI of that name.  NULL when there is none. */
struct rh_socket *rh_registry_resolve(struct rh_server *srv, const char *name);
/* Creates a socket; a create without socket_id of team-chat-all, rhetor
 * or team-chat-<group> gives that socket instead (*existing is then 1).
 * On failure returns NULL and fills err. */
struct rh_socket *rh_registry_create(struct rh_server *srv,
	    const struct rh_create_req *req, int *existing,
	    struct rh_err *err);
/* The same in cluster mode, where the socket goes in AISH_SOCKETS first,
 * off the loop: returns the special socket the create means (*existing
 * 1), or NULL with err filled when refused at once, or NULL with
 * err->status 0 when w is answered later with the socket made. */
struct rh_socket *rh_registry_create_later(struct rh_server *srv,
	    const struct rh_create_req *req, const struct rh_cl_waiter *w,
	    int *existing, struct rh_err *err);
/* Removes a socket from memory and the store; its connections close.
 * In cluster mode the routes use delete_later for a socket create made:
 * it goes from the cluster first, then here, and w is answered then. */
int	 rh_registry_delete(struct rh_server *srv, struct rh_socket *s);
void	 rh_registry_delete_later(struct rh_server *srv, struct rh_socket *s,
	    const struct rh_cl_waiter *w);
/* Removes a socket from the store and memory without telling the
 * cluster (a delete another node made); 0 or -1. */
int	 rh_registry_drop(struct rh_server *srv, struct rh_socket *s);
/* Adds a socket another node of the cluster made (req->socket_id set),
 * or gives the one of that id here the fields it was made with; never
 * asks the cluster.  NULL on a storage error or when the id is a socket
 * of another kind here. */
struct rh_socket *rh_registry_apply(struct rh_server *srv,
	    const struct rh_create_req *req, int64_t created_at);
/* Removes a socket from memory only, once the store has dropped it. */
void	 rh_registry_forget(struct rh_server *srv, struct rh_socket *s);
/* Adds a broadcast socket (team-chat-<group>); NULL on a storage error. */
struct rh_socket *rh_registry_add_team(struct rh_server *srv, const char *id);
/* The last WebSocket reader of s has been gone for --abandon-ms: a socket
 * that create numbered (<ai_name>-<n>) and that a session used over a
 * WebSocket goes with that session, when nothing is left in it (no reply
 * queued or owed) and it is in no group.  Returns 1 when s was deleted,
 * -1 when a reply is still owed (ask again later), else 0. */
int	 rh_registry_session_over(struct rh_server *srv, struct rh_socket *s);
/* Clears a socket's history and queue and makes it active again; clear
 * does it here only (a reset another node made).  In cluster mode the
 * routes use reset_later: every node is told, through the cluster, and
 * w is answered with the socket once it is cleared here. */
int	 rh_registry_reset(struct rh_server *srv, struct rh_socket *s);
int	 rh_registry_clear(struct rh_server *srv, struct rh_socket *s);
void	 rh_registry_reset_later(struct rh_server *srv, struct rh_socket *s,
	    const struct rh_cl_waiter *w);
/* Records activity on a socket now. */
/* True for the sockets a team-chat-all write reaches. */
int	 rh_registry_is_member(const struct rh_socket *s);
/* True for the sockets delete may remove: the ones create made. */
int	 rh_registry_is_deletable(const struct rh_socket *s);
/* True for AI sockets (made with create, or roster), active or not. */
int	 rh_registry_is_ai(const struct rh_socket *s);
/* Marks a socket unresponsive, with the reason; 0, or -1 (storage). */
int	 rh_registry_set_unresponsive(struct rh_server *srv,
	    struct rh_socket *s, const char *reason);
/* Describes a socket as JSON; DETAIL adds prompt, context and
 * history_size.  The caller owns the result. */
cJSON	*rh_registry_describe(struct rh_server *srv, struct rh_socket *s,
	    int detail);
/* The echo delay and chunk count a socket's context asks for. */
void	 rh_socket_echo_params(const struct rh_socket *s, int *delay_ms,
	    int *chunks);

/* The roster: the AIs a fresh server has (roster.c). */
struct rh_roster_entry {
	const char	*name;
	const char	*persona;	/* the prompt, or NULL */
	const char	*provider;	/* NULL: the default provider */
	const char	*model;		/* NULL: the provider's default */
};
struct rh_conf;
/* Takes the roster from a config's "ais" (cf may be NULL: the built-in
 * Tekton roster); rh_roster_free goes back to the built-in one. */
void	 rh_roster_setup(const struct rh_conf *cf);
void	 rh_roster_free(void);
/* The roster in use, ended by an entry whose name is NULL. */
const struct rh_roster_entry *rh_roster_entries(void);
const struct rh_roster_entry *rh_roster_find(const char *name);
/* The moderator prompt of the rhetor socket. */
extern const char rh_rhetor_prompt[];

#endif
