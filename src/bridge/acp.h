/*
 * acp.h: the ACP face of aish-bridge (`aish-bridge --acp`, SPEC section
 * 10), the Agent Client Protocol version 1: what its files share.
 * acp-session.c answers initialize, session/new, session/load and the
 * choice of a target; acp-prompt.c runs session/prompt through the core
 * and session/cancel; acp-store.c keeps each session in a small file so
 * that its id outlives the bridge.
 *
 * A session is a conversation.  Its target (a mode, and the "target"
 * config option) is an AI socket, "group:NAME" or "pipeline:TITLE".  The
 * first prompt to an AI gives the session a socket of its own for that
 * AI, "<session id>-<n>", made like the AI's socket (same AI name,
 * provider, model, prompt and context): prompts there keep the
 * conversation ("fresh": false), two sessions never share one, and
 * session/load replays its history.  Groups and pipelines are one-shot
 * (a team or a pipeline has no history of its own to keep).
 */
#ifndef AISH_BRIDGE_ACP_H
#define AISH_BRIDGE_ACP_H

#include "bridge.h"

#define ACP_PROTOCOL_VERSION	1
#define ACP_SESSION_PREFIX	"acp-"
#define ACP_SESSION_ID_LEN	20	/* "acp-" and 16 hex digits */
#define ACP_GROUP_PREFIX	"group:"
#define ACP_PIPELINE_PREFIX	"pipeline:"
#define ACP_CONFIG_TARGET	"target"

/* One session: kept for the bridge's life, and in its file. */
struct acp_session {
	struct acp_session	*next;
	char			 id[ACP_SESSION_ID_LEN + 1];
	char			*cwd;
	char			*target;	/* the current mode's id */
	cJSON			*sockets;	/* {target: socket id} */
	long			 next_socket;	/* n of the next socket */
	cJSON			*targets;	/* as offered: [{id,name,...}] */
	struct req		*prompt;	/* the prompt at work, or NULL */
};

/* acp-session.c */
extern const struct face	face_acp;
struct acp_session	*acp_session_find(const char *id);
void			 acp_update(const struct acp_session *s,
			    const char *kind, const char *text);
const cJSON		*acp_target(const struct acp_session *s,
			    const char *id);

/* acp-store.c */
int			 acp_id_valid(const char *id);
void			 acp_new_id(char *id);
int			 acp_store_save(const struct acp_session *s);
struct acp_session	*acp_store_load(const char *id);
void			 acp_session_free(struct acp_session *s);
int			 acp_socket_of_session(const char *socket_id);

/* acp-prompt.c */
extern const struct method	methods_acp_prompt[];

#endif
