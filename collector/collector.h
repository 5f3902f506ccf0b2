/* SPDX-License-Identifier: MIT */
/* The collector: a thread that writes reports periodically and on signal,
 * plus the final report at exit. */
#ifndef TL_COLLECTOR_H
#define TL_COLLECTOR_H

#include <stddef.h>

struct tl_collected;

/* Once the hooks are in place (GIL held): install the signal handler and
 * start the thread. */
void tl_collector_activate(void);
/* Wake the thread to look at its clocks again (the watchdog's deadline).
 * Async-signal-safe. */
void tl_collector_wake(void);
/* From every hook: restart the thread after a fork.  Cheap. */
void tl_collector_poke(void);
/* The fork protocol's part (fork.c).  Before os.fork() (GIL held): stop
 * the thread, so the child and CPython's own thread-count check see a
 * single-threaded process.  After fork(): the parent's restart is due; the
 * child starts afresh. */
void tl_collector_before_fork(void);
void tl_collector_after_fork_parent(void);
void tl_collector_after_fork_child(int forked_from_main_thread);
/* The final report, from the Python atexit callback (GIL held). */
void tl_collector_final_report(void);
/* Judge what can be judged and write the report now (GIL held): reason
 * "request", or with `snapshot` reason "snapshot" and every live task.  0,
 * or -1 when inactive, finished or the write failed. */
int tl_collector_report_now(int snapshot);
/* What a collection found for its report, produced under the GIL (taken). */
void tl_collector_set_found(struct tl_collected *found);

#endif
