/* SPDX-License-Identifier: MIT */
/* Verdicts, given with Python at hand. */
#include "hooks/judge.h"

#include <math.h>

#include "core/core.h"
#include "core/options.h"
#include "core/suppressions.h"
#include "core/verdict.h"
#include "hooks/capture.h"
#include "hooks/pytask.h"
#include "hooks/task_hooks.h"

static int stopped;

void tl_judge_stop(void)
{
    stopped = 1;
}

int tl_judge_stopped(void)
{
    return stopped;
}

static void *weak_ref(PyObject *task)
{
    PyObject *ref = tl_py.PyWeakref_NewRef(task, NULL);
    if (!ref)
        tl_py.PyErr_Clear();
    return ref;
}

/* A weak reference is an allocation the garbage collector tracks: one at
 * every cancel made it run more often (+1,600 instructions a cancelled
 * task on 3.13.0). */
void *tl_judge_new_watch(PyObject *task, int destruction_seen)
{
    return destruction_seen ? TL_WATCH_BY_TABLE : weak_ref(task);
}

void tl_judge_hold_watch(void *watch)
{
    if (watch && watch != TL_WATCH_BY_TABLE)
        tl_py.Py_IncRef(watch);
}

void tl_judge_release_watch(void *watch)
{
    if (watch && watch != TL_WATCH_BY_TABLE)
        tl_py.Py_DecRef(watch);
}

static long cancelling_of(void *task)
{
    return tl_pytask_cancelling(task);
}

/* A leak verdict, unless a suppression rule covers the creation site. */
static enum tl_kind unless_suppressed(enum tl_kind kind, const struct tl_task_view *v)
{
    return kind != TL_NO_LEAK && tl_suppressed(kind, tl_capture_resolve(v->created_py))
               ? TL_NO_LEAK
               : kind;
}

/* A cancel gives way to the process ending: a task that fails with
 * SystemExit or KeyboardInterrupt (Ctrl-C, sys.exit() in a child of a task
 * group) after a shutdown's cancel did not swallow it. */
static enum tl_kind unless_exiting(enum tl_kind kind, enum tl_state st, PyObject *task)
{
    return kind == TL_SWALLOWED_CANCEL && st == TL_FAILED && tl_pytask_failed_with_exit(task)
               ? TL_NO_LEAK
               : kind;
}

/* What the report says of a leak (and of a stuck task that ends); with
 * `explain`, why a pending one does not move on (collection time only). */
static void outcome_if_needed(PyObject *task, enum tl_state st, enum tl_kind kind,
                              const struct tl_task_view *v, int explain, struct tl_outcome *o)
{
    *o = (struct tl_outcome){.state = st};
    if (kind != TL_NO_LEAK || v->has_stuck)
        tl_pytask_outcome(task, st, explain, o);
}

void tl_judge_destroyed(PyObject *task, const struct tl_task_view *v)
{
    enum tl_state st = tl_pytask_state(task, v->n_effective || v->has_stuck);
    enum tl_kind kind = unless_exiting(
        unless_suppressed(tl_verdict_destroyed(v, st, stopped, cancelling_of, task), v), st, task);
    struct tl_outcome o;
    outcome_if_needed(task, st, kind, v, 0, &o);
    tl_judge_release_watch(tl_task_destroyed((uintptr_t)task, st != TL_PENDING, kind, &o, tl_now()));
}

/* The task a view watches, a new reference; NULL once it is gone.  Its
 * record existing now, the GIL held, is proof enough for the table's
 * watch (the record may have changed since the view was taken). */
static PyObject *watched_task(const struct tl_task_view *v, struct tl_task_view *fresh)
{
    PyObject *task = NULL;
    if (v->watch == TL_WATCH_BY_TABLE) {
        if (tl_task_view(v->addr, fresh) && fresh->id == v->id)
            task = (PyObject *)v->addr;
    } else {
        *fresh = *v;
        task = v->watch ? tl_py.PyWeakref_GetObject(v->watch) : NULL;
        if (task == tl_py.None)
            task = NULL;
        if (!task)
            tl_py.PyErr_Clear();
    }
    tl_py.Py_IncRef(task);
    return task;
}

void tl_judge_watched(const struct tl_task_view *watched, struct tl_time_pair now)
{
    struct tl_task_view fresh, *v = &fresh;
    PyObject *task = watched_task(watched, &fresh);
    if (!task)
        return;
    enum tl_state st = tl_pytask_state(task, 1);
    double first = tl_time_at_pair(v->first_cancel_ticks, now); /* < 0: before an attach */
    double since = first < 0 ? INFINITY : now.t - first;
    enum tl_kind kind = unless_exiting(unless_suppressed(
        tl_verdict_watched(v, st, since, tl_opt.grace, cancelling_of, task), v), st, task);
    struct tl_outcome o;
    outcome_if_needed(task, st, kind, v, 1, &o);
    tl_judge_release_watch(tl_task_judged(v->addr, v->id, st != TL_PENDING, kind, &o, now.t));
    tl_py.Py_DecRef(task);
}

void tl_judge_found_ended(PyObject *task, enum tl_state st)
{
    struct tl_task_view v;
    struct tl_outcome done = {.state = st};
    if (tl_task_view(tl_task_in_table(task), &v) && !v.n_effective)
        tl_judge_release_watch(tl_task_judged(v.addr, v.id, 1, TL_NO_LEAK, &done, tl_now()));
}

void tl_judge_ended_at_exit(PyObject *task, enum tl_state st)
{
    struct tl_task_view v;
    struct tl_outcome done = {.state = st};
    if (tl_task_view(tl_task_in_table(task), &v))
        tl_judge_release_watch(tl_task_judged(v.addr, v.id, 1, TL_NO_LEAK, &done, tl_now()));
}

void tl_judge_pending_at_exit(struct tl_leak *live)
{
    struct tl_task_view v;
    enum tl_kind kind = TL_NO_LEAK;
    if (tl_task_view(live->task.addr, &v) && v.id == live->task.id)
        kind = unless_suppressed(tl_verdict_at_exit(TL_PENDING), &v);
    if (kind != TL_NO_LEAK)
        tl_task_judged(v.addr, v.id, 0, kind, &live->outcome, tl_now());
}
