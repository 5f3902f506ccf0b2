/* SPDX-License-Identifier: MIT */
/* The comparison walk (tl_frames_same) against the keys a capture wrote,
 * over synthetic frames laid out as each shape of layouts.inc says: the
 * end mark, moved frames, a stack grown or cut, a changed position. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "cpython/api.h"
#include "cpython/frames.h"
#include "cpython/layout.h"

#define NFRAMES 4
#define FRAME_BYTES 256

/* A stand-in code type and code objects: frames' code is checked by type. */
static _Alignas(16) char code_type[64];
static _Alignas(16) char codes[NFRAMES][512];

struct stack {
    _Alignas(16) char ts[256];
    _Alignas(16) char cframe[64];
    _Alignas(16) char frame[NFRAMES][FRAME_BYTES];
};

/* Frame i runs codes[i] at byte offset 2 * (i + 1) + bump. */
static void set_position(const struct tl_layout *l, char *f, int i, int bump)
{
    int offset = 2 * (i + 1) + bump;
    if (l->code_adaptive < 0)
        TL_FIELD(f, l->frame_instr, int) = offset / l->instr_unit;
    else
        TL_FIELD(f, l->frame_instr, char *) = codes[i] + l->code_adaptive + offset;
}

/* The thread state's innermost frame. */
static void point(const struct tl_layout *l, struct stack *s, char *f)
{
    if (l->ts_cframe >= 0)
        TL_FIELD(s->cframe, l->cframe_current, char *) = f;
    else
        TL_FIELD(s->ts, l->ts_frame, char *) = f;
}

/* ts -> frame[0] (innermost) -> ... -> frame[n - 1] -> NULL. */
static void build(const struct tl_layout *l, struct stack *s, int n)
{
    memset(s, 0, sizeof *s);
    if (l->ts_cframe >= 0) {
        TL_FIELD(s->ts, l->ts_cframe, char *) = s->cframe;
        TL_FIELD(s->cframe, l->cframe_current, char *) = s->frame[0];
    } else {
        TL_FIELD(s->ts, l->ts_frame, char *) = s->frame[0];
    }
    for (int i = 0; i < n; i++) {
        char *f = s->frame[i];
        /* 3.14+: a tagged reference (the low bit), which a walk must mask. */
        TL_FIELD(f, l->frame_code, uintptr_t) = (uintptr_t)codes[i] | (l->stackref_mask & 1);
        set_position(l, f, i, 0);
        TL_FIELD(f, l->frame_back, char *) = i + 1 < n ? s->frame[i + 1] : NULL;
    }
}

/* Captures, and checks the trace: each frame's code object (untagged) and
 * byte offset. */
static int capture(struct stack *s, struct tl_frame_keys *keys, int max_frames)
{
    uintptr_t words[2 * 32];
    int n = tl_frames_capture(s->ts, words, max_frames, keys);
    for (int i = 0; i < n && i < NFRAMES; i++)
        CHECK(words[2 * i] == (uintptr_t)codes[i] && words[2 * i + 1] == (uintptr_t)(2 * (i + 1)));
    return n;
}

static void check_shape(int minor)
{
    const struct tl_layout *l = tl_layout_find(3, minor, 0);
    CHECK(l != NULL);
    if (!l)
        return;
    tl_layout = l;
    static struct stack a, b;
    struct tl_frame_key store[16];
    struct tl_frame_keys keys = {.capacity = 16, .key = store};

    build(l, &a, NFRAMES);
    CHECK(capture(&a, &keys, 32) == NFRAMES);
    CHECK(keys.n == NFRAMES && keys.whole);
    CHECK(store[NFRAMES].frame == TL_NOT_A_FRAME); /* the end mark */
    CHECK(tl_frames_same(a.ts, &keys));

    /* A changed position, innermost and outermost (the last key before
     * the end mark). */
    set_position(l, a.frame[0], 0, 2);
    CHECK(!tl_frames_same(a.ts, &keys));
    set_position(l, a.frame[0], 0, 0);
    set_position(l, a.frame[NFRAMES - 1], NFRAMES - 1, 2);
    CHECK(!tl_frames_same(a.ts, &keys));
    set_position(l, a.frame[NFRAMES - 1], NFRAMES - 1, 0);
    CHECK(tl_frames_same(a.ts, &keys));

    /* The stack ended there: one more caller, or one fewer, is another. */
    build(l, &b, 1);
    TL_FIELD(a.frame[NFRAMES - 1], l->frame_back, char *) = b.frame[0];
    CHECK(!tl_frames_same(a.ts, &keys));
    TL_FIELD(a.frame[NFRAMES - 1], l->frame_back, char *) = NULL;
    TL_FIELD(a.frame[NFRAMES - 2], l->frame_back, char *) = NULL;
    CHECK(!tl_frames_same(a.ts, &keys));
    TL_FIELD(a.frame[NFRAMES - 2], l->frame_back, char *) = a.frame[NFRAMES - 1];
    CHECK(tl_frames_same(a.ts, &keys));

    /* The same frames at other addresses: the same stack, and the keys
     * learn where they are now. */
    build(l, &b, NFRAMES);
    CHECK(tl_frames_same(b.ts, &keys));
    CHECK(store[0].frame == (uintptr_t)b.frame[0] &&
          store[NFRAMES - 1].frame == (uintptr_t)b.frame[NFRAMES - 1]);
    CHECK(store[NFRAMES].frame == TL_NOT_A_FRAME);
    CHECK(tl_frames_same(b.ts, &keys));
    set_position(l, b.frame[1], 1, 2);
    CHECK(!tl_frames_same(b.ts, &keys));

    /* Only the innermost frame moved (a coroutine's: each task has its
     * own), its callers did not: the walk takes their remembered addresses
     * again, and still checks each of them. */
    build(l, &a, NFRAMES);
    CHECK(capture(&a, &keys, 32) == NFRAMES);
    build(l, &b, 1);
    TL_FIELD(b.frame[0], l->frame_back, char *) = a.frame[1];
    point(l, &a, b.frame[0]);
    CHECK(tl_frames_same(a.ts, &keys));
    CHECK(store[0].frame == (uintptr_t)b.frame[0] && store[1].frame == (uintptr_t)a.frame[1]);
    set_position(l, a.frame[2], 2, 2);
    CHECK(!tl_frames_same(a.ts, &keys));
    set_position(l, a.frame[2], 2, 0);
    /* ...and one further out moved too. */
    memcpy(b.frame[1], a.frame[2], FRAME_BYTES);
    TL_FIELD(a.frame[1], l->frame_back, char *) = b.frame[1];
    CHECK(tl_frames_same(a.ts, &keys));
    CHECK(store[2].frame == (uintptr_t)b.frame[1] && store[3].frame == (uintptr_t)a.frame[3]);
    set_position(l, a.frame[3], 3, 2);
    CHECK(!tl_frames_same(a.ts, &keys));

    /* A trace cut at max_frames: what lies beyond does not matter. */
    build(l, &a, NFRAMES);
    CHECK(capture(&a, &keys, 2) == 2);
    CHECK(keys.n == 2 && !keys.whole && store[2].frame == TL_NOT_A_FRAME);
    set_position(l, a.frame[2], 2, 2);
    CHECK(tl_frames_same(a.ts, &keys));
    set_position(l, a.frame[1], 1, 2);
    CHECK(!tl_frames_same(a.ts, &keys));

    /* No room for the end mark: not comparable, never "the same". */
    build(l, &a, NFRAMES);
    keys.capacity = NFRAMES;
    CHECK(capture(&a, &keys, 32) == NFRAMES);
    CHECK(keys.n == -1 && !tl_frames_same(a.ts, &keys));
}

int main(void)
{
    TL_FIELD(code_type, TL_OFF_OB_TYPE, char *) = code_type;
    for (int i = 0; i < NFRAMES; i++)
        TL_FIELD(codes[i], TL_OFF_OB_TYPE, char *) = code_type;
    tl_py.CodeType = (PyObject *)code_type;
    /* One version of each shape tl_frames_same specialises. */
    static const int minors[] = {8, 10, 11, 12, 13, 14, 15};
    for (size_t i = 0; i < sizeof minors / sizeof minors[0]; i++)
        check_shape(minors[i]);
    return check_summary("frames");
}
