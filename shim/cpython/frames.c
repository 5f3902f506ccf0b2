/* Per-version frame walkers, from the offsets in layouts.inc. */
#include "frames.h"

#include <stdlib.h>
#include <string.h>

#include "api.h"

struct layout {
    int major, minor;
    int ts_frame, ts_cframe, cframe_current, frame_back, frame_code,
        frame_instr, frame_owner, owner_cstack, code_adaptive, instr_unit, gen_frame;
};

static const struct layout layouts[] = {
#define TL_LAYOUT(...) {__VA_ARGS__},
#include "layouts.inc"
#undef TL_LAYOUT
};

static const struct layout *L;

int tl_frames_init(int major, int minor)
{
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (layouts[i].major == major && layouts[i].minor == minor)
            L = &layouts[i];
    return L ? 0 : -1;
}

int tl_frames_code_adaptive(void)
{
    return L ? L->code_adaptive : -1;
}

static void *current_frame(void)
{
    char *ts = tl_py.PyThreadState_Get();
    if (L->ts_cframe >= 0) {
        char *cframe = TL_FIELD(ts, L->ts_cframe, char *);
        return cframe ? TL_FIELD(cframe, L->cframe_current, void *) : NULL;
    }
    return TL_FIELD(ts, L->ts_frame, void *);
}

/* The code and byte offset of one frame; 0 when it has no code object. */
static inline int read_frame(char *f, uintptr_t *pair)
{
    const struct layout *l = L;
    char *code = TL_FIELD(f, l->frame_code, char *);
    if (!code || TL_TYPE(code) != tl_py.CodeType)
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
    const int back = L->frame_back, owner = L->frame_owner, cstack = L->owner_cstack;
    int n = 0;
    for (char *f = current_frame(); f && n < max_frames; f = TL_FIELD(f, back, char *)) {
        if (cstack >= 0 && TL_FIELD(f, owner, char) == cstack)
            continue;
        n += read_frame(f, &words[2 * n]);
    }
    return n;
}

int tl_frames_of_generator(PyObject *gen, uintptr_t *pair)
{
    char *f = L->code_adaptive < 0 ? TL_FIELD(gen, L->gen_frame, char *) /* a frame object */
                                   : (char *)gen + L->gen_frame;      /* embedded */
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

void tl_frames_resolve(uintptr_t code, uintptr_t offset, struct tl_pyframe *out)
{
    PyObject *co = (PyObject *)code;
    out->function = attr_utf8(co, tl_py.minor >= 11 ? "co_qualname" : "co_name");
    out->file = attr_utf8(co, "co_filename");
    out->line = tl_py.PyCode_Addr2Line(co, (int)(intptr_t)offset);
}

void tl_resolved_stack_free(struct tl_resolved_stack *r)
{
    for (uint32_t i = 0; r && i < r->n; i++) {
        free(r->frames[i].function);
        free(r->frames[i].file);
    }
    free(r);
}
