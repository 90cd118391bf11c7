/*
 * suggest.c: the nearest known name to a mistyped one, and the short
 * message about it.
 *
 * Nearness is the optimal string alignment distance (insertions,
 * deletions, substitutions and swaps of two neighbours each cost one),
 * with letters compared regardless of case, so that "apolo", "aplolo"
 * and "Apollo" all lead to apollo.  A name counts as near when it is at
 * most a third of the typed name's letters away (one at least, three at
 * most), or when the typed name (three letters or more) is its start.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <aish/protocol.h>

#include "suggest.h"

/* Longest name compared (the wire contract's name limit); longer ones
 * are never near. */
#define NAME_MAX_LEN	AISH_MAX_NAME

/* True when a and b are the same letter regardless of case. */
static int
same_char(char a, char b)
{
	return tolower((unsigned char)a) == tolower((unsigned char)b);
}

/* The smallest of three numbers. */
static size_t
min3(size_t a, size_t b, size_t c)
{
	size_t	m = a < b ? a : b;

	return m < c ? m : c;
}

/* The optimal string alignment distance between a and b (each at most
 * NAME_MAX_LEN long). */
static size_t
distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t	d[NAME_MAX_LEN + 1][NAME_MAX_LEN + 1];
	size_t	i, j, cost;

	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			cost = same_char(a[i - 1], b[j - 1]) ? 0 : 1;
			d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1,
			    d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && same_char(a[i - 1], b[j - 2]) &&
			    same_char(a[i - 2], b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	}
	return d[la][lb];
}

/* True when the typed name is the start of known (regardless of case). */
static int
starts(const char *typed, size_t lt, const char *known, size_t lk)
{
	size_t	i;

	if (lt < 3 || lt >= lk)
		return 0;
	for (i = 0; i < lt; i++) {
		if (!same_char(typed[i], known[i]))
			return 0;
	}
	return 1;
}

/* The nearest known name, when one is near enough (see suggest.h). */
const char *
ac_nearest_name(const char *name, const char *const *names, size_t n)
{
	size_t		 lt = strlen(name), lk, d, best_d = (size_t)-1, limit;
	const char	*best = NULL;
	size_t		 i;

	if (lt == 0 || lt > NAME_MAX_LEN)
		return NULL;
	limit = lt / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	for (i = 0; i < n; i++) {
		if (names[i] == NULL || strcmp(names[i], name) == 0 ||
		    (lk = strlen(names[i])) > NAME_MAX_LEN)
			continue;
		if (lk > lt + limit || lt > lk + limit) {
			if (best == NULL && starts(name, lt, names[i], lk)) {
				best = names[i];
				best_d = limit + 1;
			}
			continue;
		}
		d = distance(name, lt, names[i], lk);
		if (d > limit && starts(name, lt, names[i], lk))
			d = limit + 1;	/* a start: after every close one */
		else if (d > limit)
			continue;
		if (d < best_d) {
			best = names[i];
			best_d = d;
		}
	}
	return best;
}

/* Formats the message with each name cut to at most cut bytes. */
static int
format(char *buf, size_t size, const char *kind, const char *name,
    const char *nearest, const char *otherwise, int cut)
{
	int	ln = (int)strlen(name), lk = nearest ? (int)strlen(nearest) : 0;

	if (nearest != NULL)
		return snprintf(buf, size, "unknown %s \"%.*s%s\" (did you "
		    "mean %.*s%s?)", kind, ln > cut ? cut : ln, name,
		    ln > cut ? "..." : "", lk > cut ? cut : lk, nearest,
		    lk > cut ? "..." : "");
	return snprintf(buf, size, "unknown %s \"%.*s%s\"%s%s%s", kind,
	    ln > cut ? cut : ln, name, ln > cut ? "..." : "",
	    otherwise ? " (" : "", otherwise ? otherwise : "",
	    otherwise ? ")" : "");
}

/* Writes the one-line message about an unknown name (see suggest.h). */
void
ac_unknown_message(char *buf, size_t size, const char *kind,
    const char *name, const char *nearest, const char *otherwise)
{
	size_t	room = size - 1 < AC_UNKNOWN_MESSAGE_MAX ? size - 1 :
	    AC_UNKNOWN_MESSAGE_MAX;
	int	cut = NAME_MAX_LEN, n;

	if (size == 0)
		return;
	while ((n = format(buf, room + 1, kind, name, nearest, otherwise,
	    cut)) < 0 || (size_t)n > room) {
		if (cut <= 8) {
			buf[room] = '\0';	/* a very small buffer: cut */
			return;
		}
		cut -= 8;
	}
}
