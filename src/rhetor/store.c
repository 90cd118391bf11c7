/*
 * store.c: aish-rhetor's durable state in one SQLite database, DIR/aish.db.
 *
 * The database runs in WAL mode through the store's own VFS (store-vfs.h),
 * so a commit costs one write(2) and no fsync yet survives a killed
 * process.  Two connections use it: the loop's, for everything, and the
 * checkpointer's (store-ckpt.h), a thread that copies the WAL into the
 * database with its disk syncs while the loop goes on.  The VFS stands on
 * SQLite's "unix-excl": the first use takes one lock for the whole
 * process, so no other process can open the database while the server
 * runs, the connections of this one take no file lock per transaction,
 * and the WAL's index is shared between them in memory, not in a file.
 * A commit writes every page it changed
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
#define _GNU_SOURCE	/* fallocate */

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store-ckpt.h"
#include "store-sizes.h"
#include "store-vfs.h"

#define STORE_FILE		"aish.db"
#define STORE_BUSY_MS		5000
#define STORE_ERRLEN		512
#define STORE_CHECKPOINT_PAGES	1024
/* The checkpointer is asked for a round each time this many more pages
 * reached the WAL.  The loop checkpoints what the rounds left itself (see
 * after_commit): only then can the WAL be reused from its start, as a
 * round that runs beside commits never sees all of it copied. */
#define STORE_CKPT_STEP		256
/* Pages of room kept allocated past the end of aish.db, and frames of
 * room in its WAL, so that a full disk can still take a checkpoint and
 * the transactions that free room (see reserve_room). */
#define STORE_RESERVE_PAGES	(STORE_CHECKPOINT_PAGES + 256)
/* Short of room, the database leaves half its reserve's pages of the
 * disk free, for a WAL that outgrows its room (a transaction bigger than
 * usual).  On a small file system the reserve is an eighth of it at most,
 * and the WAL is checkpointed sooner. */

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
	S_WRITES_WINDOW,
	S_WRITES_FORGET_RANGE,
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
	S_HISTORY_PAGE,
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
	S_PAGE_COUNT,
	S_FREELIST_COUNT,
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
	[S_WRITES_WINDOW] =
	    "SELECT origin, write_id, accepted_at FROM writes"
	    " WHERE (origin, write_id) > (?1, ?2)"
	    " ORDER BY origin, write_id LIMIT ?3",
	[S_WRITES_FORGET_RANGE] =
	    "DELETE FROM writes WHERE (origin, write_id) > (?1, ?2)"
	    " AND (origin, write_id) <= (?3, ?4) AND accepted_at < ?5",
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
	    "INSERT INTO jobs(origin, write_id, socket_id, content, fresh)"
	    " VALUES(?1, ?2, ?3, ?4, ?5)",
	[S_JOB_DELETE] = "DELETE FROM jobs WHERE job_id = ?1",
	[S_JOB_EACH] =
	    "SELECT job_id, origin, write_id, socket_id, content, fresh"
	    " FROM jobs ORDER BY job_id",
	[S_QUEUE_PUSH] =
	    "INSERT INTO queue(socket_id, seq, json) VALUES(?1, ?2, ?3)",
	/* The last of the ?2 + 1 oldest entries (0 when none), and
	 * everything up to it: walks of the primary key from its oldest end,
	 * as far as the entries dropped, no temporary table. */
	[S_QUEUE_CUTOFF] =
	    "SELECT coalesce((SELECT seq FROM queue WHERE socket_id = ?1"
	    " ORDER BY seq LIMIT 1 OFFSET ?2), 0)",
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
	    "INSERT INTO history(id, role, content, bytes, seq, at)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[S_HISTORY_SIZE] =
	    "SELECT count(*), total(bytes), coalesce(max(id), ?1) FROM history"
	    " WHERE id BETWEEN ?1 AND ?2",
	[S_HISTORY_OLDEST] =
	    "SELECT id, bytes FROM history WHERE id BETWEEN ?1 AND ?2"
	    " ORDER BY id",
	[S_HISTORY_DROP_UPTO] =
	    "DELETE FROM history WHERE id BETWEEN ?1 AND ?2",
	[S_HISTORY_EACH] =
	    "SELECT role, content, seq, at FROM history"
	    " WHERE id BETWEEN ?1 AND ?2 ORDER BY id LIMIT -1 OFFSET ?3",
	/* A page of turns, newest first: a walk down from the newest id. */
	[S_HISTORY_PAGE] =
	    "SELECT role, content, seq, at FROM history"
	    " WHERE id BETWEEN ?1 AND ?2 AND seq < ?3 ORDER BY id DESC"
	    " LIMIT ?4",
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
	[S_PAGE_COUNT] = "PRAGMA page_count",
	[S_FREELIST_COUNT] = "PRAGMA freelist_count",
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
	/* 5 -> 6: a job remembers a fresh (one-shot) write, so that it runs
	 * fresh again after a restart; a turn has a seq and a time (ms since
	 * the epoch, NULL when not known) for GET .../history.  The turns
	 * stored before get seqs of their own, taken above every seq given
	 * out so far, in their order. */
	("ALTER TABLE jobs ADD COLUMN fresh INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE history ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE history ADD COLUMN at INTEGER;"
	"UPDATE history SET seq = r.n + coalesce((SELECT value FROM meta"
	"    WHERE key = 'seq'), 0)"
	"  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n"
	"    FROM history) AS r"
	"  WHERE history.id = r.id;"
	"INSERT INTO meta(key, value) VALUES('seq',"
	"    (SELECT count(*) FROM history))"
	"  ON CONFLICT(key) DO UPDATE SET value = value + excluded.value;"),
};
#define SCHEMA_VERSION	((int)(sizeof migrations / sizeof migrations[0]))

/* A change noted in memory and stored later (see rh_store_flush): a queued
 * reply written out, or a socket's last activity time. */
struct later {
	char		*socket_id;
	int64_t		 value;		/* the seq removed; the time */
};

/* A list of such changes; with an index, one per socket, found by id
 * (the index maps a socket id to its place in v, plus one). */
struct later_list {
	struct later	*v;
	size_t		 n, cap;
	struct ac_strmap *index;	/* NULL: no index, repeats kept */
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
	struct ac_strmap touched_index;	/* its index */
	int64_t		 seq_last;	/* the last seq given out */
	int64_t		 seq_reserved;	/* seqs up to this are stored taken */
	struct seq_mark	 marks[STORE_MAX_DEPTH];	/* at each begin */
	struct rh_sizes	 sizes;		/* history sizes, as committed or in
					   the open transaction */
	struct ac_strmap queue_sizes;	/* entries in each queue known, plus
					   one; like sizes */
	char		*sweep_origin;	/* where the sweep of old write ids */
	char		*sweep_write_id;	/* goes on; NULL: the start */
	int64_t		 sweep_min;	/* the oldest accepted_at kept in the
					   sweep so far */
	int64_t		 writes_oldest;	/* no write id was accepted before
					   this: the last whole sweep's
					   sweep_min, or lower */
	char		*path;		/* DIR/aish.db */
	int64_t		 page_size;
	int64_t		 reserve_pages;	/* STORE_RESERVE_PAGES, or fewer */
	int		 checkpoint_pages;	/* STORE_CHECKPOINT_PAGES, or fewer */
	int64_t		 max_bytes;	/* rh_store_set_max_bytes; 0: none */
	int		 full;		/* a write found no room since the last
					   rh_store_take_full */
	int		 short_room;	/* the last reserve_room failed */
	int		 capped;	/* growth limited to cap_bytes (room_cap) */
	int64_t		 cap_bytes;	/* what aish.db has allocated */
	int64_t		 cap_set;	/* the cap_bytes room_cap applied */
	int64_t		 room_tried_ms;	/* retry_room's last try */
	void		(*on_full)(void *);	/* rh_store_on_full */
	void		*on_full_ud;
	int		 wal_frames;	/* in the WAL after the last commit */
	int		 seen_frames;	/* when the size was last looked at */
	struct rh_ckpt	*ckpt;		/* the checkpointer thread */
	int		 ckpt_asked_at;	/* wal_frames when a round was asked */
	unsigned long	 ckpt_rounds;	/* rounds seen ended (reserve_room) */
	int		 db_fd, wal_fd;	/* reserve_room's, kept open; -1 */
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
	if ((sqlite3_extended_errcode(st->db) & 0xff) == SQLITE_FULL) {
		st->full = 1;
		if (st->on_full != NULL)
			st->on_full(st->on_full_ud);
	}
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

/* Fails when a transaction this file began was rolled back by SQLite
 * itself (it does on a full disk, say): a statement run now would be a
 * transaction of its own, committed at once, outside the one its caller
 * will roll back. */
static int
lost_transaction(struct rh_store *st)
{
	if (st->depth > 0 && sqlite3_get_autocommit(st->db))
		return fail(st, "the transaction was rolled back: %s",
		    sqlite3_errmsg(st->db));
	return 0;
}

/* Runs a statement that returns no rows, then resets it. */
static int
run(struct rh_store *st, sqlite3_stmt *s)
{
	int	rc;

	if (lost_transaction(st) == -1) {
		sqlite3_reset(s);
		return -1;
	}
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

	if (lost_transaction(st) == -1) {
		sqlite3_reset(s);
		return -1;
	}
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
	if (lost_transaction(st) == -1)
		return NULL;
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

/* Forgets the sizes kept in memory (after a rollback, which may have
 * undone changes they count): they are read again when needed. */
static void
forget_known(struct rh_store *st)
{
	rh_sizes_clear(&st->sizes);
	ac_strmap_clear(&st->queue_sizes, NULL);
}

/* Notes that a queue holds n entries. */
static void
queue_size_set(struct rh_store *st, const char *socket_id, int64_t n)
{
	ac_strmap_put(&st->queue_sizes, socket_id, (void *)(uintptr_t)(n +
	    1));
}

/* A queue lost n entries; its size is read again if that goes wrong. */
static void
queue_size_less(struct rh_store *st, const char *socket_id, int64_t n)
{
	uintptr_t	v = (uintptr_t)ac_strmap_get(&st->queue_sizes,
			    socket_id);

	if (v == 0 || n <= 0)
		return;
	if ((int64_t)v - 1 < n)
		ac_strmap_remove(&st->queue_sizes, socket_id);
	else
		queue_size_set(st, socket_id, (int64_t)v - 1 - n);
}

/* Runs statement ID (socket id, value) for l->v[*done] onwards, advancing
 * *done; each queue entry removed leaves its queue's size. */
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
		if (id == S_QUEUE_REMOVE)
			queue_size_less(st, l->v[*done].socket_id,
			    sqlite3_changes(st->db));
	}
	return 0;
}

/* Runs the queue removals not yet done in the open transaction. */
static int
apply_later(struct rh_store *st)
{
	return apply_list(st, S_QUEUE_REMOVE, &st->unqueued, &st->applied);
}

/* Forgets the first N changes of a list: they are committed.  The index
 * of those left is made again (none are left, as a rule). */
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
	if (l->index == NULL)
		return;
	ac_strmap_clear(l->index, NULL);
	for (i = 0; i < l->n; i++)
		ac_strmap_put(l->index, l->v[i].socket_id,
		    (void *)(uintptr_t)(i + 1));
}

/* Forgets the first N queue removals: they are committed. */
static void
drop_later(struct rh_store *st, size_t n)
{
	st->applied = 0;
	list_drop(&st->unqueued, n);
}

static int	set_page_limit(struct rh_store *, int64_t);
static void	reserve_room(struct rh_store *);

/* Short of room, tries the reserve again, at most every 50 ms: the disk
 * may have room again (a file was removed). */
static void
retry_room(struct rh_store *st)
{
	struct timespec	ts;
	int64_t		now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now - st->room_tried_ms < 50)
		return;
	st->room_tried_ms = now;
	reserve_room(st);
}

/* Once the disk has no room for the whole reserve, the database may grow
 * only into the space its file has allocated: writes that need more pages
 * fail (a storage error) and those that reuse free pages go on, so that
 * a checkpoint never needs room the disk does not have, and the deletes
 * that free pages can always be stored.  Once there is room again, the
 * bound is back to max_bytes. */
static int
room_cap(struct rh_store *st)
{
	int64_t	limit = st->max_bytes;

	st->capped = st->short_room;
	st->cap_set = st->cap_bytes;
	if (st->capped && (limit == 0 || st->cap_bytes < limit))
		limit = st->cap_bytes;
	return set_page_limit(st, limit);
}

/* After a commit: once 64 more pages reached the WAL, is the database
 * past seven eighths of its bound?  Then room is wanted (on_full), before
 * a write finds none. */
static void
near_bound(struct rh_store *st)
{
	int64_t	limit = rh_store_limit_bytes(st), used;

	if (limit == 0 || st->on_full == NULL ||
	    (st->wal_frames < st->seen_frames + 64 &&
	    st->wal_frames >= st->seen_frames))
		return;
	st->seen_frames = st->wal_frames;
	if ((used = rh_store_used_bytes(st)) > limit - limit / 8)
		st->on_full(st->on_full_ud);
}

/* Begins a transaction, or a savepoint inside one already open. */
int
rh_store_begin(struct rh_store *st)
{
	/* SQLite may have rolled back by itself after a failed statement. */
	if (st->depth > 0 && sqlite3_get_autocommit(st->db)) {
		forget_known(st);
		st->depth = 0;
	}
	if (st->depth == STORE_MAX_DEPTH)
		return fail(st, "transactions nested too deep");
	if (st->depth == 0 && st->short_room)
		retry_room(st);
	if (st->depth == 0 && (st->capped != st->short_room ||
	    (st->capped && st->cap_set != st->cap_bytes)) && room_cap(st) == -1)
		return -1;
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
		forget_known(st);
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
			forget_known(st);
			st->depth = 0;
			st->applied = 0;
		}
		return -1;
	}
	st->depth = 0;
	drop_later(st, st->applied);
	near_bound(st);
	return 0;
}

/* Rolls back the innermost transaction level. */
int
rh_store_rollback(struct rh_store *st)
{
	if (st->depth == 0)
		return fail(st, "rollback without a transaction");
	/* The history sizes may count rows rolled back: counted again. */
	forget_known(st);
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

/* Keeps room allocated on the disk past the ends of aish.db and of its
 * WAL (fallocate with FALLOC_FL_KEEP_SIZE: the files' sizes do not
 * change), so that when the disk fills up a checkpoint can still grow
 * the database and the WAL be reused: the store can then store the
 * deletes that make room, and recover, without the disk getting room
 * from elsewhere.  Best effort: on a full disk it keeps what it has.
 * The files are opened once and kept open until the store closes: closing
 * a descriptor of a file drops every POSIX lock the process holds on it,
 * SQLite's own (the one that keeps other processes out) with them. */
static void
reserve_room(struct rh_store *st)
{
	char		 wal[4096];
	struct stat	 sb;
	struct statvfs	 vfs;
	off_t		 frames, room;
	int64_t		 have, spare;
	int		 fd;

	if (st->path == NULL || st->page_size <= 0)
		return;
	st->short_room = 0;
	snprintf(wal, sizeof wal, "%s-wal", st->path);
	frames = (off_t)st->reserve_pages * (st->page_size + 24) + 32;
	if (st->wal_fd == -1)
		st->wal_fd = open(wal, O_RDWR | O_CLOEXEC);
	if (st->wal_fd != -1 && fallocate(st->wal_fd, FALLOC_FL_KEEP_SIZE, 0,
	    frames) == -1 && errno == ENOSPC)
		st->short_room = 1;
	if (st->db_fd == -1)
		st->db_fd = open(st->path, O_RDWR | O_CLOEXEC);
	if ((fd = st->db_fd) == -1)
		return;
	if (fstat(fd, &sb) == 0) {
		/* Bounded, the database never grows past max_bytes. */
		room = (off_t)st->reserve_pages * st->page_size;
		if (st->max_bytes > 0 && st->max_bytes - sb.st_size < room)
			room = st->max_bytes > sb.st_size ?
			    st->max_bytes - sb.st_size : 0;
		if (room > 0 && fallocate(fd, FALLOC_FL_KEEP_SIZE, sb.st_size,
		    room) == -1 && errno == ENOSPC)
			st->short_room = 1;
		/* Short of room, the database may grow into what it has
		 * allocated and what the disk has free, no further
		 * (room_cap): its WAL has its room already. */
		if (fstat(fd, &sb) == 0 && fstatvfs(fd, &vfs) == 0) {
			have = (int64_t)sb.st_blocks * 512 > sb.st_size ?
			    (int64_t)sb.st_blocks * 512 : sb.st_size;
			spare = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize -
			    (st->reserve_pages / 2) * st->page_size;
			st->cap_bytes = have + (spare > 0 ? spare : 0);
		}
	}
}

/* Copies the WAL into the database, syncing both (see store-vfs.h). */
static void
checkpoint(struct rh_store *st, sqlite3 *db)
{
	rh_store_vfs_sync_wal(1);
	(void)sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	rh_store_vfs_sync_wal(0);
	reserve_room(st);
}

/* After each commit: every STORE_CKPT_STEP more pages in the WAL, a round
 * of the checkpointer (the disk syncs, milliseconds each, off the loop).
 * Past half of checkpoint_pages, at the first commit after a round ended,
 * a checkpoint here of what that round left (the commits made while it
 * ran: a few pages to copy and sync), so that the next commit writes the
 * WAL from its start.  Should the WAL pass checkpoint_pages, and the
 * pages a round was last asked for by STORE_CKPT_STEP, while a round runs
 * (the rounds slower than the commits), the loop waits for it and
 * checkpoints, as it did every checkpoint_pages before there was a
 * checkpointer.  So the WAL stays within 4 MiB and one commit, or one
 * big commit (a write of 4 MiB is some 3,000 pages, which its round
 * copies off the loop) and 1 MiB. */
static int
after_commit(void *ud, sqlite3 *db, const char *name, int pages)
{
	struct rh_store	*st = ud;
	unsigned long	 rounds;
	int		 ended = 0, late, added;

	(void)name;
	/* The pages of this commit (all of them when the WAL was reused). */
	added = pages >= st->wal_frames ? pages - st->wal_frames : pages;
	st->wal_frames = pages;
	if (st->ckpt == NULL) {
		if (pages >= st->checkpoint_pages)
			checkpoint(st, db);
		return SQLITE_OK;
	}
	if ((rounds = rh_ckpt_rounds(st->ckpt)) != st->ckpt_rounds) {
		st->ckpt_rounds = rounds;
		ended = 1;
		reserve_room(st);
	}
	if (pages < st->ckpt_asked_at)
		st->ckpt_asked_at = 0;	/* the WAL was reused */
	late = pages >= st->checkpoint_pages &&
	    pages - st->ckpt_asked_at >= STORE_CKPT_STEP;
	if (late && added >= STORE_CKPT_STEP &&
	    rh_ckpt_ask(st->ckpt))
		st->ckpt_asked_at = pages;	/* a big commit: off the loop */
	else if (late) {
		rh_ckpt_wait(st->ckpt);		/* the rounds fell behind */
		checkpoint(st, db);
		st->ckpt_asked_at = 0;
	} else if (ended && pages >= st->checkpoint_pages / 2 &&
	    !rh_ckpt_busy(st->ckpt)) {
		checkpoint(st, db);		/* what the round left */
		st->ckpt_asked_at = 0;
	} else if (pages - st->ckpt_asked_at >= STORE_CKPT_STEP &&
	    rh_ckpt_ask(st->ckpt))
		st->ckpt_asked_at = pages;
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

/* Reads the page size, sizes the room kept in reserve to the file system
 * of dir, and keeps the WAL file no bigger than that room once it is
 * reused (a big transaction may have grown it). */
static int
room_setup(struct rh_store *st, const char *dir)
{
	sqlite3_stmt	*s;
	struct statvfs	 vfs;
	char		 sql[64];

	if (sqlite3_prepare_v2(st->db, "PRAGMA page_size", -1, &s, NULL) !=
	    SQLITE_OK)
		return fail_db(st);
	st->page_size = sqlite3_step(s) == SQLITE_ROW ?
	    sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	if (st->page_size <= 0)
		return fail(st, "cannot read the page size");
	st->reserve_pages = STORE_RESERVE_PAGES;
	if (statvfs(dir, &vfs) == 0 && (int64_t)vfs.f_blocks *
	    (int64_t)vfs.f_frsize / 8 / st->page_size < st->reserve_pages)
		st->reserve_pages = (int64_t)vfs.f_blocks *
		    (int64_t)vfs.f_frsize / 8 / st->page_size;
	if (st->reserve_pages < 64)
		st->reserve_pages = 64;
	st->checkpoint_pages = STORE_CHECKPOINT_PAGES;
	if (st->reserve_pages * 4 / 5 < st->checkpoint_pages)
		st->checkpoint_pages = (int)(st->reserve_pages * 4 / 5);
	snprintf(sql, sizeof sql, "PRAGMA journal_size_limit=%lld",
	    (long long)(st->reserve_pages * (st->page_size + 24) + 32));
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail_db(st);
	return 0;
}

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
	st->touched.index = &st->touched_index;
	st->db_fd = st->wal_fd = -1;
	st->sweep_min = INT64_MAX;
	st->writes_oldest = INT64_MIN;	/* not known before a whole sweep */
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
	    prepare_all(st) == -1 || seq_load(st) == -1 ||
	    room_setup(st, dir) == -1)
		goto fail_st;
	st->path = path;
	reserve_room(st);
	if ((st->ckpt = rh_ckpt_start(path, rh_store_vfs_named(1), st->err,
	    sizeof st->err)) == NULL) {
		st->path = NULL;
		goto fail_st;
	}
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
	ac_strmap_clear(&st->touched_index, NULL);
	forget_known(st);
	free(st->sweep_origin);
	free(st->sweep_write_id);
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	rh_ckpt_stop(st->ckpt);
	/* Closing the last connection checkpoints the WAL into the database:
	 * for real. */
	rh_store_vfs_sync_wal(1);
	sqlite3_close(st->db);
	rh_store_vfs_sync_wal(0);
	if (st->wal_fd != -1)
		close(st->wal_fd);
	if (st->db_fd != -1)
		close(st->db_fd);
	free(st->path);
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
	if (rc == 0)
		ac_strmap_remove(&st->queue_sizes, id);
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
	if (sqlite3_changes(st->db) == 0)
		return 0;
	/* The new row may lie behind the sweep, or be older than all. */
	if (now < st->sweep_min)
		st->sweep_min = now;
	if (now < st->writes_oldest)
		st->writes_oldest = now;
	return 1;
}

/* Walks the next window of at most max rows of the writes table from
 * the sweep's place: its last key (owned by the caller; NULL when the
 * window is empty), how many rows, whether one is older than before_ms,
 * and the oldest accepted_at of the others (folded into sweep_min). */
static int
writes_window(struct rh_store *st, int64_t before_ms, int max,
    char **end_o, char **end_w, int *rows, int *old)
{
	sqlite3_stmt	*s = stmt_get(st, S_WRITES_WINDOW);
	const char	*from_o = st->sweep_origin ? st->sweep_origin : "";
	const char	*from_w = st->sweep_write_id ? st->sweep_write_id : "";
	int64_t		 at;
	int		 rc;

	*end_o = *end_w = NULL;
	*rows = *old = 0;
	if (bind_text(st, s, 1, from_o) == -1 ||
	    bind_text(st, s, 2, from_w) == -1 || bind_int(st, s, 3, max) == -1)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((at = sqlite3_column_int64(s, 2)) < before_ms)
			*old = 1;
		else if (at < st->sweep_min)
			st->sweep_min = at;
		(*rows)++;
		/* A row's texts last only until the next step: each row's
		 * key is kept, the last one is the window's end. */
		free(*end_o);
		free(*end_w);
		*end_o = strdup(col_text(s, 0));
		*end_w = strdup(col_text(s, 1));
		if (*end_o == NULL || *end_w == NULL) {
			free(*end_o);
			free(*end_w);
			*end_o = *end_w = NULL;
			sqlite3_reset(s);
			return fail(st, "out of memory");
		}
	}
	if (rc != SQLITE_DONE) {
		free(*end_o);
		free(*end_w);
		*end_o = *end_w = NULL;
	}
	return each_end(st, s, rc);
}

/* Forgets the write ids accepted before before_ms in the next window of
 * at most max rows (see store.h).  Nothing is read while no id can be
 * that old: once a whole sweep found none older than writes_oldest and
 * none was accepted before it since. */
int
rh_store_writes_forget(struct rh_store *st, int64_t before_ms, int max)
{
	sqlite3_stmt	*s;
	const char	*from_o = st->sweep_origin ? st->sweep_origin : "";
	const char	*from_w = st->sweep_write_id ? st->sweep_write_id : "";
	char		*end_o = NULL, *end_w = NULL;
	int		 rc, forgotten = 0, rows, old;

	if (max < 1)
		return fail(st, "a sweep window holds at least one row");
	if (before_ms <= st->writes_oldest)
		return 0;
	if (rh_store_begin(st) == -1)
		return -1;
	rc = writes_window(st, before_ms, max, &end_o, &end_w, &rows, &old);
	if (rc == 0 && old) {
		s = stmt_get(st, S_WRITES_FORGET_RANGE);
		rc = bind_text(st, s, 1, from_o) | bind_text(st, s, 2, from_w) |
		    bind_text(st, s, 3, end_o) | bind_text(st, s, 4, end_w) |
		    bind_int(st, s, 5, before_ms);
		if (rc == 0 && (rc = run(st, s)) == 0)
			forgotten = sqlite3_changes(st->db);
	}
	if (tx_end(st, rc) == -1) {
		free(end_o);
		free(end_w);
		return -1;
	}
	free(st->sweep_origin);
	free(st->sweep_write_id);
	st->sweep_origin = st->sweep_write_id = NULL;
	if (rows == max) {
		/* The next window starts after this one. */
		st->sweep_origin = end_o;
		st->sweep_write_id = end_w;
	} else {
		/* The end: the whole table was seen; the next call starts
		 * again at the start. */
		free(end_o);
		free(end_w);
		st->writes_oldest = st->sweep_min;
		st->sweep_min = INT64_MAX;
	}
	return forgotten;
}

/* Adds a job and returns its id. */
int64_t
rh_store_job_add(struct rh_store *st, const char *origin,
    const char *write_id, const char *socket_id, const char *content,
    int fresh)
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
	    bind_text(st, s, 4, content) == -1 ||
	    bind_int(st, s, 5, fresh != 0) == -1 || run(st, s) == -1)
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
		row.fresh = sqlite3_column_int(s, 5) != 0;
		cb(ud, &row);
	}
	return each_end(st, s, rc);
}

/* ---------------------------------------------------------------- queues */

/* The number of entries in a socket's queue: known, or counted now. */
static int64_t
queue_size(struct rh_store *st, const char *socket_id)
{
	uintptr_t	 v = (uintptr_t)ac_strmap_get(&st->queue_sizes,
			    socket_id);
	sqlite3_stmt	*s;
	int64_t		 n;

	if (v != 0)
		return (int64_t)v - 1;
	s = stmt_get(st, S_QUEUE_COUNT);
	if (bind_text(st, s, 1, socket_id) == -1 || (n = run_int(st, s)) < 0)
		return -1;
	queue_size_set(st, socket_id, n);
	return n;
}

/* Drops the oldest N entries of a socket's queue; *dropped says how many
 * went. */
static int
queue_drop_oldest(struct rh_store *st, const char *socket_id, int64_t n,
    int *dropped)
{
	sqlite3_stmt	*s = stmt_get(st, S_QUEUE_CUTOFF);
	int64_t		 cut;

	*dropped = 0;
	if (n <= 0)
		return 0;
	if (bind_text(st, s, 1, socket_id) == -1 ||
	    bind_int(st, s, 2, n - 1) == -1 || (cut = run_int(st, s)) < 0)
		return -1;
	if (cut == 0)
		return 0;
	s = stmt_get(st, S_QUEUE_DROP_UPTO);
	if (bind_text(st, s, 1, socket_id) == -1 ||
	    bind_int(st, s, 2, cut) == -1 || run(st, s) == -1)
		return -1;
	*dropped = sqlite3_changes(st->db);
	queue_size_less(st, socket_id, *dropped);
	return 0;
}

/* Appends a reply to a socket's queue, keeping at most CAP (if > 0). */
int
rh_store_queue_push(struct rh_store *st, const char *socket_id,
    int64_t seq, const char *json, int cap, int *dropped)
{
	sqlite3_stmt	*s;
	int64_t		 size;
	int		 n = 0, rc, began;

	if (dropped != NULL)
		*dropped = 0;
	/* The removals waiting go first, so that the trim counts right; they
	 * mostly change the page the push changes anyway.  The queue's size
	 * is known before the push (or counted with it): the trim needs no
	 * count, and walks only what it drops. */
	if (need(st, socket_id, "socket id") == -1 ||
	    need(st, json, "queued reply") == -1 || settle_later(st) == -1 ||
	    (began = atomic_begin(st)) == -1)
		return -1;
	rc = (size = queue_size(st, socket_id)) < 0 ? -1 : 0;
	s = stmt_get(st, S_QUEUE_PUSH);
	if (rc == 0)
		rc = bind_text(st, s, 1, socket_id);
	if (rc == 0)
		rc = bind_int(st, s, 2, seq);
	if (rc == 0)
		rc = bind_text(st, s, 3, json);
	if (rc == 0)
		rc = run(st, s);
	if (rc == 0)
		queue_size_set(st, socket_id, ++size);
	if (rc == 0 && cap > 0 && size > cap)
		rc = queue_drop_oldest(st, socket_id, size - cap, &n);
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
	    bind_int(st, s, 2, seq) == -1 || run(st, s) == -1)
		return -1;
	queue_size_less(st, socket_id, sqlite3_changes(st->db));
	return 0;
}

/* Adds a change to list l; in a list with an index, one of the same
 * socket still waiting is updated instead. */
static int
list_add(struct rh_store *st, struct later_list *l, const char *socket_id,
    int64_t value)
{
	struct later	*grown;
	size_t		 cap, at;

	if (need(st, socket_id, "socket id") == -1)
		return -1;
	if (l->index != NULL && (at = (uintptr_t)ac_strmap_get(l->index,
	    socket_id)) != 0) {
		l->v[at - 1].value = value;
		return 0;
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
	if (l->index != NULL)
		ac_strmap_put(l->index, socket_id, (void *)(uintptr_t)l->n);
	return 0;
}

/* Notes that a queued reply was written out (see store.h). */
int
rh_store_queue_remove_later(struct rh_store *st, const char *socket_id,
    int64_t seq)
{
	return list_add(st, &st->unqueued, socket_id, seq);
}

/* Notes a socket's last activity time (see store.h). */
int
rh_store_socket_touch_later(struct rh_store *st, const char *id,
    int64_t now)
{
	return list_add(st, &st->touched, id, now);
}

/* Returns the number of queued replies of a socket. */
int
rh_store_queue_count(struct rh_store *st, const char *socket_id)
{
	if (need(st, socket_id, "socket id") == -1 || settle_later(st) == -1)
		return -1;
	return (int)queue_size(st, socket_id);
}

/* Empties a socket's queue. */
int
rh_store_queue_clear(struct rh_store *st, const char *socket_id)
{
	if (need(st, socket_id, "socket id") == -1 ||
	    run_text(st, S_QUEUE_CLEAR, socket_id) == -1)
		return -1;
	queue_size_set(st, socket_id, 0);
	return 0;
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
    const char *role, const char *content, int64_t seq, int64_t at,
    int max_turns, int64_t max_bytes)
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
	if (rc == 0 && seq <= 0 && (seq = rh_store_next_seq(st)) < 0)
		rc = -1;
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
			rc = bind_int(st, s, 5, seq);
		if (rc == 0)
			rc = at > 0 ? bind_int(st, s, 6, at) :
			    bind_text(st, s, 6, NULL);
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

/* Reads a turn: role, content, seq, at in the statement's columns. */
static void
turn_read(sqlite3_stmt *s, struct rh_turn_row *row)
{
	row->role = col_text(s, 0);
	row->content = col_text(s, 1);
	row->seq = sqlite3_column_int64(s, 2);
	row->at = sqlite3_column_type(s, 3) == SQLITE_NULL ? 0 :
	    sqlite3_column_int64(s, 3);
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
		turn_read(s, &row);
		cb(ud, &row);
	}
	return each_end(st, s, rc);
}

/* Calls CB for the newest turns within the limits with seq < BEFORE,
 * newest first, until CB returns non-zero or LIMIT were given. */
int
rh_store_history_page(struct rh_store *st, const char *socket_id,
    int max_turns, int64_t max_bytes, int64_t before, int limit,
    rh_turn_page_cb cb, void *ud)
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
	if (z->key == 0 || limit <= 0)
		return 0;
	if ((skip = history_excess(st, z, max_turns, max_bytes, &cut,
	    &cut_bytes)) < 0 || (s = each_start(st, S_HISTORY_PAGE)) == NULL)
		return -1;
	if (bind_int(st, s, 1, skip > 0 ? cut + 1 : z->key) == -1 ||
	    bind_int(st, s, 2, z->last) == -1 ||
	    bind_int(st, s, 3, before > 0 ? before : INT64_MAX) == -1 ||
	    bind_int(st, s, 4, limit) == -1)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		turn_read(s, &row);
		if (cb(ud, &row) != 0) {
			rc = SQLITE_DONE;
			break;
		}
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

/* ------------------------------------------------------- the disk bound */

/* Lets the database grow to max bytes at most (0: no bound). */
static int
set_page_limit(struct rh_store *st, int64_t max)
{
	char	sql[64];
	int64_t	pages = max > 0 ? (max + st->page_size - 1) / st->page_size :
		    0x7ffffffe;

	snprintf(sql, sizeof sql, "PRAGMA max_page_count=%lld",
	    (long long)pages);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail_db(st);
	return 0;
}

/* Bounds the database (see store.h). */
int
rh_store_set_max_bytes(struct rh_store *st, int64_t max)
{
	st->max_bytes = max > 0 ? max : 0;
	if (st->capped)
		return 0;	/* room_cap sets it back */
	return set_page_limit(st, st->max_bytes);
}

/* Has cb(ud) called when a write finds no room (see store.h). */
void
rh_store_on_full(struct rh_store *st, void (*cb)(void *), void *ud)
{
	st->on_full = cb;
	st->on_full_ud = ud;
}

/* The bytes the database may take now: the bound, or less while the
 * disk is short of room; 0 when there is no limit. */
int64_t
rh_store_limit_bytes(struct rh_store *st)
{
	if (st->capped && (st->max_bytes == 0 || st->cap_bytes < st->max_bytes))
		return st->cap_bytes;
	return st->max_bytes;
}

/* The bound set, or 0. */
int64_t
rh_store_max_bytes(struct rh_store *st)
{
	return st->max_bytes;
}

/* The bytes of the pages in use: the database's pages but the free ones. */
int64_t
rh_store_used_bytes(struct rh_store *st)
{
	int64_t	pages, free_pages;

	if ((pages = run_int(st, stmt_get(st, S_PAGE_COUNT))) < 0 ||
	    (free_pages = run_int(st, stmt_get(st, S_FREELIST_COUNT))) < 0)
		return -1;
	return (pages - free_pages) * st->page_size;
}

/* True (once) when a write failed for want of room since the last call,
 * or when the disk has no room left for what the store keeps in reserve
 * and the database too few free pages to grow into. */
int
rh_store_take_full(struct rh_store *st)
{
	int	full = st->full;

	st->full = 0;
	if (st->short_room && st->depth == 0)
		reserve_room(st);	/* is there room again? */
	return full;
}

/* The bytes used once enough is trimmed after a full disk: an eighth
 * less, and enough free pages that the database need not grow for a
 * while (when it is not small). */
int64_t
rh_store_room_target(struct rh_store *st, int64_t used)
{
	(void)st;
	return used - used / 8;
}

/* Checkpoints the WAL now (outside any transaction). */
int
rh_store_checkpoint(struct rh_store *st)
{
	if (st->depth > 0)
		return fail(st, "checkpoint inside a transaction");
	if (st->ckpt != NULL)
		rh_ckpt_wait(st->ckpt);
	checkpoint(st, st->db);
	return 0;
}

/* Drops the older half of a socket's history (its last two turns stay)
 * and of its queue (its newest reply stays); *turns and *entries say how
 * many went. */
int
rh_store_trim_socket(struct rh_store *st, const char *socket_id,
    int64_t *turns, int64_t *entries)
{
	struct rh_size	*z;
	sqlite3_stmt	*s;
	int64_t		 size, cut, cut_bytes, n = 0;
	int		 dropped = 0, rc = 0, began;

	*turns = *entries = 0;
	if (need(st, socket_id, "socket id") == -1 || settle_later(st) == -1 ||
	    (began = atomic_begin(st)) == -1)
		return -1;
	if ((z = history_size(st, socket_id)) == NULL)
		rc = -1;
	else if (z->key != 0 && z->rows > 2 &&
	    (n = history_excess(st, z, (int)(z->rows / 2), 0, &cut,
	    &cut_bytes)) > 0) {
		s = stmt_get(st, S_HISTORY_DROP_UPTO);
		rc = bind_int(st, s, 1, z->key);
		if (rc == 0)
			rc = bind_int(st, s, 2, cut);
		if (rc == 0)
			rc = run(st, s);
		if (rc == 0) {
			z->rows -= n;
			z->bytes -= cut_bytes;
		}
	} else if (n < 0)
		rc = -1;
	if (rc == 0 && (size = queue_size(st, socket_id)) < 0)
		rc = -1;
	if (rc == 0 && size > 1)
		rc = queue_drop_oldest(st, socket_id, size / 2, &dropped);
	if (atomic_end(st, began, rc) == -1)
		return -1;
	*turns = n;
	*entries = dropped;
	return 0;
}
