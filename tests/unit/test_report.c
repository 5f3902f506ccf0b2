/* SPDX-License-Identifier: MIT */
/* The report: built from the core, parsed back with jansson. */
#include <jansson.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "stretch.h"
#include "collector/report.h"
#include "core/core.h"
#include "core/options.h"
#include "core/tasks.h"
#include "core/unwind.h"

/* A snapshot of 20,000 leaks and 20,000 live tasks: rendered whole, written
 * as json_dumps would, and giving way to the program's threads in each of
 * its long parts (copying the leaks, their entries, the live tasks', the
 * hash, the text and its growth, the freeing), each 20 to 200 ms of CPU
 * here: a part that did not would be one long stretch. */
static void big_snapshot(struct tl_report_meta m)
{
    enum { N = 20000 };
    struct tl_stats s;
    uint64_t h, h_before;
    free(tl_report_render(&m, &s, &h_before));
    tl_tasks_init(N);
    for (uintptr_t i = 1; i <= N; i++) {
        tl_task_spawned(0x100000 + 16 * i, 0, 0, 0, 77, tl_ticks());
        struct tl_outcome o = {.state = TL_FINISHED};
        tl_task_destroyed(0x100000 + 16 * i, 1, TL_SWALLOWED_CANCEL, &o, 0.5);
    }
    struct tl_leak *live = calloc(N, sizeof *live);
    struct tl_collected found = {.live = live, .n_live = N};
    for (size_t i = 0; live && i < N; i++)
        live[i] = (struct tl_leak){.task = {.id = i + 1}, .t_ended = -1, .t_resolved = -1};
    m.reason = TL_REASON_SNAPSHOT;
    m.found = &found;
    m.shutdown = NULL;
    /* A give-way is due every 0.1 ms of the clock; between two checks lies
     * at most a task's entry, 64 KiB of text, or the copy of the leaks under
     * the table's lock (about 2 ms here).  ASan's allocator also poisons each
     * new buffer whole (10 ms for the text's last one). */
#ifdef __SANITIZE_ADDRESS__
    const double bound = 0.040;
#else
    const double bound = 0.010;
#endif
    char *text = NULL;
    int gave_way = 1;
    double best = 1e9;
    for (int try = 0; live && try < STRETCH_TRIES && best >= bound; try++) {
        free(text);
        int before = yields;
        double cpu0 = stretch_start();
        text = tl_report_render(&m, &s, &h);
        stretch_ends();
        double cpu = thread_cpu() - cpu0;
        printf("report: the big snapshot: %.1f ms of CPU, %d give-ways, longest stretch %.2f ms\n",
               cpu * 1e3, yields - before, longest_stretch * 1e3);
        gave_way &= yields > before;
        if (longest_stretch < best)
            best = longest_stretch;
    }
    CHECK(gave_way && best < bound);
    json_error_t err;
    json_t *r = text ? json_loads(text, 0, &err) : NULL;
    CHECK(r && json_array_size(json_object_get(r, "live_tasks")) == N);
    CHECK(r && json_array_size(json_object_get(r, "leaks")) >= N);
    CHECK(h != h_before); /* new leaks: a periodic report is written again */
    char *again = r ? json_dumps(r, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12))
                    : NULL;
    CHECK(again && strlen(text) > 65536 && !strcmp(again, text));
    json_decref(r);
    free(again);
    free(text);
    free(live);
}

int main(void)
{
    tl_options_parse(&tl_opt, NULL, NULL);
    tl_tasks_init(10);
    uintptr_t ips[4];
    int is_new, n = tl_unwind_capture(ips, 4, 0);
    uint32_t native = tl_depot_put(&tl_native_stacks, ips, (uint32_t)n, &is_new);
    double spawned_after = tl_now();
    tl_task_spawned(0xabc0, 0, 0, native, 77, tl_ticks());
    double spawned_before = tl_now();
    double cancel_after = tl_now();
    tl_task_cancelled(0xabc0, tl_ticks(), 0, 0, 0, strdup("bye"), 0, NULL);
    double cancel_before = tl_now();
    struct tl_outcome o = {.state = TL_FAILED};
    o.name = strdup("Task-1");
    o.type = strdup("ValueError");
    o.text = strdup("boom");
    tl_task_destroyed(0xabc0, 1, TL_SWALLOWED_CANCEL, &o, 0.75);

    static const char argv[] = "python3\0app.py";
    struct tl_deadlock_edge edges[] = {{2, 3, TL_WAIT_LOCK, 0xb0}, {3, 2, TL_WAIT_TASK, 0}};
    uint64_t ring[] = {2, 3};
    struct tl_deadlock cycle = {ring, 2, edges, 2};
    struct tl_collected found = {.deadlocks = {&cycle, 1}};
    struct tl_report_meta m = {TL_REASON_EXIT, 1.5, "3.11.7", argv, sizeof argv, &found, NULL, NULL};
    struct tl_stats s;
    uint64_t h1, h2;
    char *text = tl_report_render(&m, &s, &h1);
    CHECK(text != NULL);
    json_error_t err;
    json_t *r = json_loads(text, 0, &err);
    CHECK(r != NULL);
    CHECK(!strcmp(json_string_value(json_object_get(r, "tool")), "taskleak"));
    CHECK(json_integer_value(json_object_get(r, "schema")) == 1);
    CHECK(json_integer_value(json_object_get(r, "pid")) == getpid());
    CHECK(json_array_size(json_object_get(r, "argv")) == 2);
    CHECK(!strcmp(json_string_value(json_array_get(json_object_get(r, "argv"), 1)), "app.py"));
    CHECK(!strcmp(json_string_value(json_object_get(r, "reason")), "exit"));
    CHECK(json_object_get(json_object_get(r, "options"), "grace") != NULL);
    CHECK(json_object_get(r, "live_tasks") == NULL);
    json_t *d = json_array_get(json_object_get(r, "deadlocks"), 0);
    CHECK(json_array_size(json_object_get(r, "deadlocks")) == 1);
    CHECK(json_array_size(json_object_get(d, "tasks")) == 2);
    json_t *e = json_array_get(json_object_get(d, "edges"), 0);
    CHECK(json_integer_value(json_object_get(e, "from")) == 2 &&
          json_integer_value(json_object_get(e, "to")) == 3);
    CHECK(!strcmp(json_string_value(json_object_get(e, "via")), "lock"));
    CHECK(!strcmp(json_string_value(json_object_get(e, "object")), "0xb0"));
    json_t *stats = json_object_get(r, "stats");
    CHECK(json_integer_value(json_object_get(json_object_get(stats, "leaks"), "swallowed_cancel")) == 1);
    json_t *leak = json_array_get(json_object_get(r, "leaks"), 0);
    CHECK(!strcmp(json_string_value(json_object_get(leak, "kind")), "swallowed_cancel"));
    CHECK(!strcmp(json_string_value(json_object_get(leak, "state")), "failed"));
    json_t *exc = json_object_get(leak, "exception");
    CHECK(!strcmp(json_string_value(json_object_get(exc, "type")), "ValueError"));
    CHECK(!strcmp(json_string_value(json_object_get(exc, "message")), "boom"));
    json_t *task = json_object_get(leak, "task");
    CHECK(json_integer_value(json_object_get(task, "id")) == 1);
    CHECK(json_integer_value(json_object_get(task, "thread_id")) == 77);
    CHECK(!strcmp(json_string_value(json_object_get(task, "address")), "0xabc0"));
    json_t *cancel = json_array_get(json_object_get(leak, "cancels"), 0);
    CHECK(!strcmp(json_string_value(json_object_get(cancel, "message")), "bye"));
    /* the cancel's stamp, in seconds when the leak was recorded */
    double cancel_t = json_real_value(json_object_get(cancel, "t"));
    CHECK(cancel_t >= cancel_after - 0.0005 && cancel_t <= cancel_before + 0.0005);
    CHECK(json_real_value(json_object_get(json_object_get(leak, "ended"), "t")) == 0.75);
    double created_t = json_real_value(json_object_get(json_object_get(leak, "created"), "t"));
    CHECK(created_t >= spawned_after - 0.0005 && created_t <= spawned_before + 0.0005);
    json_t *frames = json_object_get(json_object_get(leak, "created"), "native_stack");
    CHECK(json_array_size(frames) == (size_t)n && n > 0);
    json_t *f0 = json_array_get(frames, 0);
    CHECK(!strncmp(json_string_value(json_object_get(f0, "ip")), "0x", 2));
    CHECK(json_object_get(f0, "module") && json_is_string(json_object_get(f0, "module")));

    /* Same content, other time and reason: same content hash. */
    m.reason = TL_REASON_PERIODIC;
    m.t = 9.0;
    char *again = tl_report_render(&m, &s, &h2);
    CHECK(h1 == h2);
    /* A snapshot always carries live_tasks. */
    m.reason = TL_REASON_SIGNAL;
    char *snap = tl_report_render(&m, &s, &h2);
    json_t *rs = json_loads(snap, 0, &err);
    CHECK(rs && json_is_array(json_object_get(rs, "live_tasks")));
    CHECK(!strcmp(json_string_value(json_object_get(rs, "reason")), "signal"));
    /* Every reason has its contract name. */
    CHECK(!strcmp(tl_report_reason_name(TL_REASON_PERIODIC), "periodic"));
    CHECK(!strcmp(tl_report_reason_name(TL_REASON_EXIT), "exit"));
    CHECK(!strcmp(tl_report_reason_name(TL_REASON_SIGNAL), "signal"));
    CHECK(!strcmp(tl_report_reason_name(TL_REASON_REQUEST), "request"));
    CHECK(rs && json_is_array(json_object_get(rs, "threads")));
    CHECK(rs && !json_object_get(rs, "shutdown"));
    json_decref(rs);
    CHECK(json_object_get(r, "threads") == NULL); /* an exit report has none */

    /* A shutdown report: a snapshot, with the threads and the shutdown. */
    struct tl_resolved_stack *rst = calloc(1, sizeof *rst + sizeof rst->frames[0]);
    rst->n = 1;
    rst->frames[0] = (struct tl_pyframe){strdup("blocking_job"), strdup("/src/app.py"), 24};
    uintptr_t words[2] = {0x1000, 8};
    uint32_t job = tl_depot_put(&tl_py_stacks, words, 2, &is_new);
    tl_depot_set_resolved(&tl_py_stacks, job, rst);
    struct tl_thread th[2] = {
        {.ident = 140000, .native_id = 4243, .name = "asyncio_0", .daemon = 0,
         .why = TL_EXIT_DEFAULT_EXECUTOR, .stack = job, .job = job},
        {.ident = 140001, .native_id = -1, .daemon = -1, .why = TL_EXIT_EXECUTOR,
         .job_name = "sleep"}};
    struct tl_threads threads = {th, 2};
    struct tl_shutdown sd = {TL_SHUTDOWN_SIGNAL, 15, 2.0, 0};
    tl_opt.shutdown_timeout = 0.5;
    m.reason = TL_REASON_SHUTDOWN;
    m.t = 2.75;
    found.threads = threads;
    m.shutdown = &sd;
    char *down = tl_report_render(&m, &s, &h2);
    json_t *rd = json_loads(down, 0, &err);
    CHECK(rd && !strcmp(json_string_value(json_object_get(rd, "reason")), "shutdown"));
    CHECK(rd && json_is_array(json_object_get(rd, "live_tasks")));
    json_t *sdo = json_object_get(rd, "shutdown");
    CHECK(!strcmp(json_string_value(json_object_get(sdo, "cause")), "signal"));
    CHECK(!strcmp(json_string_value(json_object_get(sdo, "signal")), "SIGTERM"));
    CHECK(json_real_value(json_object_get(sdo, "t")) == 2.0);
    CHECK(json_real_value(json_object_get(sdo, "timeout")) == 0.5);
    CHECK(json_real_value(json_object_get(sdo, "blocked_for")) == 0.75);
    json_t *t0 = json_array_get(json_object_get(rd, "threads"), 0);
    CHECK(!strcmp(json_string_value(json_object_get(t0, "name")), "asyncio_0"));
    CHECK(json_integer_value(json_object_get(t0, "ident")) == 140000);
    CHECK(json_integer_value(json_object_get(t0, "native_id")) == 4243);
    CHECK(json_is_false(json_object_get(t0, "daemon")) && json_is_false(json_object_get(t0, "main")));
    CHECK(json_is_true(json_object_get(t0, "exit_waits")));
    CHECK(!strcmp(json_string_value(json_object_get(t0, "why")), "default executor worker running a job"));
    json_t *jf = json_object_get(t0, "job");
    CHECK(!strcmp(json_string_value(json_object_get(jf, "function")), "blocking_job"));
    CHECK(json_integer_value(json_object_get(jf, "line")) == 24);
    CHECK(json_array_size(json_object_get(t0, "python_stack")) == 1);
    json_t *t1 = json_array_get(json_object_get(rd, "threads"), 1);
    CHECK(json_is_null(json_object_get(t1, "name")) && json_is_null(json_object_get(t1, "native_id")));
    CHECK(json_is_null(json_object_get(t1, "daemon")));
    CHECK(!strcmp(json_string_value(json_object_get(t1, "why")), "executor worker running a job"));
    json_t *jc = json_object_get(t1, "job"); /* a C function: a name alone */
    CHECK(!strcmp(json_string_value(json_object_get(jc, "function")), "sleep"));
    CHECK(json_is_null(json_object_get(jc, "file")) && json_is_null(json_object_get(jc, "line")));
    th[0].why = TL_EXIT_NO_WAIT;
    char *down2 = tl_report_render(&m, &s, &h2);
    json_t *rd2 = json_loads(down2, 0, &err);
    json_t *t0b = json_array_get(json_object_get(rd2, "threads"), 0);
    CHECK(json_is_false(json_object_get(t0b, "exit_waits")) && json_is_null(json_object_get(t0b, "why")));
    /* An exit report after a shutdown report still says when it started. */
    m.reason = TL_REASON_EXIT;
    char *ex = tl_report_render(&m, &s, &h2);
    json_t *re = json_loads(ex, 0, &err);
    CHECK(re && json_object_get(re, "shutdown") && !json_object_get(re, "threads"));
    json_decref(re);
    json_decref(rd2);
    json_decref(rd);
    free(ex);
    free(down2);
    free(down);
    json_decref(r);
    free(text);
    free(again);
    free(snap);
    big_snapshot(m);
    return check_summary("report");
}
