/*
 * store-vfs.h: the SQLite VFS the store opens its database with:
 * SQLite's "unix-excl" (one lock for the whole process, the WAL index in
 * memory), except that the frames a commit appends to the WAL reach the
 * file in one write instead of two per page.
 */
#ifndef RH_STORE_VFS_H
#define RH_STORE_VFS_H

/* The name to open databases with; registers the VFS on first use.
 * NULL when SQLite has no "unix-excl" VFS to wrap or no memory. */
const char	*rh_store_vfs(void);
/* The same, or with ALWAYS_SYNC the twin VFS whose WAL syncs always reach
 * the disk (for a connection that only checkpoints, on another thread). */
const char	*rh_store_vfs_named(int always_sync);

/*
 * With the VFS the store runs at synchronous=FULL, so SQLite syncs the WAL
 * at every commit: that sync writes the frames gathered since the last
 * one, and reaches the disk (fsync) only while this is on, which the
 * store turns on for checkpoints and for closing.  A commit thus costs one
 * write(2) and no fsync, as at synchronous=NORMAL, and a failed write
 * (a full disk) still fails the commit.
 */
void		 rh_store_vfs_sync_wal(int on);	/* the loop's thread only */

#endif
