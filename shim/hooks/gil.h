/* SPDX-License-Identifier: MIT */
/* Entering the interpreter from the library's own threads: the fork side
 * of it (the rest is in core/pyside.h, for the collector). */
#ifndef TL_GIL_H
#define TL_GIL_H

/* CPython 3.8-3.11 re-create the runtime's thread-state lock in a forked
 * child only after using it: a fork while a thread of ours creates its
 * thread state (under that lock, without the GIL) would leave the child
 * deadlocked.  Every fork() takes the guard first (fork.c). */
void tl_gil_fork_prepare(void);
void tl_gil_fork_parent(void);
void tl_gil_fork_child(void);

#endif
