/* SPDX-License-Identifier: MIT */
/* Verdicts: the contract's leak rules as pure functions.  Which kind a task
 * is (the tl_verdict_* choices), from the predicates below, and once only
 * (tl_verdict_once).  The hooks and the collection read the task and call
 * these; adding a leak kind means a row in kinds.inc and its rule here. */
#ifndef TL_VERDICT_H
#define TL_VERDICT_H

#include "core/tasks.h"

/* Cancels a scope issued on its own task and has not taken back yet: those
 * are the scope's to consume, not outstanding (gh-116720, timeouts). */
unsigned tl_scope_outstanding(const struct tl_task_view *v);

/* A done task swallowed a cancel.  `cancelling` is Task.cancelling() at the
 * end, or -1 where it does not exist (3.8-3.10).  Where the last handler of
 * a CancelledError is known (3.12+), a handler of the program's own decides
 * even inside a scope; otherwise a scope's own unconsumed cancels are not
 * outstanding. */
int tl_is_swallowed(const struct tl_task_view *v, enum tl_state state,
                    long cancelling);

/* A pending task is stuck `grace` seconds after its first effective cancel
 * (`since`: the seconds since then, INFINITY when it came before the
 * library attached) while a cancel is still outstanding (a task that
 * carries on after a timeout scope consumed its cancel is not a zombie). */
int tl_is_stuck(const struct tl_task_view *v, double since, double grace, long cancelling);

/* Task.cancelling() of the task being judged (-1 where none), read only
 * when a rule needs it: it is a Python call. */
typedef long (*tl_cancelling_fn)(void *task);

/* A task being destroyed in state `st`; `exiting`: the exit report is
 * written, nothing more is judged. */
enum tl_kind tl_verdict_destroyed(const struct tl_task_view *v, enum tl_state st, int exiting,
                                  tl_cancelling_fn cancelling, void *task);
/* A watched (cancelled) task as a sweep finds it, `since` seconds after
 * its first cancel. */
enum tl_kind tl_verdict_watched(const struct tl_task_view *v, enum tl_state st, double since,
                                double grace, tl_cancelling_fn cancelling, void *task);
/* A task alive at exit. */
enum tl_kind tl_verdict_at_exit(enum tl_state st);
/* An ending no rule can make a leak: done, and never cancelled or ended
 * cancelled.  Such a record needs no outcome and no judging. */
int tl_verdict_quiet(const struct tl_task *rec, enum tl_state st);
/* One verdict per ending: `kind` for record `rec` (table lock held), unless
 * a sweep, a snapshot or the destruction already judged that ending. */
enum tl_kind tl_verdict_once(const struct tl_task *rec, int done, enum tl_kind kind);

/* A swallow that CPython itself is known to commit, not the program: the
 * report names it and gives the advice that fits. */
struct tl_cpython_bug {
    const char *id, *where, *fixed_in, *summary, *advice;
};
/* NULL when the leak is not such a case. */
const struct tl_cpython_bug *tl_cpython_bug_of(const struct tl_leak *l);

#endif
