/* The asyncio runtime adapter: patches the C Task type and feeds the core. */
#ifndef TL_ASYNCIO_H
#define TL_ASYNCIO_H

#include "cpython/api.h"

/* Patch `task_type` once (GIL held).  0 on success or already patched. */
int tl_asyncio_patch(PyObject *task_type);

#include "tasks.h"

/* Work that needs the GIL before a report (held by the caller): judge
 * finished and stuck tasks, resolve stacks to lines.  At exit, also
 * report every pending task as pending_at_exit and stop judging more; for
 * a snapshot, gather every live task. */
enum tl_collect_mode { TL_COLLECT_PERIODIC, TL_COLLECT_EXIT, TL_COLLECT_SNAPSHOT };
struct tl_collection;
struct tl_collection *tl_asyncio_collect_begin(enum tl_collect_mode mode);
/* Work for about `budget` seconds at most (0: to the end).  Returns 1 while
 * work remains: release the GIL, take it again, and call it again. */
int tl_asyncio_collect_step(struct tl_collection *c, double budget);
/* Free the collection (GIL held).  A snapshot's live tasks, when it got to
 * the end, are returned (malloc'd, `n_live` of them) for the report. */
struct tl_leak *tl_asyncio_collect_end(struct tl_collection *c, size_t *n_live);
/* All of it at once: the exit report. */
void tl_asyncio_collect(enum tl_collect_mode mode);

/* Attach (GIL held): record the pending tasks that were created before the
 * library was loaded, without a creation stack, with the cancels they carry. */
void tl_asyncio_adopt_live_tasks(void);

/* Register the Python-level callbacks: atexit (the final report) and
 * os.register_at_fork (restart the collector after os.fork()). */
void tl_asyncio_register_callbacks(void);

#endif
