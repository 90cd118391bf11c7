/*
 * store-vfs.c: a thin SQLite VFS over SQLite's "unix-excl" (see
 * store-vfs.h), the unix VFS that locks the database once for the whole
 * process and keeps the WAL index of its connections in memory.  Every
 * file is that VFS's file underneath; a WAL
 * file also gathers consecutive writes in memory and hands them to the
 * file at once when SQLite syncs it, reads it, sizes it, truncates it or
 * closes it.  Nothing else changes: locks, shared memory and the other
 * files go straight through.
 *
 * A second VFS of the same methods, "aish-sync", is for the store's
 * checkpointer thread (store-ckpt.h): its WAL syncs always reach the disk,
 * as a checkpoint needs, whatever the loop's connection does meanwhile.
 *
 * Why it is kept: SQLite's own VFS writes each WAL frame as two pwrite()s
 * (header, page), four pages and so eight calls a message; gathered, a
 * commit is one write().  That measured about 12 us of the 72 us a
 * message takes through the bridge (doc/performance.md), whose goal is a
 * p50 under 4 x the floor's (19.4 us there: under 77.6 us).  Without this
 * layer the round trip is about 84 us, 4.3 x: the goal fails.  It can go
 * once the round trip has that margin by other means.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store-vfs.h"

#define VFS_NAME	"aish"
#define VFS_SYNC_NAME	"aish-sync"
/* Writes gathered past this size go out at once. */
#define WAL_GATHER_MAX	(4 * 1024 * 1024)
/* The most the unix VFS writes in one call: it takes at most 128 KiB
 * - 1 at a time (one page and its frame header, in its own use). */
#define WAL_WRITE_MAX	((size_t)64 * 1024)

/* An open file: ours on top, the unix VFS's right after it. */
struct vfs_file {
	sqlite3_file	 base;
	sqlite3_file	*real;
	int		 wal;		/* a WAL file: writes are gathered */
	int		 always_sync;	/* opened by "aish-sync" */
	char		*buf;		/* the gathered bytes */
	sqlite3_int64	 start;		/* their offset in the file */
	size_t		 len, cap;
};

static sqlite3_vfs	 vfs, vfs_sync;
static int		 sync_wal;	/* rh_store_vfs_sync_wal; the loop's */

/* The unix VFS's file under f. */
static sqlite3_file *
real_of(sqlite3_file *f)
{
	return ((struct vfs_file *)f)->real;
}

/* Writes the gathered bytes out, in pieces the unix VFS takes whole;
 * forgets them even when that fails (SQLite then fails the commit and
 * writes those frames again). */
static int
gathered_flush(struct vfs_file *p)
{
	size_t	done = 0, n;
	int	rc = SQLITE_OK;

	while (rc == SQLITE_OK && done < p->len) {
		n = p->len - done < WAL_WRITE_MAX ? p->len - done :
		    WAL_WRITE_MAX;
		rc = p->real->pMethods->xWrite(p->real, p->buf + done, (int)n,
		    p->start + (sqlite3_int64)done);
		done += n;
	}
	p->len = 0;
	return rc;
}

/* ---- methods of every file: straight through ---- */

/* Closes the file, writing what is gathered first. */
static int
f_close(sqlite3_file *f)
{
	struct vfs_file	*p = (struct vfs_file *)f;
	int		 rc = gathered_flush(p), rc2;

	rc2 = p->real->pMethods->xClose(p->real);
	free(p->buf);
	p->buf = NULL;
	p->cap = 0;
	return rc != SQLITE_OK ? rc : rc2;
}

/* Reads, after writing what is gathered (it may be what is read). */
static int
f_read(sqlite3_file *f, void *out, int n, sqlite3_int64 off)
{
	int	rc = gathered_flush((struct vfs_file *)f);

	if (rc != SQLITE_OK)
		return rc;
	return real_of(f)->pMethods->xRead(real_of(f), out, n, off);
}

/* Writes through. */
static int
f_write(sqlite3_file *f, const void *data, int n, sqlite3_int64 off)
{
	return real_of(f)->pMethods->xWrite(real_of(f), data, n, off);
}

/* Truncates, after writing what is gathered.  A truncate to the size the
 * file has already is left out: it would only free the room the store
 * keeps allocated past the end (store.c, reserve_room), as SQLite asks
 * for one after every checkpoint. */
static int
f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	sqlite3_int64	now;
	int		rc = gathered_flush((struct vfs_file *)f);

	if (rc != SQLITE_OK)
		return rc;
	if (real_of(f)->pMethods->xFileSize(real_of(f), &now) == SQLITE_OK &&
	    now == size)
		return SQLITE_OK;
	return real_of(f)->pMethods->xTruncate(real_of(f), size);
}

/* Syncs through. */
static int
f_sync(sqlite3_file *f, int flags)
{
	return real_of(f)->pMethods->xSync(real_of(f), flags);
}

/* The size, counting what is gathered. */
static int
f_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int	rc = gathered_flush((struct vfs_file *)f);

	if (rc != SQLITE_OK)
		return rc;
	return real_of(f)->pMethods->xFileSize(real_of(f), size);
}

/* Locks through. */
static int
f_lock(sqlite3_file *f, int level)
{
	return real_of(f)->pMethods->xLock(real_of(f), level);
}

/* Unlocks through. */
static int
f_unlock(sqlite3_file *f, int level)
{
	return real_of(f)->pMethods->xUnlock(real_of(f), level);
}

/* Asks through. */
static int
f_check_reserved_lock(sqlite3_file *f, int *out)
{
	return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

/* File controls through. */
static int
f_file_control(sqlite3_file *f, int op, void *arg)
{
	return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}

/* Sector size through. */
static int
f_sector_size(sqlite3_file *f)
{
	return real_of(f)->pMethods->xSectorSize(real_of(f));
}

/* Device characteristics through. */
static int
f_device_characteristics(sqlite3_file *f)
{
	return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

/* Shared memory through (unix-excl keeps it in the heap). */
static int
f_shm_map(sqlite3_file *f, int page, int size, int extend,
    void volatile **out)
{
	return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend,
	    out);
}

/* Shared memory locks through. */
static int
f_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}

/* Shared memory barrier through. */
static void
f_shm_barrier(sqlite3_file *f)
{
	real_of(f)->pMethods->xShmBarrier(real_of(f));
}

/* Shared memory unmap through. */
static int
f_shm_unmap(sqlite3_file *f, int delete_flag)
{
	return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}

/* ---- the WAL's own methods ---- */

/* Gathers a write: after the bytes gathered, or over some of them. */
static int
wal_write(sqlite3_file *f, const void *data, int n, sqlite3_int64 off)
{
	struct vfs_file	*p = (struct vfs_file *)f;
	size_t		 need, cap;
	char		*grown;
	int		 rc;

	if (p->len > 0 && off >= p->start &&
	    off + n <= p->start + (sqlite3_int64)p->len) {
		memcpy(p->buf + (off - p->start), data, (size_t)n);
		return SQLITE_OK;
	}
	if (p->len > 0 && (off != p->start + (sqlite3_int64)p->len ||
	    p->len + (size_t)n > WAL_GATHER_MAX) &&
	    (rc = gathered_flush(p)) != SQLITE_OK)
		return rc;
	if (p->len == 0)
		p->start = off;
	if ((need = p->len + (size_t)n) > p->cap) {
		cap = p->cap ? p->cap : 64 * 1024;
		while (cap < need)
			cap *= 2;
		if ((grown = realloc(p->buf, cap)) == NULL)
			return SQLITE_NOMEM;
		p->buf = grown;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, data, (size_t)n);
	p->len += (size_t)n;
	return SQLITE_OK;
}

/* A commit or a checkpoint: the gathered frames go out in one write; the
 * disk sync happens only when asked for (rh_store_vfs_sync_wal), or
 * always for a file of "aish-sync" (which never reads sync_wal, the
 * loop thread's). */
static int
wal_sync(sqlite3_file *f, int flags)
{
	struct vfs_file	*p = (struct vfs_file *)f;
	int		 rc = gathered_flush(p);

	if (rc != SQLITE_OK || !(p->always_sync || sync_wal))
		return rc;
	return real_of(f)->pMethods->xSync(real_of(f), flags);
}

static const sqlite3_io_methods plain_methods = {
	2, f_close, f_read, f_write, f_truncate, f_sync, f_file_size,
	f_lock, f_unlock, f_check_reserved_lock, f_file_control,
	f_sector_size, f_device_characteristics, f_shm_map, f_shm_lock,
	f_shm_barrier, f_shm_unmap, NULL, NULL
};

static const sqlite3_io_methods wal_methods = {
	2, f_close, f_read, wal_write, f_truncate, wal_sync, f_file_size,
	f_lock, f_unlock, f_check_reserved_lock, f_file_control,
	f_sector_size, f_device_characteristics, f_shm_map, f_shm_lock,
	f_shm_barrier, f_shm_unmap, NULL, NULL
};

/* ---- the VFS ---- */

/* The VFS this one wraps. */
static sqlite3_vfs *
real_vfs(void)
{
	return vfs.pAppData;
}

/* Opens a file with the unix VFS, under ours. */
static int
v_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags,
    int *out_flags)
{
	struct vfs_file	*p = (struct vfs_file *)f;
	int		 rc;

	memset(p, 0, sizeof *p);
	p->real = (sqlite3_file *)(p + 1);
	p->wal = (flags & SQLITE_OPEN_WAL) != 0;
	p->always_sync = v == &vfs_sync;
	rc = real_vfs()->xOpen(real_vfs(), name, p->real, flags, out_flags);
	/* xClose is called whenever pMethods is set, even after a failure. */
	if (p->real->pMethods == NULL)
		p->base.pMethods = NULL;
	else
		p->base.pMethods = p->wal ? &wal_methods : &plain_methods;
	return rc;
}

/* Deletes through. */
static int
v_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	return real_vfs()->xDelete(real_vfs(), name, sync_dir);
}

/* Access checks through. */
static int
v_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	return real_vfs()->xAccess(real_vfs(), name, flags, out);
}

/* Full path names through. */
static int
v_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
	return real_vfs()->xFullPathname(real_vfs(), name, n, out);
}

/* Randomness through. */
static int
v_randomness(sqlite3_vfs *v, int n, char *out)
{
	return real_vfs()->xRandomness(real_vfs(), n, out);
}

/* Sleeps through. */
static int
v_sleep(sqlite3_vfs *v, int us)
{
	return real_vfs()->xSleep(real_vfs(), us);
}

/* The time through. */
static int
v_current_time(sqlite3_vfs *v, double *out)
{
	return real_vfs()->xCurrentTime(real_vfs(), out);
}

/* The last error through. */
static int
v_get_last_error(sqlite3_vfs *v, int n, char *out)
{
	return real_vfs()->xGetLastError(real_vfs(), n, out);
}

/* The time in milliseconds through. */
static int
v_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	return real_vfs()->xCurrentTimeInt64(real_vfs(), out);
}

/* Registers both VFSes once (from the loop's thread, before the
 * checkpointer's starts); the name of the one asked for. */
const char *
rh_store_vfs_named(int always_sync)
{
	sqlite3_vfs	*real;

	if (vfs.zName != NULL)
		return always_sync ? vfs_sync.zName : vfs.zName;
	if (sqlite3_initialize() != SQLITE_OK ||
	    (real = sqlite3_vfs_find("unix-excl")) == NULL ||
	    real->iVersion < 2)
		return NULL;
	vfs.iVersion = 2;
	vfs.szOsFile = (int)sizeof(struct vfs_file) + real->szOsFile;
	vfs.mxPathname = real->mxPathname;
	vfs.zName = VFS_NAME;
	vfs.pAppData = real;
	vfs.xOpen = v_open;
	vfs.xDelete = v_delete;
	vfs.xAccess = v_access;
	vfs.xFullPathname = v_full_pathname;
	vfs.xRandomness = v_randomness;
	vfs.xSleep = v_sleep;
	vfs.xCurrentTime = v_current_time;
	vfs.xGetLastError = v_get_last_error;
	vfs.xCurrentTimeInt64 = v_current_time_int64;
	vfs_sync = vfs;
	vfs_sync.zName = VFS_SYNC_NAME;
	if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK ||
	    sqlite3_vfs_register(&vfs_sync, 0) != SQLITE_OK) {
		vfs.zName = NULL;
		return NULL;
	}
	return always_sync ? vfs_sync.zName : vfs.zName;
}

/* Registers the VFS once; its name. */
const char *
rh_store_vfs(void)
{
	return rh_store_vfs_named(0);
}

/* Turns real syncs of the WAL on or off. */
void
rh_store_vfs_sync_wal(int on)
{
	sync_wal = on;
}
