/* SPDX-License-Identifier: MIT */
/* What a pending task holds: see holdings.c. */
#ifndef TL_HOLDINGS_H
#define TL_HOLDINGS_H

#include "core/tasks.h"
#include "cpython/api.h"

/* The holdings in the frames of the coroutines `coros` (a task's await
 * chain), GIL held.  Runs no code of the program. */
void tl_holdings_of(PyObject *const *coros, int n_coros, struct tl_holdings *out);

#endif
