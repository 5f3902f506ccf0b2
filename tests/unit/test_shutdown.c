/* SPDX-License-Identifier: MIT */
/* The shutdown watchdog's pieces without Python: the clock (first cause
 * wins, tentative causes withdrawn, SIGHUP/SIGQUIT only dating a shutdown
 * another cause confirms), the standard library's roles, the deadline and
 * the stderr line. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "collector/watchdog.h"
#include "core/core.h"
#include "core/options.h"
#include "core/roles.h"
#include "core/shutdown.h"
#include "core/tasks.h"

static int wakes;
static void count_wake(void)
{
    wakes++;
}

static void clock_rules(void)
{
    struct tl_shutdown sd;
    tl_options_parse(&tl_opt, "shutdown_timeout=10", NULL);
    tl_shutdown_wake_fn = count_wake;
    tl_shutdown_get(&sd);
    CHECK(sd.cause == TL_SHUTDOWN_NONE);

    /* asyncio.run's end is tentative, until its loop closes. */
    tl_shutdown_tentative(TL_SHUTDOWN_RUNNER, 1.0);
    tl_shutdown_get(&sd);
    CHECK(sd.cause == TL_SHUTDOWN_RUNNER && sd.tentative && sd.t == 1.0 && wakes == 1);
    tl_shutdown_withdraw();
    tl_shutdown_get(&sd);
    CHECK(sd.cause == TL_SHUTDOWN_NONE);

    /* A SIGHUP alone starts nothing; it dates the shutdown the exit confirms. */
    tl_shutdown_signal(SIGHUP, 0.5);
    tl_shutdown_get(&sd);
    CHECK(sd.cause == TL_SHUTDOWN_NONE && wakes == 1);
    tl_shutdown_begin(TL_SHUTDOWN_THREADS, 0, 2.0);
    tl_shutdown_get(&sd);
    CHECK(sd.cause == TL_SHUTDOWN_SIGNAL && sd.signal == SIGHUP && sd.t == 0.5 && !sd.tentative);
    CHECK(wakes == 2);

    /* Nor does a Ctrl-C; the asyncio.run it interrupts confirms it (its
     * loop shutting down, tentatively: until that loop closes). */
    tl_shutdown_reset();
    tl_shutdown_signal(SIGINT, 7.25);
    tl_shutdown_get(&sd);
    CHECK(sd.cause == TL_SHUTDOWN_NONE);
    tl_shutdown_tentative(TL_SHUTDOWN_RUNNER, 7.5);
    tl_shutdown_get(&sd);
    CHECK(sd.cause == TL_SHUTDOWN_SIGNAL && sd.signal == SIGINT && sd.t == 7.25 && sd.tentative);
    tl_shutdown_withdraw(); /* the program caught it and went on (test_asyncio does) */
    tl_shutdown_get(&sd);
    CHECK(sd.cause == TL_SHUTDOWN_NONE);
    /* ... and its exit much later is not dated by that old Ctrl-C. */
    tl_shutdown_begin(TL_SHUTDOWN_THREADS, 0, 300.0);
    tl_shutdown_get(&sd);
    CHECK(sd.cause == TL_SHUTDOWN_THREADS && sd.t == 300.0);
    tl_shutdown_signal(SIGQUIT, 299.0); /* the last signal counts */
    tl_shutdown_get(&sd);
    CHECK(sd.cause == TL_SHUTDOWN_SIGNAL && sd.signal == SIGQUIT && sd.t == 299.0);

    /* SIGTERM starts it; later causes change nothing, an earlier tentative
     * one dates it while its loop is open. */
    tl_shutdown_reset();
    tl_shutdown_signal(SIGTERM, 3.0);
    tl_shutdown_begin(TL_SHUTDOWN_EXIT, 0, 4.0);
    tl_shutdown_get(&sd);
    CHECK(sd.cause == TL_SHUTDOWN_SIGNAL && sd.signal == SIGTERM && sd.t == 3.0 && !sd.tentative);
    tl_shutdown_tentative(TL_SHUTDOWN_RUNNER, 2.0);
    tl_shutdown_get(&sd);
    CHECK(sd.cause == TL_SHUTDOWN_RUNNER && sd.t == 2.0 && !sd.tentative);
    tl_shutdown_withdraw();
    tl_shutdown_get(&sd);
    CHECK(sd.cause == TL_SHUTDOWN_SIGNAL && sd.t == 3.0);
    CHECK(!strcmp(tl_shutdown_cause_names[TL_SHUTDOWN_RUNNER], "asyncio.run"));
    tl_shutdown_reset();
}

static void roles(void)
{
    const char *lib = "/usr/lib/python3.11/";
    char path[256];
#define AT(file) (snprintf(path, sizeof path, "%s%s", lib, file), path)
    CHECK(tl_role_of(AT("asyncio/runners.py"), "_cancel_all_tasks") == TL_ROLE_CANCEL_ALL);
    CHECK(tl_role_of(AT("asyncio/runners.py"), "Runner.close") == TL_ROLE_RUNNER_CLOSE);
    CHECK(tl_role_of(AT("asyncio/runners.py"), "Runner._on_sigint") == TL_ROLE_RUNNER_SIGINT);
    CHECK(tl_role_of(AT("asyncio/runners.py"), "run") == TL_ROLE_NONE);
    CHECK(tl_role_of(AT("asyncio/base_events.py"), "BaseEventLoop._do_shutdown") == TL_ROLE_DO_SHUTDOWN);
    CHECK(tl_role_of(AT("asyncio/base_events.py"), "_do_shutdown") == TL_ROLE_DO_SHUTDOWN); /* 3.8-3.10 */
    CHECK(tl_role_of(AT("threading.py"), "_shutdown") == TL_ROLE_THREADING_SHUTDOWN);
    CHECK(tl_role_of("/app/mythreading.py", "_shutdown") == TL_ROLE_NONE);
    CHECK(tl_role_of(AT("concurrent/futures/thread.py"), "_WorkItem.run") == TL_ROLE_WORK_ITEM);
    CHECK(tl_role_of(AT("concurrent/futures/thread.py"), "run") == TL_ROLE_WORK_ITEM); /* 3.8-3.10 */
    CHECK(tl_role_of(AT("concurrent/futures/thread.py"), "WorkerContext.run") == TL_ROLE_WORKER_CONTEXT);
    CHECK(tl_role_of(AT("concurrent/futures/thread.py"), "Other.run") == TL_ROLE_NONE);
    CHECK(tl_role_of(AT("concurrent/futures/thread.py"), "_worker") == TL_ROLE_WORKER);
    CHECK(tl_role_of("/app/app.py", "_worker") == TL_ROLE_NONE);
    CHECK(tl_role_of(NULL, "_worker") == TL_ROLE_NONE && tl_role_of("x", NULL) == TL_ROLE_NONE);
}

static uint32_t stack(const char *function, const char *file, int line, uintptr_t key)
{
    int is_new;
    uintptr_t words[2] = {key, 0};
    uint32_t id = tl_depot_put(&tl_py_stacks, words, 2, &is_new);
    struct tl_resolved_stack *r = calloc(1, sizeof *r + 2 * sizeof r->frames[0]);
    r->n = 1;
    r->frames[0] = (struct tl_pyframe){strdup(function), strdup(file), line};
    if (tl_depot_set_resolved(&tl_py_stacks, id, r) < 0)
        tl_resolved_stack_free(r);
    return id;
}

static uint32_t name(const char *text, uintptr_t key)
{
    int is_new;
    uint32_t id = tl_depot_put(&tl_names, &key, 1, &is_new);
    char *copy = strdup(text);
    if (tl_depot_set_resolved(&tl_names, id, copy) < 0)
        free(copy); /* named already */
    return id;
}

static void the_line(void)
{
    char buf[1024];
    struct tl_shutdown sd = {TL_SHUTDOWN_SIGNAL, SIGTERM, 1.0, 0};
    struct tl_leak live[5];
    memset(live, 0, sizeof live);
    const char *names[] = {"Task-1", "Task-2", "Task-3", "Task-4", "Task-5"};
    for (int i = 0; i < 5; i++) {
        live[i].task.id = (uint64_t)i + 1;
        live[i].task.coro = name(i ? "worker" : "main", 0x100 + (uintptr_t)!!i);
        live[i].outcome.name = (char *)names[i];
        live[i].outcome.awaited_by = 1; /* main awaits them */
    }
    live[0].outcome.awaited_by = 0;
    live[0].outcome.awaiting = stack("main", "/src/app.py", 12, 0x200);
    struct tl_thread th[3];
    memset(th, 0, sizeof th);
    th[0] = (struct tl_thread){.main = 1, .name = "MainThread", .stack = stack("cleanup", "/src/app.py", 40, 0x300)};
    th[1] = (struct tl_thread){.name = "ThreadPoolExecutor-0_0", .why = TL_EXIT_EXECUTOR,
                               .job = stack("blocking_job", "/src/jobs.py", 24, 0x400)};
    th[2] = (struct tl_thread){.name = "idle", .daemon = 1};
    struct tl_collected snap = {live, 5, {th, 3}, {NULL, 0}};
    tl_watchdog_line(buf, sizeof buf, &sd, 11.04, &snap, NULL, "/tmp/r.1.json", 0);
    CHECK(!strcmp(buf, "taskleak: shutdown blocked for 10.0 s after SIGTERM by Task-1 (main, "
                       "suspended at app.py:12) and thread ThreadPoolExecutor-0_0 (blocking_job "
                       "at jobs.py:24); report: /tmp/r.1.json"));
    /* More than three: the rest counted. */
    for (int i = 1; i < 5; i++)
        live[i].outcome.awaited_by = 0;
    tl_watchdog_line(buf, sizeof buf, &sd, 11.04, &snap, NULL, "/tmp/r.1.json", 0);
    CHECK(strstr(buf, " by Task-1 (main, suspended at app.py:12), Task-2 (worker), Task-3 (worker) "
                      "and 3 more; report: /tmp/r.1.json") != NULL);
    /* Nothing pending, no thread waited for: where the main thread is. */
    struct tl_collected idle = {NULL, 0, {th, 1}, {NULL, 0}};
    sd.cause = TL_SHUTDOWN_THREADS;
    tl_watchdog_line(buf, sizeof buf, &sd, 3.0, &idle, NULL, "/tmp/r.1.json", 0);
    CHECK(!strcmp(buf, "taskleak: shutdown blocked for 2.0 s in the interpreter's exit, joining "
                       "threads in the main thread (cleanup at app.py:40); report: /tmp/r.1.json"));
    /* A job of a C function; the report could not be written; incomplete. */
    th[1].job = 0;
    th[1].job_name = "sleep";
    struct tl_collected c_job = {NULL, 0, {th, 2}, {NULL, 0}};
    sd.cause = TL_SHUTDOWN_RUNNER;
    tl_watchdog_line(buf, sizeof buf, &sd, 3.0, &c_job, "no GIL", "/ro/r.json", 30 /* EROFS */);
    CHECK(!strcmp(buf, "taskleak: shutdown blocked for 2.0 s after asyncio.run cancelled the "
                       "remaining tasks by thread ThreadPoolExecutor-0_0 (sleep) (the report is "
                       "incomplete: no GIL); the report could not be written to /ro/r.json: "
                       "Read-only file system"));
    /* Never past the buffer. */
    char small[40];
    tl_watchdog_line(small, sizeof small, &sd, 3.0, &snap, NULL, "/tmp/r.1.json", 0);
    CHECK(strlen(small) == sizeof small - 1);
}

static void deadline(void)
{
    tl_options_parse(&tl_opt, "shutdown_timeout=0.5", NULL);
    tl_tasks_init(10);
    tl_shutdown_reset();
    tl_shutdown_signal(SIGTERM, 1.0);
    CHECK(tl_watchdog_deadline() == -1); /* no task made: no report, no watchdog */
    CHECK(!tl_watchdog_watching());
    tl_task_spawned(0x10, 0, 0, 0, 1, 1);
    CHECK(tl_watchdog_deadline() == 1.5 && tl_watchdog_watching());
    tl_opt.shutdown_timeout = 0;
    CHECK(tl_watchdog_deadline() == -1 && !tl_watchdog_watching());
    tl_opt.shutdown_timeout = 10;
    tl_watchdog_reported();
    CHECK(tl_watchdog_deadline() == -1 && tl_watchdog_was_reported() && !tl_watchdog_watching());
    tl_watchdog_after_fork_child();
    CHECK(tl_watchdog_deadline() == 11.0);
    tl_shutdown_reset();
    CHECK(tl_watchdog_deadline() == -1 && tl_watchdog_watching());
}

int main(void)
{
    clock_rules();
    roles();
    the_line();
    deadline();
    return check_summary("shutdown");
}
