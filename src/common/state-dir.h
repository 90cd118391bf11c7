/*
 * state-dir.h: the directory where aish's programs keep their state on
 * this machine: $XDG_STATE_HOME/aish, else ~/.local/state/aish (the
 * server's default --state-dir, the CLI's history, the bridge's ACP
 * sessions and answers).  Only an absolute XDG_STATE_HOME or HOME
 * counts: a relative one is ignored, as the XDG base directory
 * specification says.  Depends on libc only.
 */
#ifndef AC_STATE_DIR_H
#define AC_STATE_DIR_H

/* The state directory's path, or sub inside it when sub is not NULL, in
 * new memory (caller frees); NULL when there is none (no absolute
 * XDG_STATE_HOME or HOME).  Makes nothing. */
char	*ac_state_path(const char *sub);
/* ac_state_path(sub), made (mode 0700, with its parents) if missing;
 * NULL when there is none or it cannot be made. */
char	*ac_state_dir(const char *sub);
/* Makes dir and its parents, each mode 0700 when new; 0, or -1 with
 * errno set. */
int	 ac_mkdir_p(const char *dir);

#endif
