/* SPDX-License-Identifier: MIT */
/* Prometheus metrics in the text exposition format (version 0.0.4), for
 * node_exporter's textfile collector: one file per process (metrics_path,
 * %p = pid), replaced atomically at every report so that a scrape never
 * reads half of it.  Counters are the process's totals since it started;
 * every series has the `pid` and `program` labels, and no timestamps (the
 * textfile collector refuses them). */
#include "collector/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/output.h"
#include "core/core.h"
#include "core/options.h"

#ifndef TL_VERSION /* from the VERSION file (Makefile) */
#error "build with make: TL_VERSION comes from the VERSION file"
#endif

/* ---- the program label ------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* CPython's options that take a value (-W arg, -X arg, also glued: -Wx). */
static int takes_value(const char *arg)
{
    return (!strcmp(arg, "-W") || !strcmp(arg, "-X") || !strcmp(arg, "--check-hash-based-pycs"));
}

void tl_metrics_program(const char *argv, size_t len, char *out, size_t n)
{
    const char *args[64];
    size_t count = 0;
    for (size_t i = 0; i < len && count < 64; i += strlen(argv + i) + 1)
        args[count++] = argv + i;
    const char *program = count ? base_name(args[0]) : "";
    if (!strncmp(program, "python", 6)) {
        for (size_t i = 1; i < count; i++) {
            const char *a = args[i];
            if (!strcmp(a, "-m") || !strcmp(a, "-c")) {
                program = !strcmp(a, "-c") ? "-c" : i + 1 < count ? args[i + 1] : program;
                break;
            }
            if (!strncmp(a, "-m", 2)) { /* -mpytest */
                program = a + 2;
                break;
            }
            if (a[0] != '-' || !strcmp(a, "-")) {
                program = base_name(a);
                break;
            }
            if (!strcmp(a, "--"))
                continue;
            if (takes_value(a))
                i++;
        }
    }
    snprintf(out, n, "%s", *program ? program : "unknown");
}

/* ---- rendering --------------------------------------------------------- */

struct text {
    char *buf;
    size_t len, cap;
    int failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap + (size_t)n + 1) * 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->failed = 1;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

/* A label value: backslash, double quote and line feed escaped. */
static void escape_label(const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (const char *p = in ? in : ""; *p && k + 3 < n; p++) {
        if (*p == '\\' || *p == '"' || *p == '\n') {
            out[k++] = '\\';
            out[k++] = *p == '\n' ? 'n' : *p;
        } else {
            out[k++] = *p;
        }
    }
    out[k] = 0;
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *tl_metrics_render(const struct tl_stats *s, const struct tl_metrics_input *in)
{
    struct text t = {NULL, 0, 0, 0};
    char program[512], python[128], version[64], labels[700];
    escape_label(in->program, program, sizeof program);
    escape_label(in->python ? in->python : "unknown", python, sizeof python);
    escape_label(in->version, version, sizeof version);
    snprintf(labels, sizeof labels, "pid=\"%d\",program=\"%s\"", (int)in->pid, program);

    family(&t, "taskleak_info", "gauge", "The auditing library and the Python it audits (always 1).");
    put(&t, "taskleak_info{%s,version=\"%s\",python=\"%s\"} 1\n", labels, version, python);
    family(&t, "taskleak_tasks_created_total", "counter", "asyncio tasks created.");
    put(&t, "taskleak_tasks_created_total{%s} %llu\n", labels, (unsigned long long)s->tasks_created);
    family(&t, "taskleak_tasks_done_total", "counter", "asyncio tasks that finished.");
    put(&t, "taskleak_tasks_done_total{%s} %llu\n", labels, (unsigned long long)s->tasks_done);
    family(&t, "taskleak_tasks_live", "gauge", "asyncio tasks not finished yet.");
    put(&t, "taskleak_tasks_live{%s} %llu\n", labels, (unsigned long long)s->tasks_live);
    family(&t, "taskleak_cancel_requests_total", "counter",
           "Effective cancel requests (Task.cancel() returned True).");
    put(&t, "taskleak_cancel_requests_total{%s} %llu\n", labels,
        (unsigned long long)s->cancel_requests);
    family(&t, "taskleak_leaks_total", "counter", "Task leaks found, by kind.");
    for (int k = 0; k < TL_N_KINDS; k++)
        put(&t, "taskleak_leaks_total{%s,kind=\"%s\"} %llu\n", labels, tl_kind_names[k],
            (unsigned long long)s->leaks[k]);
    family(&t, "taskleak_leaks_omitted_total", "counter",
           "Leaks counted but not kept in full in the report (beyond max_leaks).");
    put(&t, "taskleak_leaks_omitted_total{%s} %llu\n", labels, (unsigned long long)s->leaks_omitted);
    family(&t, "taskleak_stuck_tasks", "gauge",
           "stuck_after_cancel tasks still pending (of the leaks kept in full).");
    put(&t, "taskleak_stuck_tasks{%s} %llu\n", labels, (unsigned long long)in->stuck_now);
    family(&t, "taskleak_reports_written_total", "counter", "Report files written.");
    put(&t, "taskleak_reports_written_total{%s} %llu\n", labels,
        (unsigned long long)in->reports_written);
    family(&t, "taskleak_hook_seconds_total", "counter",
           "Time spent in taskleak's own work, by hook (not the wrapped function).");
    for (int h = 0; h < TL_N_HOOKS; h++) { /* whole ns, as the report has them */
        unsigned long long ns = (unsigned long long)tl_ticks_to_ns(tl_hook_stats[h].ticks);
        put(&t, "taskleak_hook_seconds_total{%s,hook=\"%s\"} %llu.%09llu\n", labels,
            tl_hook_names[h], ns / 1000000000u, ns % 1000000000u);
    }
    family(&t, "taskleak_hook_calls_total", "counter", "Calls of each hook.");
    for (int h = 0; h < TL_N_HOOKS; h++)
        put(&t, "taskleak_hook_calls_total{%s,hook=\"%s\"} %llu\n", labels, tl_hook_names[h],
            (unsigned long long)tl_hook_stats[h].calls);
    family(&t, "taskleak_memory_bytes", "gauge",
           "Heap taskleak holds: stack depots, task records and kept leaks (their fixed part).");
    static const char *const parts[] = TL_METRICS_MEMORY_PARTS;
    for (int p = 0; p < 3; p++)
        put(&t, "taskleak_memory_bytes{%s,part=\"%s\"} %llu\n", labels, parts[p],
            (unsigned long long)in->memory[p]);
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}

/* ---- gathering and writing --------------------------------------------- */

static char metrics_path[TL_PATH_MAX];

void tl_metrics_init(void)
{
    char cwd[TL_PATH_MAX];
    if (!tl_opt.metrics_path[0] || tl_opt.metrics_path[0] == '/' || !getcwd(cwd, sizeof cwd))
        snprintf(metrics_path, sizeof metrics_path, "%s", tl_opt.metrics_path);
    else if ((size_t)snprintf(metrics_path, sizeof metrics_path, "%s/%s", cwd,
                              tl_opt.metrics_path) >= sizeof metrics_path)
        snprintf(metrics_path, sizeof metrics_path, "%s", tl_opt.metrics_path);
}

struct kept {
    uint64_t leaks, stuck_now;
};

static void count_kept(void *ctx, const struct tl_leak *l)
{
    struct kept *k = ctx;
    k->leaks++;
    k->stuck_now += l->kind == TL_STUCK_AFTER_CANCEL && l->t_resolved < 0;
}

static int warned;

int tl_metrics_write(const char *argv, size_t argv_len, const char *python,
                     uint64_t reports_written)
{
    if (!metrics_path[0])
        return 0;
    struct tl_stats stats;
    struct kept kept = {0, 0};
    tl_tasks_visit(&stats, count_kept, &kept);
    char program[256];
    tl_metrics_program(argv, argv_len, program, sizeof program);
    struct tl_metrics_input in = {
        .pid = getpid(), .program = program, .version = TL_VERSION, .python = python,
        .reports_written = reports_written, .stuck_now = kept.stuck_now,
        .memory = {tl_depot_bytes(&tl_py_stacks) + tl_depot_bytes(&tl_native_stacks) +
                       tl_depot_bytes(&tl_names),
                   stats.tasks_live * sizeof(struct tl_task),
                   kept.leaks * sizeof(struct tl_leak)}};
    char path[TL_PATH_MAX + 32];
    int err = 0;
    char *text = tl_metrics_render(&stats, &in);
    if (!text)
        err = ENOMEM;
    else if (tl_output_expand(metrics_path, in.pid, path, sizeof path) < 0)
        err = ENAMETOOLONG;
    else if (tl_output_write(path, text, strlen(text)) < 0)
        err = errno;
    free(text);
    if (err)
        tl_warn_once(&warned, "taskleak: cannot write metrics %s: %s", metrics_path,
                     strerror(err));
    return err;
}
