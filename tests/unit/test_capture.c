/* SPDX-License-Identifier: MIT */
/* Preparing stacks for resolution (tl_capture_prepare_resolve): each stack
 * gets its room, and the long loop over them gives way to the program's
 * threads (it runs beside them, without the GIL). */
#include <stdlib.h>

#include "check.h"
#include "stretch.h"
#include "core/core.h"
#include "core/depot.h"
#include "hooks/capture.h"

enum { STACKS = 1024, FRAMES = 256 };

int main(void)
{
    tl_capture_init();
    /* Deep stacks that share no frame: a room of 6 KiB each to fault in. */
    static uintptr_t words[2 * FRAMES];
    uint32_t first = 0;
    int distinct = 1;
    for (uint32_t s = 0; s < STACKS; s++) {
        for (uint32_t f = 0; f < FRAMES; f++) {
            words[2 * f] = 0x10000 + 64 * ((uintptr_t)s * FRAMES + f);
            words[2 * f + 1] = 2 * f;
        }
        int is_new;
        uint32_t id = tl_depot_put(&tl_py_stacks, words, 2 * FRAMES, &is_new);
        if (s == 0)
            first = id;
        distinct &= is_new && id == first + s;
    }
    CHECK(distinct);
    static struct tl_resolved_stack *rooms[STACKS];
    int before = yields;
    double cpu0 = stretch_start();
    tl_capture_prepare_resolve(first, STACKS, rooms);
    stretch_ends();
    double cpu = thread_cpu() - cpu0;
    int all = 1;
    for (int k = 0; k < STACKS; k++)
        all &= rooms[k] && rooms[k]->n == FRAMES;
    CHECK(all);
    /* A give-way is due every 0.1 ms of the clock; between two checks lies
     * one room (6 KiB to fault in) or one table chunk: a stretch of 0.2 to
     * 0.8 ms here.  Without the loop's own give-way, the loop is one
     * stretch of about 18 ms. */
#ifdef __SANITIZE_ADDRESS__
    const double bound = 0.015;
#else
    const double bound = 0.005;
#endif
    printf("capture: %d rooms prepared: %.1f ms of CPU, %d give-ways, longest stretch %.2f ms\n",
           STACKS, cpu * 1e3, yields - before, longest_stretch * 1e3);
    CHECK(yields > before && longest_stretch < bound);
    for (int k = 0; k < STACKS; k++)
        free(rooms[k]);
    return check_summary("capture");
}
