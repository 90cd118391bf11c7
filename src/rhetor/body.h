/*
 * body.h: what a request body or a WebSocket frame must hold, checked as
 * pure functions of the bytes or the parsed JSON: no server state and no
 * I/O, so that each check can be tested and fuzzed on its own.
 *
 * Ownership: the strings a check fills in point into the cJSON tree it
 * was given and live as long as that tree.
 */
#ifndef RH_BODY_H
#define RH_BODY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "registry.h"
#include "server.h"

/* The fields of a write (HTTP /write). */
struct rh_write_fields {
	const char	*id;		/* or NULL */
	const char	*content;
	int		 flags;		/* RH_WRITE_* */
};

/* The fields of a team chat (HTTP /api/team-chat). */
struct rh_team_fields {
	const char	*message;
	const char	*group;		/* NULL: "all" */
	int		 timeout_ms;
	int		 flags;		/* RH_WRITE_* */
};

/* Parses a request body, which must be one JSON object.  Returns it (the
 * caller frees it), or NULL with err filled. */
cJSON	*rh_body_parse(const char *data, size_t len, struct rh_err *err);
/* The fields of a create request; 0, or -1 with err filled. */
int	 rh_body_create(const cJSON *body, struct rh_create_req *cr,
	    struct rh_err *err);
/* The fields of a write; 0, or -1 with err filled. */
int	 rh_body_write(const cJSON *body, struct rh_write_fields *w,
	    struct rh_err *err);
/* The fields of a team chat; 0, or -1 with err filled. */
int	 rh_body_team_chat(const cJSON *body, int default_timeout_ms,
	    struct rh_team_fields *t, struct rh_err *err);

#endif
