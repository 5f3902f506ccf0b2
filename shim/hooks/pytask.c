/* SPDX-License-Identifier: MIT */
/* Reading tasks: attributes and methods of asyncio's own Task and of the
 * coroutines it drives, never code of the program's. */
#include "hooks/pytask.h"

#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "cpython/frames.h"
#include "cpython/hot.h"
#include "cpython/version.h"
#include "hooks/capture.h"
#include "hooks/explain.h"
#include "hooks/holdings.h"

static PyObject *s_qualname, *s_state, *s_exception, *s_result, *s_get_name,
    *s_cancelling, *s_get_coro, *s_cr_await, *s_gi_yieldfrom, *s_fut_waiter, *s_get_context,
    *s_name, *s_must_cancel, *s_cancel_message, *s_children, *s_awaited_by, *s_ag_await,
    *s_exceptions;

/* The C functions behind what the hooks read of a Task and its coroutines,
 * found once: a call of each, no attribute lookup or method call through
 * Python, and no error to clear. */
typedef PyObject *(*noargs_fn)(PyObject *, PyObject *);
static PyObject *task_type TL_HOT_DATA; /* the first patched: the main interpreter's */
static PyGetSetDef *cr_await_def, *gi_yieldfrom_def;
static noargs_fn get_coro_fn TL_HOT_DATA, cancelling_fn TL_HOT_DATA, done_fn TL_HOT_DATA,
    cancelled_fn TL_HOT_DATA;

static noargs_fn noargs_method(PyObject *type, const char *name)
{
    PyMethodDef *def = tl_py_method_def(type, name);
    return def && def->ml_flags == TL_METH_NOARGS ? (noargs_fn)def->ml_meth : NULL;
}

static void find_c_functions(PyObject *type)
{
    task_type = type;
    cr_await_def = tl_py_getset_def(tl_py.CoroType, "cr_await");
    gi_yieldfrom_def = tl_py_getset_def(tl_py.GenType, "gi_yieldfrom");
    get_coro_fn = noargs_method(type, "get_coro");
    done_fn = noargs_method(type, "done");
    cancelled_fn = noargs_method(type, "cancelled");
    cancelling_fn = tl_caps.cancelling ? noargs_method(type, "cancelling") : NULL;
}

int tl_pytask_init(PyObject *type)
{
    static const char *const names[] = {"__qualname__", "_state", "_exception", "_result",
                                        "get_name", "cancelling", "get_coro", "cr_await",
                                        "gi_yieldfrom", "_fut_waiter", "get_context", "name",
                                        "_must_cancel", "_cancel_message", "_children",
                                        "_asyncio_awaited_by", "ag_await", "exceptions"};
    PyObject **slots[] = {&s_qualname, &s_state, &s_exception, &s_result,
                          &s_get_name, &s_cancelling, &s_get_coro, &s_cr_await,
                          &s_gi_yieldfrom, &s_fut_waiter, &s_get_context, &s_name,
                          &s_must_cancel, &s_cancel_message, &s_children, &s_awaited_by,
                          &s_ag_await, &s_exceptions};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!*slots[i] && !(*slots[i] = tl_py.PyUnicode_InternFromString(names[i])))
            return -1;
    if (!task_type)
        find_c_functions(type);
    return 0;
}

/* An object with _asyncio.Task's C layout (its type or a subclass): its C
 * functions may be called on it. */
static int is_c_task(PyObject *task)
{
    PyObject *type = TL_TYPE(task);
    return type == task_type || (task_type && tl_py.PyType_IsSubtype(type, task_type));
}

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

/* Future.cancelled() or done() of a C task: True, False, or -1 if unknown
 * (they neither raise nor touch the error indicator). */
static int c_bool(noargs_fn fn, PyObject *task)
{
    PyObject *r = fn(task, NULL);
    if (!r)
        return -1;
    int yes = r == tl_py.True;
    tl_py.Py_DecRef(r);
    return yes;
}

TL_HOT int tl_pytask_done_fast(PyObject *task)
{
    return done_fn && is_c_task(task) ? c_bool(done_fn, task) : -1;
}

int tl_pytask_state_fast(PyObject *task, enum tl_state *st)
{
    if (!cancelled_fn || !done_fn || !is_c_task(task))
        return 0;
    int cancelled = c_bool(cancelled_fn, task);
    int done = cancelled == 1 ? 1 : cancelled == 0 ? c_bool(done_fn, task) : -1;
    if (done < 0)
        return 0;
    *st = cancelled ? TL_CANCELLED : done ? TL_FINISHED : TL_PENDING;
    return 1;
}

enum tl_state tl_pytask_state(PyObject *task, int detail)
{
    enum tl_state st = TL_PENDING;
    PyObject *s = NULL;
    if (!tl_pytask_state_fast(task, &st)) {
        s = get(task, s_state);
        const char *text = s ? tl_py.PyUnicode_AsUTF8(s) : NULL;
        if (!text)
            tl_py.PyErr_Clear();
        else if (!strcmp(text, "CANCELLED"))
            st = TL_CANCELLED;
        else if (!strcmp(text, "FINISHED"))
            st = TL_FINISHED;
    }
    if (st == TL_FINISHED && detail) {
        PyObject *exc = get(task, s_exception);
        st = exc && exc != tl_py.None ? TL_FAILED : TL_FINISHED;
        if (exc)
            tl_py.Py_DecRef(exc);
    }
    if (s)
        tl_py.Py_DecRef(s);
    return st;
}

/* 1: ends a process; 0: no; -1: only CancelledErrors (neutral in a group). */
static int exit_exception(PyObject *exc, int depth)
{
    PyObject *type = TL_TYPE(exc);
    if (tl_py.PyType_IsSubtype(type, tl_py.SystemExit) ||
        tl_py.PyType_IsSubtype(type, tl_py.KeyboardInterrupt))
        return 1;
    const char *name = TL_FIELD(type, TL_OFF_TP_NAME, const char *);
    if (name && strstr(name, "CancelledError"))
        return -1;
    if (!tl_py.BaseExceptionGroup || depth > 8 ||
        !tl_py.PyType_IsSubtype(type, tl_py.BaseExceptionGroup))
        return 0;
    PyObject *members = get(exc, s_exceptions); /* a C member: a tuple */
    int any = 0, all = members && tl_py.PyTuple_Size(members) > 0;
    for (Py_ssize_t i = 0; all && i < tl_py.PyTuple_Size(members); i++) {
        int r = exit_exception(tl_py.PyTuple_GetItem(members, i), depth + 1);
        any |= r == 1;
        all = r != 0;
    }
    tl_py.PyErr_Clear();
    if (members)
        tl_py.Py_DecRef(members);
    return all && any ? 1 : 0;
}

int tl_pytask_failed_with_exit(PyObject *task)
{
    PyObject *exc = get(task, s_exception);
    int r = exc && exc != tl_py.None && exit_exception(exc, 0) == 1;
    if (exc)
        tl_py.Py_DecRef(exc);
    return r;
}

long tl_pytask_cancelling(PyObject *task)
{
    if (!tl_caps.cancelling)
        return -1;
    PyObject *v = cancelling_fn && is_c_task(task) ? cancelling_fn(task, NULL)
                                                   : call(task, s_cancelling);
    long n = v ? tl_py.PyLong_AsLong(v) : 0;
    if (v)
        tl_py.Py_DecRef(v);
    if (tl_py.PyErr_Occurred())
        tl_py.PyErr_Clear();
    return n;
}

long tl_pytask_cancels_outstanding(PyObject *task)
{
    long n = tl_pytask_cancelling(task);
    if (n > 0)
        return n;
    PyObject *must = get(task, s_must_cancel);
    int pending = must && tl_py.PyObject_IsTrue(must) == 1;
    if (must)
        tl_py.Py_DecRef(must);
    tl_py.PyErr_Clear();
    return pending;
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
    char *text = tl_py_utf8_copy(s);
    if (!s)
        tl_py.PyErr_Clear();
    else
        tl_py.Py_DecRef(s);
    if (text && strlen(text) > 200)
        strcpy(text + 197, "...");
    return text;
}

char *tl_pytask_str(PyObject *obj)
{
    return text_of(obj, tl_py.PyObject_Str);
}

char *tl_pytask_cancel_message(PyObject *task)
{
    PyObject *m = get(task, s_cancel_message);
    char *message = m && m != tl_py.None ? tl_pytask_str(m) : NULL;
    if (m)
        tl_py.Py_DecRef(m);
    return message;
}

TL_HOT uint32_t tl_pytask_coro_name(PyObject *coro)
{
    PyObject *fast = coro ? tl_frames_generator_qualname(coro) : NULL;
    if (fast)
        return tl_capture_name(fast);
    PyObject *q = coro ? get(coro, s_qualname) : NULL;
    uint32_t id = tl_capture_name(q);
    if (q)
        tl_py.Py_DecRef(q);
    return id;
}

/* Task.get_coro(), a new reference (only of a pending task: 3.12.1's
 * crashes on an eager task that finished). */
static PyObject *coro_of(PyObject *task)
{
    if (get_coro_fn && is_c_task(task))
        return get_coro_fn(task, NULL);
    return call(task, s_get_coro);
}

/* What a coroutine (cr_await) or generator (gi_yieldfrom) awaits, a new
 * reference, or NULL. */
static PyObject *awaited_by_generator(PyObject *obj, PyObject *type)
{
    PyGetSetDef *def = type == tl_py.CoroType ? cr_await_def : gi_yieldfrom_def;
    if (def)
        return def->get(obj, def->closure);
    return get(obj, type == tl_py.CoroType ? s_cr_await : s_gi_yieldfrom);
}

uint32_t tl_pytask_task_coro_name(PyObject *task)
{
    PyObject *coro = coro_of(task);
    uint32_t id = tl_pytask_coro_name(coro);
    if (coro)
        tl_py.Py_DecRef(coro);
    return id;
}

/* Where an awaitable that is not a coroutine passes the await on, read by
 * layout: the async generator an async_generator_asend or _athrow drives
 * (what __anext__, asend, athrow and aclose return), or the awaitable that
 * anext()'s anext_awaitable wraps (an asend, for an async generator); NULL
 * for any other object. */
static PyObject *passes_to(PyObject *obj)
{
    static const char *const drivers[] = {"async_generator_asend", "async_generator_athrow"};
    const char *name = TL_FIELD(TL_TYPE(obj), TL_OFF_TP_NAME, const char *);
    PyObject *target = TL_FIELD(obj, TL_OFF_AGEN_DRIVER_TARGET, PyObject *);
    if (!name)
        return NULL;
    if (!strcmp(name, "anext_awaitable"))
        return target;
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
        if (!strcmp(name, drivers[i]))
            return target && TL_TYPE(target) == tl_py.AsyncGenType ? target : NULL;
    return NULL;
}

/* Where a chain may end: nothing awaited, or a future's own iterator.  The
 * iterator's type is learnt by name once, then held and compared. */
static int ends_chain(PyObject *obj)
{
    static PyObject *future_iter;
    PyObject *type = TL_TYPE(obj);
    if (obj == tl_py.None || type == future_iter)
        return 1;
    const char *name = TL_FIELD(type, TL_OFF_TP_NAME, const char *);
    if (!name || strcmp(name, "_asyncio.FutureIter"))
        return 0;
    if (!future_iter) {
        tl_py.Py_IncRef(type);
        future_iter = type;
    }
    return 1;
}

void tl_pytask_chain(PyObject *task, struct tl_chain *c, int max)
{
    c->n = 0;
    c->opaque = NULL;
    PyObject *obj = coro_of(task), *next;
    for (int hops = 0; obj && c->n < max && hops < 2 * max; hops++) {
        PyObject *type = TL_TYPE(obj);
        if (type == tl_py.CoroType || type == tl_py.GenType || type == tl_py.AsyncGenType) {
            c->items[c->n++] = obj;
            obj = type == tl_py.AsyncGenType ? get(obj, s_ag_await) : awaited_by_generator(obj, type);
        } else if (ends_chain(obj)) {
            break;
        } else if ((next = passes_to(obj))) {
            tl_py.Py_IncRef(next);
            tl_py.Py_DecRef(obj);
            obj = next;
        } else {
            c->opaque = TL_FIELD(type, TL_OFF_TP_NAME, const char *);
            break;
        }
    }
    if (obj)
        tl_py.Py_DecRef(obj);
}

void tl_pytask_chain_drop(struct tl_chain *c)
{
    for (int i = 0; i < c->n; i++)
        tl_py.Py_DecRef(c->items[i]);
}

/* Read from the coroutines' own frames. */
static uint32_t awaiting_stack_of(const struct tl_chain *c)
{
    uintptr_t words[2 * 256];
    int n = 0;
    for (int i = c->n - 1; i >= 0 && n < 256; i--)
        n += tl_frames_of_generator(c->items[i], &words[2 * n]);
    return n ? tl_capture_intern_py(words, n) : 0;
}

uint32_t tl_pytask_awaiting(PyObject *task)
{
    struct tl_chain c;
    tl_pytask_chain(task, &c, tl_opt.stack_depth);
    uint32_t id = awaiting_stack_of(&c);
    tl_pytask_chain_drop(&c);
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
            char *shown = value ? tl_pytask_str(value) : NULL;
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

void tl_pytask_outcome(PyObject *task, enum tl_state st, int explain, struct tl_outcome *o)
{
    memset(o, 0, sizeof *o);
    o->state = st;
    o->name = tl_pytask_str(task);
    PyObject *name = call(task, s_get_name);
    if (name) {
        free(o->name);
        o->name = tl_pytask_str(name);
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
        struct tl_chain c;
        tl_pytask_chain(task, &c, tl_opt.stack_depth);
        o->awaiting = awaiting_stack_of(&c);
        o->awaiting_opaque = c.opaque ? strdup(c.opaque) : NULL;
        tl_holdings_of(c.items, c.n, &o->holds);
        if (explain)
            tl_explain_task(task, &c, o);
        tl_pytask_chain_drop(&c);
    }
    gather_labels(task, o);
}

/* An edge for each element of a container attribute of `obj` (a list or a
 * set): element -> task when `from_element`, else task -> element. */
static void edges_from(PyObject *obj, PyObject *name, PyObject *task, int from_element,
                       tl_await_edge_fn edge, void *ctx)
{
    PyObject *container = get(obj, name);
    PyObject *it = container && container != tl_py.None ? tl_py.PyObject_GetIter(container) : NULL;
    for (PyObject *x; it && (x = tl_py.PyIter_Next(it));) {
        edge(ctx, from_element ? x : task, from_element ? task : x);
        tl_py.Py_DecRef(x);
    }
    tl_py.PyErr_Clear();
    if (it)
        tl_py.Py_DecRef(it);
    if (container)
        tl_py.Py_DecRef(container);
}

/* 3.14+ futures know who awaits them (what asyncio.capture_call_graph and
 * `python -m asyncio pstree` show: a TaskGroup's or gather()'s caller). */
void tl_pytask_await_edges(PyObject *task, tl_await_edge_fn edge, void *ctx)
{
    PyObject *waiter = get(task, s_fut_waiter);
    if (waiter && waiter != tl_py.None) {
        edge(ctx, task, waiter);
        edges_from(waiter, s_children, task, 0, edge, ctx);
    }
    if (waiter)
        tl_py.Py_DecRef(waiter);
    if (tl_caps.task_lists)
        edges_from(task, s_awaited_by, task, 1, edge, ctx);
}
