/* Verdicts: the contract's leak rules as pure functions. */
#ifndef TL_VERDICT_H
#define TL_VERDICT_H

#include "tasks.h"

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
 * while a cancel is still outstanding (a task that carries on after a
 * timeout scope consumed its cancel is not a zombie). */
int tl_is_stuck(const struct tl_task_view *v, double now, double grace, long cancelling);


/* A swallow that CPython itself is known to commit, not the program: the
 * report names it and gives the advice that fits. */
struct tl_cpython_bug {
    const char *id, *where, *fixed_in, *summary, *advice;
};
/* NULL when the leak is not such a case. */
const struct tl_cpython_bug *tl_cpython_bug_of(const struct tl_leak *l);

#endif
