/* SPDX-License-Identifier: MIT */
/* Per-version frame walkers, from the offsets in layouts.inc. */
#include "cpython/frames.h"

#include <stdlib.h>
#include <string.h>

#include "cpython/api.h"
#include "cpython/layout.h"
#include "cpython/version.h"

#define L tl_layout

/* The frame a thread state runs, or NULL. */
static inline void *thread_frame(char *ts)
{
    if (L->ts_cframe >= 0) {
        char *cframe = TL_FIELD(ts, L->ts_cframe, char *);
        return cframe ? TL_FIELD(cframe, L->cframe_current, void *) : NULL;
    }
    return TL_FIELD(ts, L->ts_frame, void *);
}

static void *current_frame(void)
{
    return thread_frame(tl_py.PyThreadState_Get());
}

int tl_frames_in_main_interpreter(void)
{
    static void *main_interp; /* the same for the life of the process */
    void *m = __atomic_load_n(&main_interp, __ATOMIC_RELAXED);
    if (!m) /* any thread may be first: subinterpreters have GILs of their own */
        __atomic_store_n(&main_interp, m = tl_py.PyInterpreterState_Main(), __ATOMIC_RELAXED);
    void *ts = tl_py.PyThreadState_Get();
    return TL_FIELD(ts, L->ts_interp, void *) == m;
}

/* A frame's code object, or NULL (3.14+: f_executable is a tagged stackref). */
static inline char *frame_code(const struct tl_layout *l, const char *f)
{
    char *code = (char *)(TL_FIELD(f, l->frame_code, uintptr_t) & ~(uintptr_t)l->stackref_mask);
    return code && TL_TYPE(code) == tl_py.CodeType ? code : NULL;
}

/* A suspended (or not yet started) coroutine's or generator's own frame;
 * NULL once it returned or was closed: its frame then tells where it ended,
 * not where it waited. */
static char *generator_frame(PyObject *gen)
{
    if (L->gen_state >= 0 && TL_FIELD(gen, L->gen_state, int8_t) >= L->gen_finished)
        return NULL;
    return L->code_adaptive < 0 ? TL_FIELD(gen, L->gen_frame, char *) /* a frame object */
                                : (char *)gen + L->gen_frame;      /* embedded */
}

/* The code and byte offset of one frame; 0 when it has no code object. */
static inline int read_frame(char *f, uintptr_t *pair)
{
    const struct tl_layout *l = L;
    char *code = frame_code(l, f);
    if (!code)
        return 0;
    intptr_t offset;
    if (l->code_adaptive < 0)
        offset = (intptr_t)TL_FIELD(f, l->frame_instr, int) * l->instr_unit;
    else
        offset = TL_FIELD(f, l->frame_instr, char *) - (code + l->code_adaptive);
    if (offset < 0) /* not started: PyCode_Addr2Line gives co_firstlineno */
        offset = -1;
    pair[0] = (uintptr_t)code;
    pair[1] = (uintptr_t)offset;
    return 1;
}

int tl_frames_capture(uintptr_t *words, int max_frames)
{
    /* The hot loop: the layout in locals, read once. */
    const int back = L->frame_back, owner = L->frame_owner, skip = L->owner_skip;
    int n = 0;
    for (char *f = current_frame(); f && n < max_frames; f = TL_FIELD(f, back, char *)) {
        if (skip >= 0 && TL_FIELD(f, owner, char) >= skip)
            continue; /* an entry frame: no Python code of its own */
        n += read_frame(f, &words[2 * n]);
    }
    return n;
}

unsigned long tl_frames_thread_ident(void *ts)
{
    return TL_FIELD(ts, L->ts_thread_id, unsigned long);
}

long tl_frames_thread_native_id(void *ts)
{
    return L->ts_native_id >= 0 ? (long)TL_FIELD(ts, L->ts_native_id, unsigned long) : -1;
}

/* A frame's first local variable (borrowed), or NULL. */
static PyObject *first_local(const char *f, const char *code)
{
    if (TL_FIELD(code, L->code_nlocals, int) < 1)
        return NULL;
    return (PyObject *)(TL_FIELD(f, L->frame_locals, uintptr_t) & ~(uintptr_t)L->stackref_mask);
}

int tl_frames_capture_thread(void *ts, uintptr_t *words, PyObject **first_locals, int max_frames)
{
    const int back = L->frame_back, owner = L->frame_owner, skip = L->owner_skip;
    int n = 0;
    for (char *f = thread_frame(ts); f && n < max_frames; f = TL_FIELD(f, back, char *)) {
        if (skip >= 0 && TL_FIELD(f, owner, char) >= skip)
            continue;
        if (!read_frame(f, &words[2 * n]))
            continue;
        if (first_locals)
            first_locals[n] = first_local(f, (const char *)words[2 * n]);
        n++;
    }
    return n;
}

int tl_frames_locals_of_generator(PyObject *gen, PyObject **code, PyObject **values, int max)
{
    char *f = generator_frame(gen);
    char *co = f ? frame_code(L, f) : NULL;
    if (!co)
        return 0;
    int n = TL_FIELD(co, L->code_nlocals, int), out = 0;
    *code = (PyObject *)co;
    for (int i = 0; i < n && out < max; i++) {
        uintptr_t v = TL_FIELD(f, L->frame_locals + i * (int)sizeof(void *), uintptr_t);
        values[out++] = (PyObject *)(v & ~(uintptr_t)L->stackref_mask); /* NULL: unbound */
    }
    return out;
}

/* Where a suspended frame's value stack begins and ends; 0 when it cannot
 * be read (the frame runs: its saved top is stale). */
static int value_stack(PyObject *gen, char *f, char *code, char **base, char **top)
{
    const struct tl_layout *l = L;
    if (l->gen_state >= 0 && TL_FIELD(gen, l->gen_state, int8_t) >= l->gen_executing)
        return 0;
    if (l->frame_state >= 0 && TL_FIELD(f, l->frame_state, int8_t) >= l->gen_executing)
        return 0;
    char *locals_end = f + l->frame_locals + TL_FIELD(code, l->code_nlocals, int) * sizeof(void *);
    *base = l->frame_stack >= 0 ? TL_FIELD(f, l->frame_stack, char *) : locals_end;
    switch (l->stacktop_kind) {
    case 0: /* a pointer past the top (NULL while it runs, 3.8-3.9) */
        *top = TL_FIELD(f, l->frame_stacktop, char *);
        break;
    case 1: /* slots above the base */
        *top = *base + TL_FIELD(f, l->frame_stacktop, int) * sizeof(void *);
        break;
    default: /* slots above the locals' start, the locals included */
        *top = f + l->frame_locals + TL_FIELD(f, l->frame_stacktop, int) * sizeof(void *);
        break;
    }
    return *base && *top && *top >= *base && *top - *base < (ptrdiff_t)(4096 * sizeof(void *));
}

int tl_frames_slots_of_generator(PyObject *gen, enum tl_slots which, PyObject **code,
                                 uintptr_t *slots, int max)
{
    char *f = generator_frame(gen);
    char *co = f ? frame_code(L, f) : NULL;
    if (!co)
        return 0;
    *code = (PyObject *)co;
    char *base = f + L->frame_locals, *top;
    if (which == TL_SLOTS_LOCALS)
        top = base + TL_FIELD(co, L->code_nlocals, int) * sizeof(void *);
    else if (!value_stack(gen, f, co, &base, &top))
        return 0;
    int n = 0;
    for (char *p = base; p < top && n < max; p += sizeof(void *))
        slots[n++] = *(uintptr_t *)p;
    return n;
}

PyObject *tl_frames_slot_object(uintptr_t slot, int *owned)
{
    uintptr_t mask = (uintptr_t)L->stackref_mask;
    *owned = !(slot & mask);
    /* 3.14+: both tag bits set is a tagged int, not an object. */
    if (mask && (slot & mask) == mask)
        return NULL;
    return (PyObject *)(slot & ~mask);
}

enum tl_handler tl_frames_handler(PyObject *code, long offset)
{
    if (!tl_caps.monitoring)
        return TL_HANDLER_NONE;
    const unsigned char *instr = (const unsigned char *)code + L->code_adaptive + offset;
    if (instr[0] != L->op_push_exc_info)
        return TL_HANDLER_NONE; /* the await machinery's own cleanup */
    return instr[2] == L->op_with_except_start ? TL_HANDLER_WITH : TL_HANDLER_EXCEPT;
}

int tl_frames_of_generator(PyObject *gen, uintptr_t *pair)
{
    char *f = generator_frame(gen);
    return f ? read_frame(f, pair) : 0;
}

static char *attr_utf8(PyObject *obj, const char *name)
{
    PyObject *v = tl_py.PyObject_GetAttrString(obj, name);
    if (!v) {
        tl_py.PyErr_Clear();
        return NULL;
    }
    const char *s = tl_py.PyUnicode_AsUTF8(v);
    char *copy = s ? strdup(s) : NULL;
    if (!s)
        tl_py.PyErr_Clear();
    tl_py.Py_DecRef(v);
    return copy;
}

void tl_frames_resolve(uintptr_t code, uintptr_t offset, char **function, char **file, int *line)
{
    PyObject *co = (PyObject *)code;
    *function = attr_utf8(co, tl_caps.qualname ? "co_qualname" : "co_name");
    *file = attr_utf8(co, "co_filename");
    *line = tl_py.PyCode_Addr2Line(co, (int)(intptr_t)offset);
}
