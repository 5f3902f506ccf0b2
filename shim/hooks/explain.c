/* SPDX-License-Identifier: MIT */
/* Why a pending task does not move on.
 *
 * What it waits for is told by the innermost run of asyncio's own frames in
 * its await chain: the outermost of them that has a role (Lock.acquire,
 * Event.wait, Queue.get, sleep, wait_for...) is what the program called,
 * and its `self` or a local is the object; without one, the task's own
 * _fut_waiter (a task, a gather, a run_in_executor future, a future).
 * Every read is of asyncio's own objects, through their instance
 * dictionaries, C getters and the frames' slots: no code of the program
 * runs.  "Never" is said only when the object's reference count is wholly
 * explained by the waiting task's own frames and fields. */
#include "hooks/explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/memo.h"
#include "cpython/frames.h"
#include "cpython/version.h"
#include "hooks/capture.h"
#include "hooks/task_hooks.h"

#define MAX_SLOTS 512

/* ---- asyncio's own objects, found once ---------------------------------- */

enum { LOCK, SEMAPHORE, CONDITION, EVENT, BARRIER, QUEUE, STREAM_READER, STREAM_WRITER, TASK_C,
       TASK_PY, FUTURE_C, FUTURE_PY, PROCESS, N_TYPES };
static const struct {
    const char *module, *name;
} type_names[N_TYPES] = {
    [LOCK] = {"asyncio.locks", "Lock"},
    [SEMAPHORE] = {"asyncio.locks", "Semaphore"},
    [CONDITION] = {"asyncio.locks", "Condition"},
    [EVENT] = {"asyncio.locks", "Event"},
    [BARRIER] = {"asyncio.locks", "Barrier"},
    [QUEUE] = {"asyncio.queues", "Queue"},
    [STREAM_READER] = {"asyncio.streams", "StreamReader"},
    [STREAM_WRITER] = {"asyncio.streams", "StreamWriter"},
    [TASK_C] = {"_asyncio", "Task"},
    [TASK_PY] = {"asyncio.tasks", "_PyTask"},
    [FUTURE_C] = {"_asyncio", "Future"},
    [FUTURE_PY] = {"asyncio.futures", "_PyFuture"},
    [PROCESS] = {"asyncio.subprocess", "Process"},
};

static struct {
    int loaded;
    PyObject *type[N_TYPES];
    PyObject *mixin_aexit, *mixin_aenter_code; /* locks._ContextManagerMixin */
    PyObject *timeout_aexit;                   /* timeouts.Timeout.__aexit__ (3.11+) */
    PyObject *check_cancel_code;               /* futures._chain_future's inner function */
    PyObject *getweakrefcount;
    struct tl_memo roles;
} K;

/* A function of a class, as its dict has it (what bound methods hold). */
static PyObject *class_function(const char *mod, const char *cls, const char *name)
{
    PyObject *type = tl_py_attr(tl_py_module(mod), cls);
    PyObject *dict = tl_py_attr(type, "__dict__");
    PyObject *key = tl_py.PyUnicode_FromString(name);
    PyObject *fn = dict && key ? tl_py.PyObject_GetItem(dict, key) : NULL;
    tl_py.PyErr_Clear();
    PyObject *refs[] = {key, dict, type};
    for (int i = 0; i < 3; i++)
        if (refs[i])
            tl_py.Py_DecRef(refs[i]);
    return fn;
}

/* The code object named `name` among a function's constants. */
static PyObject *inner_code(PyObject *fn, const char *name)
{
    PyObject *code = tl_py_attr(fn, "__code__"), *consts = tl_py_attr(code, "co_consts"), *found = NULL;
    for (Py_ssize_t i = 0; consts && !found && i < tl_py.PyTuple_Size(consts); i++) {
        PyObject *c = tl_py.PyTuple_GetItem(consts, i);
        if (!c || TL_TYPE(c) != tl_py.CodeType)
            continue;
        PyObject *n = tl_py_attr(c, "co_name");
        const char *s = n ? tl_py.PyUnicode_AsUTF8(n) : NULL;
        if (s && !strcmp(s, name)) {
            found = c;
            tl_py.Py_IncRef(c);
        }
        if (n)
            tl_py.Py_DecRef(n);
    }
    tl_py.PyErr_Clear();
    if (consts)
        tl_py.Py_DecRef(consts);
    if (code)
        tl_py.Py_DecRef(code);
    return found;
}

static void load(void)
{
    if (K.loaded)
        return;
    K.loaded = 1;
    tl_memo_init(&K.roles);
    for (int i = 0; i < N_TYPES; i++)
        K.type[i] = tl_py_attr(tl_py_module(type_names[i].module), type_names[i].name);
    K.mixin_aexit = class_function("asyncio.locks", "_ContextManagerMixin", "__aexit__");
    PyObject *aenter = class_function("asyncio.locks", "_ContextManagerMixin", "__aenter__");
    K.mixin_aenter_code = tl_py_attr(aenter, "__code__");
    if (aenter)
        tl_py.Py_DecRef(aenter);
    K.timeout_aexit = class_function("asyncio.timeouts", "Timeout", "__aexit__");
    PyObject *chain_future = tl_py_attr(tl_py_module("asyncio.futures"), "_chain_future");
    K.check_cancel_code = inner_code(chain_future, "_call_check_cancel");
    if (chain_future)
        tl_py.Py_DecRef(chain_future);
    K.getweakrefcount = tl_py_attr(tl_py_module("_weakref"), "getweakrefcount");
    tl_py.PyErr_Clear();
}

static int is_a(PyObject *obj, int which)
{
    return obj && K.type[which] && tl_py.PyType_IsSubtype(TL_TYPE(obj), K.type[which]);
}

static int is_task(PyObject *obj)
{
    return is_a(obj, TASK_C) || is_a(obj, TASK_PY);
}

static int is_future(PyObject *obj)
{
    return is_a(obj, FUTURE_C) || is_a(obj, FUTURE_PY);
}

/* "module.Qualname" of an object's type. */
static char *type_of(PyObject *obj)
{
    PyObject *type = TL_TYPE(obj);
    PyObject *mod = tl_py_attr(type, "__module__"), *qual = tl_py_attr(type, "__qualname__");
    const char *m = mod ? tl_py.PyUnicode_AsUTF8(mod) : NULL, *q = qual ? tl_py.PyUnicode_AsUTF8(qual) : NULL;
    char buf[256];
    if (m && q && strcmp(m, "builtins"))
        snprintf(buf, sizeof buf, "%s.%s", m, q);
    else
        snprintf(buf, sizeof buf, "%s", q ? q : TL_FIELD(type, TL_OFF_TP_NAME, const char *));
    tl_py.PyErr_Clear();
    if (mod)
        tl_py.Py_DecRef(mod);
    if (qual)
        tl_py.Py_DecRef(qual);
    return strdup(buf);
}

/* ---- what the code of a frame is ---------------------------------------- */

enum role { R_NONE, R_ASYNCIO, R_ACQUIRE, R_WAIT, R_QUEUE_GET, R_QUEUE_PUT, R_QUEUE_JOIN,
            R_SLEEP, R_WAIT_FOR, R_WAIT_MANY, R_STREAM_READ, R_STREAM_WRITE, R_SOCKET,
            R_SUBPROCESS };

static const struct {
    const char *file, *name;
    enum role role;
} roles[] = {
    {"locks.py", "acquire", R_ACQUIRE},        {"locks.py", "__aenter__", R_ACQUIRE},
    {"locks.py", "wait", R_WAIT},              {"locks.py", "wait_for", R_WAIT},
    {"queues.py", "get", R_QUEUE_GET},         {"queues.py", "put", R_QUEUE_PUT},
    {"queues.py", "join", R_QUEUE_JOIN},       {"tasks.py", "sleep", R_SLEEP},
    {"tasks.py", "wait_for", R_WAIT_FOR},      {"tasks.py", "wait", R_WAIT_MANY},
    {"tasks.py", "_wait", R_WAIT_MANY},        {"tasks.py", "_wait_for_one", R_WAIT_MANY},
    {"streams.py", "_wait_for_data", R_STREAM_READ}, {"streams.py", "read", R_STREAM_READ},
    {"streams.py", "readline", R_STREAM_READ}, {"streams.py", "readexactly", R_STREAM_READ},
    {"streams.py", "readuntil", R_STREAM_READ}, {"streams.py", "drain", R_STREAM_WRITE},
    {"streams.py", "_drain_helper", R_STREAM_WRITE}, {"subprocess.py", "wait", R_SUBPROCESS},
    {"subprocess.py", "communicate", R_SUBPROCESS}, {"base_subprocess.py", "_wait", R_SUBPROCESS},
};

static enum role compute_role(PyObject *code)
{
    PyObject *f = tl_py_attr(code, "co_filename"), *n = tl_py_attr(code, "co_name");
    const char *file = f ? tl_py.PyUnicode_AsUTF8(f) : NULL, *name = n ? tl_py.PyUnicode_AsUTF8(n) : NULL;
    const char *in = file ? strstr(file, "/asyncio/") : NULL;
    enum role r = in ? R_ASYNCIO : R_NONE;
    for (size_t i = 0; in && name && i < sizeof roles / sizeof roles[0]; i++)
        if (!strcmp(in + 9, roles[i].file) && !strcmp(name, roles[i].name))
            r = roles[i].role;
    if (in && name && !strncmp(name, "sock_", 5) && strstr(in + 9, "_events.py"))
        r = R_SOCKET;
    tl_py.PyErr_Clear();
    if (f)
        tl_py.Py_DecRef(f);
    if (n)
        tl_py.Py_DecRef(n);
    return r;
}

/* The role of a chain item's code (the depot keeps the codes of awaiting
 * stacks alive, so the memo's keys stay theirs). */
static enum role role_of(PyObject *gen, PyObject **code_out)
{
    uintptr_t pair[2];
    if (!tl_frames_of_generator(gen, pair))
        return R_NONE;
    *code_out = (PyObject *)pair[0];
    uint32_t r;
    if (!tl_memo_get(&K.roles, pair[0], &r)) {
        r = (uint32_t)compute_role((PyObject *)pair[0]);
        tl_memo_put(&K.roles, pair[0], r);
    }
    return (enum role)r;
}

static int first_is_self(PyObject *code)
{
    PyObject *names = tl_py_attr(code, "co_varnames");
    PyObject *first = names && tl_py.PyTuple_Size(names) > 0 ? tl_py.PyTuple_GetItem(names, 0) : NULL;
    const char *s = first ? tl_py.PyUnicode_AsUTF8(first) : NULL;
    int yes = s && !strcmp(s, "self");
    tl_py.PyErr_Clear();
    if (names)
        tl_py.Py_DecRef(names);
    return yes;
}

static char *qualname_of(PyObject *code, PyObject *self)
{
    PyObject *q = tl_py_attr(code, tl_caps.qualname ? "co_qualname" : "co_name");
    char *name = tl_py_utf8_copy(q);
    if (q)
        tl_py.Py_DecRef(q);
    if (name && self && !tl_caps.qualname && first_is_self(code)) { /* 3.8-3.10: Type.method */
        char buf[256];
        snprintf(buf, sizeof buf, "%s.%s", TL_FIELD(TL_TYPE(self), TL_OFF_TP_NAME, const char *), name);
        free(name);
        name = strdup(buf);
    }
    return name;
}

/* ---- a frame's slots ----------------------------------------------------- */

struct slots {
    PyObject *code;
    uintptr_t raw[MAX_SLOTS];
    int n;
};

static int read_slots(PyObject *gen, enum tl_slots which, struct slots *s)
{
    s->code = NULL;
    s->n = tl_frames_slots_of_generator(gen, which, &s->code, s->raw, MAX_SLOTS);
    return s->n;
}

static PyObject *slot(const struct slots *s, int i, int *owned)
{
    int dummy;
    return tl_frames_slot_object(s->raw[i], owned ? owned : &dummy);
}

/* A local by name (borrowed), in a chain item's frame. */
static PyObject *local(PyObject *gen, const char *name)
{
    struct slots s;
    if (!read_slots(gen, TL_SLOTS_LOCALS, &s))
        return NULL;
    PyObject *names = tl_py_attr(s.code, "co_varnames"), *found = NULL;
    for (int i = 0; names && !found && i < s.n && i < tl_py.PyTuple_Size(names); i++) {
        const char *n = tl_py.PyUnicode_AsUTF8(tl_py.PyTuple_GetItem(names, i));
        if (n && !strcmp(n, name))
            found = slot(&s, i, NULL);
    }
    tl_py.PyErr_Clear();
    if (names)
        tl_py.Py_DecRef(names);
    return found;
}

static PyObject *first_local(PyObject *gen)
{
    struct slots s;
    return read_slots(gen, TL_SLOTS_LOCALS, &s) ? slot(&s, 0, NULL) : NULL;
}

/* ---- deadlines ----------------------------------------------------------- */

/* A loop time attribute (TimerHandle._when, Timeout._when) as report time;
 * < 0 when there is none.  The default loop's time is CLOCK_MONOTONIC. */
static double deadline_of(PyObject *obj, const char *field)
{
    PyObject *v = tl_py_attr(obj, field);
    double when = v && v != tl_py.None ? tl_py.PyFloat_AsDouble(v) : -1;
    tl_py.PyErr_Clear();
    if (v)
        tl_py.Py_DecRef(v);
    return when >= 0 ? tl_from_monotonic(when) : -1;
}

static void sooner(struct tl_wait *w, double deadline)
{
    if (deadline >= 0 && (w->deadline < 0 || deadline < w->deadline))
        w->deadline = deadline;
}

/* ---- the tasks a wait awaits --------------------------------------------- */

static void add_task(struct tl_wait *w, PyObject *obj)
{
    uint64_t id = is_task(obj) ? tl_task_id_of(obj) : 0;
    if (!id)
        return;
    uint64_t *ids = realloc(w->tasks, (w->n_tasks + 1) * sizeof *ids);
    if (ids) {
        w->tasks = ids;
        w->tasks[w->n_tasks++] = id;
    }
}

static void add_tasks_of(struct tl_wait *w, PyObject *container)
{
    PyObject *it = container && container != tl_py.None ? tl_py.PyObject_GetIter(container) : NULL;
    for (PyObject *x; it && w->n_tasks < 4096 && (x = tl_py.PyIter_Next(it));) {
        add_task(w, x);
        tl_py.Py_DecRef(x);
    }
    tl_py.PyErr_Clear();
    if (it)
        tl_py.Py_DecRef(it);
}

/* ---- classification ------------------------------------------------------ */

static void set_object(struct tl_wait *w, PyObject *obj)
{
    if (!obj || obj == tl_py.None)
        return;
    w->object = (uintptr_t)obj;
    free(w->type);
    w->type = type_of(obj);
}

static int8_t flag(PyObject *obj, const char *key)
{
    PyObject *v = tl_py_instance_item(obj, key);
    int8_t r = v ? (int8_t)(tl_py.PyObject_IsTrue(v) == 1) : -1;
    tl_py.PyErr_Clear();
    if (v)
        tl_py.Py_DecRef(v);
    return r;
}

/* Whether a lock-like object is taken: a Lock locked, a Semaphore out of
 * permits, a Condition's lock locked. */
static int8_t taken(PyObject *obj)
{
    if (is_a(obj, LOCK))
        return flag(obj, "_locked");
    if (is_a(obj, CONDITION)) {
        PyObject *lock = tl_py_instance_item(obj, "_lock");
        int8_t t = is_a(lock, LOCK) ? flag(lock, "_locked") : -1;
        if (lock)
            tl_py.Py_DecRef(lock);
        return t;
    }
    if (is_a(obj, SEMAPHORE)) {
        PyObject *v = tl_py_instance_item(obj, "_value");
        long n = v ? tl_py.PyLong_AsLong(v) : -1;
        tl_py.PyErr_Clear();
        if (v)
            tl_py.Py_DecRef(v);
        return v ? (int8_t)(n <= 0) : -1;
    }
    return -1;
}

static void by_role(struct tl_wait *w, enum role role, PyObject *frame, PyObject *code)
{
    PyObject *self = first_local(frame);
    w->call = qualname_of(code, self);
    if (code == K.mixin_aenter_code && self && w->call) { /* `async with`: what it calls */
        char buf[256];
        snprintf(buf, sizeof buf, "%s.acquire", TL_FIELD(TL_TYPE(self), TL_OFF_TP_NAME, const char *));
        free(w->call);
        w->call = strdup(buf);
    }
    switch (role) {
    case R_ACQUIRE:
        w->kind = is_a(self, CONDITION) ? TL_WAIT_CONDITION
                  : is_a(self, SEMAPHORE) ? TL_WAIT_SEMAPHORE : TL_WAIT_LOCK;
        w->acquiring = 1;
        set_object(w, self);
        w->taken = taken(self);
        break;
    case R_WAIT:
        w->kind = is_a(self, EVENT) ? TL_WAIT_EVENT
                  : is_a(self, CONDITION) ? TL_WAIT_CONDITION
                  : is_a(self, BARRIER) ? TL_WAIT_BARRIER : TL_WAIT_OTHER;
        set_object(w, self);
        if (w->kind == TL_WAIT_CONDITION)
            w->taken = taken(self);
        break;
    case R_QUEUE_GET:
    case R_QUEUE_PUT:
    case R_QUEUE_JOIN:
        w->kind = role == R_QUEUE_GET ? TL_WAIT_QUEUE_GET
                  : role == R_QUEUE_PUT ? TL_WAIT_QUEUE_PUT : TL_WAIT_OTHER;
        set_object(w, self);
        break;
    case R_SLEEP:
        w->kind = TL_WAIT_SLEEP;
        set_object(w, local(frame, "future"));
        sooner(w, deadline_of(local(frame, "h"), "_when"));
        break;
    case R_WAIT_FOR: {
        w->kind = TL_WAIT_TIMEOUT;
        PyObject *fut = local(frame, "fut");
        set_object(w, fut);
        add_task(w, fut);
        sooner(w, deadline_of(local(frame, "timeout_handle"), "_when")); /* 3.8-3.11 */
        break;
    }
    case R_WAIT_MANY:
        w->kind = TL_WAIT_WAIT;
        add_tasks_of(w, local(frame, "fs"));
        break;
    case R_STREAM_READ:
    case R_STREAM_WRITE:
        w->kind = role == R_STREAM_READ ? TL_WAIT_STREAM_READ : TL_WAIT_STREAM_WRITE;
        set_object(w, self);
        break;
    case R_SOCKET:
        w->kind = TL_WAIT_SOCKET;
        set_object(w, local(frame, "sock"));
        break;
    case R_SUBPROCESS:
        w->kind = TL_WAIT_SUBPROCESS;
        set_object(w, is_a(self, PROCESS) ? self : NULL);
        break;
    default:
        break;
    }
}

/* run_in_executor / to_thread / wrap_future: the asyncio future a
 * concurrent.futures.Future feeds (futures._chain_future's callback holds
 * it in its closure).  New reference, or NULL. */
static PyObject *concurrent_source(PyObject *fut)
{
    PyObject *callbacks = K.check_cancel_code ? tl_py_attr(fut, "_callbacks") : NULL, *found = NULL;
    PyObject *it = callbacks && callbacks != tl_py.None ? tl_py.PyObject_GetIter(callbacks) : NULL;
    for (PyObject *cb; it && !found && (cb = tl_py.PyIter_Next(it));) {
        Py_ssize_t k = tl_py.PyTuple_Size(cb); /* (callback, context) */
        PyObject *f = k >= 1 ? tl_py.PyTuple_GetItem(cb, 0) : cb;
        tl_py.PyErr_Clear();
        PyObject *code = tl_py_attr(f, "__code__");
        if (code == K.check_cancel_code) {
            PyObject *cells = tl_py_attr(f, "__closure__");
            for (Py_ssize_t i = 0; cells && !found && i < tl_py.PyTuple_Size(cells); i++) {
                PyObject *v = tl_py_attr(tl_py.PyTuple_GetItem(cells, i), "cell_contents");
                PyObject *mod = v ? tl_py_attr(TL_TYPE(v), "__module__") : NULL;
                const char *m = mod ? tl_py.PyUnicode_AsUTF8(mod) : NULL;
                if (m && !strcmp(m, "concurrent.futures._base"))
                    found = v;
                else if (v)
                    tl_py.Py_DecRef(v);
                if (mod)
                    tl_py.Py_DecRef(mod);
                tl_py.PyErr_Clear();
            }
            if (cells)
                tl_py.Py_DecRef(cells);
        }
        if (code)
            tl_py.Py_DecRef(code);
        tl_py.Py_DecRef(cb);
    }
    tl_py.PyErr_Clear();
    if (it)
        tl_py.Py_DecRef(it);
    if (callbacks)
        tl_py.Py_DecRef(callbacks);
    return found;
}

static void by_waiter(struct tl_wait *w, PyObject *waiter)
{
    PyObject *source;
    if (is_task(waiter)) {
        w->kind = TL_WAIT_TASK;
        set_object(w, waiter);
        add_task(w, waiter);
    } else if (!strcmp(TL_FIELD(TL_TYPE(waiter), TL_OFF_TP_NAME, const char *), "_GatheringFuture")) {
        w->kind = TL_WAIT_GATHER;
        set_object(w, waiter);
        PyObject *children = tl_py_instance_item(waiter, "_children");
        add_tasks_of(w, children);
        if (children)
            tl_py.Py_DecRef(children);
    } else if ((source = concurrent_source(waiter))) {
        w->kind = TL_WAIT_EXECUTOR;
        set_object(w, source);
        tl_py.Py_DecRef(source);
    } else {
        w->kind = is_future(waiter) ? TL_WAIT_FUTURE : TL_WAIT_OTHER;
        set_object(w, waiter);
    }
}

/* ---- names --------------------------------------------------------------- */

/* The key under which a dictionary holds `obj` (new ref), looking at no
 * more than `max` entries. */
static PyObject *key_of(PyObject *dict, PyObject *obj, int max)
{
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    for (int i = 0; i < max && tl_py.PyDict_Next(dict, &pos, &k, &v); i++)
        if (v == obj) {
            tl_py.Py_IncRef(k);
            return k;
        }
    return NULL;
}

/* An object's own attribute that is `obj` ("_lock"), or NULL. */
static char *attribute_holding(PyObject *holder, PyObject *obj)
{
    PyObject *d = tl_py.PyObject_GenericGetDict(holder, NULL);
    PyObject *k = d ? key_of(d, obj, 64) : NULL;
    char *name = tl_py_utf8_copy(k);
    tl_py.PyErr_Clear();
    if (k)
        tl_py.Py_DecRef(k);
    if (d)
        tl_py.Py_DecRef(d);
    return name;
}

/* The name the program's own frames give the object, innermost first: a
 * local ("lock") or an attribute of one ("self._lock"). */
static void name_by_frames(struct tl_wait *w, const struct tl_chain *c, int user_end)
{
    PyObject *obj = (PyObject *)w->object;
    for (int i = user_end - 1; i >= 0 && !w->name; i--) {
        struct slots s;
        if (!read_slots(c->items[i], TL_SLOTS_LOCALS, &s))
            continue;
        PyObject *names = tl_py_attr(s.code, "co_varnames");
        Py_ssize_t n_names = names ? tl_py.PyTuple_Size(names) : 0;
        char buf[256];
        for (int k = 0; k < s.n && k < n_names && !w->name; k++) {
            PyObject *v = slot(&s, k, NULL);
            const char *var = v ? tl_py.PyUnicode_AsUTF8(tl_py.PyTuple_GetItem(names, k)) : NULL;
            if (!var)
                continue;
            char *attribute = v == obj ? NULL : attribute_holding(v, obj);
            if (v == obj || attribute) {
                snprintf(buf, sizeof buf, "%s%s%s", var, attribute ? "." : "",
                         attribute ? attribute : "");
                w->name = strdup(buf);
            }
            free(attribute);
        }
        if (w->name)
            w->named_in = qualname_of(s.code, NULL);
        tl_py.PyErr_Clear();
        if (names)
            tl_py.Py_DecRef(names);
    }
}

/* ---- what the frames hold: locks entered, timeouts around them ----------- */

static uint32_t site_of(PyObject *gen)
{
    uintptr_t pair[2];
    return tl_frames_of_generator(gen, pair) ? tl_capture_intern_py(pair, 1) : 0;
}

static int lock_like(PyObject *obj)
{
    return is_a(obj, LOCK) || is_a(obj, SEMAPHORE) || is_a(obj, CONDITION);
}

/* An `async with` entry on a value stack: the __aexit__ it will call and
 * the object; 3.8-3.13 push a bound method, 3.14+ the function and self. */
static int with_entry(const struct slots *s, int k, PyObject *fn, PyObject **self)
{
    PyObject *v = slot(s, k, NULL);
    if (!v || !fn)
        return 0;
    if (TL_TYPE(v) == tl_py.MethodType && TL_FIELD(v, TL_OFF_METHOD_FUNC, PyObject *) == fn) {
        *self = TL_FIELD(v, TL_OFF_METHOD_SELF, PyObject *);
        return 1;
    }
    if (v == fn && k + 1 < s->n && (*self = slot(s, k + 1, NULL)))
        return 1;
    return 0;
}

/* Whether chain item `next` is the __aenter__ of `obj`'s `async with`,
 * still entering (waiting for the lock). */
static int entering(PyObject *next, PyObject *obj)
{
    PyObject *code = NULL;
    if (!next || !K.mixin_aenter_code)
        return 0;
    role_of(next, &code);
    return code == K.mixin_aenter_code && first_local(next) == obj;
}

static void scan_frames(const struct tl_chain *c, struct tl_wait *w, struct tl_helds *held)
{
    for (int i = 0; i < c->n; i++) {
        struct slots s;
        uint32_t site = 0;
        PyObject *next = i + 1 < c->n ? c->items[i + 1] : NULL;
        int pending = 0;
        for (int k = (read_slots(c->items[i], TL_SLOTS_STACK, &s), s.n - 1); k >= 0; k--) {
            PyObject *self;
            if (with_entry(&s, k, K.mixin_aexit, &self) && lock_like(self)) {
                if (!pending && entering(next, self)) { /* its innermost entry, still entering */
                    pending = 1;
                    continue;
                }
                tl_helds_add(held, (uintptr_t)self, site ? site : (site = site_of(c->items[i])), 1,
                             type_of(self));
            } else if (w && with_entry(&s, k, K.timeout_aexit, &self)) {
                sooner(w, deadline_of(self, "_when"));
            }
        }
        if (!read_slots(c->items[i], TL_SLOTS_LOCALS, &s))
            continue;
        for (int k = 0; k < s.n && held->n < 64; k++) {
            PyObject *v = slot(&s, k, NULL);
            if (lock_like(v))
                tl_helds_add(held, (uintptr_t)v, site ? site : (site = site_of(c->items[i])), 0,
                             NULL);
        }
    }
}

/* ---- can anything else end it? ------------------------------------------- */

static uint32_t refcount(PyObject *obj)
{
    return *(const uint32_t *)obj; /* ob_refcnt's low half, 3.8-3.15 */
}

/* An object of the chain that holds one reference to `obj`: a bound method
 * of it (an `async with` entry), a future's iterator (what `await fut`
 * suspends in). */
static int refers_to(PyObject *x, PyObject *obj)
{
    if (TL_TYPE(x) == tl_py.MethodType)
        return TL_FIELD(x, TL_OFF_METHOD_SELF, PyObject *) == obj;
    const char *name = TL_FIELD(TL_TYPE(x), TL_OFF_TP_NAME, const char *);
    return name && !strcmp(name, "_asyncio.FutureIter") &&
           TL_FIELD(x, TL_OFF_FUTUREITER_FUTURE, PyObject *) == obj;
}

/* How many owned references the chain's frames (locals and value stacks)
 * hold to `obj`. */
static uint32_t chain_refs(const struct tl_chain *c, PyObject *obj)
{
    uint32_t n = 0;
    for (int i = 0; i < c->n; i++)
        for (int which = TL_SLOTS_LOCALS; which <= TL_SLOTS_STACK; which++) {
            struct slots s;
            read_slots(c->items[i], which, &s);
            for (int k = 0; k < s.n; k++) {
                int owned;
                n += slot(&s, k, &owned) == obj && owned;
            }
        }
    return n;
}

/* Whether every reference to `obj` is the waiting task's own: its frames'
 * slots, objects only those slots hold (refers_to), the task's
 * _fut_waiter (`waiter_refs` of them, ours included).  Anything else (a
 * module, another task, a callback, a weak reference) could end the wait. */
static int only_the_chain_has(PyObject *obj, const struct tl_chain *c, uint32_t waiter_refs)
{
    uint32_t total = refcount(obj);
    if (total >= (1u << 30) || !K.getweakrefcount)
        return 0; /* immortal, or unknown */
    PyObject *weak = tl_py.PyObject_CallFunctionObjArgs(K.getweakrefcount, obj, NULL);
    long n_weak = weak ? tl_py.PyLong_AsLong(weak) : -1;
    tl_py.PyErr_Clear();
    if (weak)
        tl_py.Py_DecRef(weak);
    if (n_weak != 0)
        return 0;
    uint32_t known = waiter_refs + chain_refs(c, obj);
    PyObject *seen[32];
    int n_seen = 0;
    for (int i = 0; i < c->n && known < total; i++)
        for (int which = TL_SLOTS_LOCALS; which <= TL_SLOTS_STACK; which++) {
            struct slots s;
            read_slots(c->items[i], which, &s);
            for (int k = 0; k < s.n; k++) {
                int owned, dup = 0;
                PyObject *x = slot(&s, k, &owned);
                if (!x || x == obj || !owned || !refers_to(x, obj))
                    continue;
                for (int j = 0; j < n_seen; j++)
                    dup |= seen[j] == x;
                if (dup || n_seen == 32 || refcount(x) != chain_refs(c, x))
                    continue;
                seen[n_seen++] = x;
                known++;
            }
        }
    return total == known;
}

static const char *never_reason(enum tl_wait_kind kind)
{
    switch (kind) {
    case TL_WAIT_FUTURE: return "nothing else references the future, so it can never complete";
    case TL_WAIT_EVENT: return "nothing else references the Event, so it can never be set";
    case TL_WAIT_CONDITION: return "nothing else references the Condition, so it can never be notified";
    case TL_WAIT_QUEUE_GET: return "nothing else references the Queue, so nothing can ever put into it";
    case TL_WAIT_QUEUE_PUT: return "nothing else references the Queue, so nothing can ever take from it";
    case TL_WAIT_BARRIER: return "nothing else references the Barrier, so no other task can reach it";
    case TL_WAIT_LOCK:
    case TL_WAIT_SEMAPHORE: return "nothing else references the lock, so it can never be released";
    default: return NULL;
    }
}

/* ---- one task ------------------------------------------------------------ */

static int truthy(PyObject *obj, const char *name)
{
    PyObject *v = tl_py_attr(obj, name);
    int r = v && tl_py.PyObject_IsTrue(v) == 1;
    tl_py.PyErr_Clear();
    if (v)
        tl_py.Py_DecRef(v);
    return r;
}

void tl_explain_task(PyObject *task, const struct tl_chain *c, struct tl_outcome *o)
{
    load();
    struct tl_wait *w = calloc(1, sizeof *w);
    if (!w)
        return;
    w->deadline = -1;
    w->taken = -1;
    PyObject *waiter = tl_py_attr(task, "_fut_waiter");
    if (waiter == tl_py.None) {
        tl_py.Py_DecRef(waiter);
        waiter = NULL;
    }
    /* The innermost run of asyncio's frames; its outermost frame with a role. */
    int user_end = c->n, b = -1;
    enum role role = R_NONE;
    PyObject *role_code = NULL;
    for (int i = c->n - 1; i >= 0; i--) {
        PyObject *code = NULL;
        enum role r = role_of(c->items[i], &code);
        if (r == R_NONE)
            break;
        user_end = i;
        if (r > R_ASYNCIO) {
            b = i;
            role = r;
            role_code = code;
        }
    }
    if (b >= 0)
        by_role(w, role, c->items[b], role_code);
    else if (waiter)
        by_waiter(w, waiter);
    else if (c->opaque) {
        w->kind = TL_WAIT_OTHER;
        w->type = strdup(c->opaque);
    } else {
        tl_wait_free(w); /* ready to run */
        w = NULL;
    }
    scan_frames(c, w, &o->held);
    if (w && w->kind == TL_WAIT_TIMEOUT && w->deadline < 0 && waiter) {
        char *call = w->call; /* wait_for(..., None): no timeout at all */
        w->call = NULL;
        free(w->tasks);
        w->tasks = NULL;
        w->n_tasks = 0;
        by_waiter(w, waiter);
        free(w->call);
        w->call = call;
    }
    if (w) {
        w->waking = truthy(task, "_must_cancel") ||
                    (waiter && tl_pytask_state(waiter, 0) != TL_PENDING);
        if (w->object && !w->name)
            name_by_frames(w, c, user_end);
        const char *never = never_reason(w->kind);
        if (never && w->object && w->deadline < 0 && !w->waking &&
            only_the_chain_has((PyObject *)w->object, c,
                               waiter && (uintptr_t)waiter == w->object ? 2 : 0))
            w->never = strdup(never);
    }
    if (waiter)
        tl_py.Py_DecRef(waiter);
    o->wait = w;
    o->explained = 1;
}

/* ---- module globals ------------------------------------------------------ */

struct tl_global_names {
    const uintptr_t *objects;
    size_t n_objects;
    struct sorted_object *sorted; /* objects by address, for the lookups */
    char **names;
    PyObject **modules; /* sys.modules' values when it began (new refs) */
    size_t n_modules, next;
};

struct sorted_object {
    uintptr_t object;
    size_t index;
};

static int cmp_object(const void *a, const void *b)
{
    uintptr_t x = ((const struct sorted_object *)a)->object;
    uintptr_t y = ((const struct sorted_object *)b)->object;
    return (x > y) - (x < y);
}

struct tl_global_names *tl_explain_names_begin(const uintptr_t *objects, size_t n)
{
    struct tl_global_names *g = calloc(1, sizeof *g);
    PyObject *modules = tl_py.PySys_GetObject("modules");
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    size_t cap = 0;
    if (!g)
        return NULL;
    g->objects = objects;
    g->n_objects = n;
    g->names = calloc(n ? n : 1, sizeof *g->names);
    g->sorted = malloc((n ? n : 1) * sizeof *g->sorted);
    for (size_t i = 0; g->sorted && i < n; i++)
        g->sorted[i] = (struct sorted_object){objects[i], i};
    if (g->sorted) /* no memory: no names */
        qsort(g->sorted, n, sizeof *g->sorted, cmp_object);
    while (g->names && n && modules && tl_py.PyDict_Next(modules, &pos, &k, &v)) {
        if (g->n_modules == cap) {
            PyObject **m = realloc(g->modules, (cap = cap ? cap * 2 : 256) * sizeof *m);
            if (!m)
                break;
            g->modules = m;
        }
        tl_py.Py_IncRef(v);
        g->modules[g->n_modules++] = v;
    }
    return g;
}

/* How a person names a module's global: `app.lock` for `python3 app.py`. */
static char *module_name(PyObject *dict)
{
    char *name = tl_py_utf8_copy(tl_py.PyDict_GetItemString(dict, "__name__"));
    if (name && !strcmp(name, "__main__")) {
        /* CPython removes __main__.__file__ once the script has run (at exit). */
        PyObject *argv = tl_py.PySys_GetObject("argv");
        PyObject *path = tl_py.PyDict_GetItemString(dict, "__file__");
        if ((!path || path == tl_py.None) && argv && tl_py.PyList_Size(argv) > 0)
            path = tl_py.PyList_GetItem(argv, 0);
        char *file = path && path != tl_py.None ? tl_py_utf8_copy(path) : NULL;
        const char *base = file ? strrchr(file, '/') : NULL;
        base = base ? base + 1 : file;
        if (base && *base) {
            free(name);
            name = strdup(base);
            char *dot = name ? strrchr(name, '.') : NULL;
            if (dot && !strcmp(dot, ".py"))
                *dot = 0;
        }
        free(file);
    }
    tl_py.PyErr_Clear();
    return name;
}

int tl_explain_names_step(struct tl_global_names *g)
{
    if (!g || g->next >= g->n_modules)
        return 0;
    PyObject *dict = tl_py.PyObject_GenericGetDict(g->modules[g->next++], NULL);
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    char *mod = NULL;
    while (dict && g->sorted && tl_py.PyDict_Next(dict, &pos, &k, &v)) {
        struct sorted_object key = {(uintptr_t)v, 0};
        struct sorted_object *hit = bsearch(&key, g->sorted, g->n_objects, sizeof key, cmp_object);
        while (hit && hit > g->sorted && hit[-1].object == key.object)
            hit--; /* the first of the same object (it may be named twice) */
        for (; hit && hit < g->sorted + g->n_objects && hit->object == key.object; hit++) {
            size_t i = hit->index;
            if (g->names[i])
                continue;
            const char *name = tl_py.PyUnicode_AsUTF8(k);
            if (!mod && !(mod = module_name(dict)))
                break;
            if (!name || !strncmp(mod, "asyncio", 7)) /* asyncio's own: not a name */
                break;
            size_t len = strlen(mod) + strlen(name) + 2;
            if ((g->names[i] = malloc(len)))
                snprintf(g->names[i], len, "%s.%s", mod, name);
        }
    }
    tl_py.PyErr_Clear();
    free(mod);
    if (dict)
        tl_py.Py_DecRef(dict);
    return g->next < g->n_modules;
}

char **tl_explain_names_end(struct tl_global_names *g)
{
    if (!g)
        return NULL;
    for (size_t i = 0; i < g->n_modules; i++)
        tl_py.Py_DecRef(g->modules[i]);
    free(g->modules);
    free(g->sorted);
    char **names = g->names;
    free(g);
    return names;
}
