/* SPDX-License-Identifier: MIT */
/* Clock, thread ids and the shared depots. */
#include "core/core.h"

#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "core/anchors.h"
#include "core/lock.h"
#include "core/options.h"

struct tl_depot tl_py_stacks, tl_native_stacks, tl_names;

static double start;
static uint64_t start_ticks;

/* Where stored tick stamps get their seconds (tl_time_at_pair): the collector
 * adds an anchor a second. */
#define ANCHOR_EVERY 1.0
static struct tl_anchors anchors;
static struct tl_lock anchors_lock = TL_LOCK_INITIALIZER;

const char *const tl_hook_names[TL_N_HOOKS] = {"spawn", "cancel", "uncancel", "destroy",
                                               "exception_handled", "collect"};
struct tl_hook_stats tl_hook_stats[TL_N_HOOKS] TL_HOT_DATA;
uint64_t tl_collect_max_ticks;

char tl_catch_sites_status[128] = "not available before Python 3.12";

static void nothing(void)
{
}
void (*tl_collector_poke_fn)(void) TL_HOT_DATA = nothing;
int (*tl_libc_sigaction)(int, const struct sigaction *, struct sigaction *);
static __thread pid_t cached_tid __attribute__((tls_model("initial-exec")));

static double monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void read_pair(uint64_t *ticks, double *clock);

__attribute__((constructor(101))) static void core_init(void)
{
    /* The first anchor is a pair like any other: a preemption between two
     * plain reads put every early stamp milliseconds off (sid-3.14,
     * created_t_exact). */
    read_pair(&start_ticks, &start);
    tl_anchors_init(&anchors, start_ticks, 0, ANCHOR_EVERY);
    tl_depot_init(&tl_py_stacks);
    tl_depot_init(&tl_native_stacks);
    tl_depot_init(&tl_names);
}

double tl_now(void)
{
    return monotonic() - start;
}

/* (ticks, the clock) read as close together as the scheduler lets: the
 * tightest of three tries, ticks taken halfway.  The clock's own reading,
 * not tl_now(): `start` is set from one. */
static void read_pair(uint64_t *ticks, double *clock)
{
    uint64_t best = UINT64_MAX;
    *ticks = 0;
    *clock = 0;
    for (int i = 0; i < 3; i++) {
        uint64_t before = tl_ticks();
        double now = monotonic();
        uint64_t after = tl_ticks();
        if (after - before < best) {
            best = after - before;
            *ticks = before + best / 2;
            *clock = now;
        }
    }
}

void tl_clock_anchor(void)
{
    struct tl_time_pair now = tl_time_pair();
    tl_lock(&anchors_lock);
    tl_anchors_add(&anchors, now.ticks, now.t);
    tl_unlock(&anchors_lock);
}

struct tl_time_pair tl_time_pair(void)
{
    struct tl_time_pair now;
    double clock;
    read_pair(&now.ticks, &clock);
    now.t = clock - start;
    return now;
}

double tl_time_at_pair(uint64_t ticks, struct tl_time_pair now)
{
    if (!ticks)
        return -1;
    tl_lock(&anchors_lock);
    double t = tl_anchors_time(&anchors, ticks, now.ticks, now.t);
    tl_unlock(&anchors_lock);
    return t;
}

double tl_from_monotonic(double seconds)
{
    return seconds - start;
}

/* Ticks run at a constant rate: calibrate against the clock since start. */
double tl_ticks_to_ns(uint64_t ticks)
{
    double elapsed = tl_now();
    uint64_t spent = tl_ticks() - start_ticks;
    return spent && elapsed > 0 ? (double)ticks * elapsed * 1e9 / (double)spent : 0;
}

double tl_hook_ns(const struct tl_hook_stats *s)
{
    return s->timed ? tl_ticks_to_ns(s->ticks) * (double)s->calls / (double)s->timed : 0;
}

#define GIVE_WAY_S 0.0001

void tl_give_way(double *since)
{
    if (tl_now() - *since < GIVE_WAY_S)
        return;
    sched_yield();
    *since = tl_now();
}

pid_t tl_thread_id(void)
{
    if (!cached_tid)
        cached_tid = gettid();
    return cached_tid;
}

void tl_core_after_fork_child(void)
{
    cached_tid = 0;
    tl_lock_reset(&anchors_lock);
}

static void vline(const char *fmt, va_list ap)
{
    char buf[1024];
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    if (n < 0)
        return;
    if (n > (int)sizeof buf - 2)
        n = sizeof buf - 2;
    buf[n++] = '\n';
    /* One write: lines from several processes do not interleave. */
    ssize_t w = write(2, buf, n);
    (void)w;
}

void tl_warn_once(int *key, const char *fmt, ...)
{
    if (*key)
        return;
    *key = 1;
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
}

void tl_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
}

void tl_diag(const char *fmt, ...)
{
    if (tl_opt.verbosity < 2)
        return;
    va_list ap;
    va_start(ap, fmt);
    vline(fmt, ap);
    va_end(ap);
}
