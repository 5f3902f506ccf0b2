/* SPDX-License-Identifier: MIT */
/* Give-ways, counted instead of done: sched_yield is replaced, and the
 * longest stretch of the thread's CPU time without one is kept.  CPU time,
 * not the clock: a busy machine that preempts the thread makes give-ways
 * due sooner, never later, so a stretch measures the code's own work
 * between two of them.  For one test file per binary.
 *
 * But a VM's stolen time (its vCPU paused by the host's CPU quota, which
 * this guest does not account) is charged to the thread's CPU time: a
 * stretch of 100 ms, now and then, on a busy host.  So a test takes the
 * best of STRETCH_TRIES measures, or counts its own work between two
 * give-ways (work_so_far): code without its give-way is long every time. */
#ifndef TL_STRETCH_H
#define TL_STRETCH_H

#include <sched.h>
#include <time.h>

enum { STRETCH_TRIES = 3 };

static int yields;
static double last_yield, longest_stretch;
static long (*work_so_far)(void), last_work, most_work;

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void stretch_ends(void)
{
    double now = thread_cpu();
    if (now - last_yield > longest_stretch)
        longest_stretch = now - last_yield;
    last_yield = now;
    if (work_so_far) {
        long w = work_so_far();
        if (w - last_work > most_work)
            most_work = w - last_work;
        last_work = w;
    }
}

/* A new measure from now; returns the thread's CPU time. */
static double stretch_start(void)
{
    longest_stretch = 0;
    most_work = 0;
    last_work = work_so_far ? work_so_far() : 0;
    return last_yield = thread_cpu();
}

int sched_yield(void)
{
    yields++;
    stretch_ends();
    return 0;
}

#endif
