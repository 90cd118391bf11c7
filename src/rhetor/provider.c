/*
 * provider.c: the table of providers the server knows.
 */
#include <string.h>

#include "provider.h"

static const struct rh_provider *const providers[] = {
	&rh_provider_echo,
	NULL
};

/* The provider of this name, or NULL. */
const struct rh_provider *
rh_provider_find(const char *name)
{
	size_t	i;

	for (i = 0; providers[i] != NULL; i++) {
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	}
	return NULL;
}

/* The names of the known providers, for error messages. */
const char *
rh_provider_names(void)
{
	return "echo";
}
