/* SPDX-License-Identifier: MIT */
/* Where things happen, captured under the GIL: Python and native stacks
 * interned into the depots, coroutine names, and what the code at a
 * stack's top is (a cancel scope, a library) remembered per code object. */
#ifndef TL_CAPTURE_H
#define TL_CAPTURE_H

#include <stdint.h>

#include "core/depot.h"
#include "cpython/api.h"

void tl_capture_init(void);
/* Fork child: what the threads remembered is forgotten. */
void tl_capture_after_fork_child(void);
/* Intern (code, offset) pairs, `frames` of them; the depot keeps the code
 * objects alive (their addresses are the keys).  0 when out of memory. */
uint32_t tl_capture_intern_py(const uintptr_t *words, int frames);
/* The calling thread's Python stack, at most `depth` frames. */
uint32_t tl_capture_py(int depth);
/* The same at most tl_opt.stack_depth frames deep, for a hook (ts: the
 * thread's state): each thread remembers its last stack per site, and a
 * stack equal to it, frame by frame, costs a comparison, not a hash. */
enum tl_capture_site { TL_SITE_SPAWN, TL_SITE_CANCEL, TL_N_SITES };
uint32_t tl_capture_stack(void *ts, enum tl_capture_site site);
/* The native stack under Python stack `py` (unwound once per distinct
 * Python stack); 0 with native=0. */
uint32_t tl_capture_native(uint32_t py);
/* The names depot's id of a str (which it keeps, with its text). */
uint32_t tl_capture_name(PyObject *str);

/* The cancel scope (scopes.h) of the innermost frame of a Python stack,
 * with TL_CAPTURE_AT_SHUTDOWN set where that frame is asyncio.run's (or its
 * Runner's) cancelling at its end or on Ctrl-C: one memo lookup for both
 * (callers mask it off). */
#define TL_CAPTURE_AT_SHUTDOWN 0x100
int tl_capture_scope_of_stack(uint32_t stack);
/* The role (core/roles.h) of a code object. */
int tl_capture_code_role(uintptr_t code);
/* Whether a code object is asyncio's or a cancel-scope library's. */
int tl_capture_is_library_code(uintptr_t code);

/* A Python stack resolved to names and lines (the depot keeps it). */
const struct tl_resolved_stack *tl_capture_resolve(uint32_t stack);
/* The same into `room` (from tl_capture_resolve_room, or NULL), which it
 * takes in every case. */
const struct tl_resolved_stack *tl_capture_resolve_in(uint32_t stack, struct tl_resolved_stack *room);
/* Without the GIL, before resolving stacks first..first+n-1: the memory
 * it will need, allocated and faulted in now (a page fault under the GIL
 * is the program's wait; on a VM, 1-20 us each).  rooms[k] for stack
 * first+k where it is NULL (left NULL when resolved already), and the
 * tables' room for the new rooms' frames they do not share with the stack
 * before them. */
void tl_capture_prepare_resolve(uint32_t first, uint32_t n, struct tl_resolved_stack **rooms);

#endif
