/* SPDX-License-Identifier: MIT */
/* The shutdown watchdog's schedule and its stderr line. */
#include "collector/watchdog.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "core/options.h"
#include "core/tasks.h"

#define MAX_NAMED 3 /* blockers the line names; the others are counted */

static int reported;

double tl_watchdog_deadline(void)
{
    if (tl_opt.shutdown_timeout <= 0 || __atomic_load_n(&reported, __ATOMIC_ACQUIRE) ||
        !tl_tasks_created())
        return -1; /* a process that made no task writes no report (the contract) */
    struct tl_shutdown sd;
    tl_shutdown_get(&sd);
    return sd.cause == TL_SHUTDOWN_NONE ? -1 : sd.t + tl_opt.shutdown_timeout;
}

int tl_watchdog_watching(void)
{
    return tl_opt.shutdown_timeout > 0 && !__atomic_load_n(&reported, __ATOMIC_ACQUIRE) &&
           tl_tasks_created() > 0;
}

void tl_watchdog_reported(void)
{
    __atomic_store_n(&reported, 1, __ATOMIC_RELEASE);
}

int tl_watchdog_was_reported(void)
{
    return __atomic_load_n(&reported, __ATOMIC_ACQUIRE);
}

void tl_watchdog_after_fork_child(void)
{
    reported = 0;
}

/* ---- the line ------------------------------------------------------------ */

struct line {
    char *buf;
    size_t size, len;
};

static void put(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct line *l, const char *fmt, ...)
{
    if (l->len >= l->size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->buf + l->len, l->size - l->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n < l->size - l->len ? (size_t)n : l->size - l->len - 1;
}

/* asyncio's and the standard library's own frames, told by their path (as
 * the renderers tell them: scripts/python/taskleak/frames.py). */
static int runtime_frame(const struct tl_pyframe *f)
{
    const char *p = f->file ? f->file : "";
    if (!strncmp(p, "<frozen ", 8))
        return 1;
    if (strstr(p, "site-packages") || strstr(p, "dist-packages"))
        return 0;
    return strstr(p, "/asyncio/") || strstr(p, "/lib/python3.");
}

/* The frame that says where a stack is: its innermost frame of the
 * program's own, else its innermost. */
static const struct tl_pyframe *site_of(uint32_t stack)
{
    const struct tl_resolved_stack *r = stack ? tl_depot_resolved(&tl_py_stacks, stack) : NULL;
    if (!r || !r->n)
        return NULL;
    for (uint32_t i = 0; i < r->n; i++)
        if (!runtime_frame(&r->frames[i]))
            return &r->frames[i];
    return &r->frames[0];
}

static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path ? path : "?";
}

/* "worker at app.py:12" */
static void put_site(struct line *l, const char *how, const struct tl_pyframe *f)
{
    if (!f || !f->function)
        return;
    put(l, "%s%.60s at %.60s", how, f->function, base_name(f->file));
    if (f->line >= 0)
        put(l, ":%d", f->line);
}

static void put_task(struct line *l, const struct tl_leak *t)
{
    const char *coro = tl_depot_resolved(&tl_names, t->task.coro);
    if (t->outcome.name)
        put(l, "%.60s (%.60s", t->outcome.name, coro ? coro : "?");
    else
        put(l, "task %llu (%.60s", (unsigned long long)t->task.id, coro ? coro : "?");
    const struct tl_pyframe *f = site_of(t->outcome.awaiting);
    if (f && f->file) {
        put(l, ", suspended at %.60s", base_name(f->file));
        if (f->line >= 0)
            put(l, ":%d", f->line);
    }
    put(l, ")");
}

static void put_thread(struct line *l, const struct tl_thread *t)
{
    if (t->main)
        put(l, "the main thread");
    else if (t->name)
        put(l, "thread %.60s", t->name);
    else
        put(l, "thread %ld", t->native_id);
    size_t before = l->len;
    put(l, " (");
    size_t open = l->len;
    if (t->job)
        put_site(l, "", site_of(t->job));
    else if (t->job_name)
        put(l, "%.60s", t->job_name);
    else
        put_site(l, "", site_of(t->stack));
    if (l->len == open)
        l->len = before; /* nothing known of where it is */
    else
        put(l, ")");
    if (l->len < l->size)
        l->buf[l->len] = 0;
}

static int is_blocker_task(const struct tl_leak *t)
{
    return !t->outcome.awaited_by;
}

static int is_blocker_thread(const struct tl_thread *t)
{
    return t->why != TL_EXIT_NO_WAIT;
}

static void put_cause(struct line *l, const struct tl_shutdown *sd)
{
    char sig[16];
    switch (sd->cause) {
    case TL_SHUTDOWN_SIGNAL:
        put(l, " after %s", tl_signal_name(sd->signal, sig));
        break;
    case TL_SHUTDOWN_RUNNER:
        put(l, " after asyncio.run cancelled the remaining tasks");
        break;
    case TL_SHUTDOWN_EXECUTOR:
        put(l, " after asyncio.run began to shut its default executor down");
        break;
    case TL_SHUTDOWN_THREADS:
        put(l, " in the interpreter's exit, joining threads");
        break;
    case TL_SHUTDOWN_EXIT:
        put(l, " in the interpreter's exit");
        break;
    default:
        break;
    }
}

void tl_watchdog_line(char *buf, size_t size, const struct tl_shutdown *sd, double now,
                      const struct tl_collected *snap, const char *incomplete, const char *path,
                      int write_errno)
{
    struct line l = {buf, size, 0};
    if (!size)
        return;
    buf[0] = 0;
    put(&l, "taskleak: shutdown blocked for %.1f s", now - sd->t);
    put_cause(&l, sd);
    size_t total = 0, named = 0;
    for (size_t i = 0; i < snap->n_live; i++)
        total += is_blocker_task(&snap->live[i]);
    for (size_t i = 0; i < snap->threads.n; i++)
        total += is_blocker_thread(&snap->threads.items[i]);
    for (size_t i = 0; i < snap->n_live && named < MAX_NAMED; i++) {
        if (!is_blocker_task(&snap->live[i]))
            continue;
        put(&l, named == 0 ? " by " : named + 1 == total ? " and " : ", ");
        put_task(&l, &snap->live[i]);
        named++;
    }
    for (size_t i = 0; i < snap->threads.n && named < MAX_NAMED; i++) {
        if (!is_blocker_thread(&snap->threads.items[i]))
            continue;
        put(&l, named == 0 ? " by " : named + 1 == total ? " and " : ", ");
        put_thread(&l, &snap->threads.items[i]);
        named++;
    }
    if (total > named)
        put(&l, " and %zu more", total - named);
    for (size_t i = 0; !total && i < snap->threads.n; i++)
        if (snap->threads.items[i].main) {
            put(&l, " in ");
            put_thread(&l, &snap->threads.items[i]);
        }
    if (incomplete)
        put(&l, " (the report is incomplete: %.200s)", incomplete);
    if (write_errno)
        put(&l, "; the report could not be written to %s: %s", path, strerror(write_errno));
    else
        put(&l, "; report: %s", path);
}
