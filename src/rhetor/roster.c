/*
 * roster.c: the named AIs every server has from the start.  Without a
 * config, or with one that names no "ais", they are the components of the
 * Tekton project, each with a one-line persona used as its prompt, on the
 * default provider; a config's "ais" replaces them.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "registry.h"
#include "xalloc.h"

static const struct rh_roster_entry tekton[] = {
	{ "apollo",	"You are Apollo, who looks ahead and predicts.", NULL, NULL },
	{ "athena",	"You are Athena, who keeps knowledge and reasons about it.", NULL, NULL },
	{ "engram",	"You are Engram, who remembers what was said.", NULL, NULL },
	{ "ergon",	"You are Ergon, who turns plans into working steps.", NULL, NULL },
	{ "harmonia",	"You are Harmonia, who coordinates the work of others.", NULL, NULL },
	{ "hermes",	"You are Hermes, who carries messages between services.", NULL, NULL },
	{ "metis",	"You are Metis, who breaks problems into tasks.", NULL, NULL },
	{ "noesis",	"You are Noesis, who looks for patterns and insight.", NULL, NULL },
	{ "numa",	"You are Numa, who oversees the whole project.", NULL, NULL },
	{ "penia",	"You are Penia, who watches costs and budgets.", NULL, NULL },
	{ "prometheus",	"You are Prometheus, who plans ahead.", NULL, NULL },
	{ "sophia",	"You are Sophia, who learns and measures.", NULL, NULL },
	{ "synthesis",	"You are Synthesis, who combines parts into a whole.", NULL, NULL },
	{ "telos",	"You are Telos, who keeps requirements and goals.", NULL, NULL },
	{ "terma",	"You are Terma, who knows the terminal and the shell.", NULL, NULL },
	{ NULL, NULL, NULL, NULL }
};

const char rh_rhetor_prompt[] =
    "You are Rhetor, the moderator: you read the team's answers and "
    "write one clear synthesis of them.";

/* The roster in use: tekton, or one made from the config. */
static const struct rh_roster_entry	*roster = tekton;
static struct rh_roster_entry		*configured;

/* Takes the roster from the config's "ais", if it has them. */
void
rh_roster_setup(const struct rh_conf *cf)
{
	const struct rh_conf_ai	*ai;
	size_t			 i;

	rh_roster_free();
	if (cf == NULL || !cf->has_ais)
		return;
	configured = xcalloc(cf->nais + 1, sizeof *configured);
	for (i = 0; i < cf->nais; i++) {
		ai = &cf->ais[i];
		configured[i].name = xstrdup(ai->name);
		configured[i].persona = ai->prompt ? xstrdup(ai->prompt) :
		    NULL;
		configured[i].provider = ai->provider ?
		    xstrdup(ai->provider) : NULL;
		configured[i].model = ai->model ? xstrdup(ai->model) : NULL;
	}
	roster = configured;
}

/* Goes back to the built-in roster and frees the configured one. */
void
rh_roster_free(void)
{
	struct rh_roster_entry	*e;

	for (e = configured; e != NULL && e->name != NULL; e++) {
		free((char *)e->name);
		free((char *)e->persona);
		free((char *)e->provider);
		free((char *)e->model);
	}
	free(configured);
	configured = NULL;
	roster = tekton;
}

/* The roster in use, ended by an entry without a name. */
const struct rh_roster_entry *
rh_roster_entries(void)
{
	return roster;
}

/* The roster entry of this name, or NULL. */
const struct rh_roster_entry *
rh_roster_find(const char *name)
{
	const struct rh_roster_entry	*e;

	for (e = roster; e->name != NULL; e++) {
		if (strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}
