/* SPDX-License-Identifier: MIT */
/* core.c's clock: a tick count converted to seconds at the rate tl_now()
 * calibrates agrees with the clock; the hooks' sampled timing scales a
 * sample's time to every call. */
#include <math.h>
#include <time.h>

#include "check.h"
#include "core/core.h"

int main(void)
{
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    tl_now(); /* calibrates, where the TSC keeps time */
    nanosleep(&pause, NULL);
    /* Between two reads of the clock, whatever the scheduler does in
     * between: the conversion's own error is a few microseconds. */
    double before = tl_now(), mid = tl_time_of(tl_ticks()), after = tl_now();
    CHECK(mid >= before - 0.0005 && mid <= after + 0.0005);
    CHECK(tl_time_of(tl_ticks()) > 0.039); /* 40 ms slept since the library started */

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
