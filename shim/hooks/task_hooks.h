/* SPDX-License-Identifier: MIT */
/* The task hooks: patch the C Task type and feed the core. */
#ifndef TL_TASK_HOOKS_H
#define TL_TASK_HOOKS_H

#include <stdint.h>

#include "cpython/api.h"

/* Patch `task_type` once (GIL held).  0 on success or already patched.
 * `fresh`: the type cannot have instances yet (not an attach). */
int tl_task_hooks_patch(PyObject *task_type, int fresh);

/* A live task's address for the table's functions, its spawn moved there
 * from the object first (GIL held); and its id, without moving it. */
uintptr_t tl_task_in_table(PyObject *task);
uint64_t tl_task_id_of(PyObject *task);

/* Attach (GIL held): record the pending tasks that were created before the
 * library was loaded, without a creation stack, with the cancels they carry. */
void tl_task_hooks_adopt_live_tasks(void);

#endif
