/* The collection before a report (core/pyside.h), GIL held: look for a
 * shutdown, judge the watched tasks, then (snapshot) the other threads,
 * then (exit, snapshot) every live task, then resolve new stacks to lines.  It runs in slices of a bounded time, so that the program never
 * waits long for the GIL; between slices the GIL is released and the state
 * below carries over. */
#include "core/pyside.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "cpython/api.h"
#include "cpython/tasklist.h"
#include "cpython/version.h"
#include "hooks/capture.h"
#include "hooks/judge.h"
#include "hooks/pytask.h"
#include "hooks/shutdown.h"
#include "hooks/threads.h"

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

struct tl_collection {
    enum tl_collect_mode mode;
    enum { WATCH, JUDGE, THREADS, TASKS, RESOLVE, DONE } phase;
    double now;
    struct tl_task_view *views;
    size_t n_views, next_view;
    PyObject **tasks;
    size_t n_tasks, next_task;
    uintptr_t *pending; /* exit, 3.14+: the tasks the runtime lists */
    struct live_list live;
    struct tl_threads_gather *gather;
    struct tl_threads threads;
    uint32_t next_stack;
};

static uint32_t all_resolved_below = 1; /* stack ids below it have lines */

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

static void add_edge(void *ctx, PyObject *awaiter, PyObject *awaited)
{
    struct live_list *list = ctx;
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

static void snapshot_live(PyObject *task, struct live_list *list)
{
    enum tl_state st = tl_pytask_state(task, 1);
    if (st != TL_PENDING) {
        tl_judge_found_ended(task, st);
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
    tl_pytask_outcome(task, st, &o);
    tl_pytask_await_edges(task, add_edge, list);
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

struct tl_collection *tl_collect_begin(enum tl_collect_mode mode)
{
    struct tl_collection *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    int judging = !tl_judge_stopped();
    c->mode = mode;
    c->now = tl_now();
    c->next_stack = all_resolved_below;
    c->n_views = judging && mode != TL_COLLECT_WATCH ? watched_views(&c->views) : 0;
    c->phase = !judging ? DONE : mode == TL_COLLECT_EXIT ? JUDGE : WATCH;
    return c;
}

/* After the judging (and a snapshot's threads): the live tasks. */
static void start_tasks(struct tl_collection *c)
{
    if (c->mode != TL_COLLECT_PERIODIC)
        c->n_tasks = tl_tasklist_collect(&c->tasks);
    if (c->mode == TL_COLLECT_EXIT && tl_caps.task_lists)
        c->pending = malloc((c->n_tasks ? c->n_tasks : 1) * sizeof *c->pending);
    c->phase = c->mode == TL_COLLECT_PERIODIC ? RESOLVE : TASKS;
}

/* Each phase's next item; 0 when the phase is over. */
static int step_one(struct tl_collection *c)
{
    switch (c->phase) {
    case WATCH:
        tl_shutdown_check();
        c->phase = c->mode == TL_COLLECT_WATCH ? DONE : JUDGE;
        return c->phase != DONE;
    case JUDGE:
        if (c->next_view < c->n_views) {
            struct tl_task_view *v = &c->views[c->next_view++];
            tl_judge_watched(v, c->now);
            tl_py.Py_DecRef(v->watch);
            return 1;
        }
        if (c->mode == TL_COLLECT_SNAPSHOT) {
            c->gather = tl_threads_begin();
            c->phase = THREADS;
        } else {
            start_tasks(c);
        }
        return 1;
    case THREADS:
        if (tl_threads_step(c->gather))
            return 1;
        c->threads = tl_threads_end(c->gather);
        c->gather = NULL;
        start_tasks(c);
        return 1;
    case TASKS:
        if (c->next_task < c->n_tasks) {
            PyObject *task = c->tasks[c->next_task];
            if (c->pending)
                c->pending[c->next_task] = (uintptr_t)task;
            c->next_task++;
            if (c->mode == TL_COLLECT_EXIT)
                tl_judge_at_exit(task);
            else
                snapshot_live(task, &c->live);
            tl_py.Py_DecRef(task);
            return 1;
        }
        if (c->mode == TL_COLLECT_EXIT) {
            /* Where the runtime lists only pending tasks, the others ended. */
            if (c->pending)
                tl_tasks_end_all_but(c->pending, c->n_tasks);
            tl_judge_stop();
        } else {
            link_awaiters(&c->live);
        }
        c->phase = RESOLVE;
        return 1;
    case RESOLVE:
        if (c->next_stack <= tl_depot_count(&tl_py_stacks)) {
            tl_capture_resolve(c->next_stack++);
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
    if (tl_judge_stopped() && c->mode != TL_COLLECT_EXIT)
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

void tl_snapshot_free(struct tl_snapshot *s)
{
    for (size_t i = 0; i < s->n_live; i++)
        tl_leak_free(&s->live[i]);
    free(s->live);
    s->live = NULL;
    s->n_live = 0;
    tl_threads_free(&s->threads);
}

void tl_collect_end(struct tl_collection *c, struct tl_snapshot *out)
{
    memset(out, 0, sizeof *out);
    if (!c)
        return;
    for (size_t i = c->next_view; i < c->n_views; i++)
        tl_py.Py_DecRef(c->views[i].watch);
    int complete = c->phase == DONE;
    if (c->phase <= TASKS)
        for (size_t i = c->next_task; i < c->n_tasks; i++)
            tl_py.Py_DecRef(c->tasks[i]);
    if (c->gather) /* ended in its threads */
        c->threads = tl_threads_end(c->gather);
    if (complete && c->mode == TL_COLLECT_SNAPSHOT) {
        out->live = c->live.items;
        out->n_live = c->live.n;
        out->threads = c->threads;
    } else {
        for (size_t i = 0; i < c->live.n; i++)
            tl_leak_free(&c->live.items[i]);
        free(c->live.items);
        tl_threads_free(&c->threads);
    }
    free(c->live.edges);
    free(c->views);
    free(c->tasks);
    free(c->pending);
    free(c);
}

void tl_collect_all(enum tl_collect_mode mode)
{
    struct tl_snapshot found;
    struct tl_collection *c = tl_collect_begin(mode);
    while (tl_collect_step(c, 0))
        ;
    tl_collect_end(c, &found);
    tl_snapshot_free(&found);
}

const char *tl_python_version(void)
{
    static char version[32];
    if (!version[0])
        snprintf(version, sizeof version, "%d.%d.%d", tl_py.major, tl_py.minor, tl_py.micro);
    return version;
}
