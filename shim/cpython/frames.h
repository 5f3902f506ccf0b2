/* Python stacks: a fast walk of the interpreter's own frame structs, and
 * resolution of (code, offset) pairs into names and lines at report time. */
#ifndef TL_FRAMES_H
#define TL_FRAMES_H

#include <stdint.h>

#include "api.h"

/* Select the layout of this interpreter; -1 when the version is unknown. */
int tl_frames_init(int major, int minor);

/* offsetof(PyCodeObject, co_code_adaptive) on 3.11+, else -1. */
int tl_frames_code_adaptive(void);

/* Walk the calling thread's frames (GIL held), innermost first, writing
 * (code object, byte offset) pairs: 2 words a frame.  Returns frames. */
int tl_frames_capture(uintptr_t *words, int max_frames);

/* The (code, offset) pair of a suspended coroutine or generator, read from
 * its own frame without materializing a frame object.  Returns 0 if none. */
int tl_frames_of_generator(PyObject *gen, uintptr_t *pair);

struct tl_pyframe {
    char *function, *file;
    int line; /* -1 when unknown */
};
/* Resolve one pair (GIL held).  Strings are malloc'd; NULL on failure. */
void tl_frames_resolve(uintptr_t code, uintptr_t offset, struct tl_pyframe *out);

/* A trace of the depot, resolved: the depot's `resolved` slot holds one. */
struct tl_resolved_stack {
    uint32_t n;
    struct tl_pyframe frames[];
};
void tl_resolved_stack_free(struct tl_resolved_stack *r);

#endif
