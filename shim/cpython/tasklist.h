/* SPDX-License-Identifier: MIT */
/* Every live asyncio task of the main interpreter, found the way this
 * version keeps them: asyncio's WeakSets up to 3.13, the per-thread linked
 * lists of 3.14+ (read through the offsets _asyncio publishes for debuggers
 * in its AsyncioDebug section). */
#ifndef TL_CPYTHON_TASKLIST_H
#define TL_CPYTHON_TASKLIST_H

#include <stddef.h>

#include "cpython/api.h"

/* Once, with the address of any function of the _asyncio module (its Task
 * type's tp_init).  Returns -1 with the reason in `why` when this version's
 * lists cannot be read. */
int tl_tasklist_init(void *asyncio_code, char *why, size_t size);

/* The live tasks, as new references in a malloc'd array (GIL held; no
 * Python code runs while the lists are read).  Returns the count; the
 * caller drops each reference and frees the array. */
size_t tl_tasklist_collect(PyObject ***out);

#endif
