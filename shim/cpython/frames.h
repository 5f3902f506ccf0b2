/* SPDX-License-Identifier: MIT */
/* Python stacks: a fast walk of the interpreter's own frame structs, and
 * resolution of (code, offset) pairs into names and lines at report time. */
#ifndef TL_FRAMES_H
#define TL_FRAMES_H

#include <stdint.h>

#include "cpython/api.h"

/* Whether the calling thread runs in the main interpreter (GIL held). */
int tl_frames_in_main_interpreter(void);
/* The calling thread's state when it runs the main interpreter, else NULL
 * (GIL held): one read of it serves a whole hook. */
void *tl_frames_main_thread_state(void);

/* No frame's address (an odd one): the comparison walk's end mark. */
#define TL_NOT_A_FRAME ((uintptr_t)1)

/* A frame as it is stored: its executable (the raw field: 3.14+ a tagged
 * reference) and its position in that code (the raw field too); and where
 * the frame was, a guess for the next walk, never read unchecked. */
struct tl_frame_key {
    uintptr_t code, instr, frame;
};
/* The keys of every frame a capture walked (those of the interpreter's
 * entry frames too, which a trace leaves out), up to `capacity`.  Two
 * walks with the same keys give the same trace, as long as the code
 * objects of the keys live: interned ones (the depot keeps them). */
struct tl_frame_keys {
    int n;     /* -1: not comparable (too many, or a frame of an unknown kind) */
    int whole; /* the walk ended with the stack, not at max_frames */
    int capacity; /* > n: key[n] is the end mark, frame TL_NOT_A_FRAME */
    struct tl_frame_key *key;
};

/* Walk the frames of thread state `ts` (the caller's, GIL held), innermost
 * first, writing (code object, byte offset) pairs: 2 words a frame, at most
 * max_frames; and, with `keys`, every walked frame's key.  Returns frames. */
int tl_frames_capture(void *ts, uintptr_t *words, int max_frames, struct tl_frame_keys *keys);
/* Whether a walk of `ts` with the same max_frames would give the keys of
 * `keys` (some loads and compares a frame: no hash, no lock).  Updates the
 * frames' addresses where they moved. */
int tl_frames_same(void *ts, struct tl_frame_keys *keys);

/* Another thread of the interpreter, by its thread state (GIL held): its
 * threading.get_ident(), its native id (-1 before 3.11, where the thread
 * state has none), and its frames as tl_frames_capture gives the calling
 * thread's.  `first_locals` (may be NULL) gets each frame's first local
 * variable, borrowed (a method's self), or NULL. */
unsigned long tl_frames_thread_ident(void *ts);
long tl_frames_thread_native_id(void *ts);
int tl_frames_capture_thread(void *ts, uintptr_t *words, PyObject **first_locals, int max_frames);

/* The (code, offset) pair of a suspended coroutine or generator, read from
 * its own frame without materializing a frame object.  Returns 0 if none. */
int tl_frames_of_generator(PyObject *gen, uintptr_t *pair);

/* A coroutine's or generator's __qualname__ (borrowed) read from its
 * object; NULL for any other type (a coroutine of another kind). */
PyObject *tl_frames_generator_qualname(PyObject *obj);

/* What the exception handler at a byte offset of a code object is (3.12+,
 * for sys.monitoring's EXCEPTION_HANDLED): a `with` statement's exit, an
 * except/finally clause of the code itself, or neither (asyncio's own await
 * machinery). */
enum tl_handler { TL_HANDLER_NONE, TL_HANDLER_EXCEPT, TL_HANDLER_WITH };
enum tl_handler tl_frames_handler(PyObject *code, long offset);

/* The local variables of a suspended coroutine's or generator's own frame,
 * in co_varnames order (borrowed; NULL for an unbound one), and its code.
 * Returns how many were written (at most max); 0 once it has finished. */
int tl_frames_locals_of_generator(PyObject *gen, PyObject **code, PyObject **values, int max);

/* The raw slots of a suspended coroutine's or generator's own frame, as
 * the interpreter keeps them: its locals (co_varnames order first) or its
 * value stack (innermost last; none while the frame runs).  `*code` gets
 * its code object.  Returns how many were written (at most max). */
enum tl_slots { TL_SLOTS_LOCALS, TL_SLOTS_STACK };
int tl_frames_slots_of_generator(PyObject *gen, enum tl_slots which, PyObject **code,
                                 uintptr_t *slots, int max);
/* The object a raw slot refers to (NULL for none or a tagged int), and
 * whether the slot owns a reference to it (3.14+: a tagged slot borrows). */
PyObject *tl_frames_slot_object(uintptr_t slot, int *owned);

/* Resolve one (code, offset) pair (GIL held): the function's name, its
 * file and the line, -1 when unknown.  Strings are malloc'd; NULL on
 * failure. */
void tl_frames_resolve(uintptr_t code, uintptr_t offset, char **function, char **file, int *line);
/* The same names, borrowed: UTF-8 the code object's strs hold (valid while
 * it lives; NULL on failure). */
void tl_frames_names(uintptr_t code, const char **function, const char **file);

#endif
