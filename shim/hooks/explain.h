/* SPDX-License-Identifier: MIT */
/* Why a pending task does not move on, read from the task and its await
 * chain at collection time (GIL held; no code of the program runs): what
 * it waits for (core/waits.h), the locks it holds, and whether nothing but
 * its own frames could ever end the wait. */
#ifndef TL_EXPLAIN_H
#define TL_EXPLAIN_H

#include "core/tasks.h"
#include "cpython/api.h"
#include "hooks/pytask.h"

/* Fill o->wait (NULL: ready to run) and o->held for `task`, whose await
 * chain is `chain`. */
void tl_explain_task(PyObject *task, const struct tl_chain *chain, struct tl_outcome *o);

/* The names module globals give `objects` (a person knows `app.lock`
 * better than 0x7f...), one module of sys.modules at a time, so that a
 * collection can stop between any two: begin, step while it returns 1,
 * end. */
struct tl_global_names;
struct tl_global_names *tl_explain_names_begin(const uintptr_t *objects, size_t n);
/* One module; 0 once every module was looked at. */
int tl_explain_names_step(struct tl_global_names *g);
/* The names found (malloc'd, or NULL), in the order of `objects`; frees g. */
char **tl_explain_names_end(struct tl_global_names *g);

#endif
