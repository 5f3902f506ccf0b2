/* SPDX-License-Identifier: MIT */
/* The task hooks: asyncio's Task, patched.
 *
 * Spawn: the Task type's tp_init (and the `__init__` slot wrapper that
 * Python subclasses reach through super()).  Cancel/uncancel: ml_meth of the
 * methods' PyMethodDef, swapped in place, so every call path sees it.
 * Completion and destruction: tp_finalize (and `__del__`'s wrapper); the
 * sweeps of cancelled tasks before each report are collection.c's.  The hooks
 * read the task (pytask.c) and where they are called from (capture.c), and
 * forward to the plain core in tasks.c; judge.c gives the verdicts. */
#include "hooks/task_hooks.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/options.h"
#include "core/scopes.h"
#include "core/tasks.h"
#include "cpython/frames.h"
#include "cpython/tasklist.h"
#include "cpython/version.h"
#include "hooks/capture.h"
#include "hooks/judge.h"
#include "hooks/pytask.h"
#include "hooks/shutdown.h"

typedef int (*initproc)(PyObject *, PyObject *, PyObject *);
typedef void (*finalizeproc)(PyObject *);
typedef PyObject *(*noargs_fn)(PyObject *, PyObject *);
typedef PyObject *(*fastcall_kw_fn)(PyObject *, PyObject *const *, Py_ssize_t, PyObject *);

/* What the hooks of every task read, in one cache line. */
static struct {
    initproc orig_init;
    finalizeproc orig_finalize;
    /* Where _asyncio.Task keeps a plain task's spawn (struct tl_inobj), past
     * its own fields: the type grows by one at patch time, before it has
     * instances; 0 when it did not (attach, instances).  Subclasses keep
     * the table. */
    Py_ssize_t inobj_offset;
    PyObject *type; /* the first patched: the main interpreter's */
} hot TL_HOT_DATA __attribute__((aligned(64)));
static void *orig_cancel TL_HOT_DATA, *orig_uncancel TL_HOT_DATA;

#define MAX_TYPES 16
static PyObject *patched[MAX_TYPES];
static int n_patched;

static struct tl_inobj *inobj_of(PyObject *task)
{
    return hot.inobj_offset && TL_TYPE(task) == hot.type
               ? (struct tl_inobj *)((char *)task + hot.inobj_offset)
               : NULL;
}

TL_HOT uintptr_t tl_task_in_table(PyObject *task)
{
    struct tl_inobj *o = inobj_of(task);
    if (o)
        tl_task_adopt(o);
    return (uintptr_t)task;
}

TL_HOT uint64_t tl_task_id_of(PyObject *task)
{
    struct tl_inobj *o = inobj_of(task);
    return o && o->id ? o->id : tl_task_id((uintptr_t)task);
}

/* The task whose cancel() is running on this thread (its address), to
 * attribute the cancels C forwards from it to the task it awaits. */
static __thread uintptr_t cancelling_task __attribute__((tls_model("initial-exec")));

/* ---- hooks ------------------------------------------------------------- */

/* __init__'s coro: the first positional argument, or the keyword. */
static PyObject *coro_arg(PyObject *args, PyObject *kwds)
{
    PyObject *coro = tl_py_tuple_first(args);
    return coro || !kwds ? coro : tl_py.PyDict_GetItemString(kwds, "coro");
}

/* Only the main interpreter is audited: each hook starts with the calling
 * thread's state, NULL for any other.  Subinterpreters share the method
 * tables (3.12+) and, before, the Task type itself; an isolated one runs
 * under its own GIL, and its objects die with it: nothing of theirs may
 * reach the depots, which the main interpreter resolves later. */
static void *main_thread_state(void)
{
    return tl_frames_main_thread_state();
}

TL_HOT static int hook_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    void *ts = main_thread_state();
    if (!ts)
        return hot.orig_init(self, args, kwds);
    uint64_t t0 = tl_ticks();
    int timed = tl_hook_begin(TL_HOOK_SPAWN);
    uint32_t coro_name = tl_pytask_coro_name(coro_arg(args, kwds));
    uint32_t py = tl_capture_stack(ts, TL_SITE_SPAWN);
    uint32_t native = tl_capture_native(py);
    /* Recorded before the real __init__: an eager task runs inside it.  A
     * task __init__ed again goes to the table, where the new call wins. */
    struct tl_inobj *o = inobj_of(self);
    if (o && !o->id && o->thread_id != TL_INOBJ_IN_TABLE)
        tl_task_spawned_in(o, coro_name, py, native, tl_thread_id(), t0);
    else
        tl_task_spawned(tl_task_in_table(self), coro_name, py, native, tl_thread_id(), t0);
    tl_collector_poke_fn();
    if (timed)
        tl_hook_timed(TL_HOOK_SPAWN, tl_ticks() - t0, 1);
    int rc = hot.orig_init(self, args, kwds);
    if (rc < 0)
        tl_task_destroyed(tl_task_in_table(self), 0, TL_NO_LEAK, NULL, 0);
    return rc;
}

/* Any ending but the common one: judged. */
TL_COLD static void end_judged(PyObject *self)
{
    enum tl_state st = TL_PENDING;
    int state_known = tl_pytask_state_fast(self, &st);
    if (!main_thread_state()) {
        /* A collection run elsewhere (3.8: one for all interpreters) may
         * finalize a task of ours: the record must not outlive it.  Its
         * watch, if a weak reference, is left: not this interpreter's. */
        tl_task_destroyed(tl_task_in_table(self), 0, TL_NO_LEAK, NULL, 0);
        return;
    }
    void *watch = NULL;
    if (state_known && tl_task_ended_quietly(tl_task_in_table(self), st, &watch)) {
        tl_judge_release_watch(watch);
        return;
    }
    struct tl_task_view v;
    if (tl_task_view(tl_task_in_table(self), &v)) {
        PyObject *t, *val, *tb;
        tl_py.PyErr_Fetch(&t, &val, &tb);
        tl_judge_destroyed(self, &v);
        tl_py.PyErr_Restore(t, val, tb);
    }
}

/* The common ending (done, and never cancelled or ended cancelled) in one
 * lock, without Python calls or the clock.  For a task recorded in its
 * object that is C reads and our lock, right in any interpreter: no thread
 * state is looked up (its lines are cold by a task's end).  Such a task was
 * never cancel()ed (a cancel moves it to the table): that it is done is all
 * there is to know, one C call. */
TL_HOT static void hook_finalize(PyObject *self)
{
    int timed = tl_hook_begin(TL_HOOK_DESTROY);
    uint64_t t0 = timed ? tl_ticks() : 0;
    struct tl_inobj *o = inobj_of(self);
    if (!(o && o->id && tl_pytask_done_fast(self) == 1 && tl_task_ended_in(o)))
        end_judged(self);
    if (timed)
        tl_hook_timed(TL_HOOK_DESTROY, tl_ticks() - t0, 1);
    hot.orig_finalize(self);
}

static char *message_arg(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *msg = NULL;
    if (nargs >= 1)
        msg = args[0];
    else if (kwnames && tl_py.PyTuple_Size(kwnames) == 1)
        msg = args[0]; /* the only keyword cancel() takes is msg */
    if (!msg || msg == tl_py.None)
        return NULL;
    return tl_pytask_str(msg);
}

/* Whether the task's destruction is sure to pass hook_finalize: an
 * _asyncio.Task itself, whose type cannot change; not a subclass, which
 * may override __del__ or predate the hooks. */
static int destruction_seen(PyObject *task)
{
    return hot.type && TL_TYPE(task) == hot.type;
}

/* What the cancel hooks carry across the real cancel(). */
struct cancel_call {
    uint64_t t0;
    int timed;
    uintptr_t outer; /* the task whose cancel() forwarded this one, or 0 */
    uint32_t stack;  /* the canceller's */
    char *message;
};

TL_HOT static void cancel_begin(void *ts, PyObject *self, struct cancel_call *c)
{
    c->t0 = tl_ticks();
    c->timed = tl_hook_begin(TL_HOOK_CANCEL);
    c->outer = cancelling_task;
    c->stack = tl_capture_stack(ts, TL_SITE_CANCEL);
    cancelling_task = (uintptr_t)self;
    if (c->timed)
        tl_hook_timed(TL_HOOK_CANCEL, tl_ticks() - c->t0, 0);
}

TL_HOT static PyObject *cancel_end(PyObject *self, PyObject *result, struct cancel_call *c)
{
    cancelling_task = c->outer;
    uint64_t t0 = c->timed ? tl_ticks() : 0;
    if (result && result != tl_py.None && tl_py.PyObject_IsTrue(result) == 1) {
        uint64_t outer = c->outer ? tl_task_id_of((PyObject *)c->outer) : 0;
        int scope = outer ? TL_SCOPE_NONE : tl_capture_scope_of_stack(c->stack);
        if (__builtin_expect(scope & TL_CAPTURE_AT_SHUTDOWN, 0)) { /* asyncio.run's end */
            scope &= ~TL_CAPTURE_AT_SHUTDOWN;
            tl_shutdown_runner_cancelled(self);
        }
        /* Still suspended where the CancelledError will be delivered. */
        uint32_t delivered = tl_pytask_awaiting(self);
        void *watch = tl_judge_new_watch(self, destruction_seen(self));
        tl_task_cancelled(tl_task_in_table(self), c->t0, c->stack, scope, outer, c->message,
                          delivered, &watch);
        tl_judge_release_watch(watch);
    } else {
        free(c->message);
    }
    if (c->timed)
        tl_hook_timed(TL_HOOK_CANCEL, tl_ticks() - t0, 1);
    return result;
}

TL_HOT static PyObject *hook_cancel_fastcall(PyObject *self, PyObject *const *args,
                                      Py_ssize_t nargs, PyObject *kwnames)
{
    void *ts = main_thread_state();
    if (!ts)
        return ((fastcall_kw_fn)orig_cancel)(self, args, nargs, kwnames);
    struct cancel_call c;
    cancel_begin(ts, self, &c);
    c.message = message_arg(args, nargs, kwnames);
    PyObject *r = ((fastcall_kw_fn)orig_cancel)(self, args, nargs, kwnames);
    return cancel_end(self, r, &c);
}

TL_HOT static PyObject *hook_cancel_noargs(PyObject *self, PyObject *unused)
{
    void *ts = main_thread_state();
    if (!ts)
        return ((noargs_fn)orig_cancel)(self, unused);
    struct cancel_call c;
    cancel_begin(ts, self, &c);
    c.message = NULL;
    PyObject *r = ((noargs_fn)orig_cancel)(self, unused);
    return cancel_end(self, r, &c);
}

TL_HOT static PyObject *hook_uncancel(PyObject *self, PyObject *unused)
{
    PyObject *r = ((noargs_fn)orig_uncancel)(self, unused);
    if (!main_thread_state())
        return r;
    uint64_t t0 = tl_ticks();
    if (r)
        tl_task_uncancelled(tl_task_in_table(self), (tl_capture_scope_of_stack(tl_capture_py(1)) &
                                                    ~TL_CAPTURE_AT_SHUTDOWN) != TL_SCOPE_NONE);
    tl_hook_account(TL_HOOK_UNCANCEL, tl_ticks() - t0, 1);
    return r;
}

/* ---- patching ---------------------------------------------------------- */

/* Point a slot wrapper (`__init__`, `__del__`) at our hook, where it still
 * holds the original: Python subclasses call through it. */
static void patch_wrapper(PyObject *type, const char *name, void *orig, void *hook)
{
    PyObject *descr = tl_py.PyObject_GetAttrString(type, name);
    if (!descr) {
        tl_py.PyErr_Clear();
        return;
    }
    const char *tname = TL_FIELD(TL_TYPE(descr), TL_OFF_TP_NAME, const char *);
    if (tname && !strcmp(tname, "wrapper_descriptor") &&
        TL_FIELD(descr, TL_OFF_DESCR_WRAPPED, void *) == orig)
        TL_FIELD(descr, TL_OFF_DESCR_WRAPPED, void *) = hook;
    tl_py.Py_DecRef(descr);
}

/* The method tables are shared by every Task type of the process (one per
 * interpreter on 3.12+), so they are swapped once. */
static int patch_methods(PyObject *type)
{
    if (orig_cancel)
        return 0;
    PyMethodDef *cancel = tl_py_method_def(type, "cancel");
    PyMethodDef *uncancel = tl_caps.cancelling ? tl_py_method_def(type, "uncancel") : NULL;
    if (!cancel || (tl_caps.cancelling && !uncancel))
        return -1;
    int cancel_flags = cancel->ml_flags & ~0x0030 /* METH_CLASS|METH_STATIC */;
    void *cancel_hook = NULL;
    if (cancel_flags == (TL_METH_FASTCALL | TL_METH_KEYWORDS))
        cancel_hook = (void *)hook_cancel_fastcall;
    else if (cancel_flags == TL_METH_NOARGS)
        cancel_hook = (void *)hook_cancel_noargs;
    if (!cancel_hook || (uncancel && uncancel->ml_flags != TL_METH_NOARGS))
        return -1;
    orig_cancel = cancel->ml_meth;
    cancel->ml_meth = cancel_hook;
    if (uncancel) {
        orig_uncancel = uncancel->ml_meth;
        uncancel->ml_meth = (void *)hook_uncancel;
    }
    return 0;
}

/* The growth: a struct tl_inobj, rounded up so that a task takes whole cache
 * lines (its size, the GC header and 3.11+'s pre-header of a managed dict
 * or weak reference list).  On 3.8, tasks of 208 bytes ran deep churn 2-3 %
 * slower than of 192 or 256, with the same instructions and simulated
 * cache misses (callgrind): the machine's doing; 3.11, 3.13 and 3.14 showed
 * no difference either way.  Not with 3.13+'s inline attribute values,
 * which come after it. */
#define TL_TPFLAGS_INLINE_VALUES (1UL << 2) /* 3.13+; unused before */
#define TL_TPFLAGS_PREHEADER (3UL << 3)     /* 3.11+; unused before */

static Py_ssize_t growth(PyObject *type, Py_ssize_t size)
{
    Py_ssize_t inobj = sizeof(struct tl_inobj);
    unsigned long flags = tl_py.PyType_GetFlags(type);
    if (flags & TL_TPFLAGS_INLINE_VALUES)
        return inobj;
    Py_ssize_t end = 16 /* PyGC_Head */ + (flags & TL_TPFLAGS_PREHEADER ? 16 : 0) + size + inobj;
    return inobj + (64 - end % 64) % 64;
}

/* Grow the Task type by a struct tl_inobj, where no instance can be too
 * small for it: none exists yet, and only the type itself (not a subclass,
 * whose size was set apart) uses it.  3.13+ keep inline attribute values
 * past tp_basicsize, read through the type's size at each access. */
static void grow(PyObject *type)
{
    Py_ssize_t *size = &TL_FIELD(type, TL_OFF_TP_BASICSIZE, Py_ssize_t);
    PyObject **tasks;
    size_t n = tl_tasklist_collect(&tasks);
    for (size_t i = 0; i < n; i++)
        tl_py.Py_DecRef(tasks[i]);
    free(tasks);
    if (n || TL_FIELD(type, TL_OFF_TP_ITEMSIZE, Py_ssize_t) || *size % 8)
        return;
    hot.inobj_offset = *size;
    *size += growth(type, *size);
    tl_tasks_inobj_offset((size_t)hot.inobj_offset);
}

int tl_task_hooks_patch(PyObject *type, int fresh)
{
    for (int i = 0; i < n_patched; i++)
        if (patched[i] == type)
            return 0;
    if (n_patched == MAX_TYPES || tl_pytask_init(type) < 0)
        return -1;
    if (!n_patched)
        tl_capture_init();
    initproc init = TL_FIELD(type, TL_OFF_TP_INIT, initproc);
    finalizeproc fin = TL_FIELD(type, TL_OFF_TP_FINALIZE, finalizeproc);
    if (!init || !fin || (hot.orig_init && (init != hot.orig_init || fin != hot.orig_finalize)))
        return -1;
    if (patch_methods(type) < 0)
        return -1;
    hot.orig_init = init;
    hot.orig_finalize = fin;
    TL_FIELD(type, TL_OFF_TP_INIT, initproc) = hook_init;
    TL_FIELD(type, TL_OFF_TP_FINALIZE, finalizeproc) = hook_finalize;
    patch_wrapper(type, "__init__", (void *)hot.orig_init, (void *)hook_init);
    patch_wrapper(type, "__del__", (void *)hot.orig_finalize, (void *)hook_finalize);
    tl_py.Py_IncRef(type);
    if (!n_patched && fresh)
        grow(type);
    if (!n_patched)
        hot.type = type;
    patched[n_patched++] = type;
    return 0;
}

/* ---- attach: the tasks that were there before the library --------------- */

static void adopt(PyObject *task)
{
    struct tl_task_view v;
    if (tl_task_view((uintptr_t)task, &v) || tl_pytask_state(task, 0) != TL_PENDING)
        return;
    /* Stamp 0: created before the attach, by a stack nobody recorded. */
    if (!tl_task_spawned((uintptr_t)task, tl_pytask_task_coro_name(task), 0, 0, 0, 0))
        return;
    long n = tl_pytask_cancels_outstanding(task);
    for (long i = 0; i < n && i < 16; i++) {
        void *watch = tl_judge_new_watch(task, destruction_seen(task));
        tl_task_cancelled((uintptr_t)task, 0, 0, TL_SCOPE_NONE, 0, tl_pytask_cancel_message(task),
                          0, &watch);
        tl_judge_release_watch(watch);
    }
    tl_py.PyErr_Clear();
}

void tl_task_hooks_adopt_live_tasks(void)
{
    PyObject **tasks;
    size_t n = tl_tasklist_collect(&tasks);
    PyObject *t, *v, *tb;
    tl_py.PyErr_Fetch(&t, &v, &tb);
    for (size_t i = 0; i < n; i++) {
        adopt(tasks[i]);
        tl_py.Py_DecRef(tasks[i]);
    }
    free(tasks);
    tl_py.PyErr_Restore(t, v, tb);
}
