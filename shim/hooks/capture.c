/* SPDX-License-Identifier: MIT */
/* Stacks, names and per-code facts, for the hooks and the collection. */
#include "hooks/capture.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/memo.h"
#include "core/options.h"
#include "core/roles.h"
#include "core/scopes.h"
#include "core/unwind.h"
#include "cpython/frames.h"

/* Python stack id -> native stack id; code object -> scope (and whether
 * its cancels are asyncio.run's at shutdown); code object -> is library
 * code; code object -> role (roles.h).  The depots keep the code objects
 * alive. */
static struct tl_memo native_of_py, scope_of_code, library_code, role_of_code;

void tl_capture_init(void)
{
    tl_memo_init(&native_of_py);
    tl_memo_init(&scope_of_code);
    tl_memo_init(&library_code);
    tl_memo_init(&role_of_code);
}

uint32_t tl_capture_intern_py(const uintptr_t *words, int frames)
{
    int is_new;
    uint32_t id = tl_depot_put(&tl_py_stacks, words, (uint32_t)frames * 2, &is_new);
    if (is_new)
        for (int i = 0; i < frames; i++)
            tl_py.Py_IncRef((PyObject *)words[2 * i]);
    return id;
}

uint32_t tl_capture_py(int depth)
{
    uintptr_t words[2 * 256];
    return tl_capture_intern_py(words, tl_frames_capture(words, depth));
}

/* The native stack under a given Python creation stack is the same from one
 * task to the next (the same C entry points lead to the same Python frames),
 * so it is unwound once per distinct Python stack. */
uint32_t tl_capture_native(uint32_t py)
{
    /* This thread's last answer: a loop spawning from one place takes no
     * lock here (small: initial-exec TLS must fit the loader's surplus). */
    static __thread struct {
        uint32_t py, native;
    } last __attribute__((tls_model("initial-exec")));
    if (!tl_opt.native)
        return 0;
    if (py && last.py == py)
        return last.native;
    uint32_t id;
    if (!py || !tl_memo_get(&native_of_py, py, &id)) {
        uintptr_t ips[256];
        int is_new, n = tl_unwind_capture(ips, tl_opt.native_depth, 0);
        id = n ? tl_depot_put(&tl_native_stacks, ips, (uint32_t)n, &is_new) : 0;
        tl_memo_put(&native_of_py, py, id);
    }
    if (py) {
        last.py = py;
        last.native = id;
    }
    return id;
}

uint32_t tl_capture_name(PyObject *str)
{
    if (!str)
        return 0;
    int is_new;
    uintptr_t w = (uintptr_t)str;
    uint32_t id = tl_depot_put(&tl_names, &w, 1, &is_new);
    if (is_new) {
        tl_py.Py_IncRef(str);
        const char *u = tl_py.PyUnicode_AsUTF8(str);
        char *text = u ? strdup(u) : NULL;
        if (!u)
            tl_py.PyErr_Clear();
        if (text && tl_depot_set_resolved(&tl_names, id, text) < 0)
            free(text);
    }
    return id;
}

/* What a code object's file says, computed once per code object: `which`
 * is 0 for its scope (scopes.h) with TL_CAPTURE_AT_SHUTDOWN, 1 for whether
 * it is library code, 2 for its role (roles.h). */
static uint32_t code_fact(struct tl_memo *memo, uintptr_t code, int which)
{
    uint32_t fact;
    if (tl_memo_get(memo, code, &fact))
        return fact;
    char *function, *file;
    int line;
    tl_frames_resolve(code, 0, &function, &file, &line);
    if (which == 1) {
        fact = (uint32_t)tl_scope_is_library(file);
    } else if (which == 2) {
        fact = (uint32_t)tl_role_of(file, function);
    } else {
        enum tl_code_role role = tl_role_of(file, function);
        fact = (uint32_t)tl_scope_classify(file, function) |
               (role == TL_ROLE_CANCEL_ALL || role == TL_ROLE_RUNNER_SIGINT ? TL_CAPTURE_AT_SHUTDOWN
                                                                            : 0);
    }
    free(function);
    free(file);
    tl_memo_put(memo, code, fact);
    return fact;
}

int tl_capture_scope_of_stack(uint32_t stack)
{
    uint32_t n;
    const uintptr_t *w = tl_depot_get(&tl_py_stacks, stack, &n);
    return w && n ? (int)code_fact(&scope_of_code, w[0], 0) : TL_SCOPE_NONE;
}

int tl_capture_code_role(uintptr_t code)
{
    return (int)code_fact(&role_of_code, code, 2);
}

int tl_capture_is_library_code(uintptr_t code)
{
    return (int)code_fact(&library_code, code, 1);
}

const struct tl_resolved_stack *tl_capture_resolve(uint32_t id)
{
    const struct tl_resolved_stack *done = tl_depot_resolved(&tl_py_stacks, id);
    uint32_t n;
    const uintptr_t *w = done ? NULL : tl_depot_get(&tl_py_stacks, id, &n);
    if (!w)
        return done;
    struct tl_resolved_stack *r = calloc(1, sizeof *r + (n / 2) * sizeof r->frames[0]);
    if (!r)
        return NULL;
    r->n = n / 2;
    for (uint32_t i = 0; i < r->n; i++) {
        struct tl_pyframe *f = &r->frames[i];
        tl_frames_resolve(w[2 * i], w[2 * i + 1], &f->function, &f->file, &f->line);
    }
    if (tl_depot_set_resolved(&tl_py_stacks, id, r) < 0) {
        tl_resolved_stack_free(r);
        return tl_depot_resolved(&tl_py_stacks, id);
    }
    return r;
}
