/* SPDX-License-Identifier: MIT */
/* The interpreter's other threads, read in place: the thread states of the
 * main interpreter (their frames, as frames.c walks them), threading's
 * Thread objects by their instance dictionary (threading._active), and
 * the concurrent.futures thread pool's own frames: a worker's `_worker`
 * holds a weak reference to its pool, a `_WorkItem.run` the job and its
 * Future, a running loop's `run_forever` (and `_do_shutdown`) the loop, whose
 * `_default_executor` tells which pools asyncio's exit waits for. */
#include "hooks/threads.h"

#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "core/roles.h"
#include "cpython/frames.h"
#include "hooks/capture.h"

#define MAX_FRAMES 256 /* walked to find the pool's frames; stack_depth are kept */

/* What a record needs until the end of the gathering. */
struct pending {
    PyObject *executor; /* the pool of a worker running a job (new reference), or NULL */
    uint8_t worker, running;
};

struct tl_threads_gather {
    struct tl_threads out;
    struct pending *pending;
    size_t cap;
    unsigned long *idents; /* the thread states there were at the start */
    size_t n_idents, next;
    unsigned long main_ident;
    PyObject *active;      /* threading._active */
    PyObject **defaults;   /* running loops' default executors (new references) */
    size_t n_defaults, cap_defaults;
    int classified;
};

static PyObject *threading_attr(const char *name)
{
    return tl_py_attr(tl_py_module("threading"), name);
}

unsigned long tl_threads_main_ident(void)
{
    PyObject *main = threading_attr("_main_thread");
    PyObject *ident = tl_py_instance_item(main, "_ident");
    unsigned long v = ident ? tl_py.PyLong_AsUnsignedLong(ident) : 0;
    if (v == (unsigned long)-1)
        v = 0;
    tl_py.PyErr_Clear();
    if (ident)
        tl_py.Py_DecRef(ident);
    if (main)
        tl_py.Py_DecRef(main);
    return v;
}

void *tl_threads_state_of(unsigned long ident)
{
    void *self = tl_py.PyThreadState_Get(), *found = NULL;
    uintptr_t pair[2];
    for (void *ts = tl_py.PyInterpreterState_ThreadHead(tl_py.PyInterpreterState_Main()); ts;
         ts = tl_py.PyThreadState_Next(ts)) {
        if (ts == self || tl_frames_thread_ident(ts) != ident)
            continue;
        /* A thread state made for a thread not started yet carries its
         * parent's ident until the thread runs (_thread.start_new_thread):
         * the one that runs code is the thread's own. */
        if (tl_frames_capture_thread(ts, pair, NULL, 1))
            return ts;
        found = ts; /* the oldest, listed last */
    }
    return found;
}

struct tl_threads_gather *tl_threads_begin(void)
{
    struct tl_threads_gather *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->active = threading_attr("_active");
    g->main_ident = tl_threads_main_ident();
    void *self = tl_py.PyThreadState_Get();
    size_t cap = 0;
    for (void *ts = tl_py.PyInterpreterState_ThreadHead(tl_py.PyInterpreterState_Main()); ts;
         ts = tl_py.PyThreadState_Next(ts)) {
        unsigned long ident = tl_frames_thread_ident(ts);
        int seen = ts == self;
        for (size_t i = 0; i < g->n_idents && !seen; i++)
            seen = g->idents[i] == ident; /* a state not started yet: its parent's */
        if (seen)
            continue;
        if (g->n_idents == cap) {
            size_t c = cap ? cap * 2 : 16;
            unsigned long *ids = realloc(g->idents, c * sizeof *ids);
            if (!ids)
                break;
            g->idents = ids;
            cap = c;
        }
        g->idents[g->n_idents++] = ident;
    }
    return g;
}

static void add_default(struct tl_threads_gather *g, PyObject *loop)
{
    PyObject *ex = tl_py_instance_item(loop, "_default_executor");
    if (!ex)
        return;
    for (size_t i = 0; i < g->n_defaults; i++)
        if (g->defaults[i] == ex || ex == tl_py.None) {
            tl_py.Py_DecRef(ex);
            return;
        }
    if (g->n_defaults == g->cap_defaults) {
        size_t c = g->cap_defaults ? g->cap_defaults * 2 : 4;
        PyObject **d = realloc(g->defaults, c * sizeof *d);
        if (!d) {
            tl_py.Py_DecRef(ex);
            return;
        }
        g->defaults = d;
        g->cap_defaults = c;
    }
    g->defaults[g->n_defaults++] = ex;
}

/* The name of a job's callable that has no Python frame (a C function). */
static char *callable_name(PyObject *fn)
{
    const char *type = fn ? TL_FIELD(TL_TYPE(fn), TL_OFF_TP_NAME, const char *) : NULL;
    if (type && !strcmp(type, "builtin_function_or_method")) {
        PyObject *q = tl_py.PyObject_GetAttrString(fn, "__qualname__");
        char *name = tl_py_utf8_copy(q);
        if (q)
            tl_py.Py_DecRef(q);
        tl_py.PyErr_Clear();
        return name;
    }
    return type ? strdup(type) : NULL;
}

/* A `_WorkItem.run` frame's job: its Future, and the frame of the job's
 * own function (the innermost-adjacent one, past WorkerContext.run), or the
 * name of its callable when that is C. */
static void read_job(struct tl_thread *t, PyObject *item, const uintptr_t *words, int at)
{
    PyObject *fut = tl_py_instance_item(item, "future");
    t->job_future = (uintptr_t)fut;
    if (fut)
        tl_py.Py_DecRef(fut); /* the work item keeps it alive */
    int j = at - 1;
    while (j >= 0 && tl_capture_code_role(words[2 * j]) == TL_ROLE_WORKER_CONTEXT)
        j--;
    if (j >= 0) {
        t->job = tl_capture_intern_py(&words[2 * j], 1);
        return;
    }
    PyObject *fn = tl_py_instance_item(item, "fn"); /* 3.8-3.13; 3.14+: task = (fn, args, kwargs) */
    PyObject *task = fn ? NULL : tl_py_instance_item(item, "task");
    PyObject *callable = fn ? fn : task && tl_py.PyTuple_Size(task) > 0 ? tl_py.PyTuple_GetItem(task, 0) : NULL;
    tl_py.PyErr_Clear();
    t->job_name = callable_name(callable);
    if (fn)
        tl_py.Py_DecRef(fn);
    if (task)
        tl_py.Py_DecRef(task);
}

static void read_thread_object(struct tl_thread *t, PyObject *thread)
{
    PyObject *name = tl_py_instance_item(thread, "_name");
    PyObject *daemon = tl_py_instance_item(thread, "_daemonic");
    PyObject *native = tl_py_instance_item(thread, "_native_id");
    t->name = tl_py_utf8_copy(name);
    int d = daemon ? tl_py.PyObject_IsTrue(daemon) : -1;
    t->daemon = (int8_t)(d < 0 ? -1 : d);
    if (t->native_id < 0 && native && native != tl_py.None) {
        long id = tl_py.PyLong_AsLong(native);
        t->native_id = id > 0 ? id : -1;
    }
    tl_py.PyErr_Clear();
    PyObject *refs[] = {name, daemon, native};
    for (int i = 0; i < 3; i++)
        if (refs[i])
            tl_py.Py_DecRef(refs[i]);
}

static struct tl_thread *append(struct tl_threads_gather *g, int first)
{
    if (g->out.n == g->cap) {
        size_t c = g->cap ? g->cap * 2 : 8;
        struct tl_thread *items = realloc(g->out.items, c * sizeof *items);
        struct pending *p = items ? realloc(g->pending, c * sizeof *p) : NULL;
        if (items)
            g->out.items = items;
        if (!p)
            return NULL;
        g->pending = p;
        g->cap = c;
    }
    size_t at = first ? 0 : g->out.n;
    memmove(&g->out.items[at + 1], &g->out.items[at], (g->out.n - at) * sizeof g->out.items[0]);
    memmove(&g->pending[at + 1], &g->pending[at], (g->out.n - at) * sizeof g->pending[0]);
    g->out.n++;
    memset(&g->pending[at], 0, sizeof g->pending[at]);
    return memset(&g->out.items[at], 0, sizeof g->out.items[at]);
}

static void gather_one(struct tl_threads_gather *g, unsigned long ident)
{
    void *ts = tl_threads_state_of(ident);
    if (!ts)
        return; /* it ended meanwhile */
    uintptr_t words[2 * MAX_FRAMES];
    PyObject *firsts[MAX_FRAMES];
    int n = tl_frames_capture_thread(ts, words, firsts, MAX_FRAMES);
    PyObject *key = tl_py.PyLong_FromUnsignedLong(ident);
    PyObject *thread = key && g->active ? tl_py.PyDict_GetItem(g->active, key) : NULL;
    if (key)
        tl_py.Py_DecRef(key);
    tl_py.PyErr_Clear();
    if (!n && !thread)
        return; /* no Python code runs there (a C thread's state, ours) */
    int main = ident == g->main_ident;
    struct tl_thread *t = append(g, main);
    if (!t)
        return;
    struct pending *p = &g->pending[t - g->out.items];
    t->ident = ident;
    t->native_id = tl_frames_thread_native_id(ts);
    t->daemon = -1;
    t->main = (uint8_t)main;
    if (thread)
        read_thread_object(t, thread);
    PyObject *worker_ref = NULL;
    for (int i = 0; i < n; i++) {
        switch (tl_capture_code_role(words[2 * i])) {
        case TL_ROLE_WORKER:
            worker_ref = firsts[i];
            break;
        case TL_ROLE_WORK_ITEM:
            if (!p->running && firsts[i]) {
                p->running = 1;
                read_job(t, firsts[i], words, i);
            }
            break;
        case TL_ROLE_RUN_FOREVER:
        case TL_ROLE_DO_SHUTDOWN:
            add_default(g, firsts[i]);
            break;
        default:
            break;
        }
    }
    if (worker_ref) {
        p->worker = 1;
        PyObject *ex = p->running ? tl_py.PyWeakref_GetObject(worker_ref) : NULL;
        tl_py.PyErr_Clear(); /* not a weak reference: no pool known */
        if (ex && ex != tl_py.None) {
            tl_py.Py_IncRef(ex);
            p->executor = ex;
        }
    }
    t->stack = tl_capture_intern_py(words, n < tl_opt.stack_depth ? n : tl_opt.stack_depth);
}

/* Whom the exit waits for: a pool's worker running a job (asyncio.run's
 * shutdown_default_executor for a loop's default one, 3.9+; and the
 * pools' exit handler, concurrent.futures' _python_exit, for every pool),
 * and any other non-daemon thread (threading._shutdown).  An idle worker
 * leaves when its pool shuts down. */
static void classify(struct tl_threads_gather *g)
{
    for (size_t k = 0; k < g->out.n; k++) {
        struct tl_thread *t = &g->out.items[k];
        const struct pending *p = &g->pending[k];
        t->why = TL_EXIT_NO_WAIT;
        if (p->running) {
            t->why = TL_EXIT_EXECUTOR;
            for (size_t d = 0; p->executor && d < g->n_defaults; d++)
                if (g->defaults[d] == p->executor)
                    t->why = TL_EXIT_DEFAULT_EXECUTOR;
        } else if (!p->worker && !t->main && t->daemon == 0) {
            t->why = TL_EXIT_NON_DAEMON;
        }
    }
    g->classified = 1;
}

int tl_threads_step(struct tl_threads_gather *g)
{
    if (!g || g->classified)
        return 0;
    if (g->next < g->n_idents) {
        gather_one(g, g->idents[g->next++]);
        return 1;
    }
    classify(g);
    return 0;
}

struct tl_threads tl_threads_end(struct tl_threads_gather *g)
{
    struct tl_threads out = {NULL, 0};
    if (!g)
        return out;
    if (!g->classified)
        classify(g);
    for (size_t k = 0; k < g->out.n; k++)
        if (g->pending[k].executor)
            tl_py.Py_DecRef(g->pending[k].executor);
    for (size_t d = 0; d < g->n_defaults; d++)
        tl_py.Py_DecRef(g->defaults[d]);
    if (g->active)
        tl_py.Py_DecRef(g->active);
    out = g->out;
    free(g->pending);
    free(g->defaults);
    free(g->idents);
    free(g);
    return out;
}
