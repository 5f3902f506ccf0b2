/* SPDX-License-Identifier: MIT */
/* The task hooks: patch the C Task type and feed the core. */
#ifndef TL_TASK_HOOKS_H
#define TL_TASK_HOOKS_H

#include "cpython/api.h"

/* Patch `task_type` once (GIL held).  0 on success or already patched. */
int tl_task_hooks_patch(PyObject *task_type);

/* Attach (GIL held): record the pending tasks that were created before the
 * library was loaded, without a creation stack, with the cancels they carry. */
void tl_task_hooks_adopt_live_tasks(void);

#endif
