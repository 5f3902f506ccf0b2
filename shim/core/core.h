/* SPDX-License-Identifier: MIT */
/* Process-wide state shared by the shim and the collector. */
#ifndef TL_CORE_H
#define TL_CORE_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "core/depot.h"
#include "cpython/hot.h"

extern struct tl_depot tl_py_stacks;     /* (code, offset) pairs */
extern struct tl_depot tl_native_stacks; /* return addresses */
extern struct tl_depot tl_names;         /* one interned str object each */

double tl_now(void); /* seconds since the library started */
/* A CLOCK_MONOTONIC time (asyncio's loop.time()) as report time. */
double tl_from_monotonic(double seconds);

/* Self-accounting: calls and time spent in each hook (our own work only,
 * not the original function it wraps).  Updated under the GIL. */
enum tl_hook { TL_HOOK_SPAWN, TL_HOOK_CANCEL, TL_HOOK_UNCANCEL, TL_HOOK_DESTROY,
               TL_HOOK_HANDLED, TL_HOOK_COLLECT, TL_N_HOOKS };
extern const char *const tl_hook_names[TL_N_HOOKS];
struct tl_hook_stats {
    uint64_t calls;        /* every call */
    uint64_t timed, ticks; /* the calls that were timed, and their time */
};
/* The longest single hold of the GIL by the collector's slices. */
extern uint64_t tl_collect_max_ticks;
extern struct tl_hook_stats tl_hook_stats[TL_N_HOOKS];

static inline uint64_t tl_ticks(void)
{
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}
/* Account `ticks` to `hook`; `calls` is 1 for the call that ends here. */
static inline void tl_hook_account(enum tl_hook hook, uint64_t ticks, int calls)
{
    tl_hook_stats[hook].calls += (uint64_t)calls;
    tl_hook_stats[hook].timed += (uint64_t)calls;
    tl_hook_stats[hook].ticks += ticks;
}
/* The task hooks time one call in TL_HOOK_SAMPLE (a clock read costs as
 * much as a small hook): tl_hook_begin counts the call and says whether it
 * is timed; tl_hook_timed adds a timed call's ticks (`calls`: 1 when the
 * call ends there).  The report scales the time to every call. */
#define TL_HOOK_SAMPLE 16
static inline int tl_hook_begin(enum tl_hook hook)
{
    return tl_hook_stats[hook].calls++ % TL_HOOK_SAMPLE == 0;
}
static inline void tl_hook_timed(enum tl_hook hook, uint64_t ticks, int calls)
{
    tl_hook_stats[hook].timed += (uint64_t)calls;
    tl_hook_stats[hook].ticks += ticks;
}
/* A hook's time in ns, scaled from its timed calls to all of them. */
double tl_hook_ns(const struct tl_hook_stats *s);
double tl_ticks_to_ns(uint64_t ticks);
/* The tl_now() of a stored tl_ticks() stamp, exact wherever the tick rate
 * holds for a second (the TSC need not be the kernel's clock); -1 for 0,
 * the stamp of nothing.  `now` is tl_time_pair(): one clock reading for
 * many stamps.  Takes a lock: for reports and sweeps, not for hooks (they
 * keep the stamp, no clock read). */
struct tl_time_pair {
    uint64_t ticks;
    double t;
};
struct tl_time_pair tl_time_pair(void);
double tl_time_at_pair(uint64_t ticks, struct tl_time_pair now);
/* The collector's heartbeat: an anchor for tl_time_at_pair. */
void tl_clock_anchor(void);
/* For the library's own threads, in long work without the GIL: after
 * about 0.1 ms of CPU since *since (a tl_now()), let a thread waiting for
 * this CPU run first.  A fresh thread is not preempted by the program's
 * waking loop thread; without this, a busy CPU would make the loop wait
 * for all of the work. */
void tl_give_way(double *since);
pid_t tl_thread_id(void);
/* One line on stderr, at most once per `key` (a static flag). */
void tl_warn_once(int *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tl_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line on stderr, always (the caller decides). */
void tl_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void tl_core_after_fork_child(void);

/* How catch sites are recorded (the report's provenance.caught_at): set by
 * monitoring.c. */
extern char tl_catch_sites_status[128];

/* The C library's sigaction, which the root interposes for the program's
 * calls: the library's own handler (dump_signal) goes straight to it.
 * NULL until the root's constructor. */
struct sigaction;
extern int (*tl_libc_sigaction)(int, const struct sigaction *, struct sigaction *);

/* The collector, seen from below: bootstrap wires it at activation, so
 * that the hooks never include the collector, a layer above the core.  A
 * hook wakes it (after a fork it restarts). */
extern void (*tl_collector_poke_fn)(void);

#endif
