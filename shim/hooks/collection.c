/* SPDX-License-Identifier: MIT */
/* The collection before a report (core/pyside.h), GIL held: look for a
 * shutdown, judge the watched tasks, then (snapshot) the other threads,
 * then (exit, snapshot) read every live task and what it waits for,
 * name those objects after module globals, reason over all of them at once
 * (holders, deadlocks, waits that never end), record the exit's leaks, and
 * resolve new stacks to lines.  It runs in slices of a bounded time, so
 * that the program never waits long for the GIL; between slices the GIL is
 * released and the state below carries over. */
#include "core/pyside.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "cpython/api.h"
#include "cpython/tasklist.h"
#include "cpython/version.h"
#include "hooks/capture.h"
#include "hooks/explain.h"
#include "hooks/judge.h"
#include "hooks/pytask.h"
#include "hooks/shutdown.h"
#include "hooks/task_hooks.h"
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

#define ROOMS 1024 /* more than a slice resolves */

struct tl_collection {
    enum tl_collect_mode mode;
    enum { WATCH, JUDGE, THREADS, TASKS, NAMES, ANALYZE, RECORD, RESOLVE, DONE } phase;
    struct tl_time_pair now;
    struct tl_task_view *views;
    size_t n_views, next_view;
    PyObject **tasks;
    size_t n_tasks, next_task;
    uintptr_t *pending; /* exit, 3.14+: the tasks the runtime lists */
    struct live_list live;
    uintptr_t *named;   /* the objects the NAMES phase names */
    size_t n_named;
    struct tl_global_names *names;
    struct tl_deadlocks deadlocks;
    size_t next_record;
    struct tl_threads_gather *gather; /* THREADS, under way */
    struct tl_threads threads;
    uint32_t next_stack;
    /* Resolved stacks' rooms for the ids from rooms_first, made between
     * slices (tl_collect_prepare): a slice takes no page fault for them. */
    struct tl_resolved_stack *rooms[ROOMS];
    uint32_t rooms_first;
};

static uint32_t all_resolved_below = 1; /* stack ids below it have lines */

/* Make room for one more in a growing array; 0, or -1 out of memory. */
static int grow(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t more = *cap ? *cap * 2 : 64;
    void *p = realloc(*items, more * size);
    if (!p)
        return -1;
    *items = p;
    *cap = more;
    return 0;
}

/* Views of every watched record; each holds its watch, so a collection cut
 * into slices survives the task's destruction in between. */
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
        tl_judge_hold_watch(views[i].watch);
    *out = views;
    return views ? n : 0;
}

static void add_edge(void *ctx, PyObject *awaiter, PyObject *awaited)
{
    struct live_list *list = ctx;
    if (grow((void **)&list->edges, &list->cap_edges, list->n_edges, sizeof *list->edges) == 0)
        list->edges[list->n_edges++] = (struct await_edge){(uintptr_t)awaiter, (uintptr_t)awaited};
}

/* A pending task, read whole: its outcome with what it waits for. */
static void add_live(PyObject *task, enum tl_state st, struct live_list *list)
{
    if (grow((void **)&list->items, &list->cap, list->n, sizeof *list->items) < 0)
        return;
    struct tl_outcome o;
    tl_pytask_outcome(task, st, 1, &o);
    tl_pytask_await_edges(task, add_edge, list);
    if (tl_task_snapshot(tl_task_in_table(task), &o, &list->items[list->n]))
        list->n++;
}

static void read_task(struct tl_collection *c, PyObject *task)
{
    enum tl_state st = tl_pytask_state(task, 1);
    if (st == TL_PENDING)
        add_live(task, st, &c->live);
    else if (c->mode == TL_COLLECT_EXIT)
        tl_judge_ended_at_exit(task, st);
    else
        tl_judge_found_ended(task, st);
}

struct by_addr {
    uintptr_t addr;
    struct tl_leak *item;
};

static int cmp_addr(const void *a, const void *b)
{
    uintptr_t x = ((const struct by_addr *)a)->addr, y = ((const struct by_addr *)b)->addr;
    return (x > y) - (x < y);
}

static struct tl_leak *find_live(const struct by_addr *index, size_t n, uintptr_t addr)
{
    struct by_addr key = {addr, NULL};
    const struct by_addr *found = bsearch(&key, index, n, sizeof *index, cmp_addr);
    return found ? found->item : NULL;
}

/* The edges become each awaited task's awaited_by (the first awaiter that
 * is a live task). */
static void link_awaiters(struct live_list *list)
{
    struct by_addr *index = malloc((list->n ? list->n : 1) * sizeof *index);
    for (size_t i = 0; index && i < list->n; i++)
        index[i] = (struct by_addr){list->items[i].task.addr, &list->items[i]};
    if (index)
        qsort(index, list->n, sizeof *index, cmp_addr);
    for (size_t e = 0; index && e < list->n_edges; e++) {
        const struct await_edge *edge = &list->edges[e];
        struct tl_leak *awaiter = find_live(index, list->n, edge->awaiter);
        struct tl_leak *awaited = find_live(index, list->n, edge->awaited);
        if (awaiter && awaited && awaiter != awaited && !awaited->outcome.awaited_by)
            awaited->outcome.awaited_by = awaiter->task.id;
    }
    free(index);
    free(list->edges);
    list->edges = NULL;
    list->n_edges = list->cap_edges = 0;
}

/* ---- names and reasons over all pending tasks ---------------------------- */

/* Objects a person may know by a module global's name. */
static int nameable(const struct tl_wait *w)
{
    switch (w->kind) {
    case TL_WAIT_TASK:
    case TL_WAIT_GATHER:
    case TL_WAIT_WAIT:
    case TL_WAIT_SLEEP:
    case TL_WAIT_SOCKET:
    case TL_WAIT_EXECUTOR:
        return 0;
    default:
        return w->object != 0;
    }
}

static void begin_names(struct tl_collection *c)
{
    size_t cap = 0;
    for (size_t i = 0; i < c->live.n; i++) {
        const struct tl_outcome *o = &c->live.items[i].outcome;
        if (o->wait && nameable(o->wait) &&
            grow((void **)&c->named, &cap, c->n_named, sizeof *c->named) == 0)
            c->named[c->n_named++] = o->wait->object;
        for (uint32_t k = 0; k < o->held.n; k++)
            if (o->held.items[k].entered &&
                grow((void **)&c->named, &cap, c->n_named, sizeof *c->named) == 0)
                c->named[c->n_named++] = o->held.items[k].object;
    }
    c->names = c->n_named ? tl_explain_names_begin(c->named, c->n_named) : NULL;
}

/* A module global's name beats a frame's: `app.lock`, not `lock in main`. */
static void end_names(struct tl_collection *c)
{
    char **names = tl_explain_names_end(c->names);
    c->names = NULL;
    size_t k = 0;
    for (size_t i = 0; names && i < c->live.n; i++) {
        struct tl_outcome *o = &c->live.items[i].outcome;
        if (o->wait && nameable(o->wait)) {
            if (names[k]) {
                free(o->wait->name);
                free(o->wait->named_in);
                o->wait->named_in = NULL;
                o->wait->name = names[k];
                names[k] = NULL;
            }
            k++;
        }
        for (uint32_t h = 0; h < o->held.n; h++)
            if (o->held.items[h].entered) {
                o->held.items[h].name = names[k];
                names[k++] = NULL;
            }
    }
    for (size_t i = 0; names && i < c->n_named; i++)
        free(names[i]);
    free(names);
    free(c->named);
    c->named = NULL;
}

/* ---- the phases ---------------------------------------------------------- */

struct tl_collection *tl_collect_begin(enum tl_collect_mode mode)
{
    struct tl_collection *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    int judging = !tl_judge_stopped();
    c->mode = mode;
    c->now = tl_time_pair();
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
            tl_judge_release_watch(v->watch);
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
            read_task(c, task);
            tl_py.Py_DecRef(task);
            return 1;
        }
        link_awaiters(&c->live);
        begin_names(c);
        c->phase = NAMES;
        return 1;
    case NAMES:
        if (tl_explain_names_step(c->names))
            return 1;
        end_names(c);
        /* A snapshot's reasoning needs no Python: the collector does it
         * without the GIL (tl_waits_analyze_live).  The exit's leaks need
         * it before they are recorded. */
        c->phase = c->mode == TL_COLLECT_EXIT ? ANALYZE : RESOLVE;
        return 1;
    case ANALYZE:
        tl_waits_analyze_live(c->live.items, c->live.n, &c->deadlocks);
        c->phase = RECORD;
        return 1;
    case RECORD: /* exit: the pending tasks are pending_at_exit */
        if (c->next_record < c->live.n) {
            tl_judge_pending_at_exit(&c->live.items[c->next_record++]);
            return 1;
        }
        /* Where the runtime lists only pending tasks, the others ended. */
        if (c->pending)
            tl_tasks_end_all_but(c->pending, c->n_tasks);
        tl_judge_stop();
        c->phase = RESOLVE;
        return 1;
    case RESOLVE:
        if (c->next_stack <= tl_depot_count(&tl_py_stacks)) {
            uint32_t id = c->next_stack++, k = id - c->rooms_first; /* wraps below */
            struct tl_resolved_stack *room = k < ROOMS ? c->rooms[k] : NULL;
            if (room)
                c->rooms[k] = NULL;
            tl_capture_resolve_in(id, room);
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

static void free_rooms(struct tl_collection *c)
{
    for (int k = 0; k < ROOMS; k++) {
        free(c->rooms[k]);
        c->rooms[k] = NULL;
    }
}

int tl_collect_wants_prepare(const struct tl_collection *c)
{
    return c && c->phase != DONE && c->next_stack <= tl_depot_count(&tl_py_stacks);
}

void tl_collect_prepare(struct tl_collection *c)
{
    if (!tl_collect_wants_prepare(c))
        return;
    /* The rooms of the stacks resolved since were taken; the others stay. */
    uint32_t taken = c->next_stack - c->rooms_first;
    if (taken >= ROOMS)
        taken = ROOMS;
    for (uint32_t k = 0; k < taken; k++)
        free(c->rooms[k]);
    memmove(c->rooms, c->rooms + taken, (ROOMS - taken) * sizeof c->rooms[0]);
    memset(c->rooms + ROOMS - taken, 0, taken * sizeof c->rooms[0]);
    c->rooms_first = c->next_stack;
    tl_capture_prepare_resolve(c->rooms_first, ROOMS, c->rooms);
}

void tl_collected_free(struct tl_collected *c)
{
    for (size_t i = 0; i < c->n_live; i++)
        tl_leak_free(&c->live[i]);
    free(c->live);
    tl_threads_free(&c->threads);
    tl_deadlocks_free(&c->deadlocks);
    memset(c, 0, sizeof *c);
}

void tl_collect_end(struct tl_collection *c, struct tl_collected *out)
{
    memset(out, 0, sizeof *out);
    if (!c)
        return;
    for (size_t i = c->next_view; i < c->n_views; i++)
        tl_judge_release_watch(c->views[i].watch);
    int complete = c->phase == DONE;
    if (c->phase <= TASKS)
        for (size_t i = c->next_task; i < c->n_tasks; i++)
            tl_py.Py_DecRef(c->tasks[i]);
    if (c->names) { /* an abandoned NAMES phase */
        char **names = tl_explain_names_end(c->names);
        for (size_t i = 0; names && i < c->n_named; i++)
            free(names[i]);
        free(names);
    }
    if (c->gather) /* ended in its threads */
        c->threads = tl_threads_end(c->gather);
    struct tl_collected found = {c->live.items, c->live.n, c->threads, c->deadlocks};
    if (complete && c->mode == TL_COLLECT_SNAPSHOT) {
        *out = found;
    } else {
        if (complete)
            out->deadlocks = found.deadlocks;
        else
            tl_deadlocks_free(&found.deadlocks);
        found.deadlocks = (struct tl_deadlocks){0};
        tl_collected_free(&found);
    }
    free_rooms(c);
    free(c->named);
    free(c->live.edges);
    free(c->views);
    free(c->tasks);
    free(c->pending);
    free(c);
}

void tl_collect_all(enum tl_collect_mode mode, struct tl_collected *out)
{
    struct tl_collection *c = tl_collect_begin(mode);
    while (tl_collect_step(c, 0))
        ;
    tl_collect_end(c, out);
}

const char *tl_python_version(void)
{
    static char version[32];
    if (!version[0])
        snprintf(version, sizeof version, "%d.%d.%d", tl_py.major, tl_py.minor, tl_py.micro);
    return version;
}
