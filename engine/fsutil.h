/*
 * fsutil.h - small file-system helpers shared by the writers.
 */
#ifndef RECON_FSUTIL_H
#define RECON_FSUTIL_H

/* Create DIR and its missing parents (mode 0777 less umask), like mkdir -p.
 * Returns 0, or -1 with errno set. */
int fs_make_dirs(const char *dir);

/* Create the missing parent folders of the file PATH.  Returns 0 or -1 (errno). */
int fs_make_parent_dirs(const char *path);

#endif
