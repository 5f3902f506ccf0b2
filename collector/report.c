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

#define TL_VERSION "1.0.0"

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
        "t", t->t_created >= 0 ? json_real(t->t_created) : json_null(),
        "python_stack", py_stack(t->created_py), "native_stack", native_stack(t->created_native));
    if (t->t_created < 0) /* found alive when the library was attached */
        json_object_set_new(created, "before_attach", json_true());
    json_object_set_new(e, "created", created);
    json_object_set_new(e, "cancels", cancels(t->cancels));
    json_object_set_new(e, "ended", l->t_ended >= 0 ? json_pack("{s:f}", "t", l->t_ended)
                                                    : json_null());
    json_object_set_new(e, "awaiting", o->awaiting ? py_stack(o->awaiting) : json_null());
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

static void add_leak(void *ctx, const struct tl_leak *l)
{
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
    json_array_append_new(ctx, e);
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

static uint64_t hash_json(const json_t *v, uint64_t h)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    for (const char *p = s; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    free(s);
    return h;
}

char *tl_report_render(const struct tl_report_meta *m, struct tl_stats *stats,
                       uint64_t *content)
{
    json_t *leaks = json_array(), *options = json_object();
    tl_tasks_visit(stats, add_leak, leaks);
    tl_options_visit(&tl_opt, add_option, options);
    char now[40];
    iso_time(now, sizeof now);
    json_t *root = json_pack("{s:s, s:s, s:i, s:i, s:i, s:o, s:o, s:s, s:f, s:s, s:o, s:o, s:o}",
        "tool", "taskleak", "version", TL_VERSION, "schema", 1,
        "pid", (int)getpid(), "ppid", (int)getppid(),
        "argv", argv_array(m->argv, m->argv_len), "python", str_or_null(m->python),
        "reason", m->reason, "t", m->t, "time", now,
        "options", options, "stats", stats_object(stats), "leaks", leaks);
    if (!root)
        return NULL;
    if (!strcmp(m->reason, "signal")) {
        json_t *live = json_array();
        for (size_t i = 0; i < m->n_live; i++) {
            json_t *e = task_entry(&m->live[i], NULL);
            uint64_t by = m->live[i].outcome.awaited_by;
            json_object_set_new(e, "awaited_by", by ? json_integer((json_int_t)by) : json_null());
            json_array_append_new(live, e);
        }
        json_object_set_new(root, "live_tasks", live);
    }
    json_object_set_new(root, "provenance",
                        json_pack("{s:s}", "caught_at", tl_catch_sites_status));
    json_t *used = json_array();
    tl_suppressions_visit(add_suppression, used);
    json_object_set_new(root, "suppressions", used);
    json_object_set_new(root, "incomplete", str_or_null(m->incomplete));
    *content = hash_json(json_object_get(root, "leaks"),
                         hash_json(json_object_get(root, "stats"), 1469598103934665603ull));
    json_object_set_new(json_object_get(root, "stats"), "hooks", hooks_object());
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    json_decref(root);
    return text;
}
