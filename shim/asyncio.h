/* The asyncio runtime adapter: patches the C Task type and feeds the core. */
#ifndef TL_ASYNCIO_H
#define TL_ASYNCIO_H

#include "cpython/api.h"

/* Patch `task_type` once (GIL held).  0 on success or already patched. */
int tl_asyncio_patch(PyObject *task_type);

/* Attach (GIL held): record the pending tasks that were created before the
 * library was loaded, without a creation stack, with the cancels they carry. */
void tl_asyncio_adopt_live_tasks(void);

#endif
