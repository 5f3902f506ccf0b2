/* SPDX-License-Identifier: MIT */
/* core.c's clock: a tick stamp converted to seconds later agrees with the
 * clock at the time of the stamp, also when the library's first reading of
 * the clock was preempted; the hooks' sampled timing scales a sample's time
 * to every call. */
#include <math.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "core/core.h"

/* The process's first reading of the monotonic clock (the library's, at
 * load) takes 2 ms, as when preempted on a busy machine: its first (ticks,
 * clock) pair is then not its tightest. */
int clock_gettime(clockid_t id, struct timespec *ts)
{
    static int reads;
    long rc = syscall(SYS_clock_gettime, id, ts);
    if (rc == 0 && id == CLOCK_MONOTONIC && reads++ == 0) {
        struct timespec now;
        do
            syscall(SYS_clock_gettime, id, &now);
        while ((now.tv_sec - ts->tv_sec) * 1e9 + (now.tv_nsec - ts->tv_nsec) < 2e6);
    }
    return (int)rc;
}

int main(void)
{
    struct timespec pause = {0, 20 * 1000 * 1000};
    /* A stamp from before the collector's first anchor converts like any. */
    double early_before = tl_now();
    uint64_t early = tl_ticks();
    double early_after = tl_now();
    CHECK(early_before >= 0 && early_before < 10); /* seconds since the library started */
    nanosleep(&pause, NULL);
    tl_clock_anchor();
    nanosleep(&pause, NULL);
    /* A stamp converted later, from the anchors and a later reading, lands
     * between two reads of the clock around it (the conversion's own error
     * is a few microseconds, whatever the scheduler does in between). */
    double before = tl_now();
    uint64_t stamp = tl_ticks();
    double after = tl_now();
    nanosleep(&pause, NULL);
    double at = tl_time_at_pair(stamp, tl_time_pair());
    CHECK(at >= before - 0.0005 && at <= after + 0.0005);
    CHECK(at > 0.039);                               /* 40 ms slept since the library started */
    CHECK(tl_time_at_pair(0, tl_time_pair()) == -1); /* the stamp of nothing */
    double early_at = tl_time_at_pair(early, tl_time_pair());
    CHECK(early_at >= early_before - 0.0005 && early_at <= early_after + 0.0005);

    /* One call in TL_HOOK_SAMPLE is timed; the time is scaled to all. */
    int timed = 0;
    for (int i = 0; i < 10 * TL_HOOK_SAMPLE; i++)
        if (tl_hook_begin(TL_HOOK_SPAWN)) {
            timed++;
            tl_hook_timed(TL_HOOK_SPAWN, 0, 1);
        }
    CHECK(timed == 10);
    struct tl_hook_stats s = {.calls = 160, .timed = 10, .ticks = 0};
    CHECK(tl_hook_ns(&s) == 0);
    s.ticks = tl_ticks() / 1000 + 1;
    CHECK(fabs(tl_hook_ns(&s) - 16 * tl_ticks_to_ns(s.ticks)) < 16 * tl_ticks_to_ns(s.ticks) * 0.01);
    return check_summary("clock");
}
