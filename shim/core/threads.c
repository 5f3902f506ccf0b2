/* SPDX-License-Identifier: MIT */
/* Thread records: their names and their release. */
#include "core/threads.h"

#include <stdlib.h>

const char *const tl_exit_wait_names[TL_N_EXIT_WAITS] = {
    NULL, "non-daemon thread", "default executor worker running a job",
    "executor worker running a job"};

void tl_threads_free(struct tl_threads *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->items[i].name);
        free(t->items[i].job_name);
    }
    free(t->items);
    t->items = NULL;
    t->n = 0;
}
