/*
 * token-file.c: bearer tokens read from files, and what a token may hold
 * (see token-file.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token-file.h"

/* NULL when token can be a bearer token, else why not: 1 to 4096 bytes of
 * printable ASCII without spaces, as an HTTP header carries it whole. */
const char *
ac_token_invalid(const char *token)
{
	size_t	n = strlen(token), i;

	if (n == 0)
		return "the token may not be empty";
	if (n > AISH_MAX_TOKEN)
		return "the token may be at most 4096 bytes";
	for (i = 0; i < n; i++) {
		if (token[i] < '!' || token[i] > '~')
			return "the token may hold only printable ASCII "
			    "characters, no spaces or control characters";
	}
	return NULL;
}

/* Reads the token in path (see token-file.h). */
char *
ac_token_file_read(const char *path, char *err, size_t errlen)
{
	FILE		*f = fopen(path, "rb");
	char		*buf;
	const char	*why;
	size_t		 n;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(AISH_MAX_TOKEN + 4)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	n = fread(buf, 1, AISH_MAX_TOKEN + 3, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read the file", path);
		goto bad;
	}
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (strlen(buf) != n) {
		snprintf(err, errlen, "%s: the token holds a NUL byte", path);
		goto bad;
	}
	if ((why = ac_token_invalid(buf)) != NULL) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto bad;
	}
	fclose(f);
	return buf;
bad:
	fclose(f);
	free(buf);
	return NULL;
}

/* NULL, or why url cannot name the server: a user name or password in it
 * ("http://user:pw@host") is refused, never read as a host name.  url may
 * be a comma-separated list of URLs (the nodes of a cluster); each is
 * checked. */
const char *
ac_url_credentials(const char *url)
{
	const char	*a = url;
	size_t		 n;

	while ((a = strstr(a, "://")) != NULL) {
		a += 3;
		n = strcspn(a, "/?#,");
		if (memchr(a, '@', n) != NULL)
			return "a server URL may not hold a user name or "
			    "password; give the token with --token, "
			    "--token-file or AISH_TOKEN";
	}
	return NULL;
}
