/* SPDX-License-Identifier: MIT */
/* The one version pick: which CPython this is, whether taskleak supports it,
 * and what it can do.  Code outside shim/cpython/ asks for capabilities,
 * never for version numbers. */
#ifndef TL_CPYTHON_VERSION_H
#define TL_CPYTHON_VERSION_H

#include <stddef.h>

struct tl_caps {
    unsigned cancelling : 1;   /* Task.cancelling()/uncancel(): 3.11+ */
    unsigned qualname : 1;     /* code objects have co_qualname: 3.11+ */
    unsigned task_context : 1; /* Task.get_context(): 3.12+ */
    unsigned monitoring : 1;   /* sys.monitoring: 3.12+ */
    unsigned fork_guard : 1;   /* 3.8-3.11: a child uses the runtime's thread-state
                                  lock before re-creating it; no thread may hold it
                                  across fork() */
    unsigned task_lists : 1;   /* 3.14+: live tasks in per-thread linked lists */
    unsigned wait_for_swallows : 1; /* 3.8-3.11: wait_for can lose a cancel (bpo-42130) */
};
extern struct tl_caps tl_caps;

/* After tl_py_resolve(): pick the layout and capabilities of this build.
 * Returns 0, or -1 with the reason it is refused in `why`. */
int tl_cpython_select(char *why, size_t size);

#endif
