/*
 * turn.c: the "turn" frame of an accepted write (see turn.h).
 *
 * The frame is built once, and only when some connection other than the
 * writer's is open on a socket it goes to: a write that nobody else
 * listens to costs a walk of the origin's connection list and nothing
 * more.  A team-chat write also reaches its members' own sockets, since
 * each member's history gains the question; rhetor's synthesis is no
 * member of the conversation (its question is the synthesis prompt).
 */
#include <string.h>

#include "delivery.h"
#include "json-build.h"
#include "registry.h"
#include "turn.h"
#include "ws.h"

/* True when s has a connection other than writer. */
static int
has_other_reader(const struct rh_socket *s, const struct rh_conn *writer)
{
	const struct rh_conn	*c;

	for (c = s == NULL ? NULL : s->conns; c != NULL; c = c->next) {
		if (c != writer)
			return 1;
	}
	return 0;
}

/* The turn frame as JSON text, addressed to socket s (allocated). */
static char *
turn_frame(const struct rh_socket *s, const struct rh_write_result *res,
    const char *content)
{
	cJSON	*obj = cJSON_CreateObject();
	char	*json, when[32];

	ac_json_add_ref(obj, "type", AISH_FRAME_TURN);
	ac_json_add_ref(obj, "role", "user");
	ac_json_add_ref(obj, "content", content);
	ac_json_add_ref(obj, "socket_id", s->id);
	if (s->ai_name != NULL)
		ac_json_add_ref(obj, "ai_name", s->ai_name);
	ac_json_add_ref(obj, "in_reply_to", res->id);
	ac_json_add_int(obj, "seq", res->seq);
	rh_format_time(res->seq_ms, when, sizeof when);
	ac_json_add_ref(obj, "timestamp", when);
	json = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	return json;
}

/* Sends the turn to every connection on s but writer. */
static void
push_to(struct rh_server *srv, struct rh_socket *s,
    const struct rh_write_result *res, const char *content,
    const struct rh_conn *writer)
{
	struct rh_conn	*c;
	char		*json;
	size_t		 len;

	if (!has_other_reader(s, writer))
		return;
	json = turn_frame(s, res, content);
	len = strlen(json);
	for (c = s->conns; c != NULL; c = c->next) {
		if (c == writer)
			continue;
		rh_conn_send(c, json, len, NULL, 0);
		srv->messages_out++;
	}
	cJSON_free(json);
}

/* Pushes the turn of an accepted write (see turn.h). */
void
rh_turn_push(struct rh_server *srv, struct rh_socket *origin,
    const struct rh_write_result *res, const char *content,
    const struct rh_conn *writer)
{
	const cJSON	*m;
	struct rh_socket *s;

	if (res->seq <= 0 || res->duplicate || origin == NULL)
		return;
	push_to(srv, origin, res, content, writer);
	if (origin->kind != RH_KIND_TEAM_CHAT)
		return;
	cJSON_ArrayForEach(m, res->members) {
		if (strcmp(m->valuestring, AISH_RHETOR_SOCKET) == 0 ||
		    (s = rh_registry_find(srv, m->valuestring)) == NULL ||
		    s == origin)
			continue;
		push_to(srv, s, res, content, writer);
	}
}
