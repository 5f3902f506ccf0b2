/* SPDX-License-Identifier: MIT */
/* Verdicts, exactly as taskleak-v1 §2 defines them. */
#include "core/verdict.h"

#include <string.h>

#include "core/core.h"
#include "core/scopes.h"
#include "cpython/frames.h"
#include "cpython/version.h"

unsigned tl_scope_outstanding(const struct tl_task_view *v)
{
    return v->n_scope > v->n_scope_uncancel ? v->n_scope - v->n_scope_uncancel : 0;
}

/* A cancel still outstanding: not taken back by uncancel() (3.11+) and not
 * a scope's own that the scope consumed. */
static int outstanding(const struct tl_task_view *v, long cancelling)
{
    if (cancelling >= 0)
        return (unsigned long)cancelling > tl_scope_outstanding(v);
    return v->n_effective > v->n_scope;
}

int tl_is_swallowed(const struct tl_task_view *v, enum tl_state state,
                    long cancelling)
{
    if (state != TL_FINISHED && state != TL_FAILED)
        return 0;
    if (v->n_effective == 0)
        return 0;
    /* 3.12+: the program's own handler caught it last, whoever issued it */
    if (cancelling > 0 && v->catch_kind == TL_CATCH_USER)
        return 1;
    return outstanding(v, cancelling);
}

int tl_is_stuck(const struct tl_task_view *v, double since, double grace, long cancelling)
{
    return v->n_effective > 0 && !v->has_stuck && since >= grace && outstanding(v, cancelling);
}

enum tl_kind tl_verdict_destroyed(const struct tl_task_view *v, enum tl_state st, int exiting,
                                  tl_cancelling_fn cancelling, void *task)
{
    if (exiting)
        return TL_NO_LEAK;
    if (st == TL_PENDING)
        return TL_DESTROYED_PENDING;
    if (v->n_effective && !v->ended && (st == TL_FINISHED || st == TL_FAILED) &&
        tl_is_swallowed(v, st, cancelling(task)))
        return TL_SWALLOWED_CANCEL;
    return TL_NO_LEAK;
}

enum tl_kind tl_verdict_watched(const struct tl_task_view *v, enum tl_state st, double since,
                                double grace, tl_cancelling_fn cancelling, void *task)
{
    long n = cancelling(task);
    if (st != TL_PENDING && tl_is_swallowed(v, st, n))
        return TL_SWALLOWED_CANCEL;
    if (st == TL_PENDING && tl_is_stuck(v, since, grace, n))
        return TL_STUCK_AFTER_CANCEL;
    return TL_NO_LEAK;
}

enum tl_kind tl_verdict_at_exit(enum tl_state st)
{
    return st == TL_PENDING ? TL_PENDING_AT_EXIT : TL_NO_LEAK;
}

int tl_verdict_quiet(const struct tl_task *rec, enum tl_state st)
{
    return st != TL_PENDING && (rec->n_effective == 0 || st == TL_CANCELLED);
}

/* A sweep and a snapshot, or a hook that ran Python code without the GIL in
 * between, can each see the same ending. */
enum tl_kind tl_verdict_once(const struct tl_task *rec, int done, enum tl_kind kind)
{
    if ((done && rec->ended) || (kind == TL_STUCK_AFTER_CANCEL && rec->stuck))
        return TL_NO_LEAK;
    return kind;
}

/* 3.8-3.11: wait_for() catches the CancelledError and returns the result
 * when the awaited future completed in the same loop step (bpo-42130); the
 * 3.12 rewrite on asyncio.timeout() fixed it.  The sign: the last cancel was
 * delivered while the task waited inside wait_for itself. */
static const struct tl_cpython_bug wait_for_race = {
    "gh-86296 (bpo-42130)", "asyncio.wait_for", "3.12",
    "on Python 3.8-3.11, asyncio.wait_for() returns the awaited future's result instead of "
    "raising CancelledError when that future completes in the same loop step as the cancel",
    "if no code of yours catches CancelledError around this wait_for, the cancel was lost in "
    "asyncio itself: upgrade to Python 3.12+, or on 3.11 use asyncio.timeout() instead of "
    "wait_for (or check asyncio.current_task().cancelling() after it returns and re-raise)"};

const struct tl_cpython_bug *tl_cpython_bug_of(const struct tl_leak *l)
{
    if (l->kind != TL_SWALLOWED_CANCEL || !tl_caps.wait_for_swallows)
        return NULL;
    const struct tl_cancel *last = NULL;
    for (const struct tl_cancel *c = l->task.cancels; c; c = c->next)
        last = c;
    const struct tl_resolved_stack *r =
        last && last->delivered ? tl_depot_resolved(&tl_py_stacks, last->delivered) : NULL;
    if (r && r->n && r->frames[0].function && !strcmp(r->frames[0].function, "wait_for") &&
        tl_ends_with(r->frames[0].file, "/asyncio/tasks.py"))
        return &wait_for_race;
    return NULL;
}
