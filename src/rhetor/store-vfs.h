/*
 * store-vfs.h: the SQLite VFS the store opens its database with: the
 * system's own, except that the frames a commit appends to the WAL reach
 * the file in one write instead of two per page.
 */
#ifndef RH_STORE_VFS_H
#define RH_STORE_VFS_H

/* The name to open databases with; registers the VFS on first use.
 * NULL when SQLite has no default VFS to wrap or no memory. */
const char	*rh_store_vfs(void);

/*
 * With the VFS the store runs at synchronous=FULL, so SQLite syncs the WAL
 * at every commit: that sync writes the frames gathered since the last
 * one, and reaches the disk (fsync) only while this is on, which the
 * store turns on for checkpoints and for closing.  A commit thus costs one
 * write(2) and no fsync, as at synchronous=NORMAL, and a failed write
 * (a full disk) still fails the commit.
 */
void		 rh_store_vfs_sync_wal(int on);

#endif
