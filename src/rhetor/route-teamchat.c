/*
 * route-teamchat.c: the HTTP team chat.  The question is written to
 * team-chat-all, or to team-chat-<group>, like any write (replies still
 * fan out to every reader), but its replies are collected here instead of
 * queued, and the request is answered when every member has replied or
 * no member has made progress (a piece of a reply, or a whole one) for
 * the timeout.  Those who had not replied by then are listed in
 * "timed_out" and their work is stopped.
 *
 * A moderated chat ("moderation":"synthesis") then has a second round:
 * the question and the replies go to rhetor, and its reply is added to
 * the answer as "synthesis", with the same timeout for that round.  A
 * fresh chat ("fresh":true) is fresh for every member and the moderator.
 */
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "delivery.h"
#include "groups.h"
#include "names.h"
#include "registry.h"
#include "strmap.h"
#include "route-teamchat.h"
#include "route-tekton.h"
#include "routes.h"
#include "xalloc.h"

#define TEAM_DEFAULT_TIMEOUT_MS	60000

struct rh_team {
	lws_sorted_usec_list_t	 sul;		/* the timeout */
	struct rh_http_req	*req;
	cJSON			*responses;
	cJSON			*pending;	/* socket ids not answered */
	struct ac_strmap	 pending_at;	/* each id to its item there */
	int			 npending;
	int64_t			 started_ms;
	int			 timeout_ms;	/* since the last progress */
	int64_t			 progress_ms;	/* the last progress */
	int			 over;		/* the round ended: no more
						 * waiting */
	int			 fresh;		/* RH_WRITE_FRESH or 0 */
	/* Moderation. */
	int			 moderated;
	int			 synthesizing;	/* second round running */
	int64_t			 synthesis_started_ms;
	char			*question;
	char			*origin;	/* the team-chat socket */
	char			*write_id;
	cJSON			*synthesis;	/* the moderator's result */
	rh_team_shape		 shape;		/* the answer's shape, or NULL */
};

/* Frees a team's memory (its jobs must be gone). */
static void
team_free(struct rh_team *team)
{
	lws_sul_cancel(&team->sul);
	cJSON_Delete(team->responses);
	cJSON_Delete(team->pending);
	ac_strmap_clear(&team->pending_at, NULL);
	cJSON_Delete(team->synthesis);
	free(team->question);
	free(team->origin);
	free(team->write_id);
	free(team);
}

/* Answers the request with what the team said, and frees the team. */
static void
team_answer(struct rh_team *team)
{
	struct rh_http_req	*req = team->req;
	cJSON			*obj = cJSON_CreateObject();
	int			 status;

	lws_sul_cancel(&team->sul);
	rh_delivery_drop_team(req->srv, team);
	cJSON_AddItemToObject(obj, "responses", team->responses);
	cJSON_AddItemToObject(obj, "timed_out", team->pending);
	if (team->synthesis != NULL)
		cJSON_AddItemToObject(obj, "synthesis", team->synthesis);
	team->responses = team->pending = team->synthesis = NULL;
	req->team = NULL;
	status = team->shape != NULL ? team->shape(&obj) : 200;
	team_free(team);
	rh_http_reply(req, status, obj);
}

/* The synthesis result: content, or an error. */
static void
synthesis_set(struct rh_team *team, const char *content, const char *code,
    const char *message)
{
	cJSON	*r = cJSON_CreateObject(), *e;

	cJSON_AddStringToObject(r, "socket_id", AISH_RHETOR_SOCKET);
	if (content != NULL)
		cJSON_AddStringToObject(r, "content", content);
	else {
		e = cJSON_AddObjectToObject(r, "error");
		cJSON_AddStringToObject(e, "code", code);
		cJSON_AddStringToObject(e, "message", message);
	}
	cJSON_AddNumberToObject(r, "ms", (double)(rh_mono_ms() -
	    team->synthesis_started_ms));
	cJSON_Delete(team->synthesis);
	team->synthesis = r;
}

static void	team_timeout(lws_sorted_usec_list_t *);

/* Starts a round's wait: timeout_ms since the last progress.  Progress
 * only notes its time (rh_team_progress); the timer, when it fires,
 * waits on if there was some since. */
static void
round_start(struct rh_team *team)
{
	team->over = 0;
	team->progress_ms = rh_mono_ms();
	rh_http_hold(team->req, team->timeout_ms);
	lws_sul_schedule(team->req->srv->context, 0, &team->sul, team_timeout,
	    (lws_usec_t)team->timeout_ms * LWS_US_PER_MS);
}

/* Ends the round at once (everyone answered). */
static void
round_over(struct rh_team *team)
{
	team->over = 1;
	lws_sul_schedule(team->req->srv->context, 0, &team->sul, team_timeout,
	    0);
}

/* The members' round is over: stop who is late and ask rhetor. */
static void
synthesis_start(struct rh_team *team)
{
	struct rh_server	*srv = team->req->srv;
	struct rh_socket	*rhetor = rh_registry_find(srv,
	    AISH_RHETOR_SOCKET);
	struct rh_err		 err;
	char			*prompt;

	rh_delivery_drop_team(srv, team);
	team->synthesizing = 1;
	team->synthesis_started_ms = rh_mono_ms();
	prompt = rh_synthesis_prompt(team->question, team->responses);
	if (rhetor == NULL) {
		synthesis_set(team, NULL, AISH_ERR_UNKNOWN_SOCKET,
		    "there is no rhetor socket");
		team_answer(team);
	} else if (rh_delivery_ask(srv, rhetor, team->origin, team->write_id,
	    prompt, team->fresh, team, &err) != 0) {
		synthesis_set(team, NULL, err.code, err.message);
		team_answer(team);
	} else if (team->synthesis == NULL)
		round_start(team);
	free(prompt);
}

/* Timer: a round is over (everyone answered, or no progress came for
 * timeout_ms), or there was progress since it was set: then it waits on. */
static void
team_timeout(lws_sorted_usec_list_t *sul)
{
	struct rh_team	*team = lws_container_of(sul, struct rh_team, sul);
	int64_t		 left;

	left = team->progress_ms + team->timeout_ms - rh_mono_ms();
	if (!team->over && left > 0) {
		rh_http_hold(team->req, left);
		lws_sul_schedule(team->req->srv->context, 0, &team->sul,
		    team_timeout, (lws_usec_t)left * LWS_US_PER_MS);
		return;
	}
	team->over = 0;
	if (team->moderated && !team->synthesizing) {
		synthesis_start(team);
		return;
	}
	if (team->synthesizing && team->synthesis == NULL)
		synthesis_set(team, NULL, AISH_ERR_TIMEOUT, "the moderator "
		    "did not answer in time");
	team_answer(team);
}

/* A member (or the moderator) made progress: a piece of a reply, or a
 * whole one.  The round's time limit counts from now again. */
void
rh_team_progress(struct rh_team *team)
{
	team->progress_ms = rh_mono_ms();
}

/* Removes id from the pending list; returns 1 if it was there. */
static int
pending_remove(struct rh_team *team, const char *id)
{
	cJSON	*m = ac_strmap_remove(&team->pending_at, id);

	if (m == NULL)
		return 0;
	cJSON_Delete(cJSON_DetachItemViaPointer(team->pending, m));
	team->npending--;
	return 1;
}

/* A member finished (see route-teamchat.h). */
void
rh_team_result(struct rh_team *team, struct rh_job *job, const char *content,
    const struct rh_err *err)
{
	struct rh_socket	*s = rh_registry_find(job->srv, job->socket_id);
	cJSON			*r, *e;

	if (team->synthesizing) {
		if (strcmp(job->socket_id, AISH_RHETOR_SOCKET) != 0)
			return;
		synthesis_set(team, content, err ? err->code : NULL,
		    err ? err->message : NULL);
		round_over(team);
		return;
	}
	if (!pending_remove(team, job->socket_id))
		return;
	r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "socket_id", job->socket_id);
	cJSON_AddStringToObject(r, "ai_name", s ? s->ai_name : job->socket_id);
	if (content != NULL)
		cJSON_AddStringToObject(r, "content", content);
	else {
		e = cJSON_AddObjectToObject(r, "error");
		cJSON_AddStringToObject(e, "code", err->code);
		cJSON_AddStringToObject(e, "message", err->message);
	}
	cJSON_AddNumberToObject(r, "ms", (double)(rh_mono_ms() -
	    team->started_ms));
	cJSON_AddItemToArray(team->responses, r);
	if (team->npending == 0)
		round_over(team);
	else
		rh_team_progress(team);
}

/* The request went away: stop the members' work and free the team. */
void
rh_team_abandon(struct rh_team *team)
{
	lws_sul_cancel(&team->sul);
	rh_delivery_drop_team(team->req->srv, team);
	team_free(team);
}

/* The team-chat socket the request names: team-chat-all, or the group's;
 * NULL after answering 400 or 404. */
static struct rh_socket *
team_socket(struct rh_http_req *req, const char *group)
{
	struct rh_group	*g;

	if (group == NULL || strcmp(group, "all") == 0)
		return rh_registry_find(req->srv, AISH_TEAM_CHAT_ALL);
	if (!rh_group_name_valid(group)) {
		rh_http_error(req, 400, AISH_ERR_BAD_NAME, "group names match "
		    "[A-Za-z0-9._-]{1,%d}", RH_GROUP_NAME_MAX);
		return NULL;
	}
	if ((g = rh_group_find(req->srv, group)) == NULL) {
		rh_http_error(req, 404, AISH_ERR_UNKNOWN_GROUP,
		    "no group '%s'", group);
		return NULL;
	}
	return rh_registry_find(req->srv, g->socket_id);
}

/* Stores the members as the pending list before any reply can arrive. */
static void
team_accepted(void *ud, const struct rh_write_result *res)
{
	struct rh_team	*team = ud;
	cJSON		*m;

	team->pending = cJSON_Duplicate(res->members, 1);
	cJSON_ArrayForEach(m, team->pending) {
		if (ac_strmap_get(&team->pending_at, m->valuestring) == NULL)
			team->npending++;
		ac_strmap_put(&team->pending_at, m->valuestring, m);
	}
	team->write_id = xstrdup(res->id);
}

/* A new team for the request. */
static struct rh_team *
team_new(struct rh_http_req *req, struct rh_socket *origin,
    const char *question, int timeout_ms, int flags)
{
	struct rh_team	*team = xcalloc(1, sizeof *team);

	team->req = req;
	team->responses = cJSON_CreateArray();
	team->started_ms = rh_mono_ms();
	team->timeout_ms = timeout_ms;
	team->moderated = (flags & RH_WRITE_SYNTHESIS) != 0;
	team->fresh = flags & RH_WRITE_FRESH;
	team->question = xstrdup(question);
	team->origin = xstrdup(origin->id);
	return team;
}

/* Starts an HTTP team chat (see route-teamchat.h). */
int
rh_team_chat_start(struct rh_http_req *req, struct rh_socket *origin,
    const char *message, int timeout_ms, int flags, rh_team_shape shape,
    struct rh_err *err)
{
	struct rh_write_result	 res;
	struct rh_team		*team;

	team = team_new(req, origin, message, timeout_ms, flags);
	team->shape = shape;
	req->team = team;
	/* The members' round, which any progress extends. */
	round_start(team);
	if (rh_delivery_write(req->srv, origin, NULL, message,
	    flags & RH_WRITE_FRESH, team, team_accepted, team, &res,
	    err) != 0) {
		req->team = NULL;
		rh_team_abandon(team);
		return -1;
	}
	if (team->npending == 0)
		round_over(team);
	rh_write_result_free(&res);
	return 0;
}

/* POST /api/team-chat; a request in the shape Tekton's Rhetor takes is
 * answered in that shape (route-tekton.c). */
void
rh_route_team_chat(struct rh_http_req *req, struct rh_socket *unused)
{
	struct rh_team_fields	 t;
	struct rh_err		 err;
	struct rh_socket	*origin;
	cJSON			*body;

	if ((body = rh_http_json_body(req)) == NULL)
		return;
	if (rh_tekton_asks(body)) {
		rh_tekton_team_chat(req, body);
		goto out;
	}
	if (rh_body_team_chat(body, TEAM_DEFAULT_TIMEOUT_MS, &t, &err) != 0) {
		rh_http_reply_err(req, &err);
		goto out;
	}
	if ((origin = team_socket(req, t.group)) == NULL)
		goto out;
	if (rh_team_chat_start(req, origin, t.message, t.timeout_ms, t.flags,
	    NULL, &err) != 0)
		rh_http_reply_err(req, &err);
out:
	cJSON_Delete(body);
}
