/* SPDX-License-Identifier: MIT */
/* What the collector asks of the Python side: the one interface between
 * them (hooks/collection.c and hooks/gil.c implement it).  The collector itself never
 * touches the CPython API. */
#ifndef TL_PYSIDE_H
#define TL_PYSIDE_H

#include <pthread.h>
#include <stddef.h>

#include "core/tasks.h"
#include "core/threads.h"

/* Work that needs the GIL before a report (held by the caller of these): judge
 * finished and stuck tasks, resolve stacks to lines.  At exit, also
 * report every pending task as pending_at_exit and stop judging more; for
 * a snapshot, gather every live task and the other threads.  Every mode
 * but the exit first looks for a shutdown (hooks/shutdown.h); WATCH does
 * only that. */
enum tl_collect_mode { TL_COLLECT_PERIODIC, TL_COLLECT_EXIT, TL_COLLECT_SNAPSHOT, TL_COLLECT_WATCH };
/* What a collection found for the report besides the table's leaks. */
struct tl_collected {
    struct tl_leak *live;          /* a snapshot's live tasks (malloc'd) */
    size_t n_live;
    struct tl_threads threads;     /* a snapshot's other threads */
    struct tl_deadlocks deadlocks; /* among the pending tasks (snapshot, exit) */
};
void tl_collected_free(struct tl_collected *c); /* no GIL needed */
struct tl_collection;
struct tl_collection *tl_collect_begin(enum tl_collect_mode mode);
/* Work for about `budget` seconds at most (0: to the end).  Returns 1 while
 * work remains: release the GIL, take it again, and call it again. */
int tl_collect_step(struct tl_collection *c, double budget);
/* Without the GIL, before a slice: the memory the slice will need
 * (resolving new stacks), allocated and faulted in now, so that the GIL is
 * held for the work alone.  Wanted only while new stacks remain. */
int tl_collect_wants_prepare(const struct tl_collection *c);
void tl_collect_prepare(struct tl_collection *c);
/* Free the collection (GIL held).  What it found for the report, when it
 * got to the end, goes to *out (zeroed otherwise). */
void tl_collect_end(struct tl_collection *c, struct tl_collected *out);
/* All of it at once (the exit report, a report asked for). */
void tl_collect_all(enum tl_collect_mode mode, struct tl_collected *out);

/* From a thread of the library's own, without the GIL: a whole collection
 * in slices of at most 0.25 ms with the GIL, letting it go for a moment
 * between them.  `between(ctx)` runs after each slice, without the GIL;
 * a non-zero `*abort` ends the collection early.  Returns 0 when it ran
 * (what it found in *out), -1 when Python could not be entered (not
 * initialized, or finalizing: the GIL is never asked for then). */
int tl_collect_in_slices(enum tl_collect_mode mode, void (*between)(void *ctx), void *ctx,
                         const int *abort, struct tl_collected *out);
/* The interpreter is finalizing (Py_IsFinalizing): a thread of ours that
 * asked for the GIL now would never get it back.  Any thread, no GIL. */
int tl_python_finalizing(void);
/* With the GIL held: take a lock of the library's, letting the GIL go while
 * waiting for it (lock order: the GIL, then ours; never the reverse). */
void tl_lock_outside_gil(pthread_mutex_t *lock);
/* With the GIL held: wait at most `seconds` for a thread of the library's
 * to end, letting the GIL go meanwhile (it may need it).  0 when it ended. */
int tl_join_outside_gil(pthread_t thread, int seconds);
/* The running interpreter's version ("3.14.2"), for the report. */
const char *tl_python_version(void);

#endif
