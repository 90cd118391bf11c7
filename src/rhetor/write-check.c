/*
 * write-check.c: what a write must be before it is accepted: its id and
 * its content (SPEC section 2), and a fresh id for a write without one.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "delivery.h"
#include "job.h"
#include "names.h"
#include "xalloc.h"

/* A fresh write id for a write that came without one. */
char *
rh_write_id_new(void)
{
	unsigned char	r[8];
	char		hex[sizeof r * 2 + 1];
	size_t		i;

	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		memset(r, 0, sizeof r);
	for (i = 0; i < sizeof r; i++)
		snprintf(hex + i * 2, 3, "%02x", r[i]);
	return xasprintf("s-%lld-%s", (long long)rh_now_ms(), hex);
}

/* Checks a client's write id. */
int
rh_write_id_valid(const char *id)
{
	size_t	n = strlen(id);

	return n > 0 && n <= AISH_MAX_WRITE_ID && ac_utf8_valid(id, n);
}

/* Checks the content of a write; returns 0 or -1 with err filled. */
int
rh_write_content_check(const char *content, struct rh_err *err)
{
	size_t	n = strlen(content);

	if (n > AISH_MAX_CONTENT) {
		rh_err_set(err, 413, AISH_ERR_TOO_LARGE, "content is %zu "
		    "bytes; the limit is %u", n, AISH_MAX_CONTENT);
		return -1;
	}
	if (!ac_utf8_valid(content, n)) {
		rh_err_set(err, 400, AISH_ERR_BAD_REQUEST,
		    "content is not valid UTF-8 text");
		return -1;
	}
	return 0;
}
