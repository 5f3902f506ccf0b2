/* SPDX-License-Identifier: MIT */
/* The collector thread and report scheduling.
 *
 * Lock order: the GIL, then the table lock.  This thread never holds the
 * GIL; the Python work before a report (judging tasks, resolving lines) runs
 * in a short-lived helper thread that takes it in slices (core/pyside.h), and
 * the collector waits for it only for a bounded time: a process stuck with
 * the GIL held still gets its report, marked incomplete. */
#include "collector/collector.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector/metrics.h"
#include "collector/output.h"
#include "collector/report.h"
#include "collector/watchdog.h"
#include "core/core.h"
#include "core/options.h"
#include "core/pyside.h"
#include "core/shutdown.h"
#include "core/tasks.h"

#define GIL_WAIT_NS 500000000L /* a snapshot is due within a second */

static struct {
    pthread_mutex_t lock; /* guards the fields below and report writing */
    pthread_cond_t cond;
    sem_t wake;                     /* posted to wake the thread: no descriptor */
    volatile sig_atomic_t want_snapshot, want_quit;
    pthread_t thread;
    int activated, running, wanted, finished;
    int no_gil_helper; /* a child forked from a non-main thread */
    int gil_busy, gil_done, gil_ran, waiting, abort_wait;
    unsigned gil_progress; /* slices done by the helper: its deadline moves on */
    pthread_t helper; /* joinable: a fork waits until it is gone */
    int helper_alive;
    double forking_since; /* tl_now() at an os.fork() not yet done, or 0 */
    uint64_t last_content;
    int have_content;
    struct tl_collected found; /* what the last collection found for its report */
    char argv[4096];
    size_t argv_len;
    struct tl_stats final_stats;
    int final_written;
    uint64_t reports_written;
} C = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int warned_write;

/* sem_post is async-signal-safe. */
static void wake_thread(volatile sig_atomic_t *why)
{
    int saved = errno;
    *why = 1;
    sem_post(&C.wake);
    errno = saved;
}

void tl_collector_wake(void)
{
    int saved = errno;
    if (C.activated)
        sem_post(&C.wake);
    errno = saved;
}

static void on_dump_signal(int sig)
{
    (void)sig;
    wake_thread(&C.want_snapshot);
}

static void read_argv(void)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, C.argv, sizeof C.argv - 1);
    close(fd);
    C.argv_len = n > 0 ? (size_t)n : 0;
    C.argv[C.argv_len] = 0;
}

/* ---- the GIL helper ---------------------------------------------------- */

struct gil_job {
    enum tl_collect_mode mode;
};

/* After each slice (without the GIL): the collector hears of the progress,
 * and its deadline moves on. */
static void slice_done(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&C.lock);
    C.gil_progress++;
    pthread_cond_broadcast(&C.cond);
    pthread_mutex_unlock(&C.lock);
}

/* The Python side of a report, in a thread that may wait for the GIL. */
static void *gil_helper(void *arg)
{
    struct gil_job *job = arg;
    struct tl_collected found;
    int rc = tl_collect_in_slices(job->mode, slice_done, NULL, &C.abort_wait, &found);
    free(job);
    if (found.live) /* a snapshot: who waits for whom, without the GIL */
        tl_collected_explain(&found);
    tl_collector_set_found(&found);
    pthread_mutex_lock(&C.lock);
    C.gil_busy = 0;
    C.gil_done = 1;
    C.gil_ran = rc == 0; /* not: Python could not be entered (finalizing) */
    pthread_cond_broadcast(&C.cond);
    pthread_mutex_unlock(&C.lock);
    return NULL;
}

/* Reap a finished helper (C.lock held). */
static void reap_helper(void)
{
    if (C.helper_alive && !C.gil_busy) {
        pthread_join(C.helper, NULL);
        C.helper_alive = 0;
    }
}

/* Run the Python side of a report, waiting at most GIL_WAIT_NS.  Returns 0
 * when it ran, -1 when not (in time), -2 when a fork aborted the wait.
 * Called with C.lock held. */
static int run_with_gil(enum tl_collect_mode mode)
{
    reap_helper();
    if (C.gil_busy || C.no_gil_helper)
        return -1; /* the previous helper still waits, or it is unsafe here */
    struct gil_job *job = malloc(sizeof *job);
    if (!job)
        return -1;
    job->mode = mode;
    C.gil_busy = 1;
    C.gil_done = 0;
    if (pthread_create(&C.helper, NULL, gil_helper, job) != 0) {
        C.gil_busy = 0;
        free(job);
        return -1;
    }
    C.helper_alive = 1;
    /* At most GIL_WAIT_NS for the GIL, and as much again after each slice. */
    struct timespec deadline;
    unsigned progress = C.gil_progress;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += GIL_WAIT_NS;
    C.waiting = 1;
    while (!C.gil_done && !C.abort_wait) {
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&C.cond, &C.lock, &deadline) == ETIMEDOUT)
            break;
        if (C.gil_progress != progress) {
            progress = C.gil_progress;
            clock_gettime(CLOCK_MONOTONIC, &deadline);
            deadline.tv_nsec += GIL_WAIT_NS;
        }
    }
    C.waiting = 0;
    return C.gil_done && C.gil_ran ? 0 : C.abort_wait ? -2 : -1;
}

/* ---- writing ----------------------------------------------------------- */

/* "1 swallowed_cancel, 2 stuck_after_cancel"; returns the total. */
static uint64_t describe_leaks(const struct tl_stats *stats, char *buf, size_t n)
{
    uint64_t total = 0;
    size_t len = 0;
    buf[0] = 0;
    for (int k = 0; k < TL_N_KINDS; k++) {
        total += stats->leaks[k];
        if (stats->leaks[k] && len < n)
            len += (size_t)snprintf(buf + len, n - len, "%s%llu %s", len ? ", " : "",
                                    (unsigned long long)stats->leaks[k], tl_kind_names[k]);
    }
    return total;
}

/* At most one line on stderr per process in the common cases: a failed
 * periodic write is a diagnostic (verbosity 2); a failed exit or snapshot
 * write is said once, folded into the leak line when there is one. */
static void say_after_exit(const struct tl_stats *stats, const char *path, int write_errno)
{
    char kinds[256];
    uint64_t total = describe_leaks(stats, kinds, sizeof kinds);
    int once = 0;
    if (total && tl_opt.verbosity >= 1 && !write_errno)
        tl_warn_once(&once, "taskleak: %llu leak%s (%s); report: %s", (unsigned long long)total,
                     total == 1 ? "" : "s", kinds, path);
    else if (total && tl_opt.verbosity >= 1)
        tl_warn_once(&once, "taskleak: %llu leak%s (%s); the report could not be written to %s: %s",
                     (unsigned long long)total, total == 1 ? "" : "s", kinds, path,
                     strerror(write_errno));
    else if (write_errno)
        tl_warn_once(&warned_write, "taskleak: cannot write report %s: %s", path,
                     strerror(write_errno));
}

/* Returns 0, or the errno of a failed write.  `announce(path, t)` (may be
 * NULL) runs just before the report is written: a line about it printed
 * then is never lost to a process that ends as soon as the report exists.
 * t is the report's own time, so the line says what the report says. */
static int write_report_to(enum tl_report_reason reason, const char *incomplete,
                           void (*announce)(const char *path, double t))
{
    /* Once a shutdown was reported, the reports after it say so. */
    struct tl_shutdown sd;
    tl_shutdown_get(&sd);
    int show_shutdown = reason == TL_REASON_SHUTDOWN || tl_watchdog_was_reported();
    struct tl_report_meta m = {reason, tl_now(), tl_python_version(), C.argv, C.argv_len,
                               &C.found, incomplete, show_shutdown ? &sd : NULL};
    struct tl_stats stats;
    uint64_t content;
    char *text = tl_report_render(&m, &stats, &content);
    if (!text)
        return ENOMEM;
    /* Processes that never made a task (tools inheriting LD_PRELOAD) leave
     * no files, except for a snapshot someone asked for. */
    int asked = reason == TL_REASON_SIGNAL || reason == TL_REASON_REQUEST ||
                reason == TL_REASON_SNAPSHOT;
    int skip = !asked &&
               (stats.tasks_created == 0 ||
                (reason == TL_REASON_PERIODIC && C.have_content && content == C.last_content));
    char path[TL_PATH_MAX + 32];
    int write_errno = 0;
    if (tl_output_expand(tl_opt.report_path, getpid(), path, sizeof path) < 0) {
        skip = 1;
        write_errno = ENAMETOOLONG;
    }
    if (!skip && announce)
        announce(path, m.t);
    if (!skip && tl_output_write(path, text, strlen(text)) == 0) {
        C.last_content = content;
        C.have_content = 1;
        C.reports_written++;
    } else if (!skip) {
        write_errno = errno;
        tl_diag("taskleak: cannot write report %s: %s", path, strerror(write_errno));
    }
    free(text);
    if (stats.tasks_created) /* at every report, written or unchanged */
        tl_metrics_write(C.argv, C.argv_len, tl_python_version(), C.reports_written);
    if (reason == TL_REASON_EXIT) {
        C.final_stats = stats;
        C.final_written = 1;
        say_after_exit(&stats, path, write_errno);
    } else if ((reason == TL_REASON_SIGNAL || announce) && write_errno) {
        tl_warn_once(&warned_write, "taskleak: cannot write %s %s: %s",
                     announce ? "the shutdown report" : "snapshot", path, strerror(write_errno));
    }
    return write_errno;
}

static int write_report(enum tl_report_reason reason, const char *incomplete)
{
    return write_report_to(reason, incomplete, NULL);
}

void tl_collector_set_found(struct tl_collected *found)
{
    pthread_mutex_lock(&C.lock);
    if (C.waiting) {
        tl_collected_free(&C.found);
        C.found = *found;
        memset(found, 0, sizeof *found);
    }
    pthread_mutex_unlock(&C.lock);
    tl_collected_free(found); /* the collector gave up waiting */
}

/* The live tasks from taskleak's own table, for a report made without the
 * GIL. */
static void live_from_table(void)
{
    tl_collected_free(&C.found);
    C.found.n_live = tl_tasks_snapshot_all(&C.found.live);
}

static void collect_and_write(int snapshot)
{
    pthread_mutex_lock(&C.lock);
    if (!C.finished) {
        const char *incomplete = NULL;
        int rc = run_with_gil(snapshot ? TL_COLLECT_SNAPSHOT : TL_COLLECT_PERIODIC);
        if (rc < 0) {
            incomplete = "the GIL could not be taken in time: tasks were not judged, live "
                         "tasks come from taskleak's own table (no name, no awaiting), "
                         "threads are missing, and new stacks have no file or line";
            if (snapshot)
                live_from_table();
        }
        /* -2: a fork is waiting for this thread to stop; finished: the exit
         * report was written while the helper ran (never write over it). */
        if (rc != -2 && !C.finished)
            write_report(snapshot ? TL_REASON_SIGNAL : TL_REASON_PERIODIC, incomplete);
        tl_collected_free(&C.found);
    }
    pthread_mutex_unlock(&C.lock);
}

/* ---- the shutdown watchdog ---------------------------------------------- */

/* A look for a shutdown (hooks/shutdown.h), between reports. */
static void watch_now(void)
{
    if (tl_python_finalizing()) { /* no GIL for us from now on */
        tl_shutdown_begin(TL_SHUTDOWN_EXIT, 0, tl_now());
        return;
    }
    pthread_mutex_lock(&C.lock);
    if (!C.finished && run_with_gil(TL_COLLECT_WATCH) == 0)
        tl_collected_free(&C.found);
    pthread_mutex_unlock(&C.lock);
}

static const char *shutdown_incomplete;

/* The watchdog's line, just before its report is written (a failed write is
 * a second line, as for a snapshot). */
static void say_shutdown(const char *path, double t)
{
    if (tl_opt.verbosity < 1)
        return;
    struct tl_shutdown sd;
    tl_shutdown_get(&sd);
    char line[1024];
    tl_watchdog_line(line, sizeof line, &sd, t, &C.found, shutdown_incomplete, path, 0);
    tl_say("%s", line);
}

/* The shutdown has lasted shutdown_timeout seconds: one snapshot report,
 * reason "shutdown", and one line on stderr naming what blocks it.  The
 * collection first looks again: a tentative shutdown whose loop has closed
 * since (asyncio.run returned) is none. */
static void shutdown_report(void)
{
    pthread_mutex_lock(&C.lock);
    double deadline = tl_watchdog_deadline();
    const char *incomplete = NULL;
    if (deadline < 0 || tl_now() < deadline)
        goto out;
    if (C.finished) {
        incomplete = "written after the exit report, while the interpreter went on with its "
                     "exit (atexit callbacks registered before asyncio was imported, "
                     "finalization): no thread or Python stack can be read then";
    } else if (tl_python_finalizing()) {
        tl_shutdown_begin(TL_SHUTDOWN_EXIT, 0, tl_now());
        incomplete = "the interpreter is finalizing: the GIL cannot be taken, so threads are "
                     "missing and live tasks come from taskleak's own table (no name, no "
                     "awaiting)";
    } else {
        int rc = run_with_gil(TL_COLLECT_SNAPSHOT);
        if (rc == -2) /* a fork is waiting for this thread to stop */
            goto out;
        if (rc < 0)
            incomplete = "the GIL could not be taken in time: tasks were not judged, live "
                         "tasks come from taskleak's own table (no name, no awaiting), "
                         "threads are missing, and new stacks have no file or line";
        deadline = tl_watchdog_deadline();
        if (deadline < 0 || tl_now() < deadline)
            goto out; /* withdrawn, or started later than it seemed */
    }
    if (incomplete)
        live_from_table();
    tl_watchdog_reported();
    shutdown_incomplete = incomplete;
    write_report_to(TL_REASON_SHUTDOWN, incomplete, say_shutdown);
out:
    tl_collected_free(&C.found);
    pthread_mutex_unlock(&C.lock);
}

static char task_state(const char *stat_path)
{
    char buf[512];
    int fd = open(stat_path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return '?';
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    return p && p[1] && p[2] ? p[2] : '?';
}

/* Every other thread of the process has ended (the main thread is a zombie,
 * the only kind of thread group that can outlive its leader). */
static int only_thread_left(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)getpid());
    if (task_state(path) != 'Z')
        return 0; /* the common case: one read a heartbeat */
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    int others = 0;
    pid_t me = tl_thread_id();
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == me)
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%.20s/stat", e->d_name);
        char st = task_state(path);
        others += st != 'Z' && st != 'X' && st != '?';
    }
    closedir(d);
    return others == 0;
}

#define HEARTBEAT_MS 1000

static void *collector_main(void *arg)
{
    (void)arg;
    double next = tl_opt.interval > 0 ? tl_now() + tl_opt.interval : -1;
    double next_watch = tl_now() + TL_WATCH_EVERY;
    for (;;) {
        /* The next periodic report, the watchdog's deadline or its next look. */
        double wake = next, deadline = tl_watchdog_deadline();
        if (deadline >= 0 && (wake < 0 || deadline < wake))
            wake = deadline;
        if (!C.finished && tl_watchdog_watching() && (wake < 0 || next_watch < wake))
            wake = next_watch;
        int timeout = HEARTBEAT_MS;
        if (wake >= 0) {
            double wait_ms = (wake - tl_now()) * 1000;
            timeout = wait_ms < 0 ? 0 : wait_ms < HEARTBEAT_MS ? (int)(wait_ms + 0.999) : HEARTBEAT_MS;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += timeout / 1000;
        until.tv_nsec += (long)(timeout % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (sem_clockwait(&C.wake, CLOCK_MONOTONIC, &until) == 0)
            while (sem_trywait(&C.wake) == 0) /* a storm of posts is one wake-up */
                ;
        tl_clock_anchor();
        int snapshot = C.want_snapshot, quit = C.want_quit;
        C.want_snapshot = 0;
        if (quit)
            break;
        if (C.finished) { /* after the exit report: the watchdog alone, without the GIL */
            if (tl_watchdog_deadline() < 0)
                break;
            shutdown_report();
            continue;
        }
        /* Every other thread ended with pthread_exit (say, sys.exit in a
         * child forked from a thread): the process would have ended with
         * exit(0) but for this thread.  End it the same way. */
        if (only_thread_left())
            exit(0);
        if (snapshot)
            collect_and_write(1);
        if (next >= 0 && tl_now() >= next) {
            collect_and_write(0); /* it looks for a shutdown too */
            next = tl_now() + tl_opt.interval;
            next_watch = tl_now() + TL_WATCH_EVERY;
        }
        if (tl_watchdog_watching() && tl_now() >= next_watch) {
            watch_now();
            next_watch = tl_now() + TL_WATCH_EVERY;
        }
        shutdown_report(); /* when due */
    }
    return NULL;
}

/* ---- lifecycle --------------------------------------------------------- */

static void at_c_exit(void);

/* Between the os.fork audit event and fork() itself the forking thread can
 * let go of the GIL, and a hook in another thread would start the collector
 * again: no restart then.  Only for a while: a later audit hook may have
 * refused the fork. */
#define FORK_WINDOW 10.0

static void start_thread(void)
{
    if (C.running || !C.wanted || C.finished)
        return;
    if (C.forking_since > 0 && tl_now() - C.forking_since < FORK_WINDOW)
        return;
    C.want_quit = 0;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits it */
    C.running = pthread_create(&C.thread, NULL, collector_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The GIL wait has a monotonic deadline. */
static void init_cond(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&C.cond, &attr);
    pthread_condattr_destroy(&attr);
}

void tl_collector_after_fork_parent(void)
{
    C.forking_since = 0;
}

/* In a child forked from another thread, CPython 3.11/3.12 can abort when a
 * foreign thread creates a thread state while the forking thread ends
 * ("init_threadstate: thread state already initialized"): there, only the
 * exit report (from atexit, with the GIL) resolves Python stacks. */
void tl_collector_after_fork_child(int forked_from_main_thread)
{
    C.forking_since = 0;
    C.no_gil_helper = !forked_from_main_thread;
    pthread_mutex_init(&C.lock, NULL);
    init_cond();
    sem_init(&C.wake, 0, 0); /* posts the parent's thread never took */
    C.want_snapshot = C.want_quit = 0;
    C.running = 0;
    C.gil_busy = C.helper_alive = 0;
    C.waiting = C.abort_wait = 0;
    C.have_content = 0;
    C.reports_written = 0;
    memset(&C.found, 0, sizeof C.found); /* nothing of the parent's is ours */
    tl_shutdown_reset();
    tl_watchdog_after_fork_child();
}

void tl_collector_activate(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    init_cond();
    read_argv();
    tl_metrics_init();
    if (sem_init(&C.wake, 0, 0) < 0)
        return;
    struct sigaction old;
    int (*install)(int, const struct sigaction *, struct sigaction *) =
        tl_libc_sigaction ? tl_libc_sigaction : sigaction;
    if (tl_opt.dump_signal && install(tl_opt.dump_signal, NULL, &old) == 0 &&
        !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_dump_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        install(tl_opt.dump_signal, &sa, NULL);
    } else if (tl_opt.dump_signal) {
        /* The program (or its parent, for SIG_IGN) already chose what this
         * signal does: never take it away. */
        tl_diag("taskleak: dump_signal %d already has a handler; snapshots by signal are off",
                tl_opt.dump_signal);
    }
    C.wanted = tl_opt.interval > 0 || tl_opt.dump_signal || tl_opt.shutdown_timeout > 0;
    C.activated = 1;
    atexit(at_c_exit);
    start_thread();
}

TL_HOT void tl_collector_poke(void)
{
    if (__builtin_expect(!C.running && C.wanted, 0))
        start_thread();
}

void tl_collector_before_fork(void)
{
    C.forking_since = tl_now();
    if (!C.running)
        return;
    /* It may be waiting for the GIL, which the forking thread holds. */
    pthread_mutex_lock(&C.lock);
    C.abort_wait = 1;
    pthread_cond_broadcast(&C.cond);
    pthread_mutex_unlock(&C.lock);
    wake_thread(&C.want_quit);
    pthread_join(C.thread, NULL);
    C.running = 0;
    C.abort_wait = 0;
    /* A helper waiting for the GIL would be a second thread at fork time
     * (CPython 3.12+ warns about those): let it have the GIL and finish. */
    if (C.helper_alive && tl_join_outside_gil(C.helper, 1) == 0)
        C.helper_alive = 0;
}

/* The synchronous reports the pytest plugin asks for after each test, and
 * a snapshot of the live tasks (ctypes.PyDLL: the GIL is held, by any
 * thread: pytest-timeout's timer thread too, while the main thread hangs).
 * C.lock is taken without the GIL, as everywhere: its holder may be waiting
 * for a slice of the GIL helper. */
int tl_collector_report_now(int snapshot)
{
    if (!C.activated)
        return -1;
    tl_lock_outside_gil(&C.lock);
    int rc = -1;
    if (!C.finished) {
        tl_collect_all(snapshot ? TL_COLLECT_SNAPSHOT : TL_COLLECT_PERIODIC, &C.found);
        if (C.found.live) /* who waits for whom: the GIL helper's step, here in line */
            tl_collected_explain(&C.found);
        rc = write_report(snapshot ? TL_REASON_SNAPSHOT : TL_REASON_REQUEST, NULL) ? -1 : 0;
        tl_collected_free(&C.found);
    }
    pthread_mutex_unlock(&C.lock);
    return rc;
}

void tl_collector_final_report(void)
{
    tl_lock_outside_gil(&C.lock);
    if (!C.finished) {
        tl_shutdown_begin(TL_SHUTDOWN_EXIT, 0, tl_now());
        tl_collect_all(TL_COLLECT_EXIT, &C.found);
        C.finished = 1;
        /* The watchdog's report is due and not written (its thread had no
         * CPU, or met a fork): this report is the shutdown's, line and
         * all, rather than the exit report be replaced by it after. */
        double deadline = tl_watchdog_deadline();
        int overdue = deadline >= 0 && tl_now() >= deadline;
        if (overdue)
            tl_watchdog_reported();
        write_report_to(TL_REASON_EXIT, NULL, overdue ? say_shutdown : NULL);
        tl_collected_free(&C.found);
    }
    /* A GIL helper on its way (started before this report) would meet the
     * interpreter's finalization, which may kill it mid-collection or free
     * its thread state under it: let it have the GIL now and end (after
     * this report its collection does nothing).  No new one starts. */
    pthread_t helper = C.helper;
    int join = C.helper_alive;
    C.helper_alive = 0;
    pthread_mutex_unlock(&C.lock);
    if (join)
        tl_join_outside_gil(helper, 1);
    /* The collector thread is not joined: it may wait for our GIL.  It
     * stays while a shutdown report may still be due (the exit may hang
     * after this). */
    if (C.running && tl_watchdog_deadline() >= 0)
        tl_collector_wake();
    else if (C.running)
        wake_thread(&C.want_quit);
}

/* The C-level exit: a fallback report when Python's atexit never ran, and
 * the `exitcode` option. */
static void at_c_exit(void)
{
    if (!C.activated)
        return;
    pthread_mutex_lock(&C.lock);
    if (!C.final_written && !C.finished) {
        C.finished = 1;
        write_report(TL_REASON_EXIT, "the interpreter exited before the Python-level exit "
                             "report: tasks were not judged at exit");
    }
    struct tl_stats s = C.final_stats;
    pthread_mutex_unlock(&C.lock);
    uint64_t total = 0;
    for (int k = 0; k < TL_N_KINDS; k++)
        total += s.leaks[k];
    if (tl_opt.exitcode > 0 && total > 0) {
        fflush(NULL);
        _exit(tl_opt.exitcode);
    }
}
