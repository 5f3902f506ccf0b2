/* SPDX-License-Identifier: MIT */
/* Judging tasks with Python at hand (GIL held): read the task (pytask.h),
 * ask the rules (verdict.h), record the verdict in the table (tasks.h). */
#ifndef TL_JUDGE_H
#define TL_JUDGE_H

#include "core/core.h"
#include "core/tasks.h"
#include "cpython/api.h"

/* A task being destroyed (its finalizer). */
void tl_judge_destroyed(PyObject *task, const struct tl_task_view *v);
/* A watched (cancelled) task, as it is now. */
void tl_judge_watched(const struct tl_task_view *v, struct tl_time_pair now);
/* A task found ended at exit (still referenced): done. */
void tl_judge_ended_at_exit(PyObject *task, enum tl_state st);
/* A task found pending at exit, read whole (a live entry: the table's
 * record and its outcome, which this takes): pending_at_exit, unless
 * suppressed. */
void tl_judge_pending_at_exit(struct tl_leak *live);
/* A live task found ended by a snapshot: done, unless it was cancelled (it
 * may have swallowed the cancel since the sweep; the next sweep or its
 * destruction judges that). */
void tl_judge_found_ended(PyObject *task, enum tl_state st);
/* The exit report is written: judge nothing more. */
void tl_judge_stop(void);
int tl_judge_stopped(void);

/* A watch on a cancelled task, for the table (tl_task_cancelled), whose
 * sweeps follow it: TL_WATCH_BY_TABLE when the task's destruction is sure
 * to pass the hooks (which drop its record), so that its record existing,
 * under the GIL, means the task is alive; otherwise a weak reference (NULL
 * if none could be made).  Released when the task is judged, or at once
 * if the table had one; a view takes its own with tl_judge_hold_watch. */
#define TL_WATCH_BY_TABLE ((void *)1)
void *tl_judge_new_watch(PyObject *task, int destruction_seen);
void tl_judge_hold_watch(void *watch);
void tl_judge_release_watch(void *watch);

#endif
