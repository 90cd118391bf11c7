/*
 * guard.c: the browser guard and the bearer token (see guard.h).
 *
 * A page on any site can make a browser send simple requests to
 * 127.0.0.1, and a page whose name was rebound to 127.0.0.1 can read the
 * answers.  What gives such requests away: an Origin that is not a
 * loopback one (a file:// page says "null"), Sec-Fetch-Site saying
 * cross-site or same-site, a Host that names the page's site rather than
 * this server, and a body whose type is not application/json (a page can
 * send text/plain or a form without asking, never JSON).
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include <aish/protocol.h>
#include "guard.h"

/* Fills a refusal; returns -1. */
static int
refuse(struct rh_http_refusal *why, int status, const char *code,
    const char *message)
{
	why->status = status;
	why->code = code;
	why->message = message;
	return -1;
}

/* True when the len bytes at s equal word, in any case. */
static int
same_word(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

/* True when the len bytes at s are an IP address: a dotted IPv4 one, or
 * an IPv6 one in brackets.  With loopback, only 127.0.0.0/8 and [::1]. */
static int
ip_literal(const char *s, size_t len, int loopback)
{
	char		buf[64];
	unsigned char	addr[16];

	if (len == 0 || len >= sizeof buf)
		return 0;
	if (s[0] == '[') {
		if (len < 3 || s[len - 1] != ']')
			return 0;
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		if (inet_pton(AF_INET6, buf, addr) != 1)
			return 0;
		return !loopback || memcmp(addr, in6addr_loopback.s6_addr,
		    16) == 0;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, addr) != 1)
		return 0;
	return !loopback || addr[0] == 127;
}

/* True when the len bytes at s name this server as --host does. */
static int
is_given_host(const struct rh_guard_self *self, const char *s, size_t len)
{
	size_t	n;

	if (self->host == NULL || self->wildcard)
		return 0;
	n = strlen(self->host);
	if (strchr(self->host, ':') != NULL)	/* IPv6: [addr] */
		return len == n + 2 && s[0] == '[' && s[len - 1] == ']' &&
		    strncasecmp(s + 1, self->host, n) == 0;
	return same_word(s, len, self->host);
}

/* Splits "host[:port]" ("[v6]:port" too); -1 when it is neither.  The
 * port is 0 when absent. */
static int
split_authority(const char *a, size_t *hostlen, long *port)
{
	const char	*colon;
	size_t		 i;

	*port = 0;
	if (a[0] == '[') {
		const char *end = strchr(a, ']');

		if (end == NULL)
			return -1;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (colon == NULL && end[1] != '\0')
			return -1;
	} else {
		colon = strchr(a, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return -1;
	}
	*hostlen = colon ? (size_t)(colon - a) : strlen(a);
	if (*hostlen == 0)
		return -1;
	if (colon == NULL)
		return 0;
	if (colon[1] == '\0' || strlen(colon + 1) > 5)
		return -1;
	for (i = 1; colon[i] != '\0'; i++) {
		if (colon[i] < '0' || colon[i] > '9')
			return -1;
		*port = *port * 10 + (colon[i] - '0');
	}
	return *port > 0 && *port <= 65535 ? 0 : -1;
}

/* True when Host names this server: a loopback name or the --host given
 * (or any address, when listening on all), with the server's port. */
int
rh_guard_host_ok(const struct rh_guard_self *self, const char *host)
{
	size_t	len;
	long	port;

	if (host == NULL || split_authority(host, &len, &port) != 0)
		return 0;
	if ((port == 0 ? 80 : port) != self->port)
		return 0;
	return same_word(host, len, "localhost") ||
	    same_word(host, len, "127.0.0.1") ||
	    same_word(host, len, "[::1]") ||
	    is_given_host(self, host, len) ||
	    (self->wildcard && ip_literal(host, len, 0));
}

/* True when there is no Origin, or it is http(s) on a loopback host (or
 * the --host given), any port.  "null" (a file:// page, a sandboxed
 * frame) is no loopback origin. */
int
rh_guard_origin_ok(const struct rh_guard_self *self, const char *origin)
{
	const char	*a;
	size_t		 len;
	long		 port;

	if (origin == NULL)
		return 1;
	if (strncasecmp(origin, "http://", 7) == 0)
		a = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		a = origin + 8;
	else
		return 0;
	if (split_authority(a, &len, &port) != 0)
		return 0;
	return same_word(a, len, "localhost") || ip_literal(a, len, 1) ||
	    is_given_host(self, a, len);
}

/* True unless the browser says the request comes from another site. */
int
rh_guard_fetch_site_ok(const char *v)
{
	return v == NULL || (strcasecmp(v, "cross-site") != 0 &&
	    strcasecmp(v, "same-site") != 0);
}

/* True when the media type is application/json (parameters allowed). */
int
rh_guard_media_ok(const char *v)
{
	size_t	n;

	if (v == NULL)
		return 0;
	n = strcspn(v, ";");
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return same_word(v, n, "application/json");
}

/* True when authorization is "Bearer TOKEN" with the right token.  Every
 * call reads AISH_MAX_TOKEN bytes of both, so that how long it takes
 * says nothing about where a wrong token differs, or how long the right
 * one is. */
int
rh_guard_token_ok(const char *token, const char *authorization)
{
	static const char	 zeros[AISH_MAX_TOKEN];
	const char		*given;
	size_t			 lt = strlen(token), lg, i;
	unsigned char		 diff;

	if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7))
		return 0;
	given = authorization + 7;
	while (*given == ' ')
		given++;
	lg = strlen(given);
	if (lg > AISH_MAX_TOKEN || lt > AISH_MAX_TOKEN)
		return 0;
	diff = lg != lt;
	for (i = 0; i < AISH_MAX_TOKEN; i++) {
		const char *a = i < lg ? given : zeros;
		const char *b = i < lt ? token : zeros;

		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	}
	return diff == 0;
}

/* Runs every check on a request head (see guard.h). */
int
rh_guard_check(const struct rh_guard_self *self, const struct rh_http_head *h,
    const char *path, struct rh_http_refusal *why)
{
	if (h->host == NULL)
		return refuse(why, 400, AISH_ERR_BAD_REQUEST, "the request "
		    "needs a Host header naming this server");
	if (!rh_guard_host_ok(self, h->host))
		return refuse(why, 403, AISH_ERR_FORBIDDEN, "Host does not "
		    "name this server (its loopback address or --host, with "
		    "its port)");
	if (!rh_guard_origin_ok(self, h->origin))
		return refuse(why, 403, AISH_ERR_FORBIDDEN, "requests from web "
		    "pages are refused: Origin is not a loopback origin");
	if (!rh_guard_fetch_site_ok(h->sec_fetch_site))
		return refuse(why, 403, AISH_ERR_FORBIDDEN, "requests from web "
		    "pages are refused: Sec-Fetch-Site says another site");
	if (self->token != NULL && !((h->method == RH_GET ||
	    h->method == RH_HEAD) && strcmp(path, AISH_PATH_HEALTH) == 0) &&
	    !rh_guard_token_ok(self->token, h->authorization))
		return refuse(why, 401, AISH_ERR_UNAUTHORIZED, "missing or "
		    "wrong bearer token");
	if (h->has_body && !rh_guard_media_ok(h->content_type))
		return refuse(why, 415, AISH_ERR_UNSUPPORTED_MEDIA, "a request "
		    "body must be sent as Content-Type: application/json");
	return 0;
}
