/*
 * route-query.c: the numbers routes read from a query (?limit=N,
 * ?before=SEQ, ?wait_ms=N), checked the same way everywhere.
 */
#include <ctype.h>
#include <stdlib.h>

#include "routes.h"

/* Reads the query argument name=N (see routes.h). */
int
rh_route_number_arg(struct rh_http_req *req, const char *name,
    int64_t *out)
{
	char		 value[48];
	int		 n, i;

	if ((n = rh_http_arg(req, name, value, sizeof value)) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)value[i]))
			break;
	}
	if (n == 0 || i < n || n > 18)
		return -1;
	*out = strtoll(value, NULL, 10);
	return 1;
}
