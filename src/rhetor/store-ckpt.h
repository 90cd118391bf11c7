/*
 * store-ckpt.h: the store's checkpointer, a thread with its own SQLite
 * connection to the database that copies the WAL into aish.db (a PASSIVE
 * checkpoint: it never waits for, nor holds up, the loop's connection),
 * syncing both files, while the loop goes on committing.  The loop asks
 * for a round now and then (store.c, after_commit); the disk syncs of a
 * checkpoint, milliseconds each, are then off its path.
 *
 * Ownership: the store owns the checkpointer (rh_ckpt_start in
 * rh_store_open, rh_ckpt_stop in rh_store_close); every function but the
 * thread's own is called from the loop's thread.
 */
#ifndef RH_STORE_CKPT_H
#define RH_STORE_CKPT_H

#include <stddef.h>

struct rh_ckpt;

/* Opens the second connection to PATH through the VFS named VFS and
 * starts the thread; NULL on failure, with the reason in err. */
struct rh_ckpt	*rh_ckpt_start(const char *path, const char *vfs, char *err,
		    size_t errlen);
/* Asks for a round, unless one is asked or running; never waits.
 * Returns 1 when asked, 0 when one was under way already. */
int		 rh_ckpt_ask(struct rh_ckpt *c);
/* Whether a round is asked or running. */
int		 rh_ckpt_busy(struct rh_ckpt *c);
/* How many rounds have ended so far. */
unsigned long	 rh_ckpt_rounds(struct rh_ckpt *c);
/* Waits until no round is asked or running (for the rare callers that
 * must checkpoint themselves: a full disk, a WAL past its room). */
void		 rh_ckpt_wait(struct rh_ckpt *c);
/* Ends the thread after its round, closes its connection, frees it;
 * NULL is accepted. */
void		 rh_ckpt_stop(struct rh_ckpt *c);

#endif
