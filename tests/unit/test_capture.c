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

static struct tl_resolved_stack *rooms[STACKS];

static long rooms_made(void)
{
    long n = 0;
    for (int k = 0; k < STACKS; k++)
        n += rooms[k] != NULL;
    return n;
}

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
    int before = yields;
    work_so_far = rooms_made;
    double cpu0 = stretch_start();
    tl_capture_prepare_resolve(first, STACKS, rooms);
    stretch_ends();
    double cpu = thread_cpu() - cpu0;
    int all = 1;
    for (int k = 0; k < STACKS; k++)
        all &= rooms[k] && rooms[k]->n == FRAMES;
    CHECK(all);
    /* A give-way is due every 0.1 ms of the clock, and a room takes 5 to
     * 20 us to make (6 KiB to fault in): a few rooms between two, where
     * a loop without its own give-way makes all 1,024 in one stretch.
     * Counted in rooms, not in CPU time, which a VM's stolen time fills. */
    printf("capture: %d rooms prepared: %.1f ms of CPU, %d give-ways, at most %ld rooms "
           "and %.2f ms of CPU between two\n",
           STACKS, cpu * 1e3, yields - before, most_work, longest_stretch * 1e3);
    CHECK(yields > before && most_work <= STACKS / 8);
    for (int k = 0; k < STACKS; k++)
        free(rooms[k]);
    return check_summary("capture");
}
