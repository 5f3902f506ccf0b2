/* SPDX-License-Identifier: MIT */
/* Atomic, symlink-safe report files. */
#ifndef TL_OUTPUT_H
#define TL_OUTPUT_H

#include <stddef.h>
#include <sys/types.h>

/* Expand %p in `template` with `pid` into `out` (size `n`); -1 if too long. */
int tl_output_expand(const char *template, pid_t pid, char *out, size_t n);

/* Write `len` bytes to `path` atomically: a new file beside it, then
 * rename.  A reader sees the old or the new content, never a mix; a
 * symlink at `path` is replaced, never followed.  Returns 0, or -1 with
 * errno set and no temporary file left behind. */
int tl_output_write(const char *path, const char *data, size_t len);

#endif
