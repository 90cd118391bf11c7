/*
 * fuzz-config.c: fuzzes aish-rhetor's config parser
 * (src/rhetor/conf.c, rh_conf_parse) on arbitrary file contents.
 *
 * A config is either refused with "PATH: ..." (the file named, a place
 * or reason after it), or accepted with every provider and AI named, each
 * named once, with a known provider type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

/* Checks an accepted config. */
static void
check_conf(const struct rh_conf *cf)
{
	size_t	i, j;

	for (i = 0; i < cf->nproviders; i++) {
		FUZZ_CHECK(cf->providers[i].name != NULL);
		FUZZ_CHECK(cf->providers[i].type != NULL);
		FUZZ_CHECK(strstr(RH_CONF_TYPES, cf->providers[i].type) != NULL);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(cf->providers[i].name,
			    cf->providers[j].name) != 0);
	}
	for (i = 0; i < cf->nais; i++) {
		FUZZ_CHECK(cf->ais[i].name != NULL);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(cf->ais[i].name, cf->ais[j].name) != 0);
	}
	FUZZ_CHECK(cf->port >= -1 && cf->port <= 65535);
}

/* One input: a config file's bytes. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct rh_conf	*cf;
	char		 err[1024];
	char		*text = malloc(len + 1);

	FUZZ_CHECK(text != NULL);
	memcpy(text, data, len);
	text[len] = '\0';
	err[0] = '\0';
	cf = rh_conf_parse("fuzz.json", text, len, err, sizeof err);
	if (cf == NULL)
		FUZZ_CHECK(strncmp(err, "fuzz.json: ", 11) == 0 &&
		    err[11] != '\0');
	else
		check_conf(cf);
	rh_conf_free(cf);
	free(text);
	return 0;
}
