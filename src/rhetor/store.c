/*
 * store.c: aish-rhetor's durable state in one SQLite database, DIR/aish.db.
 *
 * The database runs in WAL mode through the store's own VFS (store-vfs.h),
 * so a commit costs one write(2) and no fsync yet survives a killed
 * process, and with locking_mode=EXCLUSIVE:
 * the server is its only user, so a transaction takes no file lock and
 * WAL needs no shared-memory index.  A commit writes every page it changed
 * to the log, so the hot path changes few: the removals of queued replies
 * written out and the sockets' last activity are noted in memory and
 * stored together later (rh_store_flush; removals also with the next queue
 * push, which changes their page anyway), and reply sequence numbers are
 * given out from memory, with a block of them reserved in the database at
 * a time.  Every statement is prepared once
 * in rh_store_open and reused; rh_store_close finalizes them.  Foreign keys
 * are not declared: a queue or a job may outlive the socket row it names
 * for a moment while the server rebuilds its state, and deleting a socket
 * removes what belongs to it explicitly, in one transaction.
 *
 * Transactions nest: the outermost rh_store_begin is BEGIN IMMEDIATE, inner
 * ones are savepoints, so functions that need several statements (a socket
 * delete) are atomic whether or not the caller has opened a transaction of
 * its own.  The two on every reply's path (a queue push with its trim, a
 * history append with its trim) take no savepoint inside a caller's
 * transaction, as a savepoint copies every page it changes: when they
 * fail there, the caller rolls back its level (atomic_begin).
 *
 * The schema carries a version in PRAGMA user_version; migrations[] turns
 * version N into N+1, and a database newer than this program is refused.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store-sizes.h"
#include "store-vfs.h"

#define STORE_FILE		"aish.db"
#define STORE_BUSY_MS		5000
#define STORE_ERRLEN		512
#define STORE_CHECKPOINT_PAGES	8192

/* Statements prepared at open; SQL text in statement_sql[]. */
enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_SAVEPOINT,
	S_RELEASE,
	S_ROLLBACK_TO,
	S_SOCKET_PUT,
	S_SOCKET_DELETE,
	S_SOCKET_EACH,
	S_SOCKET_TOUCH,
	S_SOCKET_SET_STATE,
	S_JOBS_DELETE_SOCKET,
	S_WRITES_DELETE_ORIGIN,
	S_WRITES_WINDOW_END,
	S_WRITES_FORGET_RANGE,
	S_WRITES_FORGET_TAIL,
	S_COUNTER_NEXT,
	S_COUNTER_GET,
	S_COUNTER_SET,
	S_WRITE_ACCEPT,
	S_JOB_ADD,
	S_JOB_DELETE,
	S_JOB_EACH,
	S_QUEUE_PUSH,
	S_QUEUE_CUTOFF,
	S_QUEUE_DROP_UPTO,
	S_QUEUE_EACH,
	S_QUEUE_REMOVE,
	S_QUEUE_COUNT,
	S_QUEUE_CLEAR,
	S_HISTORY_APPEND,
	S_HISTORY_SIZE,
	S_HISTORY_OLDEST,
	S_HISTORY_DROP_UPTO,
	S_HISTORY_EACH,
	S_HISTORY_CLEAR,
	S_HISTORY_KEY_GET,
	S_HISTORY_KEY_SET,
	S_HISTORY_KEY_DELETE,
	S_GROUP_ADD,
	S_GROUP_DELETE,
	S_GROUP_MEMBERS_CLEAR,
	S_GROUP_MEMBER_ADD,
	S_GROUP_MEMBER_DROP,
	S_GROUP_EACH,
	S_COUNT
};

static const char *const statement_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_SAVEPOINT] = "SAVEPOINT rh_nested",
	[S_RELEASE] = "RELEASE rh_nested",
	[S_ROLLBACK_TO] = "ROLLBACK TO rh_nested",
	[S_SOCKET_PUT] =
	    "INSERT INTO sockets(id, ai_name, model, provider, prompt,"
	    " context_json, state, reason, created_at, last_activity, kind)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
	    " ON CONFLICT(id) DO UPDATE SET ai_name = excluded.ai_name,"
	    " model = excluded.model, provider = excluded.provider,"
	    " prompt = excluded.prompt, context_json = excluded.context_json,"
	    " state = excluded.state, reason = excluded.reason,"
	    " created_at = excluded.created_at,"
	    " last_activity = excluded.last_activity, kind = excluded.kind",
	[S_SOCKET_DELETE] = "DELETE FROM sockets WHERE id = ?1",
	[S_SOCKET_EACH] =
	    "SELECT id, ai_name, model, provider, prompt, context_json, state,"
	    " reason, created_at, last_activity, kind FROM sockets ORDER BY n",
	[S_SOCKET_TOUCH] =
	    "UPDATE sockets SET last_activity = ?2 WHERE id = ?1",
	[S_SOCKET_SET_STATE] =
	    "UPDATE sockets SET state = ?2, reason = ?3 WHERE id = ?1",
	[S_JOBS_DELETE_SOCKET] = "DELETE FROM jobs WHERE socket_id = ?1",
	[S_WRITES_DELETE_ORIGIN] = "DELETE FROM writes WHERE origin = ?1",
	/* The sweep of old write ids (rh_store_writes_forget): windows of
	 * the primary key, after the key where the last one ended. */
	[S_WRITES_WINDOW_END] =
	    "SELECT origin, write_id FROM writes"
	    " WHERE (origin, write_id) > (?1, ?2)"
	    " ORDER BY origin, write_id LIMIT 1 OFFSET ?3",
	[S_WRITES_FORGET_RANGE] =
	    "DELETE FROM writes WHERE (origin, write_id) > (?1, ?2)"
	    " AND (origin, write_id) <= (?3, ?4) AND accepted_at < ?5",
	[S_WRITES_FORGET_TAIL] =
	    "DELETE FROM writes WHERE (origin, write_id) > (?1, ?2)"
	    " AND accepted_at < ?3",
	[S_COUNTER_NEXT] =
	    "INSERT INTO meta(key, value) VALUES(?1 || ?2, 1)"
	    " ON CONFLICT(key) DO UPDATE SET value = value + 1"
	    " RETURNING value",
	[S_COUNTER_GET] =
	    "SELECT coalesce((SELECT value FROM meta WHERE key = ?1), 0)",
	[S_COUNTER_SET] =
	    "INSERT INTO meta(key, value) VALUES(?1, ?2)"
	    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[S_WRITE_ACCEPT] =
	    "INSERT INTO writes(origin, write_id, accepted_at)"
	    " VALUES(?1, ?2, ?3) ON CONFLICT DO NOTHING",
	[S_JOB_ADD] =
	    "INSERT INTO jobs(origin, write_id, socket_id, content)"
	    " VALUES(?1, ?2, ?3, ?4)",
	[S_JOB_DELETE] = "DELETE FROM jobs WHERE job_id = ?1",
	[S_JOB_EACH] =
	    "SELECT job_id, origin, write_id, socket_id, content FROM jobs"
	    " ORDER BY job_id",
	[S_QUEUE_PUSH] =
	    "INSERT INTO queue(socket_id, seq, json) VALUES(?1, ?2, ?3)",
	/* The newest entry past the cap (0 when none), and everything up to
	 * it: walks of the primary key, no temporary table. */
	[S_QUEUE_CUTOFF] =
	    "SELECT coalesce((SELECT seq FROM queue WHERE socket_id = ?1"
	    " ORDER BY seq DESC LIMIT 1 OFFSET ?2), 0)",
	[S_QUEUE_DROP_UPTO] =
	    "DELETE FROM queue WHERE socket_id = ?1 AND seq <= ?2",
	[S_QUEUE_EACH] =
	    "SELECT seq, json FROM queue WHERE socket_id = ?1 ORDER BY seq",
	[S_QUEUE_REMOVE] =
	    "DELETE FROM queue WHERE socket_id = ?1 AND seq = ?2",
	[S_QUEUE_COUNT] = "SELECT count(*) FROM queue WHERE socket_id = ?1",
	[S_QUEUE_CLEAR] = "DELETE FROM queue WHERE socket_id = ?1",
	/* A socket's turns have ids key .. key + HISTORY_SPAN - 1, so they
	 * lie together in the table's own b-tree: no index to keep. */
	[S_HISTORY_APPEND] =
	    "INSERT INTO history(id, role, content, bytes)"
	    " VALUES(?1, ?2, ?3, ?4)",
	[S_HISTORY_SIZE] =
	    "SELECT count(*), total(bytes), coalesce(max(id), ?1) FROM history"
	    " WHERE id BETWEEN ?1 AND ?2",
	[S_HISTORY_OLDEST] =
	    "SELECT id, bytes FROM history WHERE id BETWEEN ?1 AND ?2"
	    " ORDER BY id",
	[S_HISTORY_DROP_UPTO] =
	    "DELETE FROM history WHERE id BETWEEN ?1 AND ?2",
	[S_HISTORY_EACH] =
	    "SELECT role, content FROM history WHERE id BETWEEN ?1 AND ?2"
	    " ORDER BY id LIMIT -1 OFFSET ?3",
	[S_HISTORY_CLEAR] = "DELETE FROM history WHERE id BETWEEN ?1 AND ?2",
	[S_HISTORY_KEY_GET] =
	    "SELECT coalesce((SELECT value FROM meta"
	    " WHERE key = 'history_of/' || ?1), 0)",
	[S_HISTORY_KEY_SET] =
	    "INSERT INTO meta(key, value) VALUES('history_of/' || ?1, ?2)",
	[S_HISTORY_KEY_DELETE] =
	    "DELETE FROM meta WHERE key = 'history_of/' || ?1",
	[S_GROUP_ADD] =
	    "INSERT INTO groups(name, created_at) VALUES(?1, ?2)"
	    " ON CONFLICT(name) DO NOTHING",
	[S_GROUP_DELETE] = "DELETE FROM groups WHERE name = ?1",
	[S_GROUP_MEMBERS_CLEAR] =
	    "DELETE FROM group_members WHERE group_name = ?1",
	[S_GROUP_MEMBER_ADD] =
	    "INSERT INTO group_members(group_name, socket_id, pos)"
	    " VALUES(?1, ?2, ?3) ON CONFLICT DO NOTHING",
	[S_GROUP_MEMBER_DROP] =
	    "DELETE FROM group_members WHERE socket_id = ?1",
	[S_GROUP_EACH] =
	    "SELECT g.name, m.socket_id FROM groups g"
	    " LEFT JOIN group_members m ON m.group_name = g.name"
	    " ORDER BY g.n, m.pos",
};

/* migrations[v] brings a database at version v to version v + 1. */
static const char *const migrations[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE meta("
	"  key TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL);"
	"CREATE TABLE sockets("
	"  n INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  id TEXT NOT NULL UNIQUE,"
	"  ai_name TEXT NOT NULL,"
	"  model TEXT,"
	"  provider TEXT NOT NULL,"
	"  prompt TEXT,"
	"  context_json TEXT,"
	"  state TEXT NOT NULL,"
	"  reason TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  last_activity INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL);"
	"CREATE TABLE writes("
	"  origin TEXT NOT NULL,"
	"  write_id TEXT NOT NULL,"
	"  accepted_at INTEGER NOT NULL,"
	"  PRIMARY KEY(origin, write_id)) WITHOUT ROWID;"
	"CREATE TABLE jobs("
	"  job_id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  origin TEXT NOT NULL,"
	"  write_id TEXT NOT NULL,"
	"  socket_id TEXT NOT NULL,"
	"  content TEXT NOT NULL);"
	"CREATE INDEX jobs_by_socket ON jobs(socket_id);"
	"CREATE TABLE queue("
	"  socket_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  json TEXT NOT NULL,"
	"  PRIMARY KEY(socket_id, seq)) WITHOUT ROWID;"
	"CREATE TABLE history("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  socket_id TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  content TEXT NOT NULL,"
	"  bytes INTEGER NOT NULL);"
	"CREATE INDEX history_by_socket ON history(socket_id, id);",
	/* 1 -> 2: groups of sockets (team-chat-<group>). */
	"CREATE TABLE groups("
	"  n INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE group_members("
	"  group_name TEXT NOT NULL,"
	"  socket_id TEXT NOT NULL,"
	"  pos INTEGER NOT NULL,"
	"  PRIMARY KEY(group_name, socket_id)) WITHOUT ROWID;"
	"CREATE INDEX group_members_by_socket ON group_members(socket_id);",
	/* 2 -> 3: the history index covers the sizes, for trimming. */
	("DROP INDEX history_by_socket;"
	"CREATE INDEX history_by_socket ON history(socket_id, id, bytes);"),
	/* 3 -> 4: fewer pages written per message: jobs and history take
	 * plain rowids (AUTOINCREMENT rewrites sqlite_sequence on every
	 * insert), and jobs lose their socket index (the table holds only
	 * unanswered writes; a socket delete scans it). */
	("CREATE TABLE jobs4("
	"  job_id INTEGER PRIMARY KEY,"
	"  origin TEXT NOT NULL,"
	"  write_id TEXT NOT NULL,"
	"  socket_id TEXT NOT NULL,"
	"  content TEXT NOT NULL);"
	"INSERT INTO jobs4 SELECT job_id, origin, write_id, socket_id, content"
	"  FROM jobs;"
	"DROP TABLE jobs;"
	"ALTER TABLE jobs4 RENAME TO jobs;"
	"CREATE TABLE history4("
	"  id INTEGER PRIMARY KEY,"
	"  socket_id TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  content TEXT NOT NULL,"
	"  bytes INTEGER NOT NULL);"
	"INSERT INTO history4 SELECT id, socket_id, role, content, bytes"
	"  FROM history;"
	"DROP TABLE history;"
	"ALTER TABLE history4 RENAME TO history;"
	"CREATE INDEX history_by_socket ON history(socket_id, id, bytes);"),
	/* 4 -> 5: one page fewer per message: each socket gets a number n
	 * (meta "history_of/<socket>"), its turns the ids from n << 32 on,
	 * and history loses its socket column and index. */
	("INSERT INTO meta(key, value)"
	"  SELECT 'history_of/' || socket_id, row_number() OVER"
	"    (ORDER BY socket_id)"
	"  FROM (SELECT DISTINCT socket_id FROM history);"
	"INSERT INTO meta(key, value)"
	"  SELECT 'history_sockets', count(DISTINCT socket_id) FROM history;"
	"CREATE TABLE history5("
	"  id INTEGER PRIMARY KEY,"
	"  role TEXT NOT NULL,"
	"  content TEXT NOT NULL,"
	"  bytes INTEGER NOT NULL);"
	"INSERT INTO history5"
	"  SELECT (m.value << 32) + row_number() OVER"
	"    (PARTITION BY h.socket_id ORDER BY h.id), h.role, h.content,"
	"    h.bytes"
	"  FROM history h JOIN meta m ON m.key = 'history_of/' || h.socket_id;"
	"DROP TABLE history;"
	"ALTER TABLE history5 RENAME TO history;"),
};
#define SCHEMA_VERSION	((int)(sizeof migrations / sizeof migrations[0]))

/* A change noted in memory and stored later (see rh_store_flush): a queued
 * reply written out, or a socket's last activity time. */
struct later {
	char		*socket_id;
	int64_t		 value;		/* the seq removed; the time */
};

/* A list of such changes. */
struct later_list {
	struct later	*v;
	size_t		 n, cap;
};

/* Reply sequence numbers are reserved in the database this many at a
 * time: a restart after a crash skips at most this many. */
#define SEQ_BLOCK		1024

/* A socket's history turns have the ids n << HISTORY_SHIFT onwards, n
 * being its number, counted in meta under HISTORY_SOCKETS_KEY. */
#define HISTORY_SHIFT		32
#define HISTORY_SPAN		((int64_t)1 << HISTORY_SHIFT)
#define HISTORY_SOCKETS_KEY	"history_sockets"
#define SEQ_KEY			"seq"

/* Transactions nest at most this deep. */
#define STORE_MAX_DEPTH		16

/* The in-memory sequence counter as it was when a level began. */
struct seq_mark {
	int64_t		 last;
	int64_t		 reserved;
};

struct rh_store {
	sqlite3		*db;
	sqlite3_stmt	*stmt[S_COUNT];
	int		 depth;		/* open transaction levels */
	struct later_list unqueued;	/* queue removals not yet stored */
	size_t		 applied;	/* of unqueued, done in the open tx */
	struct later_list touched;	/* activity times not yet stored */
	int64_t		 seq_last;	/* the last seq given out */
	int64_t		 seq_reserved;	/* seqs up to this are stored taken */
	struct seq_mark	 marks[STORE_MAX_DEPTH];	/* at each begin */
	struct rh_sizes	 sizes;		/* history sizes, as committed or in
					   the open transaction */
	char		*sweep_origin;	/* where the sweep of old write ids */
	char		*sweep_write_id;	/* goes on; NULL: the start */
	char		 err[STORE_ERRLEN];
};

/* ---------------------------------------------------------------- errors */

/* Records a formatted error message; always returns -1. */
static int
fail(struct rh_store *st, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof st->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* Records SQLite's message for the last failed call; returns -1. */
static int
fail_db(struct rh_store *st)
{
	return fail(st, "%s", sqlite3_errmsg(st->db));
}

/* Fails with a clear message when a required argument is missing. */
static int
need(struct rh_store *st, const void *arg, const char *what)
{
	if (arg == NULL)
		return fail(st, "%s is missing", what);
	return 0;
}

/* Returns the text of the last storage error. */
const char *
rh_store_error(struct rh_store *st)
{
	if (st == NULL)
		return "no store";
	return st->err[0] != '\0' ? st->err : "no error";
}

/* ------------------------------------------------------------ statements */

/* Returns the prepared statement ID, reset and with no bindings. */
static sqlite3_stmt *
stmt_get(struct rh_store *st, enum stmt_id id)
{
	sqlite3_stmt	*s = st->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Binds a string, or NULL when TEXT is NULL. */
static int
bind_text(struct rh_store *st, sqlite3_stmt *s, int idx, const char *text)
{
	int	rc;

	if (text == NULL)
		rc = sqlite3_bind_null(s, idx);
	else
		rc = sqlite3_bind_text(s, idx, text, -1, SQLITE_STATIC);
	return rc == SQLITE_OK ? 0 : fail_db(st);
}

/* Binds a 64-bit integer. */
static int
bind_int(struct rh_store *st, sqlite3_stmt *s, int idx, int64_t v)
{
	if (sqlite3_bind_int64(s, idx, v) != SQLITE_OK)
		return fail_db(st);
	return 0;
}

/* Runs a statement that returns no rows, then resets it. */
static int
run(struct rh_store *st, sqlite3_stmt *s)
{
	int	rc;

	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fail_db(st);
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

/* Runs a statement whose first row's first column is an integer; -1 on
 * error. */
static int64_t
run_int(struct rh_store *st, sqlite3_stmt *s)
{
	int64_t	v;
	int	rc;

	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			fail(st, "statement returned no row");
		else
			fail_db(st);
		sqlite3_reset(s);
		return -1;
	}
	v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

/* Runs a statement taking one text parameter and returning no rows. */
static int
run_text(struct rh_store *st, enum stmt_id id, const char *text)
{
	sqlite3_stmt	*s = stmt_get(st, id);

	if (bind_text(st, s, 1, text) == -1)
		return -1;
	return run(st, s);
}

/* Starts a row loop over S; refuses a loop already running on S, which a
 * callback calling the same _each function would otherwise corrupt. */
static sqlite3_stmt *
each_start(struct rh_store *st, enum stmt_id id)
{
	if (sqlite3_stmt_busy(st->stmt[id])) {
		fail(st, "nested iteration over the same table");
		return NULL;
	}
	return stmt_get(st, id);
}

/* Ends a row loop whose last step returned RC. */
static int
each_end(struct rh_store *st, sqlite3_stmt *s, int rc)
{
	if (rc != SQLITE_DONE) {
		fail_db(st);
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

/* Returns column I as text, or NULL. */
static const char *
col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* ---------------------------------------------------------- transactions */

/* Runs statement ID (socket id, value) for l->v[*done] onwards, advancing
 * *done. */
static int
apply_list(struct rh_store *st, enum stmt_id id, const struct later_list *l,
    size_t *done)
{
	sqlite3_stmt	*s;

	for (; *done < l->n; (*done)++) {
		s = stmt_get(st, id);
		if (bind_text(st, s, 1, l->v[*done].socket_id) == -1 ||
		    bind_int(st, s, 2, l->v[*done].value) == -1 ||
		    run(st, s) == -1)
			return -1;
	}
	return 0;
}

/* Runs the queue removals not yet done in the open transaction. */
static int
apply_later(struct rh_store *st)
{
	return apply_list(st, S_QUEUE_REMOVE, &st->unqueued, &st->applied);
}

/* Forgets the first N changes of a list: they are committed. */
static void
list_drop(struct later_list *l, size_t n)
{
	size_t	i;

	if (n == 0)
		return;		/* l->v may still be NULL */
	for (i = 0; i < n; i++)
		free(l->v[i].socket_id);
	memmove(l->v, l->v + n, (l->n - n) * sizeof *l->v);
	l->n -= n;
}

/* Forgets the first N queue removals: they are committed. */
static void
drop_later(struct rh_store *st, size_t n)
{
	st->applied = 0;
	list_drop(&st->unqueued, n);
}

/* Begins a transaction, or a savepoint inside one already open. */
int
rh_store_begin(struct rh_store *st)
{
	/* SQLite may have rolled back by itself after a failed statement. */
	if (st->depth > 0 && sqlite3_get_autocommit(st->db)) {
		rh_sizes_clear(&st->sizes);
		st->depth = 0;
	}
	if (st->depth == STORE_MAX_DEPTH)
		return fail(st, "transactions nested too deep");
	if (run(st, stmt_get(st, st->depth == 0 ? S_BEGIN : S_SAVEPOINT)) == -1)
		return -1;
	if (st->depth == 0)
		st->applied = 0;
	st->marks[st->depth].last = st->seq_last;
	st->marks[st->depth].reserved = st->seq_reserved;
	st->depth++;
	return 0;
}

/* Takes the sequence counter back to where level DEPTH began: its values
 * are given out again, and its reservation was rolled back with it. */
static void
seq_restore(struct rh_store *st, int depth)
{
	st->seq_last = st->marks[depth].last;
	st->seq_reserved = st->marks[depth].reserved;
}

/* Commits the innermost transaction level. */
int
rh_store_commit(struct rh_store *st)
{
	if (st->depth == 0)
		return fail(st, "commit without a transaction");
	if (sqlite3_get_autocommit(st->db)) {
		seq_restore(st, 0);
		rh_sizes_clear(&st->sizes);
		st->depth = 0;
		return fail(st, "the transaction was already rolled back");
	}
	if (st->depth > 1) {
		if (run(st, stmt_get(st, S_RELEASE)) == -1)
			return -1;
		st->depth--;
		return 0;
	}
	if (run(st, stmt_get(st, S_COMMIT)) == -1) {
		/* A busy commit leaves the transaction open for a rollback. */
		if (sqlite3_get_autocommit(st->db)) {
			seq_restore(st, 0);
			rh_sizes_clear(&st->sizes);
			st->depth = 0;
			st->applied = 0;
		}
		return -1;
	}
	st->depth = 0;
	drop_later(st, st->applied);
	return 0;
}

/* Rolls back the innermost transaction level. */
int
rh_store_rollback(struct rh_store *st)
{
	if (st->depth == 0)
		return fail(st, "rollback without a transaction");
	/* The history sizes may count rows rolled back: counted again. */
	rh_sizes_clear(&st->sizes);
	if (sqlite3_get_autocommit(st->db)) {
		seq_restore(st, 0);
		st->depth = 0;
		st->applied = 0;
		return 0;
	}
	if (st->depth > 1) {
		if (run(st, stmt_get(st, S_ROLLBACK_TO)) == -1 ||
		    run(st, stmt_get(st, S_RELEASE)) == -1)
			return -1;
		st->depth--;
		seq_restore(st, st->depth);
		return 0;
	}
	if (run(st, stmt_get(st, S_ROLLBACK)) == -1)
		return -1;
	seq_restore(st, 0);
	st->depth = 0;
	st->applied = 0;
	return 0;
}

/* Ends a transaction level begun by this file: commits when RC is 0, else
 * (or when the commit fails) rolls back keeping the first error's message.
 * Returns 0 or -1. */
static int
tx_end(struct rh_store *st, int rc)
{
	char	saved[STORE_ERRLEN];

	if (rc == 0 && rh_store_commit(st) == 0)
		return 0;
	memcpy(saved, st->err, sizeof saved);
	rh_store_rollback(st);
	memcpy(st->err, saved, sizeof st->err);
	return -1;
}

/* Begins what a store function needs to be atomic: a transaction of its
 * own, or nothing inside the caller's, which rolls its own level back when
 * the function fails.  1 when it began one, 0 when it joined, -1 on
 * error. */
static int
atomic_begin(struct rh_store *st)
{
	if (st->depth > 0)
		return 0;
	return rh_store_begin(st) == 0 ? 1 : -1;
}

/* Ends what atomic_begin began with the result RC: commits or rolls back
 * a transaction of its own; inside the caller's, passes RC on. */
static int
atomic_end(struct rh_store *st, int began, int rc)
{
	if (began)
		return tx_end(st, rc);
	return rc == 0 ? 0 : -1;
}

/* Stores the queue removals still waiting: inside an open transaction as
 * part of it, else in a transaction of their own. */
static int
settle_later(struct rh_store *st)
{
	if (st->applied == st->unqueued.n)
		return 0;
	if (st->depth > 0)
		return apply_later(st);
	if (rh_store_begin(st) == -1)
		return -1;
	return tx_end(st, apply_later(st));
}

/* Stores every change still waiting, in one transaction of its own. */
int
rh_store_flush(struct rh_store *st)
{
	size_t	touches = 0;

	if (st->depth > 0)
		return fail(st, "flush inside a transaction");
	if (st->unqueued.n == 0 && st->touched.n == 0)
		return 0;
	if (rh_store_begin(st) == -1)
		return -1;
	if (tx_end(st, apply_later(st) == 0 ? apply_list(st, S_SOCKET_TOUCH,
	    &st->touched, &touches) : -1) == -1)
		return -1;
	list_drop(&st->touched, touches);
	return 0;
}

/* Returns how many changes wait to be stored. */
size_t
rh_store_pending(struct rh_store *st)
{
	return st->unqueued.n + st->touched.n;
}


/* -------------------------------------------------------------- opening */

/* Creates DIR and its missing parents, each mode 0700. */
static int
make_dirs(const char *dir, char *err, size_t errlen)
{
	char		*path, *p, c;
	struct stat	 sb;
	int		 rc = -1;

	if ((path = strdup(dir)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(path, 0700) == 0) {
			/* A umask must not leave a directory we made wider
			 * or narrower than 0700. */
			if (chmod(path, 0700) == -1) {
				snprintf(err, errlen, "cannot chmod %s: %s",
				    path, strerror(errno));
				goto out;
			}
		} else if (errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", path,
			    strerror(errno));
			goto out;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	if (stat(dir, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		goto out;
	}
	rc = 0;
out:
	free(path);
	return rc;
}

/* Creates the database file mode 0600 before SQLite opens it, so that
 * SQLite gives its -wal and -shm files the same mode. */
static int
make_db_file(const char *path, char *err, size_t errlen)
{
	struct stat	 sb;
	char		 side[4096];
	const char	*suffix[] = { "-wal", "-shm" };
	size_t		 i;
	int		 fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    fchmod(fd, 0600) == -1) {
		snprintf(err, errlen, "%s: not a usable regular file", path);
		close(fd);
		return -1;
	}
	close(fd);
	/* Files left by an older run may carry a wider mode. */
	for (i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		snprintf(side, sizeof side, "%s%s", path, suffix[i]);
		if (chmod(side, 0600) == -1 && errno != ENOENT) {
			snprintf(err, errlen, "cannot chmod %s: %s", side,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* After each commit: a checkpoint once the WAL holds
 * STORE_CHECKPOINT_PAGES pages.  It syncs the files and stalls the loop
 * for a moment, so it is kept rare: all but a few messages in ten
 * thousand miss it (the log grows to ~32 MiB and is then reused). */
static int
after_commit(void *ud, sqlite3 *db, const char *name, int pages)
{
	if (pages < STORE_CHECKPOINT_PAGES)
		return SQLITE_OK;
	rh_store_vfs_sync_wal(1);
	(void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	rh_store_vfs_sync_wal(0);
	return SQLITE_OK;
}

/* Sets the connection's pragmas; WAL must really be in effect. */
static int
configure(struct rh_store *st)
{
	sqlite3_stmt	*s;
	const char	*mode;
	int		 wal;

	sqlite3_extended_result_codes(st->db, 1);
	if (sqlite3_busy_timeout(st->db, STORE_BUSY_MS) != SQLITE_OK)
		return fail_db(st);
	if (sqlite3_exec(st->db, "PRAGMA locking_mode=EXCLUSIVE", NULL, NULL,
	    NULL) != SQLITE_OK)
		return fail_db(st);
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s,
	    NULL) != SQLITE_OK)
		return fail_db(st);
	if (sqlite3_step(s) != SQLITE_ROW) {
		fail_db(st);
		sqlite3_finalize(s);
		return -1;
	}
	mode = col_text(s, 0);
	wal = mode != NULL && strcmp(mode, "wal") == 0;
	sqlite3_finalize(s);
	if (!wal)
		return fail(st, "the database cannot use WAL mode");
	/* FULL makes SQLite sync the WAL at every commit, which the store's
	 * VFS turns into one write of the commit's frames, no fsync (see
	 * store-vfs.h): the durability of synchronous=NORMAL. */
	/* Savepoints (nested rh_store_begin) journal the pages they change;
	 * in memory, not in a temporary file, where SQLite puts a large
	 * one. */
	if (sqlite3_exec(st->db, "PRAGMA synchronous=FULL;"
	    "PRAGMA temp_store=MEMORY;"
	    "PRAGMA foreign_keys=OFF;", NULL, NULL, NULL) != SQLITE_OK)
		return fail_db(st);
	sqlite3_wal_hook(st->db, after_commit, st);
	return 0;
}

/* Reads PRAGMA user_version; -1 on error. */
static int
schema_version(struct rh_store *st)
{
	sqlite3_stmt	*s;
	int		 v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s,
	    NULL) != SQLITE_OK)
		return fail_db(st);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	else
		fail_db(st);
	sqlite3_finalize(s);
	return v;
}

/* Applies one migration and records the new version, atomically. */
static int
migrate_one(struct rh_store *st, int from)
{
	char	sql[64];

	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return fail_db(st);
	snprintf(sql, sizeof sql, "PRAGMA user_version=%d", from + 1);
	if (sqlite3_exec(st->db, migrations[from], NULL, NULL, NULL) !=
	    SQLITE_OK ||
	    sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(st, "schema upgrade to version %d failed: %s", from + 1,
		    sqlite3_errmsg(st->db));
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

/* Brings the schema up to SCHEMA_VERSION. */
static int
migrate(struct rh_store *st)
{
	int	v;

	if ((v = schema_version(st)) == -1)
		return -1;
	if (v > SCHEMA_VERSION)
		return fail(st, "database schema version %d is newer than "
		    "this aish-rhetor supports (%d)", v, SCHEMA_VERSION);
	for (; v < SCHEMA_VERSION; v++) {
		if (migrate_one(st, v) == -1)
			return -1;
	}
	return 0;
}

/* Prepares every statement in statement_sql[]. */
static int
prepare_all(struct rh_store *st)
{
	int	i;

	for (i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, statement_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) !=
		    SQLITE_OK)
			return fail(st, "cannot prepare statement %d: %s", i,
			    sqlite3_errmsg(st->db));
	}
	return 0;
}

static int	seq_load(struct rh_store *);

/* Opens (creating if needed) DIR/aish.db. */
int
rh_store_open(struct rh_store **out, const char *dir, char *err,
    size_t errlen)
{
	struct rh_store	*st;
	char		*path = NULL;
	size_t		 len;

	*out = NULL;
	if (dir == NULL || *dir == '\0') {
		snprintf(err, errlen, "no state directory given");
		return -1;
	}
	if (make_dirs(dir, err, errlen) == -1)
		return -1;
	len = strlen(dir) + sizeof "/" STORE_FILE;
	if ((st = calloc(1, sizeof *st)) == NULL ||
	    (path = malloc(len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(st);
		return -1;
	}
	snprintf(path, len, "%s/%s", dir, STORE_FILE);
	if (make_db_file(path, err, errlen) == -1)
		goto fail;
	/* One thread uses the database: no connection mutex, and no memory
	 * statistics (whose global mutex every allocation takes).  Setting
	 * the latter fails once SQLite is initialised: harmless. */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (rh_store_vfs() == NULL) {
		fail(st, "cannot set up the SQLite file layer");
		goto fail_st;
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, rh_store_vfs()) != SQLITE_OK) {
		fail(st, "%s", st->db != NULL ? sqlite3_errmsg(st->db) :
		    "out of memory");
		goto fail_st;
	}
	if (configure(st) == -1 || migrate(st) == -1 ||
	    prepare_all(st) == -1 || seq_load(st) == -1)
		goto fail_st;
	free(path);
	*out = st;
	return 0;

fail_st:
	snprintf(err, errlen, "%s: %s", path, st->err);
fail:
	free(path);
	rh_store_close(st);
	return -1;
}

/* Finalizes every statement, closes the database, frees the handle. */
void
rh_store_close(struct rh_store *st)
{
	int	i;

	if (st == NULL)
		return;
	if (st->db != NULL && st->depth == 0 && rh_store_flush(st) == -1)
		fprintf(stderr, "cannot store the last queue removals and "
		    "activity times: %s\n", st->err);
	list_drop(&st->unqueued, st->unqueued.n);
	free(st->unqueued.v);
	list_drop(&st->touched, st->touched.n);
	free(st->touched.v);
	rh_sizes_clear(&st->sizes);
	free(st->sweep_origin);
	free(st->sweep_write_id);
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	/* Closing checkpoints the WAL into the database: for real. */
	rh_store_vfs_sync_wal(1);
	sqlite3_close(st->db);
	rh_store_vfs_sync_wal(0);
	free(st);
}

/* -------------------------------------------------------------- sockets */

/* Inserts or replaces a socket; a replaced one keeps its place. */
int
rh_store_socket_put(struct rh_store *st, const struct rh_socket_row *row)
{
	sqlite3_stmt	*s;

	if (need(st, row, "socket row") == -1 ||
	    need(st, row->id, "socket id") == -1)
		return -1;
	s = stmt_get(st, S_SOCKET_PUT);
	if (bind_text(st, s, 1, row->id) == -1 ||
	    bind_text(st, s, 2, row->ai_name) == -1 ||
	    bind_text(st, s, 3, row->model) == -1 ||
	    bind_text(st, s, 4, row->provider) == -1 ||
	    bind_text(st, s, 5, row->prompt) == -1 ||
	    bind_text(st, s, 6, row->context_json) == -1 ||
	    bind_text(st, s, 7, row->state) == -1 ||
	    bind_text(st, s, 8, row->reason) == -1 ||
	    bind_int(st, s, 9, row->created_at) == -1 ||
	    bind_int(st, s, 10, row->last_activity) == -1 ||
	    bind_int(st, s, 11, row->kind) == -1)
		return -1;
	return run(st, s);
}

static int	history_delete(struct rh_store *, const char *, int);

/* Deletes a socket and everything that belongs to it. */
int
rh_store_socket_delete(struct rh_store *st, const char *id)
{
	static const enum stmt_id steps[] = {
		S_QUEUE_CLEAR, S_JOBS_DELETE_SOCKET, S_WRITES_DELETE_ORIGIN,
		S_GROUP_MEMBER_DROP, S_SOCKET_DELETE
	};
	size_t	i;
	int	rc;

	if (need(st, id, "socket id") == -1 || rh_store_begin(st) == -1)
		return -1;
	rc = history_delete(st, id, 1);
	for (i = 0; rc == 0 && i < sizeof steps / sizeof steps[0]; i++)
		rc = run_text(st, steps[i], id);
	return tx_end(st, rc);
}

/* Calls CB for every socket in creation order. */
int
rh_store_socket_each(struct rh_store *st, rh_socket_cb cb, void *ud)
{
	struct rh_socket_row	 row;
	sqlite3_stmt		*s;
	int			 rc;

	if (need(st, cb, "callback") == -1 ||
	    (s = each_start(st, S_SOCKET_EACH)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row.id = col_text(s, 0);
		row.ai_name = col_text(s, 1);
		row.model = col_text(s, 2);
		row.provider = col_text(s, 3);
		row.prompt = col_text(s, 4);
		row.context_json = col_text(s, 5);
		row.state = col_text(s, 6);
		row.reason = col_text(s, 7);
		row.created_at = sqlite3_column_int64(s, 8);
		row.last_activity = sqlite3_column_int64(s, 9);
		row.kind = sqlite3_column_int(s, 10);
		cb(ud, &row);
	}
	return each_end(st, s, rc);
}

/* Sets a socket's state and reason; an unknown id changes nothing. */
int
rh_store_socket_set_state(struct rh_store *st, const char *id,
    const char *state, const char *reason)
{
	sqlite3_stmt	*s;

	if (need(st, id, "socket id") == -1 ||
	    need(st, state, "socket state") == -1)
		return -1;
	s = stmt_get(st, S_SOCKET_SET_STATE);
	if (bind_text(st, s, 1, id) == -1 || bind_text(st, s, 2, state) == -1 ||
	    bind_text(st, s, 3, reason) == -1)
		return -1;
	return run(st, s);
}

/* ------------------------------------------------------------- counters */

/* Increments the counter PREFIX NAME and returns its new value. */
static int64_t
counter_next(struct rh_store *st, const char *prefix, const char *name)
{
	sqlite3_stmt	*s = stmt_get(st, S_COUNTER_NEXT);

	if (bind_text(st, s, 1, prefix) == -1 ||
	    bind_text(st, s, 2, name) == -1)
		return -1;
	return run_int(st, s);
}

/* Stores that seqs up to N are taken. */
static int
seq_reserve(struct rh_store *st, int64_t n)
{
	sqlite3_stmt	*s = stmt_get(st, S_COUNTER_SET);

	if (bind_text(st, s, 1, SEQ_KEY) == -1 || bind_int(st, s, 2, n) == -1 ||
	    run(st, s) == -1)
		return -1;
	st->seq_reserved = n;
	return 0;
}

/* Returns the next reply sequence number: from memory, reserving the next
 * block in the database (in the open transaction, if any) when the last
 * one is used up. */
int64_t
rh_store_next_seq(struct rh_store *st)
{
	if (st->seq_last >= st->seq_reserved &&
	    seq_reserve(st, st->seq_last + SEQ_BLOCK) == -1)
		return -1;
	return ++st->seq_last;
}

/* Loads the sequence counter: every seq up to the stored reservation may
 * have been given out. */
static int
seq_load(struct rh_store *st)
{
	sqlite3_stmt	*s = stmt_get(st, S_COUNTER_GET);
	int64_t		 n;

	if (bind_text(st, s, 1, SEQ_KEY) == -1 || (n = run_int(st, s)) < 0)
		return -1;
	st->seq_last = st->seq_reserved = n;
	return 0;
}

/* Returns the next number for a socket id made from AI_NAME. */
int64_t
rh_store_next_socket_number(struct rh_store *st, const char *ai_name)
{
	if (need(st, ai_name, "ai name") == -1)
		return -1;
	return counter_next(st, "socket_number/", ai_name);
}

/* ---------------------------------------------------------- writes, jobs */

/* Records an accepted write id; 1 if new, 0 if seen before. */
int
rh_store_write_accept(struct rh_store *st, const char *origin,
    const char *write_id, int64_t now)
{
	sqlite3_stmt	*s;

	if (need(st, origin, "origin") == -1 ||
	    need(st, write_id, "write id") == -1)
		return -1;
	s = stmt_get(st, S_WRITE_ACCEPT);
	if (bind_text(st, s, 1, origin) == -1 ||
	    bind_text(st, s, 2, write_id) == -1 ||
	    bind_int(st, s, 3, now) == -1 || run(st, s) == -1)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

/* Forgets the write ids accepted before before_ms in the next window of
 * at most max rows (see store.h). */
int
rh_store_writes_forget(struct rh_store *st, int64_t before_ms, int max)
{
	sqlite3_stmt	*s;
	const char	*from_o = st->sweep_origin ? st->sweep_origin : "";
	const char	*from_w = st->sweep_write_id ? st->sweep_write_id : "";
	char		*end_o = NULL, *end_w = NULL;
	int		 rc, forgotten = 0;

	if (max < 1)
		return fail(st, "a sweep window holds at least one row");
	if (rh_store_begin(st) == -1)
		return -1;
	s = stmt_get(st, S_WRITES_WINDOW_END);
	rc = bind_text(st, s, 1, from_o) | bind_text(st, s, 2, from_w) |
	    bind_int(st, s, 3, max - 1);
	if (rc == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		end_o = strdup(col_text(s, 0));
		end_w = strdup(col_text(s, 1));
		rc = end_o != NULL && end_w != NULL ? 0 :
		    fail(st, "out of memory");
	} else if (rc == SQLITE_DONE)
		rc = 0;		/* fewer than max rows left: up to the end */
	else if (rc != -1)
		rc = fail_db(st);
	sqlite3_reset(s);
	if (rc == 0) {
		s = stmt_get(st, end_o ? S_WRITES_FORGET_RANGE :
		    S_WRITES_FORGET_TAIL);
		rc = bind_text(st, s, 1, from_o) | bind_text(st, s, 2, from_w);
		if (end_o != NULL)
			rc |= bind_text(st, s, 3, end_o) |
			    bind_text(st, s, 4, end_w) |
			    bind_int(st, s, 5, before_ms);
		else
			rc |= bind_int(st, s, 3, before_ms);
		if (rc == 0 && (rc = run(st, s)) == 0)
			forgotten = sqlite3_changes(st->db);
	}
	if (tx_end(st, rc) == -1) {
		free(end_o);
		free(end_w);
		return -1;
	}
	/* The next window starts after this one, or at the start again. */
	free(st->sweep_origin);
	free(st->sweep_write_id);
	st->sweep_origin = end_o;
	st->sweep_write_id = end_w;
	return forgotten;
}

/* Adds a job and returns its id. */
int64_t
rh_store_job_add(struct rh_store *st, const char *origin,
    const char *write_id, const char *socket_id, const char *content)
{
	sqlite3_stmt	*s;

	if (need(st, origin, "origin") == -1 ||
	    need(st, write_id, "write id") == -1 ||
	    need(st, socket_id, "socket id") == -1 ||
	    need(st, content, "content") == -1)
		return -1;
	s = stmt_get(st, S_JOB_ADD);
	if (bind_text(st, s, 1, origin) == -1 ||
	    bind_text(st, s, 2, write_id) == -1 ||
	    bind_text(st, s, 3, socket_id) == -1 ||
	    bind_text(st, s, 4, content) == -1 || run(st, s) == -1)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

/* Deletes a finished job; an unknown id changes nothing. */
int
rh_store_job_delete(struct rh_store *st, int64_t job_id)
{
	sqlite3_stmt	*s = stmt_get(st, S_JOB_DELETE);

	if (bind_int(st, s, 1, job_id) == -1)
		return -1;
	return run(st, s);
}

/* Calls CB for every unfinished job, oldest first. */
int
rh_store_job_each(struct rh_store *st, rh_job_cb cb, void *ud)
{
	struct rh_job_row	 row;
	sqlite3_stmt		*s;
	int			 rc;

	if (need(st, cb, "callback") == -1 ||
	    (s = each_start(st, S_JOB_EACH)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row.job_id = sqlite3_column_int64(s, 0);
		row.origin = col_text(s, 1);
		row.write_id = col_text(s, 2);
		row.socket_id = col_text(s, 3);
		row.content = col_text(s, 4);
		cb(ud, &row);
	}
	return each_end(st, s, rc);
}

/* ---------------------------------------------------------------- queues */

/* Drops the oldest entries beyond CAP; *dropped says how many. */
static int
queue_trim(struct rh_store *st, const char *socket_id, int cap, int *dropped)
{
	sqlite3_stmt	*s = stmt_get(st, S_QUEUE_CUTOFF);
	int64_t		 cut;

	*dropped = 0;
	if (bind_text(st, s, 1, socket_id) == -1 ||
	    bind_int(st, s, 2, cap) == -1 || (cut = run_int(st, s)) < 0)
		return -1;
	if (cut == 0)
		return 0;
	s = stmt_get(st, S_QUEUE_DROP_UPTO);
	if (bind_text(st, s, 1, socket_id) == -1 ||
	    bind_int(st, s, 2, cut) == -1 || run(st, s) == -1)
		return -1;
	*dropped = sqlite3_changes(st->db);
	return 0;
}

/* Appends a reply to a socket's queue, keeping at most CAP (if > 0). */
int
rh_store_queue_push(struct rh_store *st, const char *socket_id,
    int64_t seq, const char *json, int cap, int *dropped)
{
	sqlite3_stmt	*s;
	int		 n = 0, rc, began;

	if (dropped != NULL)
		*dropped = 0;
	/* The removals waiting go first, so that the trim counts right; they
	 * mostly change the page the push changes anyway. */
	if (need(st, socket_id, "socket id") == -1 ||
	    need(st, json, "queued reply") == -1 || settle_later(st) == -1 ||
	    (began = atomic_begin(st)) == -1)
		return -1;
	s = stmt_get(st, S_QUEUE_PUSH);
	rc = bind_text(st, s, 1, socket_id);
	if (rc == 0)
		rc = bind_int(st, s, 2, seq);
	if (rc == 0)
		rc = bind_text(st, s, 3, json);
	if (rc == 0)
		rc = run(st, s);
	if (rc == 0 && cap > 0)
		rc = queue_trim(st, socket_id, cap, &n);
	if (atomic_end(st, began, rc) == -1)
		return -1;
	if (dropped != NULL)
		*dropped = n;
	return 0;
}

/* Calls CB for every queued reply of a socket, in seq order. */
int
rh_store_queue_each(struct rh_store *st, const char *socket_id,
    rh_queued_cb cb, void *ud)
{
	struct rh_queued_row	 row;
	sqlite3_stmt		*s;
	int			 rc;

	if (need(st, socket_id, "socket id") == -1 ||
	    need(st, cb, "callback") == -1 || settle_later(st) == -1 ||
	    (s = each_start(st, S_QUEUE_EACH)) == NULL)
		return -1;
	if (bind_text(st, s, 1, socket_id) == -1)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row.seq = sqlite3_column_int64(s, 0);
		row.json = col_text(s, 1);
		cb(ud, &row);
	}
	return each_end(st, s, rc);
}

/* Removes one queued reply; an unknown one changes nothing. */
int
rh_store_queue_remove(struct rh_store *st, const char *socket_id,
    int64_t seq)
{
	sqlite3_stmt	*s;

	if (need(st, socket_id, "socket id") == -1)
		return -1;
	s = stmt_get(st, S_QUEUE_REMOVE);
	if (bind_text(st, s, 1, socket_id) == -1 ||
	    bind_int(st, s, 2, seq) == -1)
		return -1;
	return run(st, s);
}

/* Adds a change to list l; with replace, one of the same socket still
 * waiting from index FROM on is updated instead. */
static int
list_add(struct rh_store *st, struct later_list *l, const char *socket_id,
    int64_t value, int replace, size_t from)
{
	struct later	*grown;
	size_t		 cap, i;

	if (need(st, socket_id, "socket id") == -1)
		return -1;
	for (i = from; replace && i < l->n; i++) {
		if (strcmp(l->v[i].socket_id, socket_id) == 0) {
			l->v[i].value = value;
			return 0;
		}
	}
	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 16;
		if ((grown = realloc(l->v, cap * sizeof *l->v)) == NULL)
			return fail(st, "out of memory");
		l->v = grown;
		l->cap = cap;
	}
	if ((l->v[l->n].socket_id = strdup(socket_id)) == NULL)
		return fail(st, "out of memory");
	l->v[l->n++].value = value;
	return 0;
}

/* Notes that a queued reply was written out (see store.h). */
int
rh_store_queue_remove_later(struct rh_store *st, const char *socket_id,
    int64_t seq)
{
	return list_add(st, &st->unqueued, socket_id, seq, 0, 0);
}

/* Notes a socket's last activity time (see store.h). */
int
rh_store_socket_touch_later(struct rh_store *st, const char *id,
    int64_t now)
{
	return list_add(st, &st->touched, id, now, 1, 0);
}

/* Counts rows of the one-parameter count statement ID. */
static int
count_rows(struct rh_store *st, enum stmt_id id, const char *socket_id)
{
	sqlite3_stmt	*s;

	if (need(st, socket_id, "socket id") == -1)
		return -1;
	s = stmt_get(st, id);
	if (bind_text(st, s, 1, socket_id) == -1)
		return -1;
	return (int)run_int(st, s);
}

/* Returns the number of queued replies of a socket. */
int
rh_store_queue_count(struct rh_store *st, const char *socket_id)
{
	if (settle_later(st) == -1)
		return -1;
	return count_rows(st, S_QUEUE_COUNT, socket_id);
}

/* Empties a socket's queue. */
int
rh_store_queue_clear(struct rh_store *st, const char *socket_id)
{
	if (need(st, socket_id, "socket id") == -1)
		return -1;
	return run_text(st, S_QUEUE_CLEAR, socket_id);
}

/* --------------------------------------------------------------- history */

/* The size and place of a socket's history: known, or read now. */
static struct rh_size *
history_size(struct rh_store *st, const char *socket_id)
{
	struct rh_size	*z;
	sqlite3_stmt	*s;
	int64_t		 key, rows = 0, bytes = 0, last;

	if ((z = rh_sizes_find(&st->sizes, socket_id)) != NULL)
		return z;
	s = stmt_get(st, S_HISTORY_KEY_GET);
	if (bind_text(st, s, 1, socket_id) == -1 ||
	    (key = run_int(st, s)) == -1)
		return NULL;
	key <<= HISTORY_SHIFT;
	last = key;
	if (key != 0) {
		s = stmt_get(st, S_HISTORY_SIZE);
		if (bind_int(st, s, 1, key) == -1 ||
		    bind_int(st, s, 2, key + HISTORY_SPAN - 1) == -1)
			return NULL;
		if (sqlite3_step(s) != SQLITE_ROW) {
			fail_db(st);
			sqlite3_reset(s);
			return NULL;
		}
		rows = sqlite3_column_int64(s, 0);
		bytes = (int64_t)sqlite3_column_double(s, 1);
		last = sqlite3_column_int64(s, 2);
		sqlite3_reset(s);
	}
	if ((z = rh_sizes_set(&st->sizes, socket_id, rows, bytes, key,
	    last)) == NULL)
		fail(st, "out of memory");
	return z;
}

/* Gives a socket that has never had history its number, and so its
 * place in the table. */
static int
history_place(struct rh_store *st, struct rh_size *z)
{
	sqlite3_stmt	*s;
	int64_t		 n;

	if ((n = counter_next(st, HISTORY_SOCKETS_KEY, "")) == -1)
		return -1;
	s = stmt_get(st, S_HISTORY_KEY_SET);
	if (bind_text(st, s, 1, z->socket_id) == -1 || bind_int(st, s, 2, n) ==
	    -1 || run(st, s) == -1)
		return -1;
	z->key = z->last = n << HISTORY_SHIFT;
	return 0;
}

/* True while ROWS turns of BYTES bytes are more than the limits allow,
 * each widened by its eighth over (a limit <= 0 is none). */
static int
history_over(int64_t rows, int64_t bytes, int max_turns, int64_t max_bytes,
    int over)
{
	return (max_turns > 0 && rows > max_turns + over * (max_turns / 8)) ||
	    (max_bytes > 0 && bytes > max_bytes + over * (max_bytes / 8));
}

/* How many of the socket's oldest turns are beyond the limits (the newest
 * turn never is); *cut is the id of the last of them, *cut_bytes their
 * size.  A walk from the oldest end, as far as the excess goes. */
static int64_t
history_excess(struct rh_store *st, const struct rh_size *z, int max_turns,
    int64_t max_bytes, int64_t *cut, int64_t *cut_bytes)
{
	sqlite3_stmt	*s;
	int64_t		 rows = z->rows, bytes = z->bytes, n = 0;

	*cut = 0;
	*cut_bytes = 0;
	if (!history_over(rows, bytes, max_turns, max_bytes, 0))
		return 0;
	if ((s = each_start(st, S_HISTORY_OLDEST)) == NULL ||
	    bind_int(st, s, 1, z->key) == -1 ||
	    bind_int(st, s, 2, z->last) == -1)
		return -1;
	while (rows > 1 && history_over(rows, bytes, max_turns, max_bytes,
	    0) && sqlite3_step(s) == SQLITE_ROW) {
		*cut = sqlite3_column_int64(s, 0);
		*cut_bytes += sqlite3_column_int64(s, 1);
		bytes -= sqlite3_column_int64(s, 1);
		rows--;
		n++;
	}
	sqlite3_reset(s);
	return n;
}

/* Drops the oldest turns past the limits once they are past them by an
 * eighth: one delete for many appends, down to the limits. */
static int
history_trim(struct rh_store *st, struct rh_size *z, int max_turns,
    int64_t max_bytes)
{
	sqlite3_stmt	*s;
	int64_t		 cut, cut_bytes, n;

	if (!history_over(z->rows, z->bytes, max_turns, max_bytes, 1))
		return 0;
	if ((n = history_excess(st, z, max_turns, max_bytes, &cut,
	    &cut_bytes)) <= 0)
		return (int)n;
	s = stmt_get(st, S_HISTORY_DROP_UPTO);
	if (bind_int(st, s, 1, z->key) == -1 || bind_int(st, s, 2, cut) == -1 ||
	    run(st, s) == -1)
		return -1;
	z->rows -= n;
	z->bytes -= cut_bytes;
	return 0;
}

/* Appends a turn, then trims the oldest ones to fit the limits. */
int
rh_store_history_append(struct rh_store *st, const char *socket_id,
    const char *role, const char *content, int max_turns,
    int64_t max_bytes)
{
	struct rh_size	*z;
	sqlite3_stmt	*s;
	int64_t		 len = (int64_t)strlen(content);
	int		 rc = 0, began;

	if (need(st, socket_id, "socket id") == -1 ||
	    need(st, role, "role") == -1 ||
	    need(st, content, "content") == -1 ||
	    (began = atomic_begin(st)) == -1)
		return -1;
	if ((z = history_size(st, socket_id)) == NULL)
		rc = -1;
	else if (z->key == 0)
		rc = history_place(st, z);
	else if (z->last - z->key >= HISTORY_SPAN - 1)
		rc = fail(st, "the history of %s has used all its ids",
		    socket_id);
	if (rc == 0) {
		s = stmt_get(st, S_HISTORY_APPEND);
		rc = bind_int(st, s, 1, z->last + 1);
		if (rc == 0)
			rc = bind_text(st, s, 2, role);
		if (rc == 0)
			rc = bind_text(st, s, 3, content);
		if (rc == 0)
			rc = bind_int(st, s, 4, len);
		if (rc == 0)
			rc = run(st, s);
	}
	if (rc == 0) {
		z->last++;
		z->rows++;
		z->bytes += len;
		rc = history_trim(st, z, max_turns, max_bytes);
	}
	return atomic_end(st, began, rc);
}

/* Calls CB for every turn of a socket within the limits, oldest first. */
int
rh_store_history_each(struct rh_store *st, const char *socket_id,
    int max_turns, int64_t max_bytes, rh_turn_cb cb, void *ud)
{
	struct rh_turn_row	 row;
	struct rh_size		*z;
	sqlite3_stmt		*s;
	int64_t			 skip, cut, cut_bytes;
	int			 rc;

	if (need(st, socket_id, "socket id") == -1 ||
	    need(st, cb, "callback") == -1 ||
	    (z = history_size(st, socket_id)) == NULL)
		return -1;
	if (z->key == 0)
		return 0;
	if ((skip = history_excess(st, z, max_turns, max_bytes, &cut,
	    &cut_bytes)) < 0 || (s = each_start(st, S_HISTORY_EACH)) == NULL)
		return -1;
	if (bind_int(st, s, 1, z->key) == -1 ||
	    bind_int(st, s, 2, z->last) == -1 ||
	    bind_int(st, s, 3, skip) == -1)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row.role = col_text(s, 0);
		row.content = col_text(s, 1);
		cb(ud, &row);
	}
	return each_end(st, s, rc);
}

/* Returns the number of turns of a socket within the limits. */
int
rh_store_history_count(struct rh_store *st, const char *socket_id,
    int max_turns, int64_t max_bytes)
{
	struct rh_size	*z;
	int64_t		 skip, cut, cut_bytes;

	if (need(st, socket_id, "socket id") == -1 ||
	    (z = history_size(st, socket_id)) == NULL ||
	    (skip = history_excess(st, z, max_turns, max_bytes, &cut,
	    &cut_bytes)) < 0)
		return -1;
	return (int)(z->rows - skip);
}

/* Deletes a socket's turns; forget says to drop its number too (the
 * socket is gone).  Inside the caller's transaction. */
static int
history_delete(struct rh_store *st, const char *socket_id, int forget)
{
	struct rh_size	*z = history_size(st, socket_id);
	sqlite3_stmt	*s;
	int		 rc = 0;

	if (z == NULL)
		return -1;
	if (z->key != 0) {
		s = stmt_get(st, S_HISTORY_CLEAR);
		rc = bind_int(st, s, 1, z->key);
		if (rc == 0)
			rc = bind_int(st, s, 2, z->key + HISTORY_SPAN - 1);
		if (rc == 0)
			rc = run(st, s);
	}
	if (rc == 0 && forget)
		rc = run_text(st, S_HISTORY_KEY_DELETE, socket_id);
	/* A rollback forgets every size: this one is read again then. */
	if (rc == 0 && forget)
		rh_sizes_forget(&st->sizes, socket_id);
	else if (rc == 0)
		z->rows = z->bytes = 0;
	return rc;
}

/* Forgets a socket's conversation. */
int
rh_store_history_clear(struct rh_store *st, const char *socket_id)
{
	int	began;

	if (need(st, socket_id, "socket id") == -1 ||
	    (began = atomic_begin(st)) == -1)
		return -1;
	return atomic_end(st, began, history_delete(st, socket_id, 0));
}

/* ---------------------------------------------------------------- groups */

/* Creates or replaces a group with its members, in order. */
int
rh_store_group_put(struct rh_store *st, const char *name,
    const char *const *members, size_t n, int64_t now)
{
	sqlite3_stmt	*s;
	size_t		 i;
	int		 rc;

	if (need(st, name, "group name") == -1 ||
	    (n > 0 && need(st, members, "members") == -1) ||
	    rh_store_begin(st) == -1)
		return -1;
	s = stmt_get(st, S_GROUP_ADD);
	rc = bind_text(st, s, 1, name);
	if (rc == 0)
		rc = bind_int(st, s, 2, now);
	if (rc == 0)
		rc = run(st, s);
	if (rc == 0)
		rc = run_text(st, S_GROUP_MEMBERS_CLEAR, name);
	for (i = 0; rc == 0 && i < n; i++) {
		s = stmt_get(st, S_GROUP_MEMBER_ADD);
		rc = need(st, members[i], "member");
		if (rc == 0)
			rc = bind_text(st, s, 1, name);
		if (rc == 0)
			rc = bind_text(st, s, 2, members[i]);
		if (rc == 0)
			rc = bind_int(st, s, 3, (int64_t)i);
		if (rc == 0)
			rc = run(st, s);
	}
	return tx_end(st, rc);
}

/* Deletes a group and its memberships; an unknown name changes nothing. */
int
rh_store_group_delete(struct rh_store *st, const char *name)
{
	int	rc;

	if (need(st, name, "group name") == -1 || rh_store_begin(st) == -1)
		return -1;
	rc = run_text(st, S_GROUP_MEMBERS_CLEAR, name);
	if (rc == 0)
		rc = run_text(st, S_GROUP_DELETE, name);
	return tx_end(st, rc);
}

/* Calls CB for every (group, member) pair, groups in creation order and
 * members in their order; a group without members gives one row whose
 * member is NULL. */
int
rh_store_group_each(struct rh_store *st, rh_group_cb cb, void *ud)
{
	struct rh_group_row	 row;
	sqlite3_stmt		*s;
	int			 rc;

	if (need(st, cb, "callback") == -1 ||
	    (s = each_start(st, S_GROUP_EACH)) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row.name = col_text(s, 0);
		row.member = col_text(s, 1);
		cb(ud, &row);
	}
	return each_end(st, s, rc);
}
