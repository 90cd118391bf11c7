/*
 * trim.c: the disk bound (see trim.h).
 *
 * Every CHECK_MS the server looks at the pages its database has in use
 * and whether a write failed for want of room.  Either starts a trim:
 * the sockets, least recently active first, each lose the older half of
 * their history and of their queue, one transaction per slice of
 * SLICE_US, until the database is under its target; when a round over
 * all of them does not get there, another round halves again, and when
 * a round drops nothing at all the trim ends (what is left is sockets,
 * groups and write ids: writes that need room then fail, as the bound
 * says, until there is some).  Pages freed inside the database are
 * reused by later writes; the file itself does not shrink.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "trim.h"
#include "xalloc.h"

#define CHECK_MS	1000
#define SLICE_US	5000
/* At most this many sockets a slice: a transaction that frees many pages
 * writes many to the WAL, which must stay within the room kept for it. */
#define SLICE_SOCKETS	8

/* A trim in progress. */
struct rh_trim {
	struct rh_server	*srv;
	lws_sorted_usec_list_t	 check_sul;
	lws_sorted_usec_list_t	 slice_sul;
	char			**ids;		/* sockets, least active first */
	size_t			  n;
	size_t			  next;
	int64_t			  target;	/* used bytes to get under */
	int			  running;
	int			  looking;	/* check is due at once */
	uint64_t		  round_dropped;
	int64_t			  stuck_at;	/* used bytes when a trim could
						   drop nothing more; 0: none */
};

static void	check(lws_sorted_usec_list_t *);

/* A socket and its last activity, to sort. */
struct by_age {
	int64_t		 last_activity;
	const char	*id;
};

/* Orders sockets least recently active first. */
static int
older_first(const void *a, const void *b)
{
	const struct by_age	*x = a, *y = b;

	return (x->last_activity > y->last_activity) -
	    (x->last_activity < y->last_activity);
}

/* The sockets' ids, least recently active first (allocated). */
static void
take_sockets(struct rh_server *srv, struct rh_trim *t)
{
	struct by_age		*v = xcalloc((size_t)srv->nsockets + 1,
				    sizeof *v);
	struct rh_socket	*s;
	size_t			 i, n = 0;

	for (s = srv->sockets; s != NULL; s = s->next) {
		v[n].last_activity = s->last_activity;
		v[n++].id = s->id;
	}
	qsort(v, n, sizeof *v, older_first);
	t->ids = xcalloc(n + 1, sizeof *t->ids);
	for (i = 0; i < n; i++)
		t->ids[i] = xstrdup(v[i].id);
	t->n = n;
	t->next = 0;
	free(v);
}

/* Frees the socket ids of a trim. */
static void
drop_sockets(struct rh_trim *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		free(t->ids[i]);
	free(t->ids);
	t->ids = NULL;
	t->n = t->next = 0;
}

/* Ends a trim; used is where it ended. */
static void
trim_end(struct rh_server *srv, int64_t used, int reached)
{
	struct rh_trim	*t = srv->trim;

	t->running = 0;
	drop_sockets(t);
	/* Writes refused while it ran made room wanted that it made. */
	(void)rh_store_take_full(srv->store);
	if (!reached) {
		t->stuck_at = used;
		rh_log("the state holds %lld bytes and there is no history or "
		    "queued reply left to trim", (long long)used);
	} else
		rh_log("trimmed the state to %lld bytes", (long long)used);
}

/* Timer: one slice of a trim, in one transaction. */
static void
trim_slice(lws_sorted_usec_list_t *sul)
{
	struct rh_trim		*t = lws_container_of(sul, struct rh_trim,
				    slice_sul);
	struct rh_server	*srv;
	struct rh_store		*st;
	lws_usec_t		 until = lws_now_usecs() + SLICE_US;
	int64_t			 turns, entries, used;
	uint64_t		 dropped_turns = 0, dropped_entries = 0;
	size_t			 end = t->next + SLICE_SOCKETS;
	char			 why[256];
	int			 rc = 0;

	srv = t->srv;
	st = srv->store;
	if (rh_store_begin(st) != 0)
		rc = -1;
	while (rc == 0 && t->next < t->n && t->next < end &&
	    lws_now_usecs() < until) {
		rc = rh_store_trim_socket(st, t->ids[t->next++], &turns,
		    &entries);
		dropped_turns += (uint64_t)turns;
		dropped_entries += (uint64_t)entries;
	}
	if (rc == 0 && rh_store_commit(st) != 0)
		rc = -1;
	if (rc != 0) {
		/* Tried again at the next look. */
		snprintf(why, sizeof why, "%s", rh_store_error(st));
		rh_store_rollback(st);
		rh_log("cannot trim the state: %s", why);
		t->running = 0;
		drop_sockets(t);
		return;
	}
	srv->trimmed_turns += dropped_turns;
	srv->trimmed_replies += dropped_entries;
	t->round_dropped += dropped_turns + dropped_entries;
	used = rh_store_used_bytes(st);
	if (used >= 0 && used <= t->target) {
		trim_end(srv, used, 1);
		return;
	}
	if (t->next == t->n) {
		if (t->round_dropped == 0) {
			trim_end(srv, used, 0);
			return;
		}
		t->round_dropped = 0;	/* another round halves again */
		t->next = 0;
	}
	lws_sul_schedule(srv->context, 0, &t->slice_sul, trim_slice, 1);
}

/* Starts a trim down to target. */
static void
trim_begin(struct rh_server *srv, int64_t used, int64_t target)
{
	struct rh_trim	*t = srv->trim;

	rh_log("the state holds %lld bytes: trimming the oldest history and "
	    "queued replies down to %lld", (long long)used,
	    (long long)target);
	take_sockets(srv, t);
	t->target = target;
	t->running = 1;
	t->round_dropped = 0;
	lws_sul_schedule(srv->context, 0, &t->slice_sul, trim_slice, 0);
}

/* Timer: is the state past its bound, or did a write find no room? */
static void
check(lws_sorted_usec_list_t *sul)
{
	struct rh_trim		*t = lws_container_of(sul, struct rh_trim,
				    check_sul);
	struct rh_server	*srv;
	struct rh_store		*st;
	int64_t			 max, used;
	int			 full;

	srv = t->srv;
	st = srv->store;
	t->looking = 0;
	lws_sul_schedule(srv->context, 0, &t->check_sul, check,
	    (lws_usec_t)CHECK_MS * LWS_US_PER_MS);
	if (t->running)
		return;
	full = rh_store_take_full(st);
	max = rh_store_limit_bytes(st);
	/* A full disk: the WAL is copied into the database (the store keeps
	 * room for that), so that the deletes that make room can be
	 * stored. */
	if (full)
		(void)rh_store_checkpoint(st);
	if ((used = rh_store_used_bytes(st)) < 0)
		return;
	if (t->stuck_at != 0 && used <= t->stuck_at && !full)
		return;
	t->stuck_at = 0;
	if (full)
		trim_begin(srv, used, rh_store_room_target(st, used));
	else if (max > 0 && used > max - max / 8)
		trim_begin(srv, used, max - max / 4);
}

/* Store callback: a write found no room; look now. */
static void
full_soon(void *ud)
{
	struct rh_trim	*t = ud;

	if (!t->running && !t->looking) {
		t->looking = 1;
		lws_sul_schedule(t->srv->context, 0, &t->check_sul, check, 0);
	}
}

/* Sets the bound and starts watching (see trim.h). */
int
rh_trim_start(struct rh_server *srv)
{
	if (rh_store_set_max_bytes(srv->store, srv->opt.max_state_bytes) != 0)
		return -1;
	srv->trim = xcalloc(1, sizeof *srv->trim);
	srv->trim->srv = srv;
	rh_store_on_full(srv->store, full_soon, srv->trim);
	lws_sul_schedule(srv->context, 0, &srv->trim->check_sul, check,
	    (lws_usec_t)CHECK_MS * LWS_US_PER_MS);
	return 0;
}

/* Stops watching (see trim.h). */
void
rh_trim_stop(struct rh_server *srv)
{
	if (srv->trim == NULL)
		return;
	rh_store_on_full(srv->store, NULL, NULL);
	lws_sul_cancel(&srv->trim->check_sul);
	lws_sul_cancel(&srv->trim->slice_sul);
	drop_sockets(srv->trim);
	free(srv->trim);
	srv->trim = NULL;
}
