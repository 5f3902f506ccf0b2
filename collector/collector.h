/* The collector: a thread that writes reports periodically and on signal,
 * plus the final report at exit. */
#ifndef TL_COLLECTOR_H
#define TL_COLLECTOR_H

#include <stddef.h>

struct tl_leak;

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
/* Judge what can be judged and write the report now, reason "request"
 * (GIL held).  0, or -1 when inactive, finished or the write failed. */
int tl_collector_report_now(void);
/* A snapshot's findings, made under the GIL: taken (`found` is left
 * empty). */
struct tl_snapshot;
void tl_collector_set_snapshot(struct tl_snapshot *found);

#endif
