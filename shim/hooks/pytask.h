/* SPDX-License-Identifier: MIT */
/* Reading an asyncio Task from Python (GIL held): its state, its cancels,
 * where it waits, who it waits for, and what a report says of it.  Errors
 * are cleared: a task that cannot be read reads as unknown. */
#ifndef TL_PYTASK_H
#define TL_PYTASK_H

#include <stdint.h>

#include "core/tasks.h"
#include "cpython/api.h"

/* The attribute and method names, interned once, and the C functions of
 * `task_type` (the first time).  0, or -1 out of memory. */
int tl_pytask_init(PyObject *task_type);

/* PENDING, CANCELLED or FINISHED; with `detail`, FINISHED is split into
 * finished and failed (one more attribute read, only worth it for a task
 * that may be a leak). */
enum tl_state tl_pytask_state(PyObject *task, int detail);
/* Whether a failed task ended the way a process ends: its exception is a
 * SystemExit or KeyboardInterrupt, or a group of nothing but those (and
 * CancelledErrors) with at least one of them. */
int tl_pytask_failed_with_exit(PyObject *task);
/* The same without detail, through Future's own C cancelled() and done(): 1
 * and `*st`, or 0 when it cannot be read so.  Neither raises nor touches
 * the error indicator (a finalizer's caller may have an exception set). */
int tl_pytask_state_fast(PyObject *task, enum tl_state *st);
/* Only whether it is done (Future's C done()): 1, 0, or -1 when unknown;
 * cancelled and finished alike, as the common ending needs no more. */
int tl_pytask_done_fast(PyObject *task);
/* Task.cancelling(), or -1 where it does not exist (3.8-3.10). */
long tl_pytask_cancelling(PyObject *task);
/* Cancels asked for and not yet seen through: cancelling() (3.11+), or a
 * cancel not yet delivered. */
long tl_pytask_cancels_outstanding(PyObject *task);
/* The message of its pending cancel (malloc'd), or NULL. */
char *tl_pytask_cancel_message(PyObject *task);
/* The names depot's id of a coroutine's __qualname__ (`task`: of its
 * coroutine). */
uint32_t tl_pytask_coro_name(PyObject *coro);
uint32_t tl_pytask_task_coro_name(PyObject *task);
/* A pending task's chain of coroutines, generators and async generators
 * (cr_await / gi_yieldfrom / ag_await, and into the async generator an
 * asend or athrow drives), outermost first, as new references.  It may
 * stop at an awaitable it cannot enter: its type is then `opaque`. */
struct tl_chain {
    PyObject *items[256];
    int n;
    const char *opaque; /* tp_name, valid while the GIL is held */
};
void tl_pytask_chain(PyObject *task, struct tl_chain *c, int max);
void tl_pytask_chain_drop(struct tl_chain *c);
/* Where a pending task is suspended, innermost first (a depot id). */
uint32_t tl_pytask_awaiting(PyObject *task);
/* Everything a report says about a task, read while it is alive; with
 * `explain`, also why a pending one does not move on (explain.h). */
void tl_pytask_outcome(PyObject *task, enum tl_state st, int explain, struct tl_outcome *o);
/* Who awaits whom around `task`: the future it waits on (a task, or
 * gather()'s children), and on 3.14+ the futures that await it. */
typedef void (*tl_await_edge_fn)(void *ctx, PyObject *awaiter, PyObject *awaited);
void tl_pytask_await_edges(PyObject *task, tl_await_edge_fn edge, void *ctx);
/* str(obj) as a malloc'd UTF-8 copy, cut at 200 bytes; NULL on failure. */
char *tl_pytask_str(PyObject *obj);

#endif
