/*
 * state-dir.c: finds and makes aish's state directory (state-dir.h).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state-dir.h"

/* See state-dir.h. */
int
ac_mkdir_p(const char *dir)
{
	char	 path[PATH_MAX], *slash;
	size_t	 n = strlen(dir);

	if (n >= sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (slash = strchr(path + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			return -1;
		*slash = '/';
	}
	return mkdir(path, 0700) == -1 && errno != EEXIST ? -1 : 0;
}

/* See state-dir.h. */
char *
ac_state_path(const char *sub)
{
	const char	*xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char		 path[PATH_MAX];
	int		 n;

	/* A relative XDG_STATE_HOME or HOME is no place: it would name
	 * another directory from each working directory. */
	if (xdg != NULL && *xdg == '/')
		n = snprintf(path, sizeof path, "%s/aish%s%s", xdg,
		    sub ? "/" : "", sub ? sub : "");
	else if (home != NULL && *home == '/')
		n = snprintf(path, sizeof path, "%s/.local/state/aish%s%s",
		    home, sub ? "/" : "", sub ? sub : "");
	else
		return NULL;
	if (n < 0 || (size_t)n >= sizeof path)
		return NULL;
	return strdup(path);
}

/* See state-dir.h. */
char *
ac_state_dir(const char *sub)
{
	char	*path = ac_state_path(sub);

	if (path != NULL && ac_mkdir_p(path) != 0) {
		free(path);
		return NULL;
	}
	return path;
}
