/* SPDX-License-Identifier: MIT */
/* The other threads of the interpreter, for a snapshot (GIL held): each
 * one's Python stack, name, ids, daemon flag, and whether the exit waits
 * for it.  Nothing of the program runs: thread states and frames are read
 * in place, threading's Thread objects through their instance dictionary. */
#ifndef TL_HOOKS_THREADS_H
#define TL_HOOKS_THREADS_H

#include "core/threads.h"
#include "cpython/api.h"

/* A gathering cut into steps, like the collection it belongs to: begin,
 * step until it returns 0 (one thread a step; the GIL may be let go between
 * steps), end.  Every call with the GIL held. */
struct tl_threads_gather;
struct tl_threads_gather *tl_threads_begin(void);
int tl_threads_step(struct tl_threads_gather *g);
/* The records (the caller frees them with tl_threads_free); frees `g`.  A
 * gathering ended before its last step returns the threads seen so far. */
struct tl_threads tl_threads_end(struct tl_threads_gather *g);

/* The thread state of the thread `ident` (one that runs code, where a
 * state made for a thread not started yet still carries that ident), or
 * NULL once it has ended; never the caller's own (GIL held). */
void *tl_threads_state_of(unsigned long ident);

/* threading.get_ident() of the main thread (0 when unknown). */
unsigned long tl_threads_main_ident(void);

#endif
