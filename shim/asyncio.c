/* The asyncio runtime adapter.
 *
 * Spawn: the Task type's tp_init (and the `__init__` slot wrapper that
 * Python subclasses reach through super()).  Cancel/uncancel: ml_meth of the
 * methods' PyMethodDef, swapped in place, so every call path sees it.
 * Completion and destruction: tp_finalize (and `__del__`'s wrapper), plus a
 * sweep of cancelled tasks before each report.  The hooks gather what they
 * need from Python and forward to the plain core in tasks.c. */
#include "asyncio.h"
#include "collect.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "holdings.h"
#include "cpython/frames.h"
#include "cpython/tasklist.h"
#include "cpython/version.h"
#include "options.h"
#include "scopes.h"
#include "suppressions.h"
#include "tasks.h"
#include "verdict.h"
#include "unwind.h"

typedef int (*initproc)(PyObject *, PyObject *, PyObject *);
typedef void (*finalizeproc)(PyObject *);
typedef PyObject *(*noargs_fn)(PyObject *, PyObject *);
typedef PyObject *(*fastcall_kw_fn)(PyObject *, PyObject *const *, Py_ssize_t, PyObject *);

static initproc orig_init;
static finalizeproc orig_finalize;
static void *orig_cancel, *orig_uncancel;

#define MAX_TYPES 16
static PyObject *patched[MAX_TYPES];
static int n_patched;

static int exiting; /* the exit report is written: judge nothing more */

/* Interned attribute and method names. */
static PyObject *s_qualname, *s_state, *s_exception, *s_result, *s_get_name,
    *s_cancelling, *s_get_coro, *s_cr_await, *s_gi_yieldfrom, *s_fut_waiter, *s_get_context,
    *s_name, *s_must_cancel, *s_cancel_message, *s_children, *s_awaited_by;

/* The task whose cancel() is running on this thread, to attribute the
 * cancels C forwards from it to the task it awaits. */
static __thread uint64_t cancelling_task __attribute__((tls_model("initial-exec")));

/* ---- stacks ------------------------------------------------------------ */

static uint32_t intern_py(const uintptr_t *words, int frames)
{
    int is_new;
    uint32_t id = tl_depot_put(&tl_py_stacks, words, (uint32_t)frames * 2, &is_new);
    if (is_new) /* keep the code objects alive: their addresses are keys */
        for (int i = 0; i < frames; i++)
            tl_py.Py_IncRef((PyObject *)words[2 * i]);
    return id;
}

static uint32_t capture_py(int depth)
{
    uintptr_t words[2 * 256];
    return intern_py(words, tl_frames_capture(words, depth));
}

/* The native stack under a given Python creation stack is the same from one
 * task to the next (the same C entry points lead to the same Python frames),
 * so it is unwound once per distinct Python stack: the depot's `resolved`
 * slot of the Python trace remembers it (as native id + 1). */
static struct tl_depot native_of_py;

static uint32_t capture_native(uint32_t py)
{
    /* This thread's last answer: a loop spawning from one place takes no
     * lock here (small: initial-exec TLS must fit the loader's surplus). */
    static __thread struct {
        uint32_t py, native;
    } last __attribute__((tls_model("initial-exec")));
    if (!tl_opt.native)
        return 0;
    if (py && last.py == py)
        return last.native;
    int is_new;
    uintptr_t key = py;
    uint32_t slot = py ? tl_depot_put(&native_of_py, &key, 1, &is_new) : 0;
    uintptr_t known = slot && !is_new ? (uintptr_t)tl_depot_resolved(&native_of_py, slot) : 0;
    uint32_t id;
    if (known) {
        id = (uint32_t)(known - 1);
    } else {
        uintptr_t ips[256];
        int n = tl_unwind_capture(ips, tl_opt.native_depth, 0);
        id = n ? tl_depot_put(&tl_native_stacks, ips, (uint32_t)n, &is_new) : 0;
        if (slot)
            tl_depot_set_resolved(&native_of_py, slot, (void *)(uintptr_t)(id + 1));
    }
    if (py) {
        last.py = py;
        last.native = id;
    }
    return id;
}

static char *utf8_copy(PyObject *s)
{
    const char *u = s ? tl_py.PyUnicode_AsUTF8(s) : NULL;
    if (!u) {
        tl_py.PyErr_Clear();
        return NULL;
    }
    return strdup(u);
}

/* The names depot keeps one reference per distinct string and its text. */
static uint32_t intern_name(PyObject *str)
{
    if (!str)
        return 0;
    int is_new;
    uintptr_t w = (uintptr_t)str;
    uint32_t id = tl_depot_put(&tl_names, &w, 1, &is_new);
    if (is_new) {
        tl_py.Py_IncRef(str);
        char *text = utf8_copy(str);
        if (text && tl_depot_set_resolved(&tl_names, id, text) < 0)
            free(text);
    }
    return id;
}

/* The cancel scope (scopes.h) of the code issuing a cancel, cached per code
 * object: the cancel's stack in the depot keeps the code alive. */
static struct tl_depot scope_cache;

static int scope_of_code(uintptr_t code)
{
    int is_new;
    uint32_t id = tl_depot_put(&scope_cache, &code, 1, &is_new);
    if (!id)
        return TL_SCOPE_NONE;
    if (!is_new)
        return (int)(uintptr_t)tl_depot_resolved(&scope_cache, id) - 1;
    struct tl_pyframe f;
    tl_frames_resolve(code, 0, &f);
    int scope = tl_scope_classify(f.file, f.function);
    free(f.function);
    free(f.file);
    tl_depot_set_resolved(&scope_cache, id, (void *)(uintptr_t)(scope + 1));
    return scope;
}

/* The scope of the innermost frame of a stack in the depot. */
static int scope_of_stack(uint32_t stack)
{
    uint32_t n;
    const uintptr_t *w = tl_depot_get(&tl_py_stacks, stack, &n);
    return w && n ? scope_of_code(w[0]) : TL_SCOPE_NONE;
}

/* ---- reading tasks ----------------------------------------------------- */

static PyObject *get(PyObject *obj, PyObject *name)
{
    PyObject *v = tl_py.PyObject_GetAttr(obj, name);
    if (!v)
        tl_py.PyErr_Clear();
    return v;
}

static PyObject *call(PyObject *obj, PyObject *name)
{
    PyObject *v = tl_py.PyObject_CallMethodObjArgs(obj, name, NULL);
    if (!v)
        tl_py.PyErr_Clear();
    return v;
}

/* PENDING, CANCELLED or FINISHED; with `detail`, FINISHED is split into
 * finished and failed (one more attribute read, only worth it for a task
 * that may be a leak). */
static enum tl_state task_state_of(PyObject *task, int detail)
{
    PyObject *s = get(task, s_state);
    const char *text = s ? tl_py.PyUnicode_AsUTF8(s) : NULL;
    enum tl_state st = TL_PENDING;
    if (!text)
        tl_py.PyErr_Clear();
    else if (!strcmp(text, "CANCELLED"))
        st = TL_CANCELLED;
    else if (!strcmp(text, "FINISHED") && !detail)
        st = TL_FINISHED;
    else if (!strcmp(text, "FINISHED")) {
        PyObject *exc = get(task, s_exception);
        st = exc && exc != tl_py.None ? TL_FAILED : TL_FINISHED;
        if (exc)
            tl_py.Py_DecRef(exc);
    }
    if (s)
        tl_py.Py_DecRef(s);
    return st;
}

static enum tl_state task_state(PyObject *task)
{
    return task_state_of(task, 1);
}

static long task_cancelling(PyObject *task)
{
    if (!tl_caps.cancelling)
        return -1;
    PyObject *v = call(task, s_cancelling);
    long n = v ? tl_py.PyLong_AsLong(v) : 0;
    if (v)
        tl_py.Py_DecRef(v);
    if (tl_py.PyErr_Occurred())
        tl_py.PyErr_Clear();
    return n;
}

static char *type_name(PyObject *obj)
{
    PyObject *type = TL_TYPE(obj);
    const char *name = TL_FIELD(type, TL_OFF_TP_NAME, const char *);
    const char *dot = name ? strrchr(name, '.') : NULL;
    return strdup(dot ? dot + 1 : name ? name : "?");
}

static char *text_of(PyObject *obj, PyObject *(*fn)(PyObject *))
{
    PyObject *s = fn(obj);
    char *text = utf8_copy(s);
    if (!s)
        tl_py.PyErr_Clear();
    else
        tl_py.Py_DecRef(s);
    if (text && strlen(text) > 200)
        strcpy(text + 197, "...");
    return text;
}

/* A pending task's chain of coroutines and generators (cr_await /
 * gi_yieldfrom), outermost first, as new references; returns how many. */
static int await_chain(PyObject *task, PyObject **chain, int max)
{
    int n = 0;
    PyObject *obj = call(task, s_get_coro);
    while (obj && n < max) {
        PyObject *type = TL_TYPE(obj);
        if (type != tl_py.CoroType && type != tl_py.GenType)
            break; /* a future, or an awaitable we cannot look into */
        chain[n++] = obj;
        obj = get(obj, type == tl_py.CoroType ? s_cr_await : s_gi_yieldfrom);
    }
    if (obj)
        tl_py.Py_DecRef(obj);
    return n;
}

static void drop_chain(PyObject **chain, int n)
{
    for (int i = 0; i < n; i++)
        tl_py.Py_DecRef(chain[i]);
}

/* Where a pending task is suspended, innermost first, read from the
 * coroutines' own frames. */
static uint32_t awaiting_stack_of(PyObject **chain, int n_chain)
{
    uintptr_t words[2 * 256];
    int n = 0;
    for (int i = n_chain - 1; i >= 0 && n < 256; i--)
        n += tl_frames_of_generator(chain[i], &words[2 * n]);
    return n ? intern_py(words, n) : 0;
}

static uint32_t awaiting_stack(PyObject *task)
{
    PyObject *chain[256];
    int n = await_chain(task, chain, tl_opt.stack_depth);
    uint32_t id = awaiting_stack_of(chain, n);
    drop_chain(chain, n);
    return id;
}

/* The task's context variables named taskleak.* (3.12+: Task.get_context). */
static void gather_labels(PyObject *task, struct tl_outcome *o)
{
    PyObject *ctx = tl_caps.task_context ? call(task, s_get_context) : NULL;
    PyObject *it = ctx ? tl_py.PyObject_GetIter(ctx) : NULL;
    for (PyObject *var; it && o->n_labels < TL_MAX_LABELS && (var = tl_py.PyIter_Next(it));) {
        PyObject *name = get(var, s_name);
        const char *text = name ? tl_py.PyUnicode_AsUTF8(name) : NULL;
        if (text && !strncmp(text, "taskleak.", 9)) {
            PyObject *value = tl_py.PyObject_GetItem(ctx, var);
            char *shown = value ? text_of(value, tl_py.PyObject_Str) : NULL;
            char *key = strdup(text);
            if (shown && key) {
                o->labels[o->n_labels].name = key;
                o->labels[o->n_labels++].value = shown;
            } else {
                free(shown);
                free(key);
            }
            if (value)
                tl_py.Py_DecRef(value);
        }
        if (name)
            tl_py.Py_DecRef(name);
        tl_py.Py_DecRef(var);
    }
    tl_py.PyErr_Clear();
    if (it)
        tl_py.Py_DecRef(it);
    if (ctx)
        tl_py.Py_DecRef(ctx);
}

/* Everything a report says about a task, read while it is alive. */
static void gather_outcome(PyObject *task, enum tl_state st, struct tl_outcome *o)
{
    memset(o, 0, sizeof *o);
    o->state = st;
    o->name = text_of(task, tl_py.PyObject_Str);
    PyObject *name = call(task, s_get_name);
    if (name) {
        free(o->name);
        o->name = text_of(name, tl_py.PyObject_Str);
        tl_py.Py_DecRef(name);
    }
    if (st == TL_FINISHED || st == TL_FAILED) {
        PyObject *v = get(task, st == TL_FINISHED ? s_result : s_exception);
        if (v) {
            o->type = type_name(v);
            o->text = text_of(v, st == TL_FINISHED ? tl_py.PyObject_Repr : tl_py.PyObject_Str);
            tl_py.Py_DecRef(v);
        }
    } else if (st == TL_PENDING) {
        PyObject *chain[256];
        int n = await_chain(task, chain, tl_opt.stack_depth);
        o->awaiting = awaiting_stack_of(chain, n);
        tl_holdings_of(chain, n, &o->holds);
        drop_chain(chain, n);
    }
    gather_labels(task, o);
}

/* ---- hooks ------------------------------------------------------------- */

static PyObject *coro_arg(PyObject *args, PyObject *kwds)
{
    if (args && tl_py.PyTuple_Size(args) > 0)
        return tl_py.PyTuple_GetItem(args, 0);
    tl_py.PyErr_Clear();
    return kwds ? tl_py.PyDict_GetItemString(kwds, "coro") : NULL;
}

static int hook_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    uint64_t t0 = tl_ticks();
    PyObject *coro = coro_arg(args, kwds);
    uint32_t coro_name = 0;
    if (coro) {
        PyObject *q = get(coro, s_qualname);
        coro_name = intern_name(q);
        if (q)
            tl_py.Py_DecRef(q);
    }
    uint32_t py = capture_py(tl_opt.stack_depth);
    uint32_t native = capture_native(py);
    /* Recorded before the real __init__: an eager task runs inside it. */
    tl_task_spawned((uintptr_t)self, coro_name, py, native, tl_thread_id(), tl_now());
    tl_collector_calls.poke();
    tl_hook_account(TL_HOOK_SPAWN, tl_ticks() - t0, 1);
    int rc = orig_init(self, args, kwds);
    if (rc < 0)
        tl_task_destroyed((uintptr_t)self, 0, -1, NULL, 0);
    return rc;
}

static void release_watch(void *watch)
{
    if (watch)
        tl_py.Py_DecRef(watch);
}

static const struct tl_resolved_stack *resolve_stack(uint32_t id);

/* A leak verdict, unless a suppression rule covers the creation site. */
static int leak_unless_suppressed(int kind, const struct tl_task_view *v)
{
    return kind >= 0 && tl_suppressed(kind, resolve_stack(v->created_py)) ? -1 : kind;
}

static void judge_destroyed(PyObject *self, const struct tl_task_view *v)
{
    enum tl_state st = task_state_of(self, v->n_effective || v->has_stuck);
    int kind = -1;
    if (st == TL_PENDING && !exiting)
        kind = TL_DESTROYED_PENDING;
    else if (st != TL_PENDING && v->n_effective && !v->ended && !exiting &&
             tl_is_swallowed(v, st, task_cancelling(self)))
        kind = TL_SWALLOWED_CANCEL;
    kind = leak_unless_suppressed(kind, v);
    struct tl_outcome o = {.state = st};
    if (kind >= 0 || v->has_stuck)
        gather_outcome(self, st, &o);
    release_watch(tl_task_destroyed((uintptr_t)self, st != TL_PENDING, kind, &o, tl_now()));
}

static void hook_finalize(PyObject *self)
{
    uint64_t t0 = tl_ticks();
    struct tl_task_view v;
    if (tl_task_view((uintptr_t)self, &v)) {
        PyObject *t, *val, *tb;
        tl_py.PyErr_Fetch(&t, &val, &tb);
        judge_destroyed(self, &v);
        tl_py.PyErr_Restore(t, val, tb);
    }
    tl_hook_account(TL_HOOK_DESTROY, tl_ticks() - t0, 1);
    orig_finalize(self);
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
    PyObject *s = tl_py.PyObject_Str(msg);
    char *text = utf8_copy(s);
    if (s)
        tl_py.Py_DecRef(s);
    else
        tl_py.PyErr_Clear();
    return text;
}

static PyObject *cancel_common(PyObject *self, PyObject *result, uint32_t stack,
                               uint64_t outer, char *message)
{
    uint64_t t0 = tl_ticks();
    if (result && result != tl_py.None && tl_py.PyObject_IsTrue(result) == 1) {
        int scope = outer ? TL_SCOPE_NONE : scope_of_stack(stack);
        /* Still suspended where the CancelledError will be delivered. */
        uint32_t delivered = awaiting_stack(self);
        int first = tl_task_cancelled((uintptr_t)self, tl_now(), stack, scope, outer, message,
                                      delivered);
        if (first == 1) {
            PyObject *watch = tl_py.PyWeakref_NewRef(self, NULL);
            if (watch)
                tl_task_watch((uintptr_t)self, watch);
            else
                tl_py.PyErr_Clear();
        }
    } else {
        free(message);
    }
    tl_hook_account(TL_HOOK_CANCEL, tl_ticks() - t0, 1);
    return result;
}

static PyObject *hook_cancel_fastcall(PyObject *self, PyObject *const *args,
                                      Py_ssize_t nargs, PyObject *kwnames)
{
    uint64_t t0 = tl_ticks(), outer = cancelling_task;
    uint32_t stack = capture_py(tl_opt.stack_depth);
    char *message = message_arg(args, nargs, kwnames);
    cancelling_task = tl_task_id((uintptr_t)self);
    tl_hook_account(TL_HOOK_CANCEL, tl_ticks() - t0, 0);
    PyObject *r = ((fastcall_kw_fn)orig_cancel)(self, args, nargs, kwnames);
    cancelling_task = outer;
    return cancel_common(self, r, stack, outer, message);
}

static PyObject *hook_cancel_noargs(PyObject *self, PyObject *unused)
{
    uint64_t t0 = tl_ticks(), outer = cancelling_task;
    uint32_t stack = capture_py(tl_opt.stack_depth);
    cancelling_task = tl_task_id((uintptr_t)self);
    tl_hook_account(TL_HOOK_CANCEL, tl_ticks() - t0, 0);
    PyObject *r = ((noargs_fn)orig_cancel)(self, unused);
    cancelling_task = outer;
    return cancel_common(self, r, stack, outer, NULL);
}

static PyObject *hook_uncancel(PyObject *self, PyObject *unused)
{
    PyObject *r = ((noargs_fn)orig_uncancel)(self, unused);
    uint64_t t0 = tl_ticks();
    if (r)
        tl_task_uncancelled((uintptr_t)self, scope_of_stack(capture_py(1)) != TL_SCOPE_NONE);
    tl_hook_account(TL_HOOK_UNCANCEL, tl_ticks() - t0, 1);
    return r;
}

/* ---- patching ---------------------------------------------------------- */

static PyMethodDef *method_def(PyObject *type, const char *name)
{
    PyObject *descr = tl_py.PyObject_GetAttrString(type, name);
    if (!descr) {
        tl_py.PyErr_Clear();
        return NULL;
    }
    const char *tname = TL_FIELD(TL_TYPE(descr), TL_OFF_TP_NAME, const char *);
    PyMethodDef *def = NULL;
    if (tname && !strcmp(tname, "method_descriptor"))
        def = TL_FIELD(descr, TL_OFF_DESCR_METHOD, PyMethodDef *);
    tl_py.Py_DecRef(descr);
    return def;
}

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

static int intern_names(void)
{
    static const char *const names[] = {"__qualname__", "_state", "_exception", "_result",
                                        "get_name", "cancelling", "get_coro", "cr_await",
                                        "gi_yieldfrom", "_fut_waiter", "get_context", "name",
                                        "_must_cancel", "_cancel_message", "_children",
                                        "_asyncio_awaited_by"};
    PyObject **slots[] = {&s_qualname, &s_state, &s_exception, &s_result,
                          &s_get_name, &s_cancelling, &s_get_coro, &s_cr_await,
                          &s_gi_yieldfrom, &s_fut_waiter, &s_get_context, &s_name,
                          &s_must_cancel, &s_cancel_message, &s_children, &s_awaited_by};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!*slots[i] && !(*slots[i] = tl_py.PyUnicode_InternFromString(names[i])))
            return -1;
    return 0;
}

/* The method tables are shared by every Task type of the process (one per
 * interpreter on 3.12+), so they are swapped once. */
static int patch_methods(PyObject *type)
{
    if (orig_cancel)
        return 0;
    PyMethodDef *cancel = method_def(type, "cancel");
    PyMethodDef *uncancel = tl_caps.cancelling ? method_def(type, "uncancel") : NULL;
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

int tl_asyncio_patch(PyObject *type)
{
    for (int i = 0; i < n_patched; i++)
        if (patched[i] == type)
            return 0;
    if (n_patched == MAX_TYPES || intern_names() < 0)
        return -1;
    if (!n_patched) {
        tl_depot_init(&scope_cache);
        tl_depot_init(&native_of_py);
    }
    initproc init = TL_FIELD(type, TL_OFF_TP_INIT, initproc);
    finalizeproc fin = TL_FIELD(type, TL_OFF_TP_FINALIZE, finalizeproc);
    if (!init || !fin || (orig_init && (init != orig_init || fin != orig_finalize)))
        return -1;
    if (patch_methods(type) < 0)
        return -1;
    orig_init = init;
    orig_finalize = fin;
    TL_FIELD(type, TL_OFF_TP_INIT, initproc) = hook_init;
    TL_FIELD(type, TL_OFF_TP_FINALIZE, finalizeproc) = hook_finalize;
    patch_wrapper(type, "__init__", (void *)orig_init, (void *)hook_init);
    patch_wrapper(type, "__del__", (void *)orig_finalize, (void *)hook_finalize);
    tl_py.Py_IncRef(type);
    patched[n_patched++] = type;
    return 0;
}

/* ---- collection before a report (GIL held) ----------------------------- */

/* A watched (cancelled) task, judged as it is now. */
static void judge_watched(const struct tl_task_view *v, double now)
{
    PyObject *task = tl_py.PyWeakref_GetObject(v->watch);
    if (!task || task == tl_py.None) { /* freed without finalizing */
        tl_py.PyErr_Clear();
        return;
    }
    tl_py.Py_IncRef(task);
    enum tl_state st = task_state(task);
    long cancelling = task_cancelling(task);
    int kind = -1;
    if (st != TL_PENDING && tl_is_swallowed(v, st, cancelling))
        kind = TL_SWALLOWED_CANCEL;
    else if (st == TL_PENDING && tl_is_stuck(v, now, tl_opt.grace, cancelling))
        kind = TL_STUCK_AFTER_CANCEL;
    kind = leak_unless_suppressed(kind, v);
    struct tl_outcome o = {.state = st};
    if (kind >= 0 || v->has_stuck)
        gather_outcome(task, st, &o);
    release_watch(tl_task_judged(v->addr, v->id, st != TL_PENDING, kind, &o, now));
    tl_py.Py_DecRef(task);
}

/* Views of every watched record; each holds a reference to its watch, so a
 * collection cut into slices survives the task's destruction in between. */
static size_t watched_views(struct tl_task_view **out)
{
    size_t cap = 1024, n = 0;
    struct tl_task_view *views = NULL;
    for (;;) { /* grow until every watched record fits */
        struct tl_task_view *v = realloc(views, cap * sizeof *v);
        if (!v)
            break;
        views = v;
        n = tl_tasks_watched(views, cap);
        if (n < cap)
            break;
        cap *= 2;
    }
    for (size_t i = 0; views && i < n; i++)
        tl_py.Py_IncRef(views[i].watch);
    *out = views;
    return views ? n : 0;
}

static void judge_at_exit(PyObject *task, void *ctx)
{
    struct tl_task_view v;
    (void)ctx;
    if (!tl_task_view((uintptr_t)task, &v))
        return;
    enum tl_state st = task_state(task);
    if (st != TL_PENDING) { /* ended, still referenced: count it as done */
        struct tl_outcome done = {.state = st};
        release_watch(tl_task_judged(v.addr, v.id, 1, -1, &done, tl_now()));
        return;
    }
    if (leak_unless_suppressed(TL_PENDING_AT_EXIT, &v) < 0)
        return;
    struct tl_outcome o;
    gather_outcome(task, TL_PENDING, &o);
    tl_task_judged(v.addr, v.id, 0, TL_PENDING_AT_EXIT, &o, tl_now());
}

/* Who awaits whom among the live tasks: (awaiter, awaited) addresses. */
struct await_edge {
    uintptr_t awaiter, awaited;
};

struct live_list {
    struct tl_leak *items;
    size_t n, cap;
    struct await_edge *edges;
    size_t n_edges, cap_edges;
};

static void add_edge(struct live_list *list, PyObject *awaiter, PyObject *awaited)
{
    if (list->n_edges == list->cap_edges) {
        size_t cap = list->cap_edges ? list->cap_edges * 2 : 64;
        struct await_edge *e = realloc(list->edges, cap * sizeof *e);
        if (!e)
            return;
        list->edges = e;
        list->cap_edges = cap;
    }
    list->edges[list->n_edges++] = (struct await_edge){(uintptr_t)awaiter, (uintptr_t)awaited};
}

/* An edge for each element of a container attribute of `obj` (a list or a
 * set): element -> task when `from_element`, else task -> element. */
static void edges_from(struct live_list *list, PyObject *obj, PyObject *name, PyObject *task,
                       int from_element)
{
    PyObject *container = get(obj, name);
    PyObject *it = container && container != tl_py.None ? tl_py.PyObject_GetIter(container) : NULL;
    for (PyObject *x; it && (x = tl_py.PyIter_Next(it));) {
        add_edge(list, from_element ? x : task, from_element ? task : x);
        tl_py.Py_DecRef(x);
    }
    tl_py.PyErr_Clear();
    if (it)
        tl_py.Py_DecRef(it);
    if (container)
        tl_py.Py_DecRef(container);
}

/* `task` awaits the future it waits on (a task, or gather()'s children);
 * 3.14+ futures also know who awaits them (what asyncio.capture_call_graph
 * and `python -m asyncio pstree` show: a TaskGroup's or gather()'s caller). */
static void note_awaits(struct live_list *list, PyObject *task)
{
    PyObject *waiter = get(task, s_fut_waiter);
    if (waiter && waiter != tl_py.None) {
        add_edge(list, task, waiter);
        edges_from(list, waiter, s_children, task, 0);
    }
    if (waiter)
        tl_py.Py_DecRef(waiter);
    if (tl_caps.task_lists)
        edges_from(list, task, s_awaited_by, task, 1);
}

static void snapshot_live(PyObject *task, void *ctx)
{
    struct live_list *list = ctx;
    enum tl_state st = task_state(task);
    struct tl_task_view v;
    if (st != TL_PENDING) {
        /* Ended, never cancelled: done.  A cancelled one may have swallowed
         * it since this collection's sweep (the GIL was let go in between):
         * the next sweep or its destruction judges it. */
        struct tl_outcome done = {.state = st};
        if (tl_task_view((uintptr_t)task, &v) && !v.n_effective)
            release_watch(tl_task_judged(v.addr, v.id, 1, -1, &done, tl_now()));
        return;
    }
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        struct tl_leak *items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return;
        list->items = items;
        list->cap = cap;
    }
    struct tl_outcome o;
    gather_outcome(task, st, &o);
    note_awaits(list, task);
    if (tl_task_snapshot((uintptr_t)task, &o, &list->items[list->n]))
        list->n++;
}

/* The edges become each awaited task's awaited_by (the first awaiter that
 * is a live task). */
static void link_awaiters(struct live_list *list)
{
    for (size_t e = 0; e < list->n_edges; e++) {
        const struct await_edge *edge = &list->edges[e];
        struct tl_leak *awaiter = NULL, *awaited = NULL;
        for (size_t i = 0; i < list->n && (!awaiter || !awaited); i++) {
            if (list->items[i].task.addr == edge->awaiter)
                awaiter = &list->items[i];
            if (list->items[i].task.addr == edge->awaited)
                awaited = &list->items[i];
        }
        if (awaiter && awaited && awaiter != awaited && !awaited->outcome.awaited_by)
            awaited->outcome.awaited_by = awaiter->task.id;
    }
    free(list->edges);
    list->edges = NULL;
    list->n_edges = list->cap_edges = 0;
}

static const struct tl_resolved_stack *resolve_stack(uint32_t id)
{
    const struct tl_resolved_stack *done = tl_depot_resolved(&tl_py_stacks, id);
    uint32_t n;
    const uintptr_t *w = done ? NULL : tl_depot_get(&tl_py_stacks, id, &n);
    if (!w)
        return done;
    struct tl_resolved_stack *r = calloc(1, sizeof *r + (n / 2) * sizeof r->frames[0]);
    if (!r)
        return NULL;
    r->n = n / 2;
    for (uint32_t i = 0; i < r->n; i++)
        tl_frames_resolve(w[2 * i], w[2 * i + 1], &r->frames[i]);
    if (tl_depot_set_resolved(&tl_py_stacks, id, r) < 0) {
        tl_resolved_stack_free(r);
        return tl_depot_resolved(&tl_py_stacks, id);
    }
    return r;
}

/* One collection: judge the watched tasks, then (exit, snapshot) every live
 * task, then resolve new stacks to lines.  It runs in slices of a bounded
 * time, so that the program never waits long for the GIL; between slices
 * the GIL is released and the state below carries over. */
struct tl_collection {
    enum tl_collect_mode mode;
    enum { JUDGE, TASKS, RESOLVE, DONE } phase;
    double now;
    struct tl_task_view *views;
    size_t n_views, next_view;
    PyObject **tasks;
    size_t n_tasks, next_task;
    uintptr_t *pending; /* exit, 3.14+: the tasks the runtime lists */
    struct live_list live;
    uint32_t next_stack;
};

static uint32_t all_resolved_below = 1; /* stack ids below it have lines */

struct tl_collection *tl_collect_begin(enum tl_collect_mode mode)
{
    struct tl_collection *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->mode = mode;
    c->now = tl_now();
    c->next_stack = all_resolved_below;
    c->n_views = n_patched && !exiting ? watched_views(&c->views) : 0;
    c->phase = n_patched && !exiting ? JUDGE : DONE;
    return c;
}

/* Each phase's next item; 0 when the phase is over. */
static int step_one(struct tl_collection *c)
{
    switch (c->phase) {
    case JUDGE:
        if (c->next_view < c->n_views) {
            struct tl_task_view *v = &c->views[c->next_view++];
            judge_watched(v, c->now);
            tl_py.Py_DecRef(v->watch);
            return 1;
        }
        if (c->mode != TL_COLLECT_PERIODIC)
            c->n_tasks = tl_tasklist_collect(&c->tasks);
        if (c->mode == TL_COLLECT_EXIT && tl_caps.task_lists)
            c->pending = malloc((c->n_tasks ? c->n_tasks : 1) * sizeof *c->pending);
        c->phase = c->mode == TL_COLLECT_PERIODIC ? RESOLVE : TASKS;
        return 1;
    case TASKS:
        if (c->next_task < c->n_tasks) {
            PyObject *task = c->tasks[c->next_task];
            if (c->pending)
                c->pending[c->next_task] = (uintptr_t)task;
            c->next_task++;
            if (c->mode == TL_COLLECT_EXIT)
                judge_at_exit(task, NULL);
            else
                snapshot_live(task, &c->live);
            tl_py.Py_DecRef(task);
            return 1;
        }
        if (c->mode == TL_COLLECT_EXIT) {
            /* Where the runtime lists only pending tasks, the others ended. */
            if (c->pending)
                tl_tasks_end_all_but(c->pending, c->n_tasks);
            exiting = 1;
        } else {
            link_awaiters(&c->live);
        }
        c->phase = RESOLVE;
        return 1;
    case RESOLVE:
        if (c->next_stack <= tl_depot_count(&tl_py_stacks)) {
            resolve_stack(c->next_stack++);
            return 1;
        }
        all_resolved_below = c->next_stack;
        c->phase = DONE;
        return 0;
    case DONE:
        break;
    }
    return 0;
}

int tl_collect_step(struct tl_collection *c, double budget)
{
    if (!c)
        return 0;
    if (exiting && c->mode != TL_COLLECT_EXIT)
        return 0; /* the exit report took over: abandon */
    PyObject *t, *v, *tb;
    tl_py.PyErr_Fetch(&t, &v, &tb);
    double deadline = budget > 0 ? tl_now() + budget : 0;
    int more;
    while ((more = step_one(c)) && !(deadline && tl_now() > deadline))
        ;
    tl_py.PyErr_Restore(t, v, tb);
    return more;
}

struct tl_leak *tl_collect_end(struct tl_collection *c, size_t *n_live)
{
    *n_live = 0;
    if (!c)
        return NULL;
    for (size_t i = c->next_view; i < c->n_views; i++)
        tl_py.Py_DecRef(c->views[i].watch);
    int complete = c->phase == DONE;
    if (c->phase <= TASKS)
        for (size_t i = c->next_task; i < c->n_tasks; i++)
            tl_py.Py_DecRef(c->tasks[i]);
    struct tl_leak *live = NULL;
    if (complete && c->mode == TL_COLLECT_SNAPSHOT) {
        live = c->live.items;
        *n_live = c->live.n;
    } else {
        for (size_t i = 0; i < c->live.n; i++)
            tl_leak_free(&c->live.items[i]);
        free(c->live.items);
    }
    free(c->live.edges);
    free(c->views);
    free(c->tasks);
    free(c->pending);
    free(c);
    return live;
}

void tl_collect_all(enum tl_collect_mode mode)
{
    size_t n;
    struct tl_collection *c = tl_collect_begin(mode);
    while (tl_collect_step(c, 0))
        ;
    struct tl_leak *live = tl_collect_end(c, &n);
    for (size_t i = 0; i < n; i++)
        tl_leak_free(&live[i]);
    free(live);
}

/* ---- attach: the tasks that were there before the library --------------- */

/* Cancels a task has been asked for and not yet seen through, read from the
 * task itself: cancelling() (3.11+), or a cancel not yet delivered. */
static long cancels_outstanding(PyObject *task)
{
    long n = task_cancelling(task);
    if (n > 0)
        return n;
    PyObject *must = get(task, s_must_cancel);
    int pending = must && tl_py.PyObject_IsTrue(must) == 1;
    if (must)
        tl_py.Py_DecRef(must);
    tl_py.PyErr_Clear();
    return pending;
}

static void adopt(PyObject *task)
{
    struct tl_task_view v;
    if (tl_task_view((uintptr_t)task, &v) || task_state_of(task, 0) != TL_PENDING)
        return;
    PyObject *coro = call(task, s_get_coro);
    PyObject *q = coro ? get(coro, s_qualname) : NULL;
    uint32_t coro_name = intern_name(q);
    if (q)
        tl_py.Py_DecRef(q);
    if (coro)
        tl_py.Py_DecRef(coro);
    /* t < 0: created before the attach, by a stack nobody recorded. */
    if (!tl_task_spawned((uintptr_t)task, coro_name, 0, 0, 0, -1))
        return;
    long n = cancels_outstanding(task);
    for (long i = 0; i < n && i < 16; i++) {
        PyObject *m = get(task, s_cancel_message);
        char *message = m && m != tl_py.None ? text_of(m, tl_py.PyObject_Str) : NULL;
        if (m)
            tl_py.Py_DecRef(m);
        if (tl_task_cancelled((uintptr_t)task, -1, 0, TL_SCOPE_NONE, 0, message, 0) == 1) {
            PyObject *watch = tl_py.PyWeakref_NewRef(task, NULL);
            if (watch)
                tl_task_watch((uintptr_t)task, watch);
        }
    }
    tl_py.PyErr_Clear();
}

void tl_asyncio_adopt_live_tasks(void)
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

/* ---- the exit report --------------------------------------------------- */

static PyObject *at_exit(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    tl_collector_calls.final_report();
    tl_py.Py_IncRef(tl_py.None);
    return tl_py.None;
}

/* After os.fork(): restart the collector.  In the parent, not before
 * os.fork() returns (CPython 3.12+ counts threads then, to warn about forks
 * with threads): a pending call runs once the main thread is back in Python
 * code.  Every hook restarts it as well. */
static int restart_collector(void *unused)
{
    (void)unused;
    tl_collector_calls.poke();
    return 0;
}

static PyObject *after_fork_in_parent(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    tl_py.Py_AddPendingCall(restart_collector, NULL);
    tl_py.Py_IncRef(tl_py.None);
    return tl_py.None;
}

static PyObject *after_fork_in_child(PyObject *self, PyObject *unused)
{
    (void)self;
    restart_collector(unused);
    tl_py.Py_IncRef(tl_py.None);
    return tl_py.None;
}

/* module.function(*args, **{kw: fn}) for the registration calls below. */
static void call_with_function(const char *module, const char *function, PyMethodDef *def,
                               const char *const *keywords)
{
    PyObject *mod = tl_py.PyImport_ImportModule(module);
    PyObject *register_fn = mod ? tl_py.PyObject_GetAttrString(mod, function) : NULL;
    PyObject *fn = tl_py.PyCFunction_NewEx(def, NULL, NULL);
    PyObject *args = NULL, *kwargs = NULL, *r = NULL;
    if (register_fn && fn) {
        if (keywords) {
            args = tl_py.PyTuple_New(0);
            kwargs = tl_py.PyDict_New();
            for (int i = 0; kwargs && keywords[i]; i++)
                tl_py.PyDict_SetItemString(kwargs, keywords[i], fn);
        } else {
            args = tl_py.PyTuple_Pack(1, fn);
        }
        if (args)
            r = tl_py.PyObject_Call(register_fn, args, kwargs);
    }
    if (!r)
        tl_py.PyErr_Clear();
    PyObject *refs[] = {r, kwargs, args, fn, register_fn, mod};
    for (int i = 0; i < 6; i++)
        if (refs[i])
            tl_py.Py_DecRef(refs[i]);
}

void tl_asyncio_register_callbacks(void)
{
    static PyMethodDef exit_def = {"_taskleak_exit", (void *)at_exit, TL_METH_NOARGS, NULL};
    static PyMethodDef parent_def = {"_taskleak_after_fork_in_parent", (void *)after_fork_in_parent,
                                     TL_METH_NOARGS, NULL};
    static PyMethodDef child_def = {"_taskleak_after_fork_in_child", (void *)after_fork_in_child,
                                    TL_METH_NOARGS, NULL};
    static const char *const in_parent[] = {"after_in_parent", NULL};
    static const char *const in_child[] = {"after_in_child", NULL};
    call_with_function("atexit", "register", &exit_def, NULL);
    call_with_function("os", "register_at_fork", &parent_def, in_parent);
    call_with_function("os", "register_at_fork", &child_def, in_child);
}
