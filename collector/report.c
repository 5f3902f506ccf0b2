/* SPDX-License-Identifier: MIT */
/* Report building with jansson.  Stacks come from the depots: Python frames
 * as resolved under the GIL (nulls where that was not possible), native
 * frames symbolized here. */
#include "collector/report.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "core/options.h"
#include "core/scopes.h"
#include "core/suppressions.h"
#include "core/unwind.h"
#include "core/verdict.h"

#ifndef TL_VERSION /* from the VERSION file (Makefile) */
#error "build with make: TL_VERSION comes from the VERSION file"
#endif

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *hex(uintptr_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%lx", (unsigned long)v);
    return json_string(buf);
}

static json_t *py_stack(uint32_t id)
{
    json_t *arr = json_array();
    uint32_t n;
    const uintptr_t *w = tl_depot_get(&tl_py_stacks, id, &n);
    const struct tl_resolved_stack *r = tl_depot_resolved(&tl_py_stacks, id);
    for (uint32_t i = 0; w && i < n / 2; i++) {
        const struct tl_pyframe *f = r ? &r->frames[i] : NULL;
        json_array_append_new(arr, json_pack("{s:o, s:o, s:o}",
            "function", str_or_null(f ? f->function : NULL),
            "file", str_or_null(f ? f->file : NULL),
            "line", f && f->line >= 0 ? json_integer(f->line) : json_null()));
    }
    return arr;
}

static json_t *native_stack(uint32_t id)
{
    json_t *arr = json_array();
    uint32_t n;
    const uintptr_t *w = tl_depot_get(&tl_native_stacks, id, &n);
    for (uint32_t i = 0; w && i < n; i++) {
        struct tl_native_frame f;
        tl_unwind_symbolize(w[i], &f);
        json_array_append_new(arr, json_pack("{s:o, s:o, s:o, s:o}",
            "ip", hex(f.ip), "symbol", str_or_null(f.symbol),
            "offset", f.symbol ? json_integer((json_int_t)f.offset) : json_null(),
            "module", str_or_null(f.module)));
    }
    return arr;
}

static json_t *cancels(const struct tl_cancel *c)
{
    json_t *arr = json_array();
    for (; c; c = c->next) {
        json_t *site = c->caught ? py_stack(c->caught) : NULL;
        json_t *caught = json_incref(json_array_get(site, 0));
        json_decref(site);
        json_t *entry = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
            "t", c->t >= 0 ? json_real(c->t) : json_null(), "message", str_or_null(c->message),
            "python_stack", py_stack(c->stack),
            "scope", str_or_null(tl_scope_name(c->scope)),
            "forwarded_from", c->forwarded_from ? json_integer((json_int_t)c->forwarded_from)
                                                : json_null(),
            "delivered_at", c->delivered ? py_stack(c->delivered) : json_null(),
            "caught_at", caught ? caught : json_null());
        if (c->t < 0) /* requested before the library was attached: when and by whom is unknown */
            json_object_set_new(entry, "before_attach", json_true());
        json_array_append_new(arr, entry);
    }
    return arr;
}

static json_t *ids(const uint64_t *v, uint32_t n)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(arr, json_integer((json_int_t)v[i]));
    return arr;
}

static json_t *one_frame(uint32_t stack)
{
    json_t *frames = stack ? py_stack(stack) : NULL;
    json_t *frame = json_incref(json_array_get(frames, 0));
    json_decref(frames);
    return frame ? frame : json_null();
}

/* waits_for (taskleak-v1 section 8): what a pending task waits for. */
static json_t *waits_for(const struct tl_wait *w)
{
    static const char *const holders[] = {[TL_HOLDERS_CERTAIN] = "certain",
                                          [TL_HOLDERS_INFERRED] = "inferred",
                                          [TL_HOLDERS_UNKNOWN] = "unknown"};
    json_t *e = json_pack("{s:s, s:o, s:o, s:o, s:o}", "kind", tl_wait_kind_names[w->kind],
                          "object", w->object ? hex(w->object) : json_null(),
                          "type", str_or_null(w->type), "call", str_or_null(w->call),
                          "name", str_or_null(w->name));
    if (w->named_in)
        json_object_set_new(e, "named_in", json_string(w->named_in));
    if (w->kind == TL_WAIT_TASK || w->kind == TL_WAIT_GATHER || w->kind == TL_WAIT_WAIT ||
        w->kind == TL_WAIT_TIMEOUT)
        json_object_set_new(e, "tasks", ids(w->tasks, w->n_tasks));
    json_object_set_new(e, "deadline", w->deadline >= 0 ? json_real(w->deadline) : json_null());
    if (w->holders != TL_HOLDERS_NA) {
        json_object_set_new(e, "held_by", w->holders == TL_HOLDERS_UNKNOWN
                                              ? json_null() : ids(w->held_by, w->n_held_by));
        json_object_set_new(e, "holders", json_string(holders[w->holders]));
    }
    if (w->taken >= 0)
        json_object_set_new(e, "taken", json_boolean(w->taken));
    if (w->kind == TL_WAIT_EXECUTOR)
        json_object_set_new(e, "thread", w->thread ? json_pack("{s:s, s:I}", "name", w->thread,
                                                               "native_id", (json_int_t)w->thread_id)
                                                   : json_null());
    const struct tl_resolved_stack *job = w->job_frame ? tl_depot_resolved(&tl_py_stacks, w->job_frame)
                                                       : NULL;
    if (job && job->n && job->frames[0].function)
        json_object_set_new(e, "job", json_string(job->frames[0].function));
    else if (w->job)
        json_object_set_new(e, "job", json_string(w->job));
    if (w->waking)
        json_object_set_new(e, "waking", json_true());
    json_object_set_new(e, "never_wakes", w->never ? json_pack("{s:s}", "reason", w->never)
                                                   : json_null());
    return e;
}

/* The asyncio locks a task is inside `async with` of. */
static json_t *locks_held(const struct tl_helds *h)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; i < h->n; i++) {
        const struct tl_held *x = &h->items[i];
        if (x->entered)
            json_array_append_new(arr, json_pack("{s:o, s:o, s:o, s:o}", "object", hex(x->object),
                                                 "type", str_or_null(x->type),
                                                 "name", str_or_null(x->name),
                                                 "at", one_frame(x->site)));
    }
    return arr;
}

/* The fields LEAK and TASK_SNAPSHOT share; `kind` (first) for a leak. */
static json_t *task_entry(const struct tl_leak *l, const char *kind)
{
    const struct tl_task *t = &l->task;
    const struct tl_outcome *o = &l->outcome;
    json_t *e = json_object();
    if (kind)
        json_object_set_new(e, "kind", json_string(kind));
    json_object_set_new(e, "task", json_pack("{s:I, s:o, s:o, s:i, s:o}",
        "id", (json_int_t)t->id, "name", str_or_null(o->name), /* null: read without the GIL */
        "coro", str_or_null(tl_depot_resolved(&tl_names, t->coro)),
        "thread_id", (int)t->thread_id, "address", hex(t->addr)));
    json_object_set_new(e, "state", json_string(tl_state_names[o->state]));
    if (o->state == TL_FINISHED)
        json_object_set_new(e, "result", json_pack("{s:o, s:o}",
            "type", str_or_null(o->type), "repr", str_or_null(o->text)));
    if (o->state == TL_FAILED)
        json_object_set_new(e, "exception", json_pack("{s:o, s:o}",
            "type", str_or_null(o->type), "message", str_or_null(o->text)));
    json_t *created = json_pack("{s:o, s:o, s:o}",
        "t", t->created_ticks ? json_real(l->t_created) : json_null(),
        "python_stack", py_stack(t->created_py), "native_stack", native_stack(t->created_native));
    if (!t->created_ticks) /* found alive when the library was attached */
        json_object_set_new(created, "before_attach", json_true());
    json_object_set_new(e, "created", created);
    json_object_set_new(e, "cancels", cancels(t->cancels));
    json_object_set_new(e, "ended", l->t_ended >= 0 ? json_pack("{s:f}", "t", l->t_ended)
                                                    : json_null());
    json_object_set_new(e, "awaiting", o->awaiting ? py_stack(o->awaiting) : json_null());
    if (o->awaiting_opaque) /* the chain goes on into an awaitable taskleak cannot enter */
        json_object_set_new(e, "awaiting_opaque", json_pack("{s:s}", "type", o->awaiting_opaque));
    if (o->explained) {
        json_object_set_new(e, "waits_for", o->wait ? waits_for(o->wait) : json_null());
        json_t *held = locks_held(&o->held);
        if (json_array_size(held))
            json_object_set_new(e, "locks_held", held);
        else
            json_decref(held);
    }
    if (o->holds.n) {
        json_t *holds = json_array();
        for (uint32_t i = 0; i < o->holds.n; i++) {
            const struct tl_holding *h = &o->holds.items[i];
            json_t *e_h = json_pack("{s:s, s:o, s:o, s:o}", "kind", h->kind,
                "fd", h->fd >= 0 ? json_integer(h->fd) : json_null(),
                "variable", str_or_null(h->variable), "function", str_or_null(h->function));
            if (h->family)
                json_object_set_new(e_h, "family", json_string(h->family));
            if (h->family || h->local)
                json_object_set_new(e_h, "local", str_or_null(h->local));
            if (h->family || h->peer)
                json_object_set_new(e_h, "peer", str_or_null(h->peer));
            if (h->path)
                json_object_set_new(e_h, "path", json_string(h->path));
            json_array_append_new(holds, e_h);
        }
        json_object_set_new(e, "holds", holds);
    }
    if (o->n_labels) {
        json_t *labels = json_object();
        for (uint32_t i = 0; i < o->n_labels; i++)
            json_object_set_new(labels, o->labels[i].name, json_string(o->labels[i].value));
        json_object_set_new(e, "context", labels);
    }
    return e;
}

static json_t *thread_entry(const struct tl_thread *t)
{
    json_t *e = json_pack("{s:o, s:I, s:o, s:o, s:b, s:o, s:b, s:o}",
        "name", str_or_null(t->name), "ident", (json_int_t)t->ident,
        "native_id", t->native_id > 0 ? json_integer(t->native_id) : json_null(),
        "daemon", t->daemon < 0 ? json_null() : json_boolean(t->daemon),
        "main", (int)t->main, "python_stack", py_stack(t->stack),
        "exit_waits", t->why != TL_EXIT_NO_WAIT, "why", str_or_null(tl_exit_wait_names[t->why]));
    json_t *job = json_null();
    if (t->job) {
        json_t *one = py_stack(t->job);
        job = json_incref(json_array_get(one, 0));
        json_decref(one);
    } else if (t->job_name) { /* a C function: no file, no line */
        job = json_pack("{s:s, s:n, s:n}", "function", t->job_name, "file", "line");
    }
    json_object_set_new(e, "job", job ? job : json_null());
    return e;
}

static json_t *shutdown_object(const struct tl_shutdown *sd, double now)
{
    char sig[16];
    return json_pack("{s:s, s:o, s:f, s:f, s:f}",
        "cause", tl_shutdown_cause_names[sd->cause],
        "signal", sd->cause == TL_SHUTDOWN_SIGNAL ? json_string(tl_signal_name(sd->signal, sig))
                                                  : json_null(),
        "t", sd->t, "timeout", tl_opt.shutdown_timeout, "blocked_for", now - sd->t);
}

/* The reasons whose report is a snapshot: every live task, every thread. */
static int is_snapshot(enum tl_report_reason reason)
{
    return reason == TL_REASON_SIGNAL || reason == TL_REASON_SNAPSHOT ||
           reason == TL_REASON_SHUTDOWN;
}

/* Rendering runs on the collector's thread without the GIL, beside the
 * program's threads: a report of thousands of tasks takes milliseconds of
 * CPU, so it gives way to them on a busy machine (tl_give_way). */
struct leaks_out {
    json_t *leaks;
    double since;
};

static void add_leak(void *ctx, const struct tl_leak *l)
{
    struct leaks_out *out = ctx;
    tl_give_way(&out->since);
    json_t *e = task_entry(l, tl_kind_names[l->kind]);
    const struct tl_cpython_bug *bug = tl_cpython_bug_of(l);
    if (bug)
        json_object_set_new(e, "cpython_bug", json_pack("{s:s, s:s, s:s, s:s, s:s}",
            "id", bug->id, "where", bug->where, "fixed_in", bug->fixed_in,
            "summary", bug->summary, "advice", bug->advice));
    if (l->kind == TL_STUCK_AFTER_CANCEL)
        json_object_set_new(e, "resolved", l->t_resolved >= 0
            ? json_pack("{s:f, s:s}", "t", l->t_resolved, "state", tl_state_names[l->resolved_state])
            : json_null());
    json_array_append_new(out->leaks, e);
}

/* deadlocks: each cycle of tasks that wait for each other, with its edges. */
static json_t *deadlocks(const struct tl_deadlocks *d)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; i < d->n; i++) {
        const struct tl_deadlock *x = &d->items[i];
        json_t *edges = json_array();
        for (uint32_t k = 0; k < x->n_edges; k++)
            json_array_append_new(edges, json_pack("{s:I, s:I, s:s, s:o}",
                "from", (json_int_t)x->edges[k].from, "to", (json_int_t)x->edges[k].to,
                "via", tl_wait_kind_names[x->edges[k].via],
                "object", x->edges[k].object ? hex(x->edges[k].object) : json_null()));
        json_array_append_new(arr, json_pack("{s:o, s:o}", "tasks", ids(x->tasks, x->n_tasks),
                                             "edges", edges));
    }
    return arr;
}

static void add_option(void *ctx, const char *key, int is_number, double number,
                       const char *text)
{
    json_t *v;
    if (is_number)
        v = number == (double)(json_int_t)number ? json_integer((json_int_t)number) : json_real(number);
    else
        v = text && *text ? json_string(text) : json_null();
    json_object_set_new(ctx, key, v);
}

static json_t *argv_array(const char *argv, size_t len)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < len; i += strlen(argv + i) + 1)
        json_array_append_new(arr, json_string(argv + i));
    return arr;
}

static json_t *stats_object(const struct tl_stats *s)
{
    json_t *leaks = json_object();
    for (int k = 0; k < TL_N_KINDS; k++)
        json_object_set_new(leaks, tl_kind_names[k], json_integer((json_int_t)s->leaks[k]));
    return json_pack("{s:I, s:I, s:I, s:I, s:o, s:I}",
        "tasks_created", (json_int_t)s->tasks_created, "tasks_done", (json_int_t)s->tasks_done,
        "tasks_live", (json_int_t)s->tasks_live, "cancel_requests", (json_int_t)s->cancel_requests,
        "leaks", leaks, "leaks_omitted", (json_int_t)s->leaks_omitted);
}

/* What the auditor itself costs: calls and time per hook (not hashed: it
 * changes all the time and is no reason to rewrite a periodic report). */
static json_t *hooks_object(void)
{
    json_t *hooks = json_object();
    uint64_t calls = 0;
    double ns = 0;
    for (int h = 0; h < TL_N_HOOKS; h++) {
        struct tl_hook_stats st = tl_hook_stats[h];
        double hook_ns = tl_hook_ns(&st); /* the task hooks time a sample of calls */
        calls += st.calls;
        ns += hook_ns;
        json_object_set_new(hooks, tl_hook_names[h], json_pack("{s:I, s:I}",
            "calls", (json_int_t)st.calls, "ns", (json_int_t)hook_ns));
    }
    /* The collector's slices: also their longest hold of the GIL. */
    json_object_set_new(json_object_get(hooks, "collect"), "max_ns",
                        json_integer((json_int_t)tl_ticks_to_ns(tl_collect_max_ticks)));
    json_object_set_new(hooks, "total", json_pack("{s:I, s:I}", "calls", (json_int_t)calls,
                                                  "ns", (json_int_t)ns));
    return hooks;
}

static void add_suppression(void *ctx, const char *kind, const char *pattern, uint64_t hits,
                            const char *reason)
{
    json_t *rule = json_pack("{s:s, s:s, s:I}", "kind", kind, "pattern", pattern, "hits",
                             (json_int_t)hits);
    if (reason) {
        json_object_set_new(rule, "builtin", json_true());
        json_object_set_new(rule, "reason", json_string(reason));
    }
    json_array_append_new(ctx, rule);
}

static void iso_time(char *buf, size_t n)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + k, n - k, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* The text of a report is made in chunks (json_dump_callback), giving way
 * every DUMP_CHUNK bytes (see struct leaks_out). */
#define DUMP_CHUNK 65536

struct dump_out {
    char *text;
    size_t len, cap, mark;
    double *since;
};

static void chunk_done(struct dump_out *d, size_t size)
{
    d->len += size;
    if (d->len - d->mark >= DUMP_CHUNK) {
        d->mark = d->len;
        tl_give_way(d->since);
    }
}

/* A new buffer of CAP bytes for the text, faulted in and filled a page at a
 * time, giving way (a realloc of megabytes copies and faults in tens of
 * milliseconds at once). */
static int grow_text(struct dump_out *d, size_t cap)
{
    char *grown = malloc(cap);
    if (!grown)
        return -1;
    for (size_t at = 0; at < cap; at += 4096) {
        if (at < d->len)
            memcpy(grown + at, d->text + at, d->len - at < 4096 ? d->len - at : 4096);
        else
            ((volatile char *)grown)[at] = 0;
        tl_give_way(d->since);
    }
    free(d->text);
    d->text = grown;
    d->cap = cap;
    return 0;
}

static int dump_chunk(const char *buf, size_t size, void *data)
{
    struct dump_out *d = data;
    if (d->len + size + 1 > d->cap) {
        size_t cap = d->cap ? d->cap : DUMP_CHUNK;
        while (cap < d->len + size + 1)
            cap *= 2;
        if (grow_text(d, cap) < 0)
            return -1;
    }
    memcpy(d->text + d->len, buf, size);
    d->text[d->len + size] = 0;
    chunk_done(d, size);
    return 0;
}

/* json_dumps(ROOT, FLAGS), giving way. */
static char *dump_giving_way(const json_t *root, size_t flags, double *since)
{
    struct dump_out d = {.since = since};
    if (json_dump_callback(root, dump_chunk, &d, flags) != 0 || !d.text) {
        free(d.text);
        return NULL;
    }
    return d.text;
}

/* FNV-1a over V's compact text, continuing from H. */
struct hash_out {
    struct dump_out d;
    uint64_t h;
};

static int hash_chunk(const char *buf, size_t size, void *data)
{
    struct hash_out *o = data;
    for (size_t i = 0; i < size; i++)
        o->h = (o->h ^ (unsigned char)buf[i]) * 1099511628211ull;
    chunk_done(&o->d, size);
    return 0;
}

static uint64_t hash_json(const json_t *v, uint64_t h, double *since)
{
    struct hash_out o = {.d = {.since = since}, .h = h};
    json_dump_callback(v, hash_chunk, &o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    return o.h;
}

/* glibc merges the small chunks freed meanwhile in one go (malloc_consolidate)
 * at its next request of 1 KiB or more: 80 ms after the entries of 40,000
 * tasks.  Asked for between give-ways, it merges them in doses (with another
 * allocator it is only a malloc and a free). */
static void merge_freed(void)
{
    static void *volatile large; /* volatile: the pair is not elided */
    large = malloc(4096);
    free(large);
}

/* json_decref, the entries of the long arrays one by one, giving way, and
 * merging the freed chunks every FREE_DOSE entries. */
#define FREE_DOSE 1024

static void free_giving_way(json_t *root, double *since)
{
    static const char *const long_arrays[] = {"leaks", "live_tasks"};
    for (size_t a = 0; a < sizeof long_arrays / sizeof long_arrays[0]; a++) {
        json_t *entries = json_object_get(root, long_arrays[a]);
        for (size_t n = json_array_size(entries); n > 0; n--) {
            json_array_remove(entries, n - 1);
            if (n % FREE_DOSE == 0)
                merge_freed();
            tl_give_way(since);
        }
    }
    json_decref(root);
}

const char *tl_report_reason_name(enum tl_report_reason reason)
{
    static const char *const names[] = {
        [TL_REASON_PERIODIC] = "periodic",
        [TL_REASON_EXIT] = "exit",
        [TL_REASON_SIGNAL] = "signal",
        [TL_REASON_REQUEST] = "request",
        [TL_REASON_SNAPSHOT] = "snapshot",
        [TL_REASON_SHUTDOWN] = "shutdown",
    };
    _Static_assert(sizeof names / sizeof names[0] == TL_REASON_SHUTDOWN + 1, "a reason without a name");
    return names[reason];
}

char *tl_report_render(const struct tl_report_meta *m, struct tl_stats *stats,
                       uint64_t *content)
{
    struct leaks_out out = {json_array(), tl_now()};
    json_t *leaks = out.leaks, *options = json_object();
    tl_tasks_visit(stats, add_leak, &out);
    tl_options_visit(&tl_opt, add_option, options);
    char now[40];
    iso_time(now, sizeof now);
    json_t *root = json_pack("{s:s, s:s, s:i, s:i, s:i, s:o, s:o, s:s, s:f, s:s, s:o, s:o, s:o}",
        "tool", "taskleak", "version", TL_VERSION, "schema", 1,
        "pid", (int)getpid(), "ppid", (int)getppid(),
        "argv", argv_array(m->argv, m->argv_len), "python", str_or_null(m->python),
        "reason", tl_report_reason_name(m->reason), "t", m->t, "time", now,
        "options", options, "stats", stats_object(stats), "leaks", leaks);
    if (!root)
        return NULL;
    /* CLOCK_MONOTONIC (Python's time.monotonic()) at t = 0: a reader in the
     * process places the report's times on its own clock exactly. */
    json_object_set_new(root, "t0_monotonic", json_real(-tl_from_monotonic(0.0)));
    int snapshot = is_snapshot(m->reason);
    if (snapshot) {
        json_t *live = json_array();
        for (size_t i = 0; i < m->found->n_live; i++) {
            tl_give_way(&out.since);
            json_t *e = task_entry(&m->found->live[i], NULL);
            uint64_t by = m->found->live[i].outcome.awaited_by;
            json_object_set_new(e, "awaited_by", by ? json_integer((json_int_t)by) : json_null());
            json_array_append_new(live, e);
        }
        json_object_set_new(root, "live_tasks", live);
        json_t *threads = json_array();
        for (size_t i = 0; i < m->found->threads.n; i++)
            json_array_append_new(threads, thread_entry(&m->found->threads.items[i]));
        json_object_set_new(root, "threads", threads);
    }
    if (snapshot || m->reason == TL_REASON_EXIT)
        json_object_set_new(root, "deadlocks", deadlocks(&m->found->deadlocks));
    if (m->shutdown && m->shutdown->cause != TL_SHUTDOWN_NONE)
        json_object_set_new(root, "shutdown", shutdown_object(m->shutdown, m->t));
    json_object_set_new(root, "provenance",
                        json_pack("{s:s}", "caught_at", tl_catch_sites_status));
    json_t *used = json_array();
    tl_suppressions_visit(add_suppression, used);
    json_object_set_new(root, "suppressions", used);
    json_object_set_new(root, "incomplete", str_or_null(m->incomplete));
    *content = hash_json(json_object_get(root, "leaks"),
                         hash_json(json_object_get(root, "stats"), 1469598103934665603ull, &out.since),
                         &out.since);
    json_object_set_new(json_object_get(root, "stats"), "hooks", hooks_object());
    char *text = dump_giving_way(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12),
                                 &out.since);
    free_giving_way(root, &out.since);
    return text;
}
