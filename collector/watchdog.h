/* SPDX-License-Identifier: MIT */
/* The shutdown watchdog, seen from the collector: when it must look, when a
 * shutdown has lasted too long, and the line that says what blocks it.
 * collector.c runs the collections and writes the report. */
#ifndef TL_WATCHDOG_H
#define TL_WATCHDOG_H

#include <stddef.h>

#include "core/pyside.h"
#include "core/shutdown.h"

#define TL_WATCH_EVERY 1.0 /* seconds between looks for a shutdown */

/* tl_now() at which the shutdown report is due (its start plus
 * shutdown_timeout), or -1: none started, the watchdog is off, or its
 * report was written already. */
double tl_watchdog_deadline(void);
/* Whether the collector should look for a shutdown every TL_WATCH_EVERY
 * seconds: the watchdog is on, this process made tasks, and no shutdown
 * report was written yet. */
int tl_watchdog_watching(void);
/* The shutdown report was written: the watchdog has done its work. */
void tl_watchdog_reported(void);
int tl_watchdog_was_reported(void);
/* A forked child starts afresh. */
void tl_watchdog_after_fork_child(void);

/* The stderr line (without newline) for a shutdown blocked since `sd->t`,
 * now `now`, by what `snap` holds: the pending tasks no other pending task
 * awaits, and the threads the exit waits for (at most three named, then
 * "and N more"); the report's path, or why it could not be written
 * (`write_errno`).  `incomplete`: the report's reason it lacks parts. */
void tl_watchdog_line(char *buf, size_t size, const struct tl_shutdown *sd, double now,
                      const struct tl_collected *snap, const char *incomplete, const char *path,
                      int write_errno);

#endif
