/* SPDX-License-Identifier: MIT */
/* The Python side of the shutdown watchdog (GIL held): what tells that the
 * main thread's event loop is shutting down, or that the interpreter's exit
 * waits for threads.  The clock itself is core/shutdown.h's. */
#ifndef TL_HOOKS_SHUTDOWN_H
#define TL_HOOKS_SHUTDOWN_H

#include "cpython/api.h"

/* The cancel hook saw asyncio.run (or Runner.close) cancel `task`, one of
 * the tasks left when its main coroutine ended: in the main thread, the
 * task's loop is shutting down (tentatively: until that loop is closed,
 * which is asyncio.run returning). */
void tl_shutdown_runner_cancelled(PyObject *task);

/* At each collection: the main thread joining threads at exit
 * (threading._shutdown, 3.8's concurrent.futures exit), in Runner.close
 * (3.11+), or its loop's default executor shutting down (3.9+); and whether
 * the loop of a tentative shutdown has closed since. */
void tl_shutdown_check(void);

/* A forked child forgets the parent's loop (no Python call: atfork). */
void tl_shutdown_forget(void);

#endif
