/*
 * teamchat.c: the HTTP team chat.  The question is written to
 * team-chat-all like any write (replies still fan out to every reader), but
 * its replies are collected here instead of queued, and the request is
 * answered when every member has replied or the timeout has passed.  Those
 * who had not replied by then are listed in "timed_out" and their work is
 * stopped.
 */
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "names.h"
#include "registry.h"
#include "teamchat.h"
#include "xalloc.h"

#define TEAM_DEFAULT_TIMEOUT_MS	60000

struct rh_team {
	lws_sorted_usec_list_t	 sul;		/* the timeout */
	struct rh_http_req	*req;
	cJSON			*responses;
	cJSON			*pending;	/* socket ids not answered */
	int64_t			 started_ms;
};

/* Answers the request with what the team said, and frees the team. */
static void
team_answer(struct rh_team *team)
{
	struct rh_http_req	*req = team->req;
	cJSON			*obj = cJSON_CreateObject();

	lws_sul_cancel(&team->sul);
	rh_delivery_drop_team(req->srv, team);
	cJSON_AddItemToObject(obj, "responses", team->responses);
	cJSON_AddItemToObject(obj, "timed_out", team->pending);
	req->team = NULL;
	free(team);
	rh_http_reply(req, 200, obj);
}

/* Timer: the team had its time. */
static void
team_timeout(lws_sorted_usec_list_t *sul)
{
	team_answer(lws_container_of(sul, struct rh_team, sul));
}

/* Removes id from the pending list; returns 1 if it was there. */
static int
pending_remove(struct rh_team *team, const char *id)
{
	cJSON	*m;
	int	 i = 0;

	cJSON_ArrayForEach(m, team->pending) {
		if (strcmp(m->valuestring, id) == 0) {
			cJSON_DeleteItemFromArray(team->pending, i);
			return 1;
		}
		i++;
	}
	return 0;
}

/* A member finished (see teamchat.h). */
void
rh_team_result(struct rh_team *team, struct rh_job *job, const char *content,
    const struct rh_err *err)
{
	struct rh_socket	*s = rh_registry_find(job->srv, job->socket_id);
	cJSON			*r, *e;

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
	if (cJSON_GetArraySize(team->pending) == 0)
		lws_sul_schedule(job->srv->context, 0, &team->sul,
		    team_timeout, 0);
}

/* The request went away: stop the members' work and free the team. */
void
rh_team_abandon(struct rh_team *team)
{
	lws_sul_cancel(&team->sul);
	rh_delivery_drop_team(team->req->srv, team);
	cJSON_Delete(team->responses);
	cJSON_Delete(team->pending);
	free(team);
}

/* Reads timeout_ms; returns it, or -1 after answering 400. */
static int
timeout_arg(struct rh_http_req *req, const cJSON *body)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(body,
	    "timeout_ms");

	if (v == NULL || cJSON_IsNull(v))
		return TEAM_DEFAULT_TIMEOUT_MS;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > AISH_MAX_WAIT_MS) {
		rh_http_error(req, 400, AISH_ERR_BAD_REQUEST, "timeout_ms "
		    "must be a number from 0 to %d", AISH_MAX_WAIT_MS);
		return -1;
	}
	return (int)v->valuedouble;
}

/* Stores the members as the pending list before any reply can arrive. */
static void
team_accepted(void *ud, const struct rh_write_result *res)
{
	struct rh_team	*team = ud;

	team->pending = cJSON_Duplicate(res->members, 1);
}

/* POST /api/team-chat */
void
rh_route_team_chat(struct rh_http_req *req, struct rh_socket *unused)
{
	struct rh_write_result	 res;
	struct rh_err		 err;
	struct rh_team		*team;
	struct rh_socket	*all;
	const cJSON		*message, *group;
	cJSON			*body;
	int			 timeout_ms;

	if ((body = rh_http_json_body(req)) == NULL)
		return;
	message = cJSON_GetObjectItemCaseSensitive(body, "message");
	group = cJSON_GetObjectItemCaseSensitive(body, "group");
	if (!cJSON_IsString(message)) {
		rh_http_error(req, 400, AISH_ERR_BAD_REQUEST,
		    "a team chat needs \"message\": a string");
		goto out;
	}
	if (group != NULL && !cJSON_IsNull(group)) {
		if (!cJSON_IsString(group))
			rh_http_error(req, 400, AISH_ERR_BAD_REQUEST,
			    "\"group\" must be a string");
		else if (!aish_name_valid(group->valuestring) ||
		    strcmp(group->valuestring, "all") == 0)
			rh_http_error(req, 400, AISH_ERR_BAD_NAME, "group names "
			    "match [A-Za-z0-9._-]{1,64} and are not 'all'");
		else
			rh_http_error(req, 404, AISH_ERR_UNKNOWN_GROUP,
			    "no group '%s'", group->valuestring);
		goto out;
	}
	if ((timeout_ms = timeout_arg(req, body)) < 0)
		goto out;
	all = rh_registry_find(req->srv, AISH_TEAM_CHAT_ALL);
	team = xcalloc(1, sizeof *team);
	team->req = req;
	team->responses = cJSON_CreateArray();
	team->started_ms = rh_mono_ms();
	req->team = team;
	lws_sul_schedule(req->srv->context, 0, &team->sul, team_timeout,
	    (lws_usec_t)timeout_ms * LWS_US_PER_MS);
	if (rh_delivery_write(req->srv, all, NULL, message->valuestring, team,
	    team_accepted, team, &res, &err) != 0) {
		req->team = NULL;
		rh_team_abandon(team);
		rh_http_reply_err(req, &err);
		goto out;
	}
	if (cJSON_GetArraySize(team->pending) == 0)
		lws_sul_schedule(req->srv->context, 0, &team->sul,
		    team_timeout, 0);
	rh_write_result_free(&res);
out:
	cJSON_Delete(body);
}
