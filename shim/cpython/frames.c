/* SPDX-License-Identifier: MIT */
/* Per-version frame walkers, from the offsets in layouts.inc. */
#include "cpython/frames.h"

#include <stdlib.h>
#include <string.h>

#include "cpython/api.h"
#include "cpython/hot.h"
#include "cpython/layout.h"
#include "cpython/version.h"

#define L tl_layout

/* The frame a thread state runs, or NULL. */
static void *current_frame(const char *ts)
{
    if (L->ts_cframe >= 0) {
        char *cframe = TL_FIELD(ts, L->ts_cframe, char *);
        return cframe ? TL_FIELD(cframe, L->cframe_current, void *) : NULL;
    }
    return TL_FIELD(ts, L->ts_frame, void *);
}

TL_HOT void *tl_frames_main_thread_state(void)
{
    /* The same for the life of the process; any thread may be first to ask
     * (subinterpreters have GILs of their own). */
    void *m = __atomic_load_n(&tl_py.main_interp, __ATOMIC_RELAXED);
    if (!m)
        __atomic_store_n(&tl_py.main_interp, m = tl_py.PyInterpreterState_Main(), __ATOMIC_RELAXED);
    void *ts = tl_py.PyThreadState_Get();
    return TL_FIELD(ts, L->ts_interp, void *) == m ? ts : NULL;
}

int tl_frames_in_main_interpreter(void)
{
    return tl_frames_main_thread_state() != NULL;
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

/* A frame's position as it is stored: 3.8-3.10 f_lasti, 3.11+ a pointer
 * into the code.  With the same code object, the same value is the same
 * offset, so a comparison needs no arithmetic. */
static inline uintptr_t frame_position(const struct tl_layout *l, const char *f)
{
    return l->code_adaptive < 0 ? (uintptr_t)(intptr_t)TL_FIELD(f, l->frame_instr, int)
                                : TL_FIELD(f, l->frame_instr, uintptr_t);
}

/* The executable of the interpreter's entry frames, the frames a walk
 * passes over (3.12: the "<interpreter trampoline>" code object, 3.13+:
 * None): alive as long as the interpreter, and never the code of a frame a
 * trace counts.  Learned from the first one, checked; 0 until then. */
static uintptr_t entry_exec;

static int is_entry_exec(uintptr_t raw)
{
    uintptr_t known = __atomic_load_n(&entry_exec, __ATOMIC_RELAXED);
    if (known)
        return raw == known;
    PyObject *obj = (PyObject *)(raw & ~(uintptr_t)L->stackref_mask);
    int ok = obj == tl_py.None;
    if (!ok && obj && TL_TYPE(obj) == tl_py.CodeType) {
        char *function, *file;
        int line;
        tl_frames_resolve((uintptr_t)obj, 0, &function, &file, &line);
        ok = function && !strcmp(function, "<interpreter trampoline>");
        free(function);
        free(file);
    }
    if (ok)
        __atomic_store_n(&entry_exec, raw, __ATOMIC_RELAXED);
    return ok;
}

int tl_frames_capture(void *ts, uintptr_t *words, int max_frames, struct tl_frame_keys *keys)
{
    /* The layout in locals, read once. */
    const int back = L->frame_back, owner = L->frame_owner, skip = L->owner_skip;
    int n = 0, k = 0, keep = keys != NULL;
    char *f = current_frame(ts);
    for (; f && n < max_frames; f = TL_FIELD(f, back, char *)) {
        int counted = !(skip >= 0 && TL_FIELD(f, owner, char) >= skip) && /* an entry frame */
                      read_frame(f, &words[2 * n]);
        if (keep) {
            /* Every frame walked, as stored: 3.14+ a tagged reference.  A
             * frame not counted may only be an entry frame. */
            uintptr_t raw = TL_FIELD(f, L->frame_code, uintptr_t);
            keep = k < keys->capacity - 1 && (counted || is_entry_exec(raw));
            if (keep)
                keys->key[k++] = (struct tl_frame_key){raw, frame_position(L, f), (uintptr_t)f};
        }
        n += counted;
    }
    if (keys) {
        if (keep)
            keys->key[k] = (struct tl_frame_key){0, 0, TL_NOT_A_FRAME};
        keys->n = keep ? k : -1;
        keys->whole = f == NULL;
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
    for (char *f = current_frame(ts); f && n < max_frames; f = TL_FIELD(f, back, char *)) {
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

/* The comparison walk, instantiated per shape of frame (the flags are
 * constants in each caller).  3.11+ compare the instruction pointer
 * alone: it points into the frame's code object (a trampoline's, a static
 * array), which the keys' depot keeps alive, so no other code has it.
 * 3.8-3.10 keep an offset, so the code too. */
#define FRAME_IS(f, key)                                                       \
    (lasti ? TL_FIELD(f, code_at, uintptr_t) == (key)->code &&                 \
                 (uintptr_t)(intptr_t)TL_FIELD(f, instr_at, int) == (key)->instr \
           : TL_FIELD(f, instr_at, uintptr_t) == (key)->instr)

/* Goes to `moved` when frame address f is not `at`: a branch the compiler
 * cannot reason from, or it would load through f (the `previous` just
 * loaded) where `at` was meant, and chain the loads again. */
#if defined(__x86_64__)
#define GOTO_IF_MOVED(f, at) \
    __asm__ goto("cmp %0, %1\n\tjne %l[moved]" : : "r"(f), "r"(at) : "cc" : moved)
#elif defined(__aarch64__)
#define GOTO_IF_MOVED(f, at) \
    __asm__ goto("cmp %0, %1\n\tb.ne %l[moved]" : : "r"(f), "r"(at) : "cc" : moved)
#else
#define GOTO_IF_MOVED(f, at)                                                   \
    do {                                                                       \
        uintptr_t moved_ = (uintptr_t)(f) ^ (uintptr_t)(at);                   \
        __asm__("" : "+r"(moved_));                                            \
        if (moved_)                                                            \
            goto moved;                                                        \
    } while (0)
#endif

static inline __attribute__((always_inline)) int same_walk(const char *f,
                                                           struct tl_frame_keys *keys,
                                                           int back, int code_at, int instr_at,
                                                           const int lasti)
{
    struct tl_frame_key *k = keys->key, *end = k + keys->n;
    /* While each frame is where it was the last time, its loads take the
     * remembered address, not the `previous` just loaded: the compare of
     * the two is predicted, so the frames' loads need not wait for one
     * another (a chain of dependent loads is most of a walk's time).  A
     * frame is read only once the link to it is checked. */
    for (;;) {
        const char *at;
        /* To the sentinel, where no frame is.  A do-while on the frame's
         * check (++k is never null) keeps the loop at 8 instructions. */
        do {
            at = (const char *)k->frame;
            GOTO_IF_MOVED(f, at);
            f = TL_FIELD(at, back, const char *);
        } while (FRAME_IS(at, k) && ++k);
        return 0;
    moved:
        if (k == end)
            break;
        /* A frame that moved (a coroutine's: each task has its own) is
         * read where it is; its callers are likely where they were. */
        if (!f || !FRAME_IS(f, k))
            return 0;
        k->frame = (uintptr_t)f;
        f = TL_FIELD(f, back, const char *);
        k++;
    }
    /* A trace cut at max_frames: the callers beyond do not matter.  One
     * that ended with the stack: so must this one. */
    return !keys->whole || f == NULL;
}
#undef GOTO_IF_MOVED
#undef FRAME_IS

TL_HOT int tl_frames_same(void *ts, struct tl_frame_keys *keys)
{
    const struct tl_layout *l = L;
    if (keys->n < 0)
        return 0;
    const char *f = current_frame(ts);
    const int lasti = l->code_adaptive < 0; /* 3.8-3.10: f_lasti */
    /* The walk is a chain of `previous` loads.  For the shapes the rows of
     * layouts.inc have, the offsets are constants in the instructions (a
     * cycle less a frame than an offset in a register); each shape is
     * taken only where this build's row has exactly its values. */
#define SHAPE(back, code, instr, is_lasti)                                     \
    (l->frame_back == (back) && l->frame_code == (code) && l->frame_instr == (instr) && \
     lasti == (is_lasti))
    if (SHAPE(8, 0, 56, 0)) /* 3.12 - 3.15 */
        return same_walk(f, keys, 8, 0, 56, 0);
    if (SHAPE(48, 32, 56, 0)) /* 3.11 */
        return same_walk(f, keys, 48, 32, 56, 0);
    if (SHAPE(24, 32, 104, 1)) /* 3.8, 3.9 */
        return same_walk(f, keys, 24, 32, 104, 1);
    if (SHAPE(24, 32, 96, 1)) /* 3.10 */
        return same_walk(f, keys, 24, 32, 96, 1);
#undef SHAPE
    if (lasti)
        return same_walk(f, keys, l->frame_back, l->frame_code, l->frame_instr, 1);
    return same_walk(f, keys, l->frame_back, l->frame_code, l->frame_instr, 0);
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

PyObject *tl_frames_generator_qualname(PyObject *obj)
{
    PyObject *type = TL_TYPE(obj);
    return type == tl_py.CoroType || type == tl_py.GenType
               ? TL_FIELD(obj, L->gen_qualname, PyObject *)
               : NULL;
}

int tl_frames_of_generator(PyObject *gen, uintptr_t *pair)
{
    char *f = generator_frame(gen);
    return f ? read_frame(f, pair) : 0;
}

/* A code object's str field (layouts.inc) as UTF-8, or NULL: the str's
 * own buffer, which lives as long as the str, hence as the code object. */
static const char *code_str(PyObject *co, int at)
{
    PyObject *s = TL_FIELD(co, at, PyObject *);
    const char *u = s ? tl_py.PyUnicode_AsUTF8(s) : NULL;
    if (!u)
        tl_py.PyErr_Clear();
    return u;
}

void tl_frames_names(uintptr_t code, const char **function, const char **file)
{
    *function = code_str((PyObject *)code, L->code_name);
    *file = code_str((PyObject *)code, L->code_filename);
}

void tl_frames_resolve(uintptr_t code, uintptr_t offset, char **function, char **file, int *line)
{
    const char *f, *n;
    tl_frames_names(code, &f, &n);
    *function = f ? strdup(f) : NULL;
    *file = n ? strdup(n) : NULL;
    *line = tl_py.PyCode_Addr2Line((PyObject *)code, (int)(intptr_t)offset);
}
