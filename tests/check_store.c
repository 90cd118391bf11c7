/*
 * check_store.c: tests for aish-rhetor's durable state (src/rhetor/store.c).
 *
 * Every test runs in its own test case, with a fresh temporary directory
 * removed afterwards; the store lives in a subdirectory that does not exist
 * yet, so every test also exercises its creation.
 */
#define _XOPEN_SOURCE 700

#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

static char		 tmpdir[256];
static char		 statedir[320];
static struct rh_store	*st;

/* Text collected by the row callbacks, items separated by ','. */
static char		 seen[4096];

/* Removes one entry of the scratch tree. */
static int
remove_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	return remove(path);
}

/* Makes a fresh scratch directory; the state directory is two levels
 * inside it and does not exist yet.  An unchecked fixture, so that the
 * directory is removed even when a test fails in a forked child. */
static void
make_scratch(void)
{
	snprintf(tmpdir, sizeof tmpdir, "%s/check_store.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(statedir, sizeof statedir, "%s/a/state", tmpdir);
}

/* Removes the scratch directory. */
static void
remove_scratch(void)
{
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Starts every test with no store and nothing seen. */
static void
setup(void)
{
	st = NULL;
	seen[0] = '\0';
}

/* Closes the store if a test left it open. */
static void
teardown(void)
{
	rh_store_close(st);
	st = NULL;
}

/* Opens the store in statedir, failing the test on error. */
static struct rh_store *
open_store(void)
{
	struct rh_store	*s;
	char		 err[512];

	err[0] = '\0';
	ck_assert_msg(rh_store_open(&s, statedir, err, sizeof err) == 0,
	    "open: %s", err);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* Closes and reopens the store. */
static void
reopen(void)
{
	rh_store_close(st);
	st = open_store();
}

/* Appends one item to seen. */
static void
see(const char *fmt, ...)
{
	size_t	len = strlen(seen);
	va_list	ap;

	if (len > 0 && len < sizeof seen - 1)
		seen[len++] = ',';
	va_start(ap, fmt);
	vsnprintf(seen + len, sizeof seen - len, fmt, ap);
	va_end(ap);
}

/* Returns the permission bits of PATH, or -1 when it is missing. */
static int
mode_of(const char *path)
{
	struct stat	sb;

	if (stat(path, &sb) == -1)
		return -1;
	return sb.st_mode & 07777;
}

/* Builds statedir/NAME into buf. */
static const char *
state_file(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", statedir, name);
	return buf;
}

/* Stores a socket with the fields that matter to the tests. */
static void
put_socket(const char *id, const char *ai_name, int64_t created)
{
	struct rh_socket_row	row = {
		.id = id, .ai_name = ai_name, .provider = "echo",
		.state = "active", .created_at = created,
		.last_activity = created, .kind = 0
	};

	ck_assert_msg(rh_store_socket_put(st, &row) == 0, "put %s: %s", id,
	    rh_store_error(st));
}

/* Records every socket as id/ai_name/model/state/reason/last_activity. */
static void
see_socket(void *ud, const struct rh_socket_row *r)
{
	see("%s/%s/%s/%s/%s/%lld", r->id, r->ai_name,
	    r->model != NULL ? r->model : "-", r->state,
	    r->reason != NULL ? r->reason : "-", (long long)r->last_activity);
}

/* Records every socket id. */
static void
see_socket_id(void *ud, const struct rh_socket_row *r)
{
	see("%s", r->id);
}

/* Records every job as origin/write_id/socket_id/content. */
static void
see_job(void *ud, const struct rh_job_row *r)
{
	see("%s/%s/%s/%s", r->origin, r->write_id, r->socket_id, r->content);
}

/* Records every job id. */
static void
see_job_id(void *ud, const struct rh_job_row *r)
{
	see("%lld", (long long)r->job_id);
}

/* Records every queued reply as seq=json. */
static void
see_queued(void *ud, const struct rh_queued_row *r)
{
	see("%lld=%s", (long long)r->seq, r->json);
}

/* Records every turn as role:content. */
static void
see_turn(void *ud, const struct rh_turn_row *r)
{
	see("%s:%s", r->role, r->content);
}

/* Collects the sockets into seen. */
static void
list_sockets(rh_socket_cb cb)
{
	seen[0] = '\0';
	ck_assert_msg(rh_store_socket_each(st, cb, NULL) == 0, "%s",
	    rh_store_error(st));
}

/* Collects one socket's queue into seen. */
static void
list_queue(const char *id)
{
	seen[0] = '\0';
	ck_assert_msg(rh_store_queue_each(st, id, see_queued, NULL) == 0,
	    "%s", rh_store_error(st));
}

/* Collects one socket's history into seen. */
static void
list_history(const char *id)
{
	seen[0] = '\0';
	ck_assert_msg(rh_store_history_each(st, id, 0, 0, see_turn, NULL) == 0,
	    "%s", rh_store_error(st));
}

/* Collects the jobs into seen. */
static void
list_jobs(rh_job_cb cb)
{
	seen[0] = '\0';
	ck_assert_msg(rh_store_job_each(st, cb, NULL) == 0, "%s",
	    rh_store_error(st));
}

/* ------------------------------------------------------------- opening */

START_TEST(test_open_modes)
{
	char	path[512];
	mode_t	old;

	/* A permissive umask must not widen anything. */
	old = umask(0);
	st = open_store();
	ck_assert_int_eq(mode_of(statedir), 0700);
	snprintf(path, sizeof path, "%s/a", tmpdir);
	ck_assert_int_eq(mode_of(path), 0700);
	ck_assert_int_eq(mode_of(state_file(path, sizeof path, "aish.db")),
	    0600);
	put_socket("apollo", "apollo", 1);
	ck_assert_int_eq(mode_of(state_file(path, sizeof path,
	    "aish.db-wal")), 0600);
	/* unix-excl: the WAL index of its connections is in memory. */
	ck_assert_int_eq(mode_of(state_file(path, sizeof path,
	    "aish.db-shm")), -1);
	umask(old);
}
END_TEST

START_TEST(test_open_narrows_modes)
{
	char	path[512];

	st = open_store();
	put_socket("apollo", "apollo", 1);
	rh_store_close(st);
	st = NULL;
	/* Files left wider by someone else are narrowed again. */
	ck_assert_int_eq(chmod(state_file(path, sizeof path, "aish.db"),
	    0644), 0);
	st = open_store();
	ck_assert_int_eq(mode_of(state_file(path, sizeof path, "aish.db")),
	    0600);
	put_socket("athena", "athena", 2);
	ck_assert_int_eq(mode_of(state_file(path, sizeof path,
	    "aish.db-wal")), 0600);
	list_sockets(see_socket_id);
	ck_assert_str_eq(seen, "apollo,athena");
}
END_TEST

/* In a child process forked before this process used SQLite (what a
 * second server is: another process): at each byte read from IN, opens
 * the store in statedir (and closes it), and writes to OUT 'y' when that
 * worked, 'l' when it was refused as locked, 'e' for another error. */
static void
child_open_store(int in, int out)
{
	struct rh_store	*s;
	char		 err[512], c;

	while (read(in, &c, 1) == 1) {
		s = NULL;
		err[0] = '\0';
		if (rh_store_open(&s, statedir, err, sizeof err) == 0)
			c = 'y';
		else
			c = strstr(err, "database is locked") != NULL ? 'l' :
			    'e';
		rh_store_close(s);
		if (write(out, &c, 1) != 1)
			break;
	}
	_exit(0);
}

/* Asks the child of child_open_store to open the store; its answer. */
static char
open_elsewhere(int to, int from)
{
	char	c = '?';

	ck_assert_int_eq(write(to, "o", 1), 1);
	ck_assert_int_eq(read(from, &c, 1), 1);
	return c;
}

START_TEST(test_open_twice_refused)
{
	pid_t	pid;
	int	to[2], from[2], status;

	ck_assert_int_eq(pipe(to), 0);
	ck_assert_int_eq(pipe(from), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(to[1]);
		close(from[0]);
		child_open_store(to[0], from[1]);
	}
	close(to[0]);
	close(from[1]);
	/* While the store is open, another process cannot open it; once it
	 * is closed, it can. */
	st = open_store();
	put_socket("apollo", "apollo", 1);
	ck_assert_int_eq(open_elsewhere(to[1], from[0]), 'l');
	rh_store_close(st);
	st = NULL;
	ck_assert_int_eq(open_elsewhere(to[1], from[0]), 'y');
	close(to[1]);
	close(from[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}
END_TEST

START_TEST(test_open_bad_path)
{
	struct rh_store	*s = (struct rh_store *)&s;	/* open must reset it */
	char		 err[512] = "";
	int		 fd;

	/* A regular file where a directory of the path should be. */
	snprintf(statedir, sizeof statedir, "%s/file", tmpdir);
	fd = open(statedir, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(rh_store_open(&s, statedir, err, sizeof err), -1);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, "not a directory") != NULL, "err: %s", err);

	snprintf(statedir, sizeof statedir, "%s/file/state", tmpdir);
	err[0] = '\0';
	ck_assert_int_eq(rh_store_open(&s, statedir, err, sizeof err), -1);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, "cannot create") != NULL, "err: %s", err);

	err[0] = '\0';
	ck_assert_int_eq(rh_store_open(&s, "", err, sizeof err), -1);
	ck_assert_ptr_null(s);
	ck_assert_str_ne(err, "");
}
END_TEST

START_TEST(test_open_not_a_database)
{
	struct rh_store	*s;
	char		 path[512], err[512] = "";
	FILE		*f;

	snprintf(path, sizeof path, "%s/a", tmpdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(mkdir(statedir, 0700), 0);
	f = fopen(state_file(path, sizeof path, "aish.db"), "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database at all. ", f);
	fclose(f);
	ck_assert_int_eq(rh_store_open(&s, statedir, err, sizeof err), -1);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, "not a database") != NULL, "err: %s", err);
}
END_TEST

START_TEST(test_open_newer_schema)
{
	struct rh_store	*s;
	sqlite3		*db;
	char		 err[512] = "", path[512];

	st = open_store();
	rh_store_close(st);
	st = NULL;
	/* A later aish-rhetor has upgraded the schema. */
	ck_assert_int_eq(sqlite3_open(state_file(path, sizeof path,
	    "aish.db"), &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version=99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(rh_store_open(&s, statedir, err, sizeof err), -1);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, "newer") != NULL, "err: %s", err);
}
END_TEST

/* The same state as each older schema held it: a socket's unanswered
 * job, the turns of two sockets, the reply counter at 41.  Schema 1 is
 * the first one; 3 is the last with AUTOINCREMENT and a socket column in
 * history; 5 the last before turns had seqs and jobs a fresh flag. */
static const char schema_v1[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE sockets(n INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL UNIQUE, ai_name TEXT NOT NULL, model TEXT,"
	" provider TEXT NOT NULL, prompt TEXT, context_json TEXT,"
	" state TEXT NOT NULL, reason TEXT, created_at INTEGER NOT NULL,"
	" last_activity INTEGER NOT NULL, kind INTEGER NOT NULL);"
	"CREATE TABLE writes(origin TEXT NOT NULL, write_id TEXT NOT NULL,"
	" accepted_at INTEGER NOT NULL, PRIMARY KEY(origin, write_id))"
	" WITHOUT ROWID;"
	"CREATE TABLE jobs(job_id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" origin TEXT NOT NULL, write_id TEXT NOT NULL,"
	" socket_id TEXT NOT NULL, content TEXT NOT NULL);"
	"CREATE INDEX jobs_by_socket ON jobs(socket_id);"
	"CREATE TABLE queue(socket_id TEXT NOT NULL, seq INTEGER NOT NULL,"
	" json TEXT NOT NULL, PRIMARY KEY(socket_id, seq)) WITHOUT ROWID;"
	"CREATE TABLE history(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" socket_id TEXT NOT NULL, role TEXT NOT NULL,"
	" content TEXT NOT NULL, bytes INTEGER NOT NULL);"
	"CREATE INDEX history_by_socket ON history(socket_id, id);"
	"INSERT INTO jobs VALUES(7, 'apollo', 'w1', 'apollo', 'hi');"
	"INSERT INTO history VALUES(2, 'athena', 'user', 'hi', 2);"
	"INSERT INTO history VALUES(3, 'apollo', 'user', 'hello', 5);"
	"INSERT INTO history VALUES(4, 'apollo', 'assistant', 'apollo: hello',"
	" 13);"
	"INSERT INTO history VALUES(5, 'athena', 'assistant', 'athena: hi',"
	" 10);"
	"INSERT INTO meta VALUES('seq', 41);"
	"PRAGMA user_version=1;";

static const char schema_v3[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE sockets(n INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL UNIQUE, ai_name TEXT NOT NULL, model TEXT,"
	" provider TEXT NOT NULL, prompt TEXT, context_json TEXT,"
	" state TEXT NOT NULL, reason TEXT, created_at INTEGER NOT NULL,"
	" last_activity INTEGER NOT NULL, kind INTEGER NOT NULL);"
	"CREATE TABLE writes(origin TEXT NOT NULL, write_id TEXT NOT NULL,"
	" accepted_at INTEGER NOT NULL, PRIMARY KEY(origin, write_id))"
	" WITHOUT ROWID;"
	"CREATE TABLE jobs(job_id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" origin TEXT NOT NULL, write_id TEXT NOT NULL,"
	" socket_id TEXT NOT NULL, content TEXT NOT NULL);"
	"CREATE INDEX jobs_by_socket ON jobs(socket_id);"
	"CREATE TABLE queue(socket_id TEXT NOT NULL, seq INTEGER NOT NULL,"
	" json TEXT NOT NULL, PRIMARY KEY(socket_id, seq)) WITHOUT ROWID;"
	"CREATE TABLE history(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" socket_id TEXT NOT NULL, role TEXT NOT NULL,"
	" content TEXT NOT NULL, bytes INTEGER NOT NULL);"
	"CREATE INDEX history_by_socket ON history(socket_id, id, bytes);"
	"CREATE TABLE groups(n INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);"
	"CREATE TABLE group_members(group_name TEXT NOT NULL,"
	" socket_id TEXT NOT NULL, pos INTEGER NOT NULL,"
	" PRIMARY KEY(group_name, socket_id)) WITHOUT ROWID;"
	"CREATE INDEX group_members_by_socket ON group_members(socket_id);"
	"INSERT INTO jobs VALUES(7, 'apollo', 'w1', 'apollo', 'hi');"
	"INSERT INTO history VALUES(2, 'athena', 'user', 'hi', 2);"
	"INSERT INTO history VALUES(3, 'apollo', 'user', 'hello', 5);"
	"INSERT INTO history VALUES(4, 'apollo', 'assistant', 'apollo: hello',"
	" 13);"
	"INSERT INTO history VALUES(5, 'athena', 'assistant', 'athena: hi',"
	" 10);"
	"INSERT INTO meta VALUES('seq', 41);"
	"PRAGMA user_version=3;";

/* Schema 5: athena's turns are number 1's (ids from 1 << 32), apollo's
 * number 2's. */
static const char schema_v5[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE sockets(n INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL UNIQUE, ai_name TEXT NOT NULL, model TEXT,"
	" provider TEXT NOT NULL, prompt TEXT, context_json TEXT,"
	" state TEXT NOT NULL, reason TEXT, created_at INTEGER NOT NULL,"
	" last_activity INTEGER NOT NULL, kind INTEGER NOT NULL);"
	"CREATE TABLE writes(origin TEXT NOT NULL, write_id TEXT NOT NULL,"
	" accepted_at INTEGER NOT NULL, PRIMARY KEY(origin, write_id))"
	" WITHOUT ROWID;"
	"CREATE TABLE queue(socket_id TEXT NOT NULL, seq INTEGER NOT NULL,"
	" json TEXT NOT NULL, PRIMARY KEY(socket_id, seq)) WITHOUT ROWID;"
	"CREATE TABLE groups(n INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL);"
	"CREATE TABLE group_members(group_name TEXT NOT NULL,"
	" socket_id TEXT NOT NULL, pos INTEGER NOT NULL,"
	" PRIMARY KEY(group_name, socket_id)) WITHOUT ROWID;"
	"CREATE INDEX group_members_by_socket ON group_members(socket_id);"
	"CREATE TABLE jobs(job_id INTEGER PRIMARY KEY, origin TEXT NOT NULL,"
	" write_id TEXT NOT NULL, socket_id TEXT NOT NULL,"
	" content TEXT NOT NULL);"
	"CREATE TABLE history(id INTEGER PRIMARY KEY, role TEXT NOT NULL,"
	" content TEXT NOT NULL, bytes INTEGER NOT NULL);"
	"INSERT INTO jobs VALUES(7, 'apollo', 'w1', 'apollo', 'hi');"
	"INSERT INTO meta VALUES('history_of/athena', 1);"
	"INSERT INTO meta VALUES('history_of/apollo', 2);"
	"INSERT INTO meta VALUES('history_sockets', 2);"
	"INSERT INTO history VALUES(4294967297, 'user', 'hi', 2);"
	"INSERT INTO history VALUES(4294967298, 'assistant', 'athena: hi', 10);"
	"INSERT INTO history VALUES(8589934593, 'user', 'hello', 5);"
	"INSERT INTO history VALUES(8589934594, 'assistant', 'apollo: hello',"
	" 13);"
	"INSERT INTO meta VALUES('seq', 41);"
	"PRAGMA user_version=5;";

static const char *const old_schemas[] = { schema_v1, schema_v3, schema_v5 };

/* Records every job as origin/write_id/socket_id/content/fresh. */
static void
see_job_fresh(void *ud, const struct rh_job_row *r)
{
	see("%s/%s/%s/%s/%d", r->origin, r->write_id, r->socket_id,
	    r->content, r->fresh);
}

/* Records turns, newest first, as role:content@seq, the time as +T or
 * "-" when not known. */
static int
see_page_turn(void *ud, const struct rh_turn_row *r)
{
	if (r->at > 0)
		see("%s:%s@%lld+%lld", r->role, r->content, (long long)r->seq,
		    (long long)r->at);
	else
		see("%s:%s@%lld-", r->role, r->content, (long long)r->seq);
	return 0;
}

/* Collects a page of a socket's history into seen. */
static void
list_page(const char *id, int64_t before, int limit)
{
	seen[0] = '\0';
	ck_assert_msg(rh_store_history_page(st, id, 0, 0, before, limit,
	    see_page_turn, NULL) == 0, "%s", rh_store_error(st));
}

/* A store of each older schema opens as the newest: the unanswered job
 * (not fresh), the history with seqs above every seq given out before,
 * in its order, and the counter past them; new rows come after. */
START_TEST(test_upgrade_old_schemas)
{
	sqlite3	*db;
	char	 path[512];

	/* The runs of the loop share the scratch directory. */
	snprintf(path, sizeof path, "%s/a", tmpdir);
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(mkdir(statedir, 0700), 0);
	ck_assert_int_eq(sqlite3_open(state_file(path, sizeof path,
	    "aish.db"), &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, old_schemas[_i], NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	st = open_store();
	list_jobs(see_job_fresh);
	ck_assert_str_eq(seen, "apollo/w1/apollo/hi/0");
	ck_assert_int_gt(rh_store_job_add(st, "apollo", "w2", "apollo", "x",
	    1), 7);
	list_jobs(see_job_fresh);
	ck_assert_str_eq(seen, "apollo/w1/apollo/hi/0,apollo/w2/apollo/x/1");
	ck_assert_int_eq(rh_store_history_count(st, "apollo", 0, 0), 2);
	/* Each socket's turns stay its own, in their order; the old ones
	 * have no time. */
	list_history("athena");
	ck_assert_str_eq(seen, "user:hi,assistant:athena: hi");
	/* The seqs follow the ids: by socket number, which schema 5 gave
	 * in the order of the socket ids (apollo first), and then in the
	 * order the turns were stored. */
	list_page("athena", 0, 10);
	if (_i == 2)
		ck_assert_str_eq(seen, "assistant:athena: hi@43-,user:hi@42-");
	else
		ck_assert_str_eq(seen, "assistant:athena: hi@45-,user:hi@44-");
	list_page("apollo", 0, 10);
	if (_i == 2)
		ck_assert_str_eq(seen,
		    "assistant:apollo: hello@45-,user:hello@44-");
	else
		ck_assert_str_eq(seen,
		    "assistant:apollo: hello@43-,user:hello@42-");
	ck_assert_int_eq(rh_store_history_append(st, "apollo", "user",
	    "again", 0, 1000, 2, 0), 0);
	list_history("apollo");
	ck_assert_str_eq(seen, "assistant:apollo: hello,user:again");
	list_page("apollo", 0, 10);
	ck_assert_msg(strncmp(seen, "user:again@46+1000,", 19) == 0, "%s",
	    seen);
	ck_assert_int_eq(rh_store_history_append(st, "hermes", "user", "new",
	    0, 0, 0, 0), 0);
	list_history("hermes");
	ck_assert_str_eq(seen, "user:new");
	ck_assert_int_eq(rh_store_next_seq(st), 48);
	/* Opened again, it stays as it is. */
	reopen();
	list_page("athena", 1, 10);
	ck_assert_str_eq(seen, "");
	list_page("athena", 0, 1);
	ck_assert_msg(strncmp(seen, "assistant:athena: hi@4", 22) == 0, "%s",
	    seen);
	ck_assert_int_gt(rh_store_next_seq(st), 48);
}
END_TEST

/* A page of history: the newest LIMIT turns with seq < BEFORE, within
 * the caps, newest first; a callback may stop early. */
static int
stop_after_one(void *ud, const struct rh_turn_row *r)
{
	see("%s", r->content);
	return 1;
}

START_TEST(test_history_page)
{
	int	i;
	char	text[16];

	st = open_store();
	/* Turns 1..6 with seqs 10, 20, ... 60; a question without a seq
	 * takes the next one from the counter. */
	for (i = 1; i <= 6; i++) {
		snprintf(text, sizeof text, "t%d", i);
		ck_assert_int_eq(rh_store_history_append(st, "s", i % 2 ?
		    "user" : "assistant", text, 10 * i, 5000 + i, 0, 0), 0);
	}
	list_page("s", 0, 100);
	ck_assert_str_eq(seen, "assistant:t6@60+5006,user:t5@50+5005,"
	    "assistant:t4@40+5004,user:t3@30+5003,assistant:t2@20+5002,"
	    "user:t1@10+5001");
	list_page("s", 0, 2);
	ck_assert_str_eq(seen, "assistant:t6@60+5006,user:t5@50+5005");
	list_page("s", 50, 2);
	ck_assert_str_eq(seen, "assistant:t4@40+5004,user:t3@30+5003");
	list_page("s", 41, 100);
	ck_assert_str_eq(seen, "assistant:t4@40+5004,user:t3@30+5003,"
	    "assistant:t2@20+5002,user:t1@10+5001");
	list_page("s", 10, 100);
	ck_assert_str_eq(seen, "");
	list_page("s", 0, 0);
	ck_assert_str_eq(seen, "");
	list_page("nobody", 0, 10);
	ck_assert_str_eq(seen, "");
	/* Within the caps only: 4 turns. */
	seen[0] = '\0';
	ck_assert_int_eq(rh_store_history_page(st, "s", 4,
	    0, 0, 100, see_page_turn, NULL), 0);
	ck_assert_str_eq(seen, "assistant:t6@60+5006,user:t5@50+5005,"
	    "assistant:t4@40+5004,user:t3@30+5003");
	seen[0] = '\0';
	ck_assert_int_eq(rh_store_history_page(st, "s", 0,
	    0, 0, 100, stop_after_one, NULL), 0);
	ck_assert_str_eq(seen, "t6");
	/* A turn without a seq takes the next one. */
	ck_assert_int_eq(rh_store_history_append(st, "s", "user", "t7",
	    0, 0, 0, 0), 0);
	list_page("s", 0, 1);
	ck_assert_str_eq(seen, "user:t7@1-");
}
END_TEST

/* ------------------------------------------------------------- sockets */

START_TEST(test_socket_put_order)
{
	struct rh_socket_row	row = {
		.id = "apollo", .ai_name = "apollo2", .model = "llama3.2",
		.provider = "ollama", .prompt = "You predict.",
		.context_json = "{\"k\":1}", .state = "active",
		.created_at = 1, .last_activity = 50, .kind = 2
	};

	st = open_store();
	put_socket("apollo", "apollo", 1);
	put_socket("athena", "athena", 2);
	put_socket("hermes", "hermes", 3);
	list_sockets(see_socket_id);
	ck_assert_str_eq(seen, "apollo,athena,hermes");

	/* Replacing a socket keeps its place and changes its fields. */
	ck_assert_int_eq(rh_store_socket_put(st, &row), 0);
	list_sockets(see_socket);
	ck_assert_str_eq(seen, "apollo/apollo2/llama3.2/active/-/50,"
	    "athena/athena/-/active/-/2,hermes/hermes/-/active/-/3");

	reopen();
	list_sockets(see_socket);
	ck_assert_str_eq(seen, "apollo/apollo2/llama3.2/active/-/50,"
	    "athena/athena/-/active/-/2,hermes/hermes/-/active/-/3");

	/* A deleted socket made again goes to the end. */
	ck_assert_int_eq(rh_store_socket_delete(st, "apollo"), 0);
	put_socket("apollo", "apollo", 4);
	list_sockets(see_socket_id);
	ck_assert_str_eq(seen, "athena,hermes,apollo");
}
END_TEST

START_TEST(test_socket_fields)
{
	struct rh_socket_row	row = {
		.id = "x", .ai_name = "x", .model = "m", .provider = "p",
		.prompt = "pr", .context_json = "{}", .state = "unresponsive",
		.reason = "r", .created_at = 7, .last_activity = 8, .kind = 3
	};
	struct rh_socket_row	bad = { .id = "y" };

	st = open_store();
	ck_assert_int_eq(rh_store_socket_put(st, &row), 0);
	list_sockets(see_socket);
	ck_assert_str_eq(seen, "x/x/m/unresponsive/r/8");

	/* Required fields missing: a clear error, nothing stored. */
	ck_assert_int_eq(rh_store_socket_put(st, &bad), -1);
	ck_assert_ptr_nonnull(strstr(rh_store_error(st), "NOT NULL"));
	ck_assert_int_eq(rh_store_socket_put(st, NULL), -1);
	ck_assert_str_eq(rh_store_error(st), "socket row is missing");
	list_sockets(see_socket_id);
	ck_assert_str_eq(seen, "x");
}
END_TEST

/* Checks every column of the one stored socket through a callback. */
static void
check_full_row(void *ud, const struct rh_socket_row *r)
{
	ck_assert_str_eq(r->provider, "p");
	ck_assert_str_eq(r->prompt, "pr");
	ck_assert_str_eq(r->context_json, "{}");
	ck_assert_int_eq(r->created_at, 7);
	ck_assert_int_eq(r->kind, 3);
	see("checked");
}

START_TEST(test_socket_all_columns)
{
	struct rh_socket_row	row = {
		.id = "x", .ai_name = "x", .model = "m", .provider = "p",
		.prompt = "pr", .context_json = "{}", .state = "active",
		.created_at = 7, .last_activity = 8, .kind = 3
	};

	st = open_store();
	ck_assert_int_eq(rh_store_socket_put(st, &row), 0);
	reopen();
	list_sockets(check_full_row);
	ck_assert_str_eq(seen, "checked");
}
END_TEST

START_TEST(test_socket_touch_state)
{
	st = open_store();
	put_socket("apollo", "apollo", 1);
	put_socket("athena", "athena", 2);
	ck_assert_int_eq(rh_store_socket_touch_later(st, "apollo", 99), 0);
	ck_assert_int_eq(rh_store_socket_set_state(st, "athena",
	    "unresponsive", "provider failed 3 times"), 0);
	reopen();
	list_sockets(see_socket);
	ck_assert_str_eq(seen, "apollo/apollo/-/active/-/99,"
	    "athena/athena/-/unresponsive/provider failed 3 times/2");
	ck_assert_int_eq(rh_store_socket_set_state(st, "athena", "active",
	    NULL), 0);
	list_sockets(see_socket);
	ck_assert_str_eq(seen, "apollo/apollo/-/active/-/99,"
	    "athena/athena/-/active/-/2");
	/* An unknown id changes nothing and is no storage error. */
	ck_assert_int_eq(rh_store_socket_touch_later(st, "nobody", 5), 0);
	ck_assert_int_eq(rh_store_flush(st), 0);
	ck_assert_int_eq(rh_store_socket_set_state(st, "athena", NULL, NULL),
	    -1);
}
END_TEST

START_TEST(test_later)
{
	int	dropped;

	st = open_store();
	put_socket("apollo", "apollo", 1);
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 1, "{1}", 10,
	    &dropped), 0);
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 2, "{2}", 10,
	    &dropped), 0);
	ck_assert_int_eq(rh_store_queue_remove_later(st, "apollo", 1), 0);
	ck_assert_int_eq(rh_store_socket_touch_later(st, "apollo", 50), 0);
	ck_assert_int_eq(rh_store_socket_touch_later(st, "apollo", 60), 0);
	/* Two touches of one socket are one change, and nothing noted is
	 * stored before a flush... */
	ck_assert_int_eq(rh_store_pending(st), 2);
	list_sockets(see_socket);
	ck_assert_str_eq(seen, "apollo/apollo/-/active/-/1");
	/* ...except the removals, before a read of the queue. */
	list_queue("apollo");
	ck_assert_str_eq(seen, "2={2}");
	ck_assert_int_eq(rh_store_pending(st), 1);
	list_sockets(see_socket);
	ck_assert_str_eq(seen, "apollo/apollo/-/active/-/1");
	ck_assert_int_eq(rh_store_flush(st), 0);
	ck_assert_int_eq(rh_store_pending(st), 0);
	list_sockets(see_socket);
	ck_assert_str_eq(seen, "apollo/apollo/-/active/-/60");
	/* A push stores the removals waiting first, so its cap counts only
	 * the replies still queued. */
	ck_assert_int_eq(rh_store_queue_remove_later(st, "apollo", 2), 0);
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 3, "{3}", 1,
	    &dropped), 0);
	ck_assert_int_eq(dropped, 0);
	list_queue("apollo");
	ck_assert_str_eq(seen, "3={3}");
	/* A flush is durable. */
	ck_assert_int_eq(rh_store_socket_touch_later(st, "apollo", 70), 0);
	ck_assert_int_eq(rh_store_flush(st), 0);
	ck_assert_int_eq(rh_store_pending(st), 0);
	reopen();
	list_sockets(see_socket);
	ck_assert_str_eq(seen, "apollo/apollo/-/active/-/70");
}
END_TEST

START_TEST(test_socket_delete_cascades)
{
	int	dropped;

	st = open_store();
	put_socket("apollo", "apollo", 1);
	put_socket("group", "group", 2);
	ck_assert_int_eq(rh_store_history_append(st, "apollo", "user", "hi",
	    0, 0, 0, 0), 0);
	ck_assert_int_eq(rh_store_history_append(st, "group", "user", "yo",
	    0, 0, 0, 0), 0);
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 1, "{}", 10,
	    &dropped), 0);
	ck_assert_int_eq(rh_store_queue_push(st, "group", 2, "{}", 10,
	    &dropped), 0);
	ck_assert_int_eq(rh_store_write_accept(st, "apollo", "w1", 1), 1);
	ck_assert_int_eq(rh_store_write_accept(st, "group", "w1", 1), 1);
	ck_assert_int_gt(rh_store_job_add(st, "apollo", "w1", "apollo", "a", 0),
	    0);
	/* A job written to the group but answered by apollo. */
	ck_assert_int_gt(rh_store_job_add(st, "group", "w1", "apollo", "b", 0),
	    0);
	ck_assert_int_gt(rh_store_job_add(st, "group", "w1", "group", "c", 0),
	    0);

	ck_assert_int_eq(rh_store_socket_delete(st, "apollo"), 0);
	list_sockets(see_socket_id);
	ck_assert_str_eq(seen, "group");
	ck_assert_int_eq(rh_store_history_count(st, "apollo", 0, 0), 0);
	ck_assert_int_eq(rh_store_queue_count(st, "apollo"), 0);
	list_jobs(see_job);
	ck_assert_str_eq(seen, "group/w1/group/c");
	ck_assert_int_eq(rh_store_write_accept(st, "apollo", "w1", 2), 1);
	/* The other socket keeps everything. */
	ck_assert_int_eq(rh_store_history_count(st, "group", 0, 0), 1);
	ck_assert_int_eq(rh_store_queue_count(st, "group"), 1);
	ck_assert_int_eq(rh_store_write_accept(st, "group", "w1", 2), 0);
	/* A socket made again under the old name starts with no history,
	 * also after a reopen, and its turns do not mix with another's. */
	put_socket("apollo", "apollo", 3);
	ck_assert_int_eq(rh_store_history_append(st, "apollo", "user", "new",
	    0, 0, 0, 0), 0);
	reopen();
	list_history("apollo");
	ck_assert_str_eq(seen, "user:new");
	list_history("group");
	ck_assert_str_eq(seen, "user:yo");

	/* Deleting an unknown socket is harmless. */
	ck_assert_int_eq(rh_store_socket_delete(st, "nobody"), 0);
	ck_assert_int_eq(rh_store_socket_delete(st, NULL), -1);
}
END_TEST

START_TEST(test_socket_delete_in_transaction)
{
	st = open_store();
	put_socket("apollo", "apollo", 1);
	ck_assert_int_eq(rh_store_history_append(st, "apollo", "user", "hi",
	    0, 0, 0, 0), 0);

	/* Inside the caller's transaction, a rollback undoes the delete. */
	ck_assert_int_eq(rh_store_begin(st), 0);
	ck_assert_int_eq(rh_store_socket_delete(st, "apollo"), 0);
	list_sockets(see_socket_id);
	ck_assert_str_eq(seen, "");
	ck_assert_int_eq(rh_store_rollback(st), 0);
	list_sockets(see_socket_id);
	ck_assert_str_eq(seen, "apollo");
	ck_assert_int_eq(rh_store_history_count(st, "apollo", 0, 0), 1);

	ck_assert_int_eq(rh_store_begin(st), 0);
	ck_assert_int_eq(rh_store_socket_delete(st, "apollo"), 0);
	ck_assert_int_eq(rh_store_commit(st), 0);
	reopen();
	list_sockets(see_socket_id);
	ck_assert_str_eq(seen, "");
	ck_assert_int_eq(rh_store_history_count(st, "apollo", 0, 0), 0);
}
END_TEST

/* ------------------------------------------------------------ counters */

START_TEST(test_counters)
{
	int64_t	seq, a, b;
	int	i;

	st = open_store();
	ck_assert_int_eq(rh_store_next_seq(st), 1);
	ck_assert_int_eq(rh_store_next_seq(st), 2);
	ck_assert_int_eq(rh_store_next_socket_number(st, "apollo"), 1);
	ck_assert_int_eq(rh_store_next_socket_number(st, "apollo"), 2);
	ck_assert_int_eq(rh_store_next_socket_number(st, "athena"), 1);
	ck_assert_int_eq(rh_store_next_socket_number(st, NULL), -1);
	seq = 2;
	a = 2;
	b = 1;
	for (i = 0; i < 3; i++) {
		reopen();
		int64_t	s2 = rh_store_next_seq(st);
		int64_t	a2 = rh_store_next_socket_number(st, "apollo");
		int64_t	b2 = rh_store_next_socket_number(st, "athena");

		ck_assert_int_gt(s2, seq);
		ck_assert_int_gt(a2, a);
		ck_assert_int_gt(b2, b);
		seq = s2;
		a = a2;
		b = b2;
	}
	/* Seqs skip ahead after a reopen (they are reserved in blocks);
	 * socket numbers go on one by one. */
	ck_assert_int_eq(a, 5);
	ck_assert_int_eq(b, 4);
}
END_TEST

START_TEST(test_counter_rollback)
{
	int64_t	seq;

	st = open_store();
	seq = rh_store_next_seq(st);
	/* A value taken in a rolled-back transaction is given out again;
	 * a committed one never is. */
	ck_assert_int_eq(rh_store_begin(st), 0);
	ck_assert_int_eq(rh_store_next_seq(st), seq + 1);
	ck_assert_int_eq(rh_store_rollback(st), 0);
	ck_assert_int_eq(rh_store_next_seq(st), seq + 1);
	ck_assert_int_eq(rh_store_next_seq(st), seq + 2);
}
END_TEST

START_TEST(test_seq_blocks)
{
	int64_t	first, seq, i;

	st = open_store();
	first = rh_store_next_seq(st);
	/* Past a block boundary inside a transaction that is rolled back:
	 * the values and their reservation go back together. */
	ck_assert_int_eq(rh_store_begin(st), 0);
	for (i = 1; i <= 1500; i++)
		ck_assert_int_eq(rh_store_next_seq(st), first + i);
	ck_assert_int_eq(rh_store_rollback(st), 0);
	ck_assert_int_eq(rh_store_next_seq(st), first + 1);
	/* The same, committed, then a reopen: never a value given out. */
	ck_assert_int_eq(rh_store_begin(st), 0);
	for (i = 2; i <= 3000; i++)
		seq = rh_store_next_seq(st);
	ck_assert_int_eq(seq, first + 3000);
	ck_assert_int_eq(rh_store_commit(st), 0);
	reopen();
	ck_assert_int_gt(rh_store_next_seq(st), seq);
}
END_TEST

/* ------------------------------------------------------ writes and jobs */

START_TEST(test_write_accept)
{
	st = open_store();
	ck_assert_int_eq(rh_store_write_accept(st, "apollo", "c-1", 10), 1);
	ck_assert_int_eq(rh_store_write_accept(st, "apollo", "c-1", 11), 0);
	ck_assert_int_eq(rh_store_write_accept(st, "athena", "c-1", 12), 1);
	ck_assert_int_eq(rh_store_write_accept(st, "apollo", "c-2", 13), 1);
	reopen();
	ck_assert_int_eq(rh_store_write_accept(st, "apollo", "c-1", 14), 0);
	ck_assert_int_eq(rh_store_write_accept(st, "athena", "c-1", 14), 0);
	ck_assert_int_eq(rh_store_write_accept(st, "athena", "c-3", 14), 1);
	ck_assert_int_eq(rh_store_write_accept(st, "athena", NULL, 14), -1);
	ck_assert_str_eq(rh_store_error(st), "write id is missing");
}
END_TEST

/* Old write ids are forgotten a window at a time; new ones stay known. */
START_TEST(test_writes_forget)
{
	const char	*origins[] = { "apollo", "athena", "hermes" };
	char		 id[32];
	int		 i, n, total = 0, calls = 0;

	st = open_store();
	/* 900 ids over three origins; every third one is old. */
	ck_assert_int_eq(rh_store_begin(st), 0);
	for (i = 0; i < 900; i++) {
		snprintf(id, sizeof id, "w-%04d", i);
		ck_assert_int_eq(rh_store_write_accept(st, origins[i % 3], id,
		    i % 3 == 0 ? 100 : 1000), 1);
	}
	ck_assert_int_eq(rh_store_commit(st), 0);
	/* Windows of 100 rows: a full sweep takes nine calls, and the
	 * tenth starts again at the start. */
	for (calls = 0; calls < 9; calls++) {
		n = rh_store_writes_forget(st, 500, 100);
		ck_assert_int_ge(n, 0);
		ck_assert_int_le(n, 100);
		total += n;
	}
	ck_assert_int_eq(total, 300);
	ck_assert_int_eq(rh_store_writes_forget(st, 500, 100), 0);
	/* An old id is new again; a recent one is still a repeat. */
	ck_assert_int_eq(rh_store_write_accept(st, "apollo", "w-0000", 2000),
	    1);
	ck_assert_int_eq(rh_store_write_accept(st, "athena", "w-0001", 2000),
	    0);
	/* A later cutoff forgets the rest, across a reopen. */
	reopen();
	total = 0;
	for (calls = 0; calls < 12; calls++)
		total += rh_store_writes_forget(st, 5000, 100);
	ck_assert_int_eq(total, 601);
	ck_assert_int_eq(rh_store_write_accept(st, "athena", "w-0001", 6000),
	    1);
	ck_assert_int_eq(rh_store_writes_forget(st, 5000, 0), -1);
}
END_TEST

START_TEST(test_writes_forget_skips_only_young)
{
	st = open_store();
	ck_assert_int_eq(rh_store_write_accept(st, "apollo", "w1", 1000), 1);
	ck_assert_int_eq(rh_store_write_accept(st, "apollo", "w2", 1000), 1);
	/* A whole sweep finds nothing older than 1000 ... */
	ck_assert_int_eq(rh_store_writes_forget(st, 500, 100), 0);
	ck_assert_int_eq(rh_store_writes_forget(st, 900, 100), 0);
	/* ... but an id accepted since at an older time is still swept. */
	ck_assert_int_eq(rh_store_write_accept(st, "athena", "w3", 200), 1);
	ck_assert_int_eq(rh_store_writes_forget(st, 500, 100), 1);
	ck_assert_int_eq(rh_store_write_accept(st, "athena", "w3", 2000), 1);
	/* Once the cutoff passes the oldest, the sweeps read again. */
	ck_assert_int_eq(rh_store_writes_forget(st, 1500, 1), 1);
	ck_assert_int_eq(rh_store_writes_forget(st, 1500, 1), 1);
	ck_assert_int_eq(rh_store_writes_forget(st, 1500, 1), 0);
	ck_assert_int_eq(rh_store_writes_forget(st, 1500, 1), 0);
	ck_assert_int_eq(rh_store_write_accept(st, "apollo", "w1", 3000), 1);
	ck_assert_int_eq(rh_store_write_accept(st, "athena", "w3", 3000), 0);
}
END_TEST

START_TEST(test_jobs)
{
	int64_t	j1, j2, j3, j4;
	char	want[128];

	st = open_store();
	j1 = rh_store_job_add(st, "apollo", "w1", "apollo", "one", 0);
	j2 = rh_store_job_add(st, "team-chat-all", "w2", "athena", "two", 0);
	j3 = rh_store_job_add(st, "team-chat-all", "w2", "hermes", "two", 0);
	ck_assert_int_gt(j1, 0);
	ck_assert_int_gt(j2, j1);
	ck_assert_int_gt(j3, j2);
	list_jobs(see_job);
	ck_assert_str_eq(seen, "apollo/w1/apollo/one,"
	    "team-chat-all/w2/athena/two,team-chat-all/w2/hermes/two");
	ck_assert_int_eq(rh_store_job_delete(st, j2), 0);
	ck_assert_int_eq(rh_store_job_delete(st, 12345), 0);
	reopen();
	list_jobs(see_job_id);
	snprintf(want, sizeof want, "%lld,%lld", (long long)j1,
	    (long long)j3);
	ck_assert_str_eq(seen, want);
	/* A new job's id is above every stored one: jobs resume oldest
	 * first. */
	ck_assert_int_eq(rh_store_job_delete(st, j3), 0);
	j4 = rh_store_job_add(st, "apollo", "w3", "apollo", "three", 0);
	ck_assert_int_gt(j4, j1);
	list_jobs(see_job_id);
	snprintf(want, sizeof want, "%lld,%lld", (long long)j1,
	    (long long)j4);
	ck_assert_str_eq(seen, want);
	ck_assert_int_eq(rh_store_job_add(st, "apollo", "w4", "apollo", NULL,
	    0), -1);
	ck_assert_str_eq(rh_store_error(st), "content is missing");
}
END_TEST

/* -------------------------------------------------------------- queues */

START_TEST(test_queue)
{
	int	dropped = -1;

	st = open_store();
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 3, "{\"n\":3}", 10,
	    &dropped), 0);
	ck_assert_int_eq(dropped, 0);
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 5, "{\"n\":5}", 10,
	    NULL), 0);
	ck_assert_int_eq(rh_store_queue_push(st, "athena", 4, "{\"n\":4}", 10,
	    NULL), 0);
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 7, "{\"n\":7}", 10,
	    &dropped), 0);
	list_queue("apollo");
	ck_assert_str_eq(seen, "3={\"n\":3},5={\"n\":5},7={\"n\":7}");
	ck_assert_int_eq(rh_store_queue_count(st, "apollo"), 3);
	ck_assert_int_eq(rh_store_queue_count(st, "athena"), 1);
	ck_assert_int_eq(rh_store_queue_count(st, "nobody"), 0);

	ck_assert_int_eq(rh_store_queue_remove(st, "apollo", 5), 0);
	list_queue("apollo");
	ck_assert_str_eq(seen, "3={\"n\":3},7={\"n\":7}");

	/* The same seq twice in one queue is refused. */
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 7, "{}", 10,
	    &dropped), -1);
	ck_assert_ptr_nonnull(strstr(rh_store_error(st), "UNIQUE"));
	ck_assert_int_eq(rh_store_queue_count(st, "apollo"), 2);

	reopen();
	list_queue("apollo");
	ck_assert_str_eq(seen, "3={\"n\":3},7={\"n\":7}");
	ck_assert_int_eq(rh_store_queue_clear(st, "apollo"), 0);
	ck_assert_int_eq(rh_store_queue_count(st, "apollo"), 0);
	ck_assert_int_eq(rh_store_queue_count(st, "athena"), 1);
	ck_assert_int_eq(rh_store_queue_count(st, NULL), -1);
}
END_TEST

START_TEST(test_queue_cap)
{
	int	dropped = -1, i;

	st = open_store();
	for (i = 1; i <= 3; i++) {
		ck_assert_int_eq(rh_store_queue_push(st, "apollo", i, "{}", 3,
		    &dropped), 0);
		ck_assert_int_eq(dropped, 0);
	}
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 4, "{}", 3,
	    &dropped), 0);
	ck_assert_int_eq(dropped, 1);
	list_queue("apollo");
	ck_assert_str_eq(seen, "2={},3={},4={}");
	/* A smaller cap drops several at once, oldest first. */
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 5, "{}", 2,
	    &dropped), 0);
	ck_assert_int_eq(dropped, 2);
	list_queue("apollo");
	ck_assert_str_eq(seen, "4={},5={}");
	/* A cap of 0 means no limit. */
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 6, "{}", 0,
	    &dropped), 0);
	ck_assert_int_eq(dropped, 0);
	ck_assert_int_eq(rh_store_queue_count(st, "apollo"), 3);
}
END_TEST

/* ------------------------------------------------------------- history */

START_TEST(test_history_turns)
{
	st = open_store();
	ck_assert_int_eq(rh_store_history_append(st, "apollo", "user", "q1",
	    0, 0, 4, 0), 0);
	ck_assert_int_eq(rh_store_history_append(st, "apollo", "assistant",
	    "a1", 0, 0, 4, 0), 0);
	ck_assert_int_eq(rh_store_history_append(st, "athena", "user", "z",
	    0, 0, 4, 0), 0);
	ck_assert_int_eq(rh_store_history_append(st, "apollo", "user", "q2",
	    0, 0, 4, 0), 0);
	ck_assert_int_eq(rh_store_history_append(st, "apollo", "assistant",
	    "a2", 0, 0, 4, 0), 0);
	list_history("apollo");
	ck_assert_str_eq(seen, "user:q1,assistant:a1,user:q2,assistant:a2");
	ck_assert_int_eq(rh_store_history_append(st, "apollo", "user", "q3",
	    0, 0, 4, 0), 0);
	list_history("apollo");
	ck_assert_str_eq(seen, "assistant:a1,user:q2,assistant:a2,user:q3");
	ck_assert_int_eq(rh_store_history_count(st, "apollo", 0, 0), 4);
	ck_assert_int_eq(rh_store_history_count(st, "athena", 0, 0), 1);
	/* A limit of one keeps only the turn just added. */
	ck_assert_int_eq(rh_store_history_append(st, "apollo", "assistant",
	    "a3", 0, 0, 1, 0), 0);
	list_history("apollo");
	ck_assert_str_eq(seen, "assistant:a3");

	reopen();
	list_history("apollo");
	ck_assert_str_eq(seen, "assistant:a3");
	ck_assert_int_eq(rh_store_history_clear(st, "apollo"), 0);
	ck_assert_int_eq(rh_store_history_count(st, "apollo", 0, 0), 0);
	ck_assert_int_eq(rh_store_history_count(st, "athena", 0, 0), 1);
}
END_TEST

START_TEST(test_history_bytes)
{
	st = open_store();
	/* 10 bytes each; the limit is 25 bytes. */
	ck_assert_int_eq(rh_store_history_append(st, "s", "user",
	    "0123456789", 0, 0, 0, 25), 0);
	ck_assert_int_eq(rh_store_history_append(st, "s", "assistant",
	    "abcdefghij", 0, 0, 0, 25), 0);
	ck_assert_int_eq(rh_store_history_count(st, "s", 0, 0), 2);
	ck_assert_int_eq(rh_store_history_append(st, "s", "user",
	    "ABCDEFGHIJ", 0, 0, 0, 25), 0);
	list_history("s");
	ck_assert_str_eq(seen, "assistant:abcdefghij,user:ABCDEFGHIJ");
	/* A turn larger than the limit on its own is still kept. */
	ck_assert_int_eq(rh_store_history_append(st, "s", "assistant",
	    "this turn is longer than twenty-five bytes", 0, 0, 0, 25), 0);
	list_history("s");
	ck_assert_str_eq(seen,
	    "assistant:this turn is longer than twenty-five bytes");
	/* Both limits at once: whichever bites first. */
	ck_assert_int_eq(rh_store_history_append(st, "s", "user", "12345",
	    0, 0, 10, 50), 0);
	ck_assert_int_eq(rh_store_history_append(st, "s", "user", "67890",
	    0, 0, 2, 50), 0);
	list_history("s");
	ck_assert_str_eq(seen, "user:12345,user:67890");
	/* Multibyte content counts bytes, not characters. */
	ck_assert_int_eq(rh_store_history_append(st, "s", "user",
	    "\xc3\xa9\xc3\xa9\xc3\xa9", 0, 0, 0, 11), 0);
	list_history("s");
	ck_assert_str_eq(seen, "user:67890,user:\xc3\xa9\xc3\xa9\xc3\xa9");
	ck_assert_int_eq(rh_store_history_append(st, "s", NULL, "x", 0, 0, 0,
	    0), -1);
	ck_assert_str_eq(rh_store_error(st), "role is missing");
}
END_TEST

START_TEST(test_history_batches)
{
	int	i;

	st = open_store();
	/* Sixteen turns kept: the seventeenth and eighteenth stay stored,
	 * unseen by readers given the limit; the nineteenth trims down to
	 * sixteen. */
	for (i = 1; i <= 18; i++) {
		snprintf(seen, sizeof seen, "t%02d", i);
		ck_assert_int_eq(rh_store_history_append(st, "s", "user", seen,
		    0, 0, 16, 0), 0);
	}
	ck_assert_int_eq(rh_store_history_count(st, "s", 0, 0), 18);
	ck_assert_int_eq(rh_store_history_count(st, "s", 16, 0), 16);
	seen[0] = '\0';
	ck_assert_int_eq(rh_store_history_each(st, "s", 16, 0, see_turn, NULL),
	    0);
	ck_assert_msg(strncmp(seen, "user:t03,", 9) == 0, "%s", seen);
	ck_assert_int_eq(rh_store_history_append(st, "s", "user", "t19",
	    0, 0, 16, 0), 0);
	ck_assert_int_eq(rh_store_history_count(st, "s", 0, 0), 16);
	reopen();
	ck_assert_int_eq(rh_store_history_count(st, "s", 0, 0), 16);
	/* The byte limit the same way: 3 bytes each, 24 allowed (8 turns),
	 * 27 tolerated. */
	ck_assert_int_eq(rh_store_history_count(st, "s", 0, 24), 8);
	seen[0] = '\0';
	ck_assert_int_eq(rh_store_history_each(st, "s", 0, 24, see_turn, NULL),
	    0);
	ck_assert_msg(strncmp(seen, "user:t12,", 9) == 0, "%s", seen);
	ck_assert_int_eq(rh_store_history_append(st, "s", "user", "t20",
	    0, 0, 0, 24), 0);
	ck_assert_int_eq(rh_store_history_count(st, "s", 0, 0), 8);
	/* The newest turn counts even when it alone is over the limit. */
	ck_assert_int_eq(rh_store_history_count(st, "s", 0, 2), 1);
}
END_TEST

/* Appends each character of turns as a user turn of socket id, keeping
 * at most three turns. */
static void
add_turns(const char *id, const char *turns)
{
	char	one[2] = "";

	for (; *turns != '\0'; turns++) {
		one[0] = *turns;
		ck_assert_int_eq(rh_store_history_append(st, id, "user", one,
		    0, 0, 3, 0), 0);
	}
}

START_TEST(test_history_sizes)
{
	st = open_store();
	put_socket("s", "s", 1);
	add_turns("s", "a");
	/* Turns appended in a transaction rolled back are not counted... */
	ck_assert_int_eq(rh_store_begin(st), 0);
	add_turns("s", "xy");
	ck_assert_int_eq(rh_store_rollback(st), 0);
	add_turns("s", "bc");
	list_history("s");
	ck_assert_str_eq(seen, "user:a,user:b,user:c");
	/* ...nor turns of a socket deleted and made again. */
	ck_assert_int_eq(rh_store_socket_delete(st, "s"), 0);
	put_socket("s", "s", 2);
	add_turns("s", "def");
	list_history("s");
	ck_assert_str_eq(seen, "user:d,user:e,user:f");
	add_turns("s", "g");
	list_history("s");
	ck_assert_str_eq(seen, "user:e,user:f,user:g");
}
END_TEST

/* Records a big queued reply as seq:first byte, if its length is *ud. */
static void
see_big(void *ud, const struct rh_queued_row *r)
{
	if (strlen(r->json) == *(size_t *)ud)
		see("%lld:%c", (long long)r->seq, r->json[0]);
}

/* Records a big turn's first byte, if its length is *ud. */
static void
see_big_turn(void *ud, const struct rh_turn_row *r)
{
	if (strlen(r->content) == *(size_t *)ud)
		see("%c", r->content[0]);
}

START_TEST(test_big_commits)
{
	size_t	 len = 3 * 1024 * 1024 + 17;
	char	*big = malloc(len + 1);
	int	 i, dropped;

	ck_assert_ptr_nonnull(big);
	memset(big, 'b', len);
	big[len] = '\0';
	st = open_store();
	/* Commits of many pages each, past the point where the WAL is
	 * checkpointed into the database (8192 pages). */
	for (i = 0; i < 12; i++) {
		big[0] = (char)('a' + i);
		ck_assert_int_eq(rh_store_history_append(st, "s", "user", big,
		    0, 0, 3, 0), 0);
		ck_assert_int_eq(rh_store_queue_push(st, "s", i + 1, big, 2,
		    &dropped), 0);
	}
	reopen();
	ck_assert_int_eq(rh_store_history_count(st, "s", 0, 0), 3);
	seen[0] = '\0';
	ck_assert_int_eq(rh_store_queue_each(st, "s", see_big, &len), 0);
	ck_assert_str_eq(seen, "11:k,12:l");
	seen[0] = '\0';
	ck_assert_int_eq(rh_store_history_each(st, "s", 0, 0, see_big_turn,
	    &len), 0);
	ck_assert_str_eq(seen, "j,k,l");
	free(big);
}
END_TEST

/* The WAL file's size in bytes (0 when there is none). */
static off_t
wal_size(void)
{
	struct stat	sb;
	char		path[512];

	return stat(state_file(path, sizeof path, "aish.db-wal"), &sb) == 0 ?
	    sb.st_size : 0;
}

START_TEST(test_wal_bounded_by_checkpoints)
{
	/* The room the store keeps for its WAL, 1,280 frames of 4 KiB, and
	 * one commit of these (a few pages). */
	const off_t	 bound = (1280 + 8) * (4096 + 24) + 32;
	char		 turn[1500];
	off_t		 size, most = 0;
	int		 i, dropped;

	memset(turn, 't', sizeof turn - 1);
	turn[sizeof turn - 1] = '\0';
	st = open_store();
	/* Many small commits, as messages make: about 15,000 pages reach
	 * the WAL, which the checkpointer's rounds and the store's own
	 * checkpoint must keep reusing from its start. */
	for (i = 0; i < 6000; i++) {
		turn[0] = (char)('a' + i % 26);
		ck_assert_int_eq(rh_store_history_append(st, "s", "user", turn,
		    0, 0, 200, 0), 0);
		ck_assert_int_eq(rh_store_queue_push(st, "s", i + 1, turn, 1000,
		    &dropped), 0);
		if ((size = wal_size()) > most)
			most = size;
	}
	ck_assert_msg(most <= bound, "the WAL reached %lld bytes",
	    (long long)most);
	ck_assert_int_gt(most, 0);
	reopen();
	ck_assert_int_eq(rh_store_history_count(st, "s", 200, 0), 200);
	ck_assert_int_eq(rh_store_queue_count(st, "s"), 1000);
}
END_TEST

/* --------------------------------------------------------- transactions */

START_TEST(test_rollback)
{
	int	dropped;

	st = open_store();
	ck_assert_int_eq(rh_store_begin(st), 0);
	put_socket("apollo", "apollo", 1);
	ck_assert_int_eq(rh_store_write_accept(st, "apollo", "w", 1), 1);
	ck_assert_int_gt(rh_store_job_add(st, "apollo", "w", "apollo", "x", 0),
	    0);
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 1, "{}", 5,
	    &dropped), 0);
	ck_assert_int_eq(rh_store_history_append(st, "apollo", "user", "x",
	    0, 0, 5, 0), 0);
	ck_assert_int_eq(rh_store_rollback(st), 0);

	list_sockets(see_socket_id);
	ck_assert_str_eq(seen, "");
	list_jobs(see_job);
	ck_assert_str_eq(seen, "");
	ck_assert_int_eq(rh_store_queue_count(st, "apollo"), 0);
	ck_assert_int_eq(rh_store_history_count(st, "apollo", 0, 0), 0);
	ck_assert_int_eq(rh_store_write_accept(st, "apollo", "w", 1), 1);
	reopen();
	list_sockets(see_socket_id);
	ck_assert_str_eq(seen, "");
}
END_TEST

START_TEST(test_nested_transactions)
{
	st = open_store();
	ck_assert_int_eq(rh_store_begin(st), 0);
	put_socket("apollo", "apollo", 1);
	ck_assert_int_eq(rh_store_begin(st), 0);
	put_socket("athena", "athena", 2);
	ck_assert_int_eq(rh_store_rollback(st), 0);
	ck_assert_int_eq(rh_store_begin(st), 0);
	put_socket("hermes", "hermes", 3);
	ck_assert_int_eq(rh_store_commit(st), 0);
	ck_assert_int_eq(rh_store_commit(st), 0);
	reopen();
	list_sockets(see_socket_id);
	ck_assert_str_eq(seen, "apollo,hermes");

	/* Unbalanced calls are errors, not crashes. */
	ck_assert_int_eq(rh_store_commit(st), -1);
	ck_assert_str_eq(rh_store_error(st), "commit without a transaction");
	ck_assert_int_eq(rh_store_rollback(st), -1);
}
END_TEST

START_TEST(test_failed_step_rolls_back_its_part)
{
	int	dropped;

	st = open_store();
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 1, "{}", 5,
	    &dropped), 0);
	/* A failing push inside a caller's transaction undoes only itself. */
	ck_assert_int_eq(rh_store_begin(st), 0);
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 2, "{}", 5,
	    &dropped), 0);
	ck_assert_int_eq(rh_store_queue_push(st, "apollo", 1, "{}", 5,
	    &dropped), -1);
	ck_assert_int_eq(rh_store_commit(st), 0);
	list_queue("apollo");
	ck_assert_str_eq(seen, "1={},2={}");
}
END_TEST

/* Calls socket_each from inside socket_each, which must be refused. */
static void
nested_each(void *ud, const struct rh_socket_row *r)
{
	int	*rc = ud;

	*rc = rh_store_socket_each(st, see_socket_id, NULL);
}

START_TEST(test_nested_each_refused)
{
	int	rc = 0;

	st = open_store();
	put_socket("apollo", "apollo", 1);
	ck_assert_int_eq(rh_store_socket_each(st, nested_each, &rc), 0);
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(strstr(rh_store_error(st), "nested"));
	ck_assert_int_eq(rh_store_socket_each(st, NULL, NULL), -1);
}
END_TEST

/* ----------------------------------------------------------- durability */

/*
 * Commits some state, reports on FD, then waits for the parent's SIGKILL
 * with the database still open, as a server killed by kill -9 would.  (A
 * plain _exit would do for SQLite, but under valgrind it reports the
 * deliberately unclosed store as lost.)
 */
static void
child_commit_and_die(int fd)
{
	struct rh_socket_row	 row = {
		.id = "apollo", .ai_name = "apollo", .provider = "echo",
		.state = "active", .created_at = 1, .last_activity = 1
	};
	struct rh_store		*cs;
	char			 err[512];
	char			 code = '0';
	int			 dropped;

	if (rh_store_open(&cs, statedir, err, sizeof err) == -1)
		code = '1';
	else if (rh_store_begin(cs) == -1 ||
	    rh_store_socket_put(cs, &row) == -1 ||
	    rh_store_write_accept(cs, "apollo", "w1", 1) != 1 ||
	    rh_store_job_add(cs, "apollo", "w1", "apollo", "hi", 0) < 1 ||
	    rh_store_commit(cs) == -1)
		code = '2';
	else if (rh_store_next_seq(cs) != 1 ||
	    rh_store_queue_push(cs, "apollo", 1, "{}", 10, &dropped) == -1 ||
	    rh_store_history_append(cs, "apollo", "user", "hi", 0, 0, 0,
	    0) == -1)
		code = '3';
	/* Left open on purpose: this transaction must be lost. */
	else if (rh_store_begin(cs) == -1 ||
	    rh_store_queue_push(cs, "apollo", 2, "{}", 10, &dropped) == -1)
		code = '4';
	if (write(fd, &code, 1) != 1)
		_exit(5);
	for (;;)
		pause();
}

START_TEST(test_durable_after_kill)
{
	pid_t	pid;
	int	status, fds[2];
	char	path[512], code = 'x';

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		child_commit_and_die(fds[1]);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &code, 1), 1);
	close(fds[0]);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(code == '0', "child failed at step %c", code);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "child status %d", status);
	/* The child died with the write-ahead log still in place. */
	ck_assert_int_eq(mode_of(state_file(path, sizeof path,
	    "aish.db-wal")), 0600);

	st = open_store();
	list_sockets(see_socket_id);
	ck_assert_str_eq(seen, "apollo");
	ck_assert_int_eq(rh_store_write_accept(st, "apollo", "w1", 2), 0);
	list_jobs(see_job);
	ck_assert_str_eq(seen, "apollo/w1/apollo/hi");
	list_queue("apollo");
	ck_assert_str_eq(seen, "1={}");
	ck_assert_int_eq(rh_store_history_count(st, "apollo", 0, 0), 1);
	ck_assert_int_gt(rh_store_next_seq(st), 1);
}
END_TEST

/* -------------------------------------------------------------- groups */

/* Row callback: records "group:member" ("group:-" for no member). */
static void
see_group(void *ud, const struct rh_group_row *row)
{
	see("%s:%s", row->name, row->member ? row->member : "-");
}

START_TEST(test_groups)
{
	const char *const	 reviewers[] = { "athena", "apollo-1" };
	const char *const	 replaced[] = { "hermes" };
	const char *const	 holed[] = { "hermes", NULL };

	st = open_store();
	put_socket("apollo-1", "apollo", 1);
	ck_assert_int_eq(rh_store_group_put(st, "reviewers", reviewers, 2,
	    10), 0);
	ck_assert_int_eq(rh_store_group_put(st, "empty", NULL, 0, 11), 0);
	ck_assert_int_eq(rh_store_group_each(st, see_group, NULL), 0);
	ck_assert_str_eq(seen, "reviewers:athena,reviewers:apollo-1,empty:-");
	/* Groups and their order survive a reopen; put replaces members
	 * and keeps the group's place. */
	reopen();
	ck_assert_int_eq(rh_store_group_put(st, "reviewers", replaced, 1,
	    12), 0);
	seen[0] = '\0';
	ck_assert_int_eq(rh_store_group_each(st, see_group, NULL), 0);
	ck_assert_str_eq(seen, "reviewers:hermes,empty:-");
	/* Deleting a socket removes it from its groups. */
	ck_assert_int_eq(rh_store_group_put(st, "reviewers", reviewers, 2,
	    13), 0);
	ck_assert_int_eq(rh_store_socket_delete(st, "apollo-1"), 0);
	seen[0] = '\0';
	ck_assert_int_eq(rh_store_group_each(st, see_group, NULL), 0);
	ck_assert_str_eq(seen, "reviewers:athena,empty:-");
	ck_assert_int_eq(rh_store_group_delete(st, "reviewers"), 0);
	ck_assert_int_eq(rh_store_group_delete(st, "nothing"), 0);
	seen[0] = '\0';
	ck_assert_int_eq(rh_store_group_each(st, see_group, NULL), 0);
	ck_assert_str_eq(seen, "empty:-");
	ck_assert_int_eq(rh_store_group_put(st, NULL, NULL, 0, 1), -1);
	ck_assert_int_eq(rh_store_group_put(st, "bad", holed, 2, 1), -1);
	/* The failed put changed nothing. */
	seen[0] = '\0';
	ck_assert_int_eq(rh_store_group_each(st, see_group, NULL), 0);
	ck_assert_str_eq(seen, "empty:-");
}
END_TEST

/* ---------------------------------------------------------------- suite */

/* Adds test T to a new case named NAME of suite S. */
static void
add(Suite *s, const char *name, const TTest *t)
{
	TCase	*tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, make_scratch, remove_scratch);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

/* Adds loop test T, run for _i from 0 to N - 1, to a new case. */
static void
add_loop(Suite *s, const char *name, const TTest *t, int n)
{
	TCase	*tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, make_scratch, remove_scratch);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, t, 0, n);
	suite_add_tcase(s, tc);
}

/* Builds the store suite. */
static Suite *
store_suite(void)
{
	Suite	*s = suite_create("store");

	add(s, "open_modes", test_open_modes);
	add(s, "open_twice_refused", test_open_twice_refused);
	add(s, "open_narrows_modes", test_open_narrows_modes);
	add(s, "open_bad_path", test_open_bad_path);
	add(s, "open_not_a_database", test_open_not_a_database);
	add(s, "open_newer_schema", test_open_newer_schema);
	add(s, "socket_put_order", test_socket_put_order);
	add(s, "socket_fields", test_socket_fields);
	add(s, "socket_all_columns", test_socket_all_columns);
	add(s, "socket_touch_state", test_socket_touch_state);
	add(s, "later", test_later);
	add(s, "socket_delete_cascades", test_socket_delete_cascades);
	add(s, "socket_delete_in_transaction",
	    test_socket_delete_in_transaction);
	add_loop(s, "upgrade_old_schemas", test_upgrade_old_schemas,
	    (int)(sizeof old_schemas / sizeof old_schemas[0]));
	add(s, "counters", test_counters);
	add(s, "counter_rollback", test_counter_rollback);
	add(s, "seq_blocks", test_seq_blocks);
	add(s, "write_accept", test_write_accept);
	add(s, "writes_forget", test_writes_forget);
	add(s, "writes_forget_skips_only_young",
	    test_writes_forget_skips_only_young);
	add(s, "jobs", test_jobs);
	add(s, "queue", test_queue);
	add(s, "queue_cap", test_queue_cap);
	add(s, "history_turns", test_history_turns);
	add(s, "history_bytes", test_history_bytes);
	add(s, "history_sizes", test_history_sizes);
	add(s, "history_batches", test_history_batches);
	add(s, "history_page", test_history_page);
	add(s, "big_commits", test_big_commits);
	add(s, "wal_bounded_by_checkpoints", test_wal_bounded_by_checkpoints);
	add(s, "rollback", test_rollback);
	add(s, "nested_transactions", test_nested_transactions);
	add(s, "failed_step", test_failed_step_rolls_back_its_part);
	add(s, "nested_each", test_nested_each_refused);
	add(s, "durable_after_kill", test_durable_after_kill);
	add(s, "groups", test_groups);
	return s;
}

/* Runs the suite; CK_RUN_SUITE and CK_RUN_CASE pick tests. */
int
main(void)
{
	SRunner	*sr = srunner_create(store_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
