/* SPDX-License-Identifier: MIT */
/* Reasoning over all pending tasks at once: holders, deadlocks, "never". */
#include "core/waits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pyside.h"
#include "core/tasks.h"
#include "core/threads.h"

const char *const tl_wait_kind_names[TL_N_WAIT_KINDS] = {
#define X(constant, name) name,
#include "core/waits.inc"
#undef X
};

void tl_wait_free(struct tl_wait *w)
{
    if (!w)
        return;
    free(w->type);
    free(w->call);
    free(w->name);
    free(w->named_in);
    free(w->tasks);
    free(w->held_by);
    free(w->thread);
    free(w->job);
    free(w->never);
    free(w);
}

void tl_helds_free(struct tl_helds *h)
{
    for (uint32_t i = 0; i < h->n; i++) {
        free(h->items[i].type);
        free(h->items[i].name);
    }
    free(h->items);
    memset(h, 0, sizeof *h);
}

int tl_helds_add(struct tl_helds *h, uintptr_t object, uint32_t site, int entered, char *type)
{
    for (uint32_t i = 0; i < h->n; i++)
        if (h->items[i].object == object) { /* in several frames: entered wins */
            if (entered && !h->items[i].entered) {
                free(h->items[i].type);
                h->items[i] = (struct tl_held){object, site, 1, type, h->items[i].name};
            } else {
                free(type);
            }
            return 0;
        }
    struct tl_held *items = realloc(h->items, (h->n + 1) * sizeof *items);
    if (!items) {
        free(type);
        return -1;
    }
    h->items = items;
    h->items[h->n++] = (struct tl_held){object, site, (uint8_t)(entered != 0), type, NULL};
    return 0;
}

void tl_deadlocks_free(struct tl_deadlocks *d)
{
    for (uint32_t i = 0; i < d->n; i++) {
        free(d->items[i].tasks);
        free(d->items[i].edges);
    }
    free(d->items);
    memset(d, 0, sizeof *d);
}

/* ---- ids to indexes ----------------------------------------------------- */

struct slot {
    uint64_t id;
    size_t index;
};

static int cmp_slot(const void *a, const void *b)
{
    uint64_t x = ((const struct slot *)a)->id, y = ((const struct slot *)b)->id;
    return (x > y) - (x < y);
}

struct graph {
    struct tl_waiter *tasks;
    size_t n;
    struct slot *by_id;
    size_t *first, *to; /* the edges (build_edges) */
};

/* The index of task `id`, or -1 when it is not among the pending tasks. */
static long index_of(const struct graph *g, uint64_t id)
{
    struct slot key = {id, 0};
    const struct slot *s = bsearch(&key, g->by_id, g->n, sizeof *g->by_id, cmp_slot);
    return s ? (long)s->index : -1;
}

static int still_waits(const struct tl_wait *w)
{
    return w && w->deadline < 0 && !w->waking;
}

/* ---- holders ------------------------------------------------------------ */

/* Whether `w` waits in the lock-like `object` (to acquire it, with
 * `acquiring`). */
static int waits_in(const struct tl_wait *w, uintptr_t object, int acquiring)
{
    return w && w->object == object && (w->kind == TL_WAIT_LOCK || w->kind == TL_WAIT_SEMAPHORE ||
                                         w->kind == TL_WAIT_CONDITION || w->kind == TL_WAIT_BARRIER) &&
           (!acquiring || w->acquiring);
}

/* A task in Condition.wait() let the condition's lock go, although its
 * frame is still inside `async with` of it. */
static int let_go(const struct tl_waiter *t, uintptr_t object)
{
    return t->wait && t->wait->kind == TL_WAIT_CONDITION && t->wait->object == object &&
           !t->wait->acquiring;
}

/* Every lock a task's frames have, by object: found without looking at
 * every task for each waiter. */
struct held_ref {
    uintptr_t object;
    size_t task;
    uint8_t entered;
};

static int cmp_held(const void *a, const void *b)
{
    uintptr_t x = ((const struct held_ref *)a)->object, y = ((const struct held_ref *)b)->object;
    return (x > y) - (x < y);
}

static struct held_ref *index_helds(const struct graph *g, size_t *n_out)
{
    size_t n = 0;
    for (size_t j = 0; j < g->n; j++)
        n += g->tasks[j].held ? g->tasks[j].held->n : 0;
    struct held_ref *refs = malloc((n ? n : 1) * sizeof *refs);
    n = 0;
    for (size_t j = 0; refs && j < g->n; j++)
        for (uint32_t k = 0; g->tasks[j].held && k < g->tasks[j].held->n; k++)
            refs[n++] = (struct held_ref){g->tasks[j].held->items[k].object, j,
                                          g->tasks[j].held->items[k].entered};
    if (refs)
        qsort(refs, n, sizeof *refs, cmp_held);
    *n_out = refs ? n : 0;
    return refs;
}

static void find_holders(struct graph *g, const struct held_ref *refs, size_t n_refs,
                         struct tl_wait *w)
{
    size_t entered = 0, candidates = 0, candidate = 0, lo = 0, hi = n_refs;
    while (lo < hi) { /* the first entry of w->object */
        size_t mid = lo + (hi - lo) / 2;
        if (refs[mid].object < w->object)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t r = lo; r < n_refs && refs[r].object == w->object; r++) {
        const struct tl_waiter *t = &g->tasks[refs[r].task];
        if (let_go(t, w->object))
            continue;
        if (refs[r].entered) {
            uint64_t *ids = realloc(w->held_by, (w->n_held_by + 1) * sizeof *ids);
            if (ids) {
                w->held_by = ids;
                w->held_by[w->n_held_by++] = t->id;
            }
            entered++;
        } else if (!waits_in(t->wait, w->object, 0)) {
            candidates++;
            candidate = refs[r].task;
        }
    }
    if (entered) {
        w->holders = TL_HOLDERS_CERTAIN;
    } else if (w->taken == 1 && candidates == 1) {
        w->held_by = malloc(sizeof *w->held_by);
        if (w->held_by) {
            w->held_by[0] = g->tasks[candidate].id;
            w->n_held_by = 1;
        }
        w->holders = w->held_by ? TL_HOLDERS_INFERRED : TL_HOLDERS_UNKNOWN;
    } else {
        w->holders = w->taken == 0 ? TL_HOLDERS_CERTAIN : TL_HOLDERS_UNKNOWN; /* free: none */
    }
}

/* ---- the wait-for graph ------------------------------------------------- */

/* The tasks task `i` cannot go on without, each edge certain: the tasks it
 * awaits (all of a gather's), the one holder of the lock it acquires.
 * With `to` NULL, only counts them. */
static size_t edges_of(const struct graph *g, size_t i, size_t *to)
{
    const struct tl_wait *w = g->tasks[i].wait;
    size_t n = 0;
    if (!still_waits(w))
        return 0;
    if (w->kind == TL_WAIT_TASK || w->kind == TL_WAIT_GATHER) {
        for (uint32_t k = 0; k < w->n_tasks; k++) {
            long j = index_of(g, w->tasks[k]);
            if (j >= 0 && to)
                to[n] = (size_t)j;
            n += j >= 0;
        }
    } else if ((w->kind == TL_WAIT_LOCK || w->kind == TL_WAIT_CONDITION) &&
               waits_in(w, w->object, 1) && w->holders == TL_HOLDERS_CERTAIN &&
               w->n_held_by == 1) {
        long j = index_of(g, w->held_by[0]);
        if (j >= 0 && to)
            to[n] = (size_t)j;
        n += j >= 0;
    }
    return n;
}

/* The edges, all at once: task i's are to[first[i]] .. to[first[i + 1] - 1]. */
static int build_edges(struct graph *g)
{
    g->first = malloc((g->n + 1) * sizeof *g->first);
    if (!g->first)
        return -1;
    size_t total = 0;
    for (size_t i = 0; i < g->n; i++) {
        g->first[i] = total;
        total += edges_of(g, i, NULL);
    }
    g->first[g->n] = total;
    g->to = malloc((total ? total : 1) * sizeof *g->to);
    if (!g->to)
        return -1;
    for (size_t i = 0; i < g->n; i++)
        edges_of(g, i, g->to + g->first[i]);
    return 0;
}

/* Tarjan's strongly connected components, without recursion: each
 * component's number goes to component[i]. */
static size_t components(const struct graph *g, long *component)
{
    size_t n = g->n, counter = 0, depth = 0, count = 0;
    long *index = malloc(n * sizeof *index), *low = malloc(n * sizeof *low);
    size_t *stack = malloc(n * sizeof *stack), *call = malloc(n * sizeof *call);
    size_t *next = malloc(n * sizeof *next);
    char *on_stack = calloc(n, 1);
    if (!index || !low || !stack || !call || !next || !on_stack)
        goto out;
    for (size_t i = 0; i < n; i++)
        index[i] = -1;
    for (size_t root = 0; root < n; root++) {
        if (index[root] >= 0)
            continue;
        size_t top = 0;
        call[0] = root;
        next[root] = g->first[root];
        index[root] = low[root] = (long)counter++;
        stack[depth++] = root;
        on_stack[root] = 1;
        for (;;) {
            size_t v = call[top];
            if (next[v] < g->first[v + 1]) {
                size_t w = g->to[next[v]++];
                if (index[w] < 0) {
                    call[++top] = w;
                    next[w] = g->first[w];
                    index[w] = low[w] = (long)counter++;
                    stack[depth++] = w;
                    on_stack[w] = 1;
                } else if (on_stack[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            if (low[v] == index[v]) {
                size_t w;
                do {
                    w = stack[--depth];
                    on_stack[w] = 0;
                    component[w] = (long)count;
                } while (w != v);
                count++;
            }
            if (top == 0)
                break;
            top--;
            if (low[v] < low[call[top]])
                low[call[top]] = low[v];
        }
    }
out:
    free(index);
    free(low);
    free(stack);
    free(call);
    free(next);
    free(on_stack);
    return count;
}

static void add_deadlock(const struct graph *g, const long *component, long c,
                         struct tl_deadlocks *out)
{
    struct tl_deadlock d = {0};
    for (size_t i = 0; i < g->n; i++) {
        if (component[i] != c)
            continue;
        uint64_t *ids = realloc(d.tasks, (d.n_tasks + 1) * sizeof *ids);
        if (!ids)
            break;
        d.tasks = ids;
        d.tasks[d.n_tasks++] = g->tasks[i].id;
        for (size_t k = g->first[i]; k < g->first[i + 1]; k++) {
            if (component[g->to[k]] != c)
                continue;
            struct tl_deadlock_edge *e = realloc(d.edges, (d.n_edges + 1) * sizeof *e);
            if (!e)
                break;
            d.edges = e;
            d.edges[d.n_edges++] = (struct tl_deadlock_edge){
                g->tasks[i].id, g->tasks[g->to[k]].id, g->tasks[i].wait->kind,
                g->tasks[i].wait->object};
        }
    }
    struct tl_deadlock *items = d.n_edges ? realloc(out->items, (out->n + 1) * sizeof *items) : NULL;
    if (!items) {
        free(d.tasks);
        free(d.edges);
        return;
    }
    out->items = items;
    out->items[out->n++] = d;
}

/* Each component of more than one task, or of one that waits for itself,
 * is a deadlock; component[i] stays its number, and becomes -1 for a task
 * in none. */
static void find_deadlocks(const struct graph *g, struct tl_deadlocks *out, long *component)
{
    for (size_t i = 0; i < g->n; i++)
        component[i] = -1;
    size_t count = components(g, component);
    size_t *sizes = calloc(count ? count : 1, sizeof *sizes);
    char *looped = calloc(count ? count : 1, 1);
    for (size_t i = 0; sizes && looped && i < g->n; i++) {
        if (component[i] < 0)
            continue;
        sizes[component[i]]++;
        for (size_t k = g->first[i]; k < g->first[i + 1]; k++)
            looped[component[i]] |= g->to[k] == i;
    }
    for (size_t c = 0; sizes && looped && c < count; c++)
        if (sizes[c] > 1 || looped[c])
            add_deadlock(g, component, (long)c, out);
    for (size_t i = 0; i < g->n; i++)
        if (!sizes || !looped || component[i] < 0 ||
            !(sizes[component[i]] > 1 || looped[component[i]]))
            component[i] = -1;
    free(sizes);
    free(looped);
}

/* ---- waits that can never end ------------------------------------------- */

static void set_never(struct tl_wait *w, const char *reason)
{
    if (!w->never)
        w->never = strdup(reason);
}

/* A wait ends never when what it needs ends never: an awaited task (any of
 * a gather's), the one holder of the lock it acquires.  To a fixed point. */
static void propagate_never(const struct graph *g)
{
    char why[200];
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < g->n; i++) {
            struct tl_wait *w = g->tasks[i].wait;
            if (!still_waits(w) || w->never)
                continue;
            for (size_t k = g->first[i]; k < g->first[i + 1] && !w->never; k++) {
                const struct tl_waiter *other = &g->tasks[g->to[k]];
                if (!other->wait || !other->wait->never)
                    continue;
                snprintf(why, sizeof why, "%s %s, which can never wake",
                         w->kind == TL_WAIT_LOCK || w->kind == TL_WAIT_CONDITION ? "held by"
                                                                                 : "awaits",
                         other->name ? other->name : "a task");
                set_never(w, why);
                changed = 1;
            }
        }
    }
}

void tl_waits_analyze(struct tl_waiter *tasks, size_t n, struct tl_deadlocks *out)
{
    memset(out, 0, sizeof *out);
    struct graph g = {tasks, n, malloc((n ? n : 1) * sizeof(struct slot)), NULL, NULL};
    long *component = malloc((n ? n : 1) * sizeof *component);
    if (!g.by_id || !component)
        goto out;
    for (size_t i = 0; i < n; i++)
        g.by_id[i] = (struct slot){tasks[i].id, i};
    qsort(g.by_id, n, sizeof *g.by_id, cmp_slot);
    size_t n_refs;
    struct held_ref *refs = index_helds(&g, &n_refs);
    for (size_t i = 0; i < n; i++) {
        struct tl_wait *w = tasks[i].wait;
        if (w && (w->kind == TL_WAIT_LOCK || w->kind == TL_WAIT_SEMAPHORE ||
                  w->kind == TL_WAIT_CONDITION) && w->object)
            find_holders(&g, refs, n_refs, w);
    }
    free(refs);
    if (build_edges(&g) < 0)
        goto out;
    find_deadlocks(&g, out, component);
    for (size_t i = 0; i < n; i++)
        if (component[i] >= 0)
            set_never(tasks[i].wait, "in a deadlock: what it waits for waits for it");
    propagate_never(&g);
out:
    free(component);
    free(g.by_id);
    free(g.first);
    free(g.to);
}

void tl_waits_analyze_live(struct tl_leak *live, size_t n, struct tl_deadlocks *out)
{
    struct tl_waiter *waiters = malloc((n ? n : 1) * sizeof *waiters);
    size_t k = 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; waiters && i < n; i++) {
        struct tl_leak *l = &live[i];
        if (l->outcome.explained)
            waiters[k++] = (struct tl_waiter){l->task.id, l->outcome.name, l->outcome.wait,
                                              &l->outcome.held};
    }
    if (waiters)
        tl_waits_analyze(waiters, k, out);
    free(waiters);
}

void tl_collected_explain(struct tl_collected *c)
{
    for (size_t i = 0; i < c->n_live; i++) {
        struct tl_wait *w = c->live[i].outcome.wait;
        if (!w || w->kind != TL_WAIT_EXECUTOR || w->thread)
            continue;
        for (size_t k = 0; k < c->threads.n; k++) {
            const struct tl_thread *t = &c->threads.items[k];
            if (!t->job_future || t->job_future != w->object)
                continue;
            w->thread = strdup(t->name ? t->name : "?");
            w->thread_id = t->native_id;
            w->job_frame = t->job;
            if (!t->job && t->job_name)
                w->job = strdup(t->job_name);
            break;
        }
    }
    tl_deadlocks_free(&c->deadlocks);
    tl_waits_analyze_live(c->live, c->n_live, &c->deadlocks);
}
