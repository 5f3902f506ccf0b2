/* The asyncio runtime adapter: patches the C Task type and feeds the core. */
#ifndef TL_ASYNCIO_H
#define TL_ASYNCIO_H

#include "cpython/api.h"

/* Patch `task_type` once (GIL held).  0 on success or already patched. */
int tl_asyncio_patch(PyObject *task_type);

/* Work that needs the GIL before a report (held by the caller): judge
 * finished and stuck tasks, resolve stacks to lines.  At exit, also
 * report every pending task as pending_at_exit and stop judging more. */
enum tl_collect_mode { TL_COLLECT_PERIODIC, TL_COLLECT_EXIT, TL_COLLECT_SNAPSHOT };
void tl_asyncio_collect(enum tl_collect_mode mode);

/* Register the Python-level callbacks: atexit (the final report) and
 * os.register_at_fork (restart the collector after os.fork()). */
void tl_asyncio_register_callbacks(void);

#endif
