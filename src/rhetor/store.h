/*
 * store.h: aish-rhetor's durable state, one SQLite database.
 *
 * Everything that must survive a restart or a kill -9 goes through here:
 * sockets, their conversation history, accepted write ids, jobs that were
 * accepted but not yet answered, and replies queued for a reader that is
 * not connected.  The database runs in WAL mode at synchronous=FULL, whose
 * sync of the WAL at each commit the store's VFS turns into one write(2)
 * without fsync (store-vfs.h): the durability of synchronous=NORMAL.  A
 * killed process loses nothing that was committed; a power cut may lose
 * the last transactions (see doc/server-internals.md).
 *
 * Ownership: strings passed in are copied by SQLite and stay the caller's;
 * rows handed to a callback are valid only during that call.  A callback
 * may call other store functions, but not the _each function running it.
 * Every function returns 0 on success and -1 on a storage error, whose text
 * rh_store_error() gives, unless its comment says otherwise.
 */
#ifndef RH_STORE_H
#define RH_STORE_H

#include <stddef.h>
#include <stdint.h>

struct rh_store;

/* A socket as stored.  Strings may be NULL where noted. */
struct rh_socket_row {
	const char	*id;
	const char	*ai_name;
	const char	*model;		/* may be NULL */
	const char	*provider;
	const char	*prompt;	/* may be NULL */
	const char	*context_json;	/* JSON object text, may be NULL */
	const char	*state;		/* "active" or "unresponsive" */
	const char	*reason;	/* why unresponsive, may be NULL */
	int64_t		 created_at;	/* ms since the epoch */
	int64_t		 last_activity;	/* ms since the epoch */
	int		 kind;		/* enum rh_socket_kind, see registry.h */
};

/* A job: one AI that owes a reply to one accepted write. */
struct rh_job_row {
	int64_t		 job_id;
	const char	*origin;	/* socket the write was made to */
	const char	*write_id;
	const char	*socket_id;	/* socket whose AI answers */
	const char	*content;
	int		 fresh;		/* a one-shot write: no history */
};

/* A reply waiting in a socket's queue. */
struct rh_queued_row {
	int64_t		 seq;
	const char	*json;		/* the whole read or error frame */
};

/* One turn of a conversation. */
struct rh_turn_row {
	const char	*role;		/* "user" or "assistant" */
	const char	*content;
	int64_t		 seq;		/* see rh_store_history_append */
	int64_t		 at;		/* ms since the epoch; 0: not known */
};

/* One membership of a group. */
struct rh_group_row {
	const char	*name;
	const char	*member;	/* NULL for a group without members */
};

typedef void (*rh_socket_cb)(void *ud, const struct rh_socket_row *row);
typedef void (*rh_job_cb)(void *ud, const struct rh_job_row *row);
typedef void (*rh_queued_cb)(void *ud, const struct rh_queued_row *row);
typedef void (*rh_turn_cb)(void *ud, const struct rh_turn_row *row);
/* Returns non-zero to stop. */
typedef int (*rh_turn_page_cb)(void *ud, const struct rh_turn_row *row);
typedef void (*rh_group_cb)(void *ud, const struct rh_group_row *row);

/* Opens (creating if needed) DIR/aish.db; DIR is created mode 0700 and
 * every file mode 0600.  On failure *out is NULL and err holds the reason. */
int	rh_store_open(struct rh_store **out, const char *dir, char *err,
	    size_t errlen);
/* Closes the database and frees the handle; NULL is accepted. */
void	rh_store_close(struct rh_store *st);
/* The text of the last storage error. */
const char *rh_store_error(struct rh_store *st);

/* Transactions group several calls into one atomic commit. */
int	rh_store_begin(struct rh_store *st);
int	rh_store_commit(struct rh_store *st);
int	rh_store_rollback(struct rh_store *st);

/* Sockets.  put inserts or replaces the whole row. */
int	rh_store_socket_put(struct rh_store *st, const struct rh_socket_row *row);
/* Deletes a socket with its history, queue, jobs and write ids. */
int	rh_store_socket_delete(struct rh_store *st, const char *id);
/* Calls cb for every socket, in creation order. */
int	rh_store_socket_each(struct rh_store *st, rh_socket_cb cb, void *ud);
/* Notes a socket's last activity time, stored as rh_store_queue_remove_later
 * says (an unknown id changes nothing): a kill -9 before that loses only
 * the newest time. */
int	rh_store_socket_touch_later(struct rh_store *st, const char *id,
	    int64_t now);
int	rh_store_socket_set_state(struct rh_store *st, const char *id,
	    const char *state, const char *reason);

/* Counters that never go back, even across restarts.  Both return the new
 * value (>= 1), or -1 on error.  A value taken inside a transaction that is
 * then rolled back is given out again.  Reply seqs are reserved in blocks,
 * so after a restart they may skip ahead. */
int64_t	rh_store_next_seq(struct rh_store *st);
int64_t	rh_store_next_socket_number(struct rh_store *st, const char *ai_name);

/* Records that ORIGIN accepted write WRITE_ID.  Returns 1 when it is new,
 * 0 when ORIGIN had already accepted that id, -1 on error. */
int	rh_store_write_accept(struct rh_store *st, const char *origin,
	    const char *write_id, int64_t now);

/* Forgets the write ids accepted before BEFORE_MS among the next MAX rows
 * of the writes table, in key order from where the last call stopped
 * (wrapping around at the end): calls made now and then sweep the whole
 * table in small steps.  Once a whole sweep found no id accepted before
 * some time, and none was accepted before it since, calls whose BEFORE_MS
 * is not past it read nothing.  Returns how many were forgotten, or -1. */
int	rh_store_writes_forget(struct rh_store *st, int64_t before_ms,
	    int max);

/* Jobs.  add returns the new job id (> 0) or -1; FRESH marks a one-shot
 * write, which neither reads nor extends the history. */
int64_t	rh_store_job_add(struct rh_store *st, const char *origin,
	    const char *write_id, const char *socket_id, const char *content,
	    int fresh);
int	rh_store_job_delete(struct rh_store *st, int64_t job_id);
/* Calls cb for every unfinished job, oldest first. */
int	rh_store_job_each(struct rh_store *st, rh_job_cb cb, void *ud);

/* Queues.  push appends; when the socket then holds more than CAP entries
 * the oldest are dropped and *dropped (if not NULL) says how many.
 * CAP <= 0 means no limit. */
int	rh_store_queue_push(struct rh_store *st, const char *socket_id,
	    int64_t seq, const char *json, int cap, int *dropped);
/* Calls cb for every queued reply of the socket in seq order. */
int	rh_store_queue_each(struct rh_store *st, const char *socket_id,
	    rh_queued_cb cb, void *ud);
int	rh_store_queue_remove(struct rh_store *st, const char *socket_id,
	    int64_t seq);
/* Notes that a queued reply was written out.  Its removal is stored by
 * rh_store_flush, with the next queue push, before the queue is read or
 * counted, or at close; a kill -9 before that keeps the reply queued, and
 * the next reader gets it again (with the same seq). */
int	rh_store_queue_remove_later(struct rh_store *st, const char *socket_id,
	    int64_t seq);
/* Stores the changes noted by the _later functions. */
int	rh_store_flush(struct rh_store *st);
/* Returns how many noted changes are not yet stored. */
size_t	rh_store_pending(struct rh_store *st);
/* Returns the number of queued replies, or -1. */
int	rh_store_queue_count(struct rh_store *st, const char *socket_id);
int	rh_store_queue_clear(struct rh_store *st, const char *socket_id);

/* History.  A socket's conversation is its newest turns within MAX_TURNS
 * turns and MAX_BYTES bytes of content (0 means no limit; the newest turn
 * counts even when larger).  append adds one turn; the older turns past
 * the limits are dropped in batches, once they pass them by an eighth, so
 * the store may hold a few more than each and count, given the same
 * limits, show.  A turn carries a SEQ from the reply counter
 * (rh_store_next_seq): the reply's own for an answer, or, when SEQ <= 0,
 * the next one, taken now (a question, stored just before its reply
 * takes its seq); so a socket's turns have seqs that grow with them.  AT
 * is the turn's time in ms since the epoch (0: not known). */
int	rh_store_history_append(struct rh_store *st, const char *socket_id,
	    const char *role, const char *content, int64_t seq, int64_t at,
	    int max_turns, int64_t max_bytes);
/* Calls cb for every turn within the limits, oldest first. */
int	rh_store_history_each(struct rh_store *st, const char *socket_id,
	    int max_turns, int64_t max_bytes, rh_turn_cb cb, void *ud);
/* Calls cb for the newest turns within the limits whose seq is below
 * BEFORE (BEFORE <= 0: every turn), newest first, until cb returns
 * non-zero or LIMIT turns were given. */
int	rh_store_history_page(struct rh_store *st, const char *socket_id,
	    int max_turns, int64_t max_bytes, int64_t before, int limit,
	    rh_turn_page_cb cb, void *ud);
/* Returns the number of turns within the limits, or -1. */
int	rh_store_history_count(struct rh_store *st, const char *socket_id,
	    int max_turns, int64_t max_bytes);
int	rh_store_history_clear(struct rh_store *st, const char *socket_id);

/* Groups.  put creates a group or replaces its members (N of them, in
 * order; NOW is its creation time when it is new).  Deleting a socket
 * (rh_store_socket_delete) removes it from every group. */
int	rh_store_group_put(struct rh_store *st, const char *name,
	    const char *const *members, size_t n, int64_t now);
int	rh_store_group_delete(struct rh_store *st, const char *name);
/* Calls cb for every (group, member) pair: groups in creation order,
 * members in their order; a group without members gives one row whose
 * member is NULL. */
int	rh_store_group_each(struct rh_store *st, rh_group_cb cb, void *ud);

/* The disk bound.  set_max_bytes keeps the database within MAX bytes
 * (0: no bound): a write that would pass it fails (a storage error), as
 * one does when the disk is full.  used_bytes is what its pages in use
 * take (-1 on error); take_full says, once, whether a write failed for
 * want of room (the bound or the disk) since it was last asked.  The
 * store keeps room allocated past the end of its files so that, even on
 * a full disk, checkpoint can run and the deletes of trim_socket (the
 * older half of a socket's history and of its queue; *turns and *entries
 * say how many) can be stored, making room that later writes reuse. */
int	rh_store_set_max_bytes(struct rh_store *st, int64_t max);
int64_t	rh_store_max_bytes(struct rh_store *st);
/* What the database may take now (0: no limit): the bound, or less while
 * the disk has no room for the store's reserve. */
int64_t	rh_store_limit_bytes(struct rh_store *st);
int64_t	rh_store_used_bytes(struct rh_store *st);
int	rh_store_take_full(struct rh_store *st);
/* Has cb(ud) called as soon as room is wanted: a write found none, the
 * disk has none for the store's reserve, or the database passed seven
 * eighths of its bound.  cb may only note it (a timer), not use the
 * store. */
void	rh_store_on_full(struct rh_store *st, void (*cb)(void *), void *ud);
/* How far to trim a database of used bytes after a full disk. */
int64_t	rh_store_room_target(struct rh_store *st, int64_t used);
int	rh_store_checkpoint(struct rh_store *st);
int	rh_store_trim_socket(struct rh_store *st, const char *socket_id,
	    int64_t *turns, int64_t *entries);

#endif
