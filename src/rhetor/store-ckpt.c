/*
 * store-ckpt.c: the store's checkpointer thread (see store-ckpt.h).
 *
 * The thread sleeps on a condition variable until the loop asks for a
 * round, runs one PASSIVE checkpoint on its own connection (opened through
 * the "aish-sync" VFS, so that its syncs of the WAL and of aish.db reach
 * the disk: SQLite syncs the WAL before it copies frames into the database
 * and the database before it counts them as copied, after which the WAL
 * may be reused from its start), and sleeps again.  A PASSIVE checkpoint
 * takes only the checkpoint lock and, while it copies, the lock of
 * readers of the database file alone; the loop's transactions then read
 * through the WAL, and its commits go on appending to it.  The mutex is
 * held only to change the flags, never during a round.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "store-ckpt.h"

struct rh_ckpt {
	sqlite3		*db;		/* the thread's own connection */
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;		/* a round asked, or stop */
	pthread_cond_t	 idle;		/* a round ended */
	int		 asked;		/* a round is wanted */
	int		 running;	/* a round is under way */
	int		 stop;
	unsigned long	 rounds;	/* rounds ended */
};

/* The thread: one checkpoint per ask, until told to stop. */
static void *
ckpt_main(void *arg)
{
	struct rh_ckpt	*c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->asked && !c->stop)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->stop)
			break;
		c->asked = 0;
		c->running = 1;
		pthread_mutex_unlock(&c->lock);
		/* A failure (a full disk) leaves the WAL as it is: the next
		 * round, or the loop's own checkpoint, tries again. */
		(void)sqlite3_wal_checkpoint_v2(c->db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->lock);
		c->running = 0;
		c->rounds++;
		pthread_cond_broadcast(&c->idle);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Opens the thread's connection: synchronous=FULL (a checkpoint syncs
 * both files), a short busy wait for the locks of opening, and one read,
 * without which SQLite does not know yet that the database is in WAL
 * mode and its first checkpoint would do nothing. */
static sqlite3 *
ckpt_open(const char *path, const char *vfs, char *err, size_t errlen)
{
	sqlite3	*db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, vfs) != SQLITE_OK ||
	    sqlite3_busy_timeout(db, 1000) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous=FULL;"
	    "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "the checkpointer's connection: %s",
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* Opens the connection and starts the thread. */
struct rh_ckpt *
rh_ckpt_start(const char *path, const char *vfs, char *err, size_t errlen)
{
	struct rh_ckpt	*c;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((c->db = ckpt_open(path, vfs, err, errlen)) == NULL) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	pthread_cond_init(&c->idle, NULL);
	if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
		snprintf(err, errlen, "cannot start the checkpointer thread");
		pthread_cond_destroy(&c->idle);
		pthread_cond_destroy(&c->wake);
		pthread_mutex_destroy(&c->lock);
		sqlite3_close(c->db);
		free(c);
		return NULL;
	}
	return c;
}

/* Asks for a round unless one is asked or running. */
int
rh_ckpt_ask(struct rh_ckpt *c)
{
	int	asked = 0;

	pthread_mutex_lock(&c->lock);
	if (!c->asked && !c->running) {
		c->asked = asked = 1;
		pthread_cond_signal(&c->wake);
	}
	pthread_mutex_unlock(&c->lock);
	return asked;
}

/* Whether a round is asked or running. */
int
rh_ckpt_busy(struct rh_ckpt *c)
{
	int	busy;

	pthread_mutex_lock(&c->lock);
	busy = c->asked || c->running;
	pthread_mutex_unlock(&c->lock);
	return busy;
}

/* Rounds ended so far. */
unsigned long
rh_ckpt_rounds(struct rh_ckpt *c)
{
	unsigned long	n;

	pthread_mutex_lock(&c->lock);
	n = c->rounds;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* Waits until no round is asked or running. */
void
rh_ckpt_wait(struct rh_ckpt *c)
{
	pthread_mutex_lock(&c->lock);
	while (c->asked || c->running)
		pthread_cond_wait(&c->idle, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

/* Stops the thread, closes its connection, frees it. */
void
rh_ckpt_stop(struct rh_ckpt *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->idle);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	sqlite3_close(c->db);
	free(c);
}
