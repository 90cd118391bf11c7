/*
 * sockets.h: the server's sockets as the command line needs them: to check
 * the names in a pipeline, to label replies and for `aish -l`.
 */
#ifndef AISH_CLI_SOCKETS_H
#define AISH_CLI_SOCKETS_H

#include <stddef.h>

struct cli;

struct sock_info {
	char	*socket_id;
	char	*ai_name;
	char	*provider;
	char	*model;
	char	*state;
	char	*last_activity;
	char	*reason;	/* why unresponsive, or NULL */
	char	*groups;	/* comma-separated group names, or "-" */
	long	 queue_size;
};

struct sock_list {
	struct sock_info *v;
	size_t		  n;
};

/* Fetches GET /api/ai/sockets into list; returns an exit status (CLI_OK
 * or, after a message, CLI_FAIL, CLI_UNREACHABLE, CLI_INTERRUPTED). */
int	sockets_fetch(struct cli *c, struct sock_list *list);
void	sockets_free(struct sock_list *list);
/* The socket called id, or NULL. */
const struct sock_info *sockets_find(const struct sock_list *list,
	    const char *id);
/* True when id can be a pipeline stage: a socket, not a team-chat one. */
int	sockets_is_stage(const struct sock_list *list, const char *id);
/* The names a stage may use (groups 0) or the group names (groups 1),
 * borrowed from list, in an array the caller frees; *n is their number. */
const char **sockets_names(const struct sock_list *list, int groups,
	    size_t *n);
/* The label of a reply: "[From Athena]" for AI name athena (caller frees;
 * socket_id stands in when the name is unknown). */
char	*sockets_label(const struct sock_list *list, const char *socket_id,
	    const char *ai_name);
/* aish -l: prints the table of sockets; returns an exit status. */
int	sockets_print(struct cli *c);

#endif
