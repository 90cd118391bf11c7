/*
 * ainames.c: what AI each socket is.  Progress and results name the AI
 * ("apollo"), while requests name sockets ("apollo-3"); the bridge learns
 * the pairs from every frame and answer that carries both (reads, the
 * socket list it fetches at start-up, create, GET of one socket).  A
 * socket's AI never changes and its id is never reused; a socket the
 * bridge deletes is forgotten, one deleted by another client stays
 * known until a write to it fails (then the failure names it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "xalloc.h"

/* One socket and its AI. */
struct ainame {
	struct ainame	*next;
	char		 socket_id[AISH_NAME_MAX + 1];
	char		 ai_name[AISH_NAME_MAX + 1];
};

static struct ainame	*names;

/* The AI name of socket_id, or NULL when not known yet. */
const char *
ainame_get(const char *socket_id)
{
	struct ainame	*n;

	for (n = names; n != NULL; n = n->next) {
		if (strcmp(n->socket_id, socket_id) == 0)
			return n->ai_name;
	}
	return NULL;
}

/* Remembers that socket_id is the AI ai_name. */
void
ainame_put(const char *socket_id, const char *ai_name)
{
	struct ainame	*n;

	if (socket_id == NULL || ai_name == NULL ||
	    strlen(socket_id) > AISH_NAME_MAX || strlen(ai_name) > AISH_NAME_MAX ||
	    ainame_get(socket_id) != NULL)
		return;
	n = xcalloc(1, sizeof *n);
	strcpy(n->socket_id, socket_id);
	strcpy(n->ai_name, ai_name);
	n->next = names;
	names = n;
}

/* Forgets socket_id, which was deleted. */
void
ainame_forget(const char *socket_id)
{
	struct ainame	*n, **pp;

	for (pp = &names; (n = *pp) != NULL; pp = &n->next) {
		if (strcmp(n->socket_id, socket_id) == 0) {
			*pp = n->next;
			free(n);
			return;
		}
	}
}

/* Learns from a socket object {"socket_id","ai_name",...}. */
void
ainame_learn(const cJSON *sock)
{
	ainame_put(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sock,
	    "socket_id")), cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(sock, "ai_name")));
}

/* Learns from a {"sockets":[...]} answer. */
void
ainame_learn_list(const cJSON *root)
{
	const cJSON	*s;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(root, "sockets"))
		ainame_learn(s);
}

/* The start-up socket list came. */
static void
listed(aish_t *h, const aish_result_t *res, void *user)
{
	cJSON	*root;

	if (res->err != AISH_OK || res->body == NULL)
		return;
	root = cJSON_ParseWithLength(res->body, res->body_len);
	ainame_learn_list(root);
	cJSON_Delete(root);
}

/* Fetches the socket list once, so that names are known early. */
void
ainame_prefetch(void)
{
	(void)aish_list(br.aish, listed, NULL);
}
