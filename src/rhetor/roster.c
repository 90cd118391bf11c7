/*
 * roster.c: the named AIs every fresh server has, after the components of
 * the Tekton project, each with a one-line persona used as its prompt.
 */
#include <string.h>

#include "registry.h"

const struct rh_roster_entry rh_roster[] = {
	{ "apollo",	"You are Apollo, who looks ahead and predicts." },
	{ "athena",	"You are Athena, who keeps knowledge and reasons about it." },
	{ "engram",	"You are Engram, who remembers what was said." },
	{ "ergon",	"You are Ergon, who turns plans into working steps." },
	{ "harmonia",	"You are Harmonia, who coordinates the work of others." },
	{ "hermes",	"You are Hermes, who carries messages between services." },
	{ "metis",	"You are Metis, who breaks problems into tasks." },
	{ "noesis",	"You are Noesis, who looks for patterns and insight." },
	{ "numa",	"You are Numa, who oversees the whole project." },
	{ "penia",	"You are Penia, who watches costs and budgets." },
	{ "prometheus",	"You are Prometheus, who plans ahead." },
	{ "sophia",	"You are Sophia, who learns and measures." },
	{ "synthesis",	"You are Synthesis, who combines parts into a whole." },
	{ "telos",	"You are Telos, who keeps requirements and goals." },
	{ "terma",	"You are Terma, who knows the terminal and the shell." },
	{ NULL, NULL }
};

const char rh_rhetor_prompt[] =
    "You are Rhetor, the moderator: you read the team's answers and "
    "write one clear synthesis of them.";

/* The roster entry of this name, or NULL. */
const struct rh_roster_entry *
rh_roster_find(const char *name)
{
	const struct rh_roster_entry	*e;

	for (e = rh_roster; e->name != NULL; e++) {
		if (strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}
