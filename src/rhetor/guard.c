/*
 * guard.c: the bearer token and the Origin check.
 */
#include <string.h>
#include <strings.h>

#include "guard.h"

/* Compares two strings in time that does not depend on where they differ. */
static int
same_secret(const char *a, const char *b)
{
	size_t		la = strlen(a), lb = strlen(b), i;
	unsigned char	diff = la != lb;

	for (i = 0; i < la; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
	return diff == 0;
}

/* True when no token is set, or the request carries the right one. */
int
rh_guard_token_ok(struct rh_server *srv, struct lws *wsi)
{
	char	value[512];
	int	n;

	if (srv->opt.token == NULL)
		return 1;
	n = lws_hdr_copy(wsi, value, sizeof value,
	    WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n <= 7 || strncasecmp(value, "Bearer ", 7) != 0)
		return 0;
	return same_secret(value + 7, srv->opt.token);
}

/* True when host (without port) is localhost, 127.0.0.0/8 or ::1. */
static int
host_is_loopback(const char *host, size_t len)
{
	if (len == 9 && strncasecmp(host, "localhost", 9) == 0)
		return 1;
	if (len == 5 && strncmp(host, "[::1]", 5) == 0)
		return 1;
	if (len >= 4 && strncmp(host, "127.", 4) == 0) {
		size_t	i;

		for (i = 4; i < len; i++) {
			if (!((host[i] >= '0' && host[i] <= '9') ||
			    host[i] == '.'))
				return 0;
		}
		return 1;
	}
	return 0;
}

/* True when origin names a loopback host (http or https, any port). */
int
rh_guard_origin_is_loopback(const char *origin)
{
	const char	*host, *end;

	if (strncasecmp(origin, "http://", 7) == 0)
		host = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		host = origin + 8;
	else
		return 0;
	if (*host == '[') {
		end = strchr(host, ']');
		if (end == NULL)
			return 0;
		end++;
	} else
		end = host + strcspn(host, ":/");
	if (*end != '\0' && *end != ':' && *end != '/')
		return 0;
	return host_is_loopback(host, (size_t)(end - host));
}

/* True when the request has no Origin header or a loopback one. */
int
rh_guard_origin_ok(struct lws *wsi)
{
	char	origin[256];
	int	len = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);

	if (len <= 0)
		return 1;
	if (len >= (int)sizeof origin ||
	    lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) < 0)
		return 0;
	return rh_guard_origin_is_loopback(origin);
}
