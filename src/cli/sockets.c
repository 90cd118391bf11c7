/*
 * sockets.c: the list of sockets, fetched once per command.
 *
 * Every command starts by fetching the list: it tells at once whether the
 * server answers, lets a pipeline with a mistyped AI fail before anything
 * runs, and gives each socket's AI name for the `[From Athena]` labels
 * (delta frames carry only the socket id).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <aish/protocol.h>
#include "xalloc.h"
#include "cli.h"
#include "sockets.h"

/* A copy of obj's string field name, or of "-" when it has none. */
static char *
field(const cJSON *obj, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	if (cJSON_IsNumber(v))
		return xasprintf("%.0f", v->valuedouble);
	return xstrdup("-");
}

/* The groups of a socket, comma-separated, or "-" when none. */
static char *
groups_field(const cJSON *obj)
{
	const cJSON	*g;
	char		*out = NULL, *next;

	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(obj, "groups")) {
		if (!cJSON_IsString(g))
			continue;
		next = xasprintf("%s%s%s", out ? out : "", out ? "," : "",
		    g->valuestring);
		free(out);
		out = next;
	}
	return out ? out : xstrdup("-");
}

/* Fills list from the JSON of GET /api/ai/sockets; -1 when it is not. */
static int
sockets_from_json(const char *body, struct sock_list *list)
{
	cJSON		*root, *arr, *s;
	const cJSON	*q;
	struct sock_info *si;

	if (body == NULL || (root = cJSON_Parse(body)) == NULL)
		return -1;
	arr = cJSON_GetObjectItemCaseSensitive(root, "sockets");
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(root);
		return -1;
	}
	list->v = xcalloc((size_t)cJSON_GetArraySize(arr) + 1,
	    sizeof *list->v);
	cJSON_ArrayForEach(s, arr) {
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(s,
		    "socket_id")))
			continue;
		si = &list->v[list->n++];
		si->socket_id = field(s, "socket_id");
		si->ai_name = field(s, "ai_name");
		si->provider = field(s, "provider");
		si->model = field(s, "model");
		si->state = field(s, "state");
		si->last_activity = field(s, "last_activity");
		si->groups = groups_field(s);
		q = cJSON_GetObjectItemCaseSensitive(s, "reason");
		si->reason = cJSON_IsString(q) ? xstrdup(q->valuestring) :
		    NULL;
		q = cJSON_GetObjectItemCaseSensitive(s, "queue_size");
		si->queue_size = cJSON_IsNumber(q) ? (long)q->valuedouble : 0;
	}
	cJSON_Delete(root);
	return 0;
}

/* Fetches the list of sockets. */
int
sockets_fetch(struct cli *c, struct sock_list *list)
{
	struct cli_http	*r = cli_http_new();
	aish_error_t	 err;
	int		 rc;

	memset(list, 0, sizeof *list);
	if ((err = aish_list(c->h, cli_http_cb, r)) != AISH_OK) {
		cli_http_free(r);
		cli_error("cannot list the sockets: %s", aish_strerror(err));
		return CLI_FAIL;
	}
	if ((rc = cli_http_wait(c, r)) != CLI_OK)
		return rc;
	if ((rc = cli_http_status(c, r, "cannot list the sockets")) == CLI_OK &&
	    sockets_from_json(r->body, list) == -1) {
		cli_error("%s answered a socket list that makes no sense",
		    c->url);
		rc = CLI_UNREACHABLE;
	}
	cli_http_free(r);
	return rc;
}

/* Frees what list holds. */
void
sockets_free(struct sock_list *list)
{
	size_t	i;

	for (i = 0; i < list->n; i++) {
		free(list->v[i].socket_id);
		free(list->v[i].ai_name);
		free(list->v[i].provider);
		free(list->v[i].model);
		free(list->v[i].state);
		free(list->v[i].last_activity);
		free(list->v[i].reason);
		free(list->v[i].groups);
	}
	free(list->v);
	memset(list, 0, sizeof *list);
}

/* The socket called id, or NULL. */
const struct sock_info *
sockets_find(const struct sock_list *list, const char *id)
{
	size_t	i;

	for (i = 0; i < list->n; i++) {
		if (strcmp(list->v[i].socket_id, id) == 0)
			return &list->v[i];
	}
	return NULL;
}

/* True for team-chat-all and team-chat-<group>. */
static int
team_socket(const char *id)
{
	return strncmp(id, AISH_TEAM_CHAT_PREFIX,
	    strlen(AISH_TEAM_CHAT_PREFIX)) == 0;
}

/* True when id can be a pipeline stage. */
int
sockets_is_stage(const struct sock_list *list, const char *id)
{
	return !team_socket(id) && sockets_find(list, id) != NULL;
}

/* The names a stage may use, or the groups (see sockets.h). */
const char **
sockets_names(const struct sock_list *list, int groups, size_t *n)
{
	const char	**names = xcalloc(list->n + 1, sizeof *names);
	const char	 *id;
	size_t		  i;

	*n = 0;
	for (i = 0; i < list->n; i++) {
		id = list->v[i].socket_id;
		if (!groups && !team_socket(id))
			names[(*n)++] = id;
		else if (groups && team_socket(id) &&
		    strcmp(id, AISH_TEAM_CHAT_ALL) != 0)
			names[(*n)++] = id + strlen(AISH_TEAM_CHAT_PREFIX);
	}
	return names;
}

/* "[From Athena]" for the AI behind socket_id when the socket has the
 * AI's name, else "[From Athena (athena-2)]": two sockets of one AI are
 * told apart. */
char *
sockets_label(const struct sock_list *list, const char *socket_id,
    const char *ai_name)
{
	const struct sock_info	*si;
	char			*label;

	if (ai_name == NULL && socket_id != NULL &&
	    (si = sockets_find(list, socket_id)) != NULL)
		ai_name = si->ai_name;
	if (ai_name == NULL)
		ai_name = socket_id ? socket_id : "?";
	if (socket_id == NULL || strcmp(socket_id, ai_name) == 0)
		label = xasprintf("[From %s]", ai_name);
	else
		label = xasprintf("[From %s (%s)]", ai_name, socket_id);
	label[6] = (char)toupper((unsigned char)label[6]);
	return label;
}

/* aish -l: one line per socket, in the server's order. */
int
sockets_print(struct cli *c)
{
	struct sock_list	 list;
	const struct sock_info	*s;
	size_t			 i;
	int			 rc;

	if ((rc = sockets_fetch(c, &list)) != CLI_OK)
		return rc;
	printf("%-20s %-14s %-10s %-16s %-12s %5s  %-20s  %s\n", "SOCKET",
	    "AI", "PROVIDER", "MODEL", "STATE", "QUEUE", "LAST ACTIVITY",
	    "GROUPS");
	for (i = 0; i < list.n; i++) {
		s = &list.v[i];
		printf("%-20s %-14s %-10s %-16s %-12s %5ld  %-20s  %s\n",
		    s->socket_id, s->ai_name, s->provider, s->model, s->state,
		    s->queue_size, s->last_activity, s->groups);
		if (s->reason != NULL)
			printf("%-20s why unresponsive: %s\n", "", s->reason);
	}
	sockets_free(&list);
	return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}
