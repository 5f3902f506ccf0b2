/* SPDX-License-Identifier: MIT */
/* Stacks, names and per-code facts, for the hooks and the collection. */
#include "hooks/capture.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/lock.h"
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
/* Resolving stacks to lines: most frames are shared by many stacks, so a
 * code object's names are read once (code -> index in `names`), and the
 * resolved stacks point to them (the code objects' own strings: the depot
 * keeps those objects for good); each line is looked up once (code and
 * offset -> line + 2).  Used under the GIL; the table has its own lock. */
static struct tl_memo names_of_code, line_of_frame;
#define NAMES_CHUNK 1024
static struct {
    struct tl_lock lock;
    struct code_names {
        const char *function, *file; /* the code object's own strs' UTF-8 */
    } **chunks; /* NAMES_CHUNK each: growing copies no names (one realloc of
                 * 32k of them took 0.7 ms of a collection's GIL hold) */
    uint32_t n, n_chunks;
} names = {.lock = TL_LOCK_INITIALIZER};

/* What a thread remembers of its last hooks, so that a task created where
 * the last one was costs comparisons only: per site, the last stack's frame
 * keys (only ever those of an interned stack, whose code objects the depot
 * keeps alive) and its id; the last coroutine name and cancel scope.  On
 * the heap, found through one TLS pointer (initial-exec TLS must stay
 * small); freed when the thread ends. */
struct last_stack {
    uint32_t id; /* 0: nothing remembered */
    struct tl_frame_keys keys;
};
struct thread_memory {
    struct last_stack stacks[TL_N_SITES];
    uintptr_t name_str; /* a str the names depot holds */
    uint32_t name_id;
    uint32_t scope_stack, scope;
    struct tl_frame_key keys[];
};
/* A walk passes over the interpreter's entry frames too: room for them. */
#define KEYS_PER_SITE(depth) (2 * (depth) + 16 + 1) /* + the sentinel */
static __thread struct thread_memory *mine __attribute__((tls_model("initial-exec")));
/* This thread's last native stack answer: a loop spawning from one place
 * takes no lock there (small: initial-exec TLS must fit the loader's
 * surplus). */
static __thread struct {
    uint32_t py, native;
} last_native __attribute__((tls_model("initial-exec")));
static pthread_key_t mine_key;
static int have_key;

static void forget_thread(void *memory)
{
    if (memory == mine)
        mine = NULL; /* a hook after this (thread teardown) starts afresh */
    free(memory);
}

static struct thread_memory *thread_memory(void)
{
    struct thread_memory *m = mine;
    if (__builtin_expect(m != NULL, 1))
        return m;
    int per_site = KEYS_PER_SITE(tl_opt.stack_depth);
    m = calloc(1, sizeof *m + (size_t)TL_N_SITES * per_site * sizeof m->keys[0]);
    if (!m)
        return NULL;
    for (int i = 0; i < TL_N_SITES; i++) {
        m->stacks[i].keys.key = m->keys + (size_t)i * per_site;
        m->stacks[i].keys.capacity = per_site;
    }
    if (have_key)
        pthread_setspecific(mine_key, m);
    return mine = m;
}

void tl_capture_init(void)
{
    tl_memo_init(&native_of_py);
    tl_memo_init(&scope_of_code);
    tl_memo_init(&library_code);
    tl_memo_init(&role_of_code);
    tl_memo_init(&names_of_code);
    tl_memo_init(&line_of_frame);
    if (!have_key)
        have_key = pthread_key_create(&mine_key, forget_thread) == 0;
}

void tl_capture_after_fork_child(void)
{
    /* The forking thread's memory is still right (the depots are kept), but
     * nothing a thread remembered outlives a fork. */
    last_native.py = 0;
    struct thread_memory *m = mine;
    if (!m)
        return;
    for (int i = 0; i < TL_N_SITES; i++)
        m->stacks[i].id = 0;
    m->name_str = 0;
    m->scope_stack = 0;
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
    return tl_capture_intern_py(words,
                                tl_frames_capture(tl_py.PyThreadState_Get(), words, depth, NULL));
}

/* The captures' slow paths are TL_COLD: what the hooks inline of them is
 * a few compares. */
TL_COLD static uint32_t capture_anew(void *ts, enum tl_capture_site site)
{
    struct thread_memory *m = thread_memory();
    if (!m)
        return tl_capture_py(tl_opt.stack_depth);
    struct last_stack *last = &m->stacks[site];
    uintptr_t words[2 * 256];
    int n = tl_frames_capture(ts, words, tl_opt.stack_depth, &last->keys);
    /* Remembered only once interned: the keys' code objects are then the
     * depot's, alive for good (id 0: out of memory, nothing remembered). */
    last->id = tl_capture_intern_py(words, n);
    return last->id;
}

TL_HOT uint32_t tl_capture_stack(void *ts, enum tl_capture_site site)
{
    struct thread_memory *m = mine;
    struct last_stack *last = m ? &m->stacks[site] : NULL;
    if (last && last->id && tl_frames_same(ts, &last->keys))
        return last->id;
    return capture_anew(ts, site);
}

/* The native stack under a given Python creation stack is the same from one
 * task to the next (the same C entry points lead to the same Python frames),
 * so it is unwound once per distinct Python stack. */
TL_COLD static uint32_t native_anew(uint32_t py)
{
    uint32_t id;
    if (!py || !tl_memo_get(&native_of_py, py, &id)) {
        uintptr_t ips[256];
        int is_new, n = tl_unwind_capture(ips, tl_opt.native_depth, 0);
        id = n ? tl_depot_put(&tl_native_stacks, ips, (uint32_t)n, &is_new) : 0;
        tl_memo_put(&native_of_py, py, id);
    }
    if (py) {
        last_native.py = py;
        last_native.native = id;
    }
    return id;
}

TL_HOT uint32_t tl_capture_native(uint32_t py)
{
    if (!tl_opt.native)
        return 0;
    if (py && last_native.py == py)
        return last_native.native;
    return native_anew(py);
}

TL_COLD static uint32_t name_anew(PyObject *str)
{
    struct thread_memory *m = thread_memory();
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
    if (m && id) { /* the depot holds the str: its address stays its own */
        m->name_str = (uintptr_t)str;
        m->name_id = id;
    }
    return id;
}

TL_HOT uint32_t tl_capture_name(PyObject *str)
{
    struct thread_memory *m = mine;
    if (m && str && m->name_str == (uintptr_t)str)
        return m->name_id;
    return str ? name_anew(str) : 0;
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

TL_HOT int tl_capture_scope_of_stack(uint32_t stack)
{
    struct thread_memory *m = thread_memory();
    if (m && stack && m->scope_stack == stack)
        return (int)m->scope;
    uint32_t n;
    const uintptr_t *w = tl_depot_get(&tl_py_stacks, stack, &n);
    int scope = w && n ? (int)code_fact(&scope_of_code, w[0], 0) : TL_SCOPE_NONE;
    if (m) {
        m->scope_stack = stack;
        m->scope = (uint32_t)scope;
    }
    return scope;
}

int tl_capture_code_role(uintptr_t code)
{
    return (int)code_fact(&role_of_code, code, 2);
}

int tl_capture_is_library_code(uintptr_t code)
{
    return (int)code_fact(&library_code, code, 1);
}

/* One more chunk for `names` (lock held); takes `chunk` (NULL: none). */
static void add_names_chunk(struct code_names *chunk)
{
    struct code_names **chunks =
        chunk ? realloc(names.chunks, (names.n_chunks + 1) * sizeof *chunks) : NULL;
    if (chunks) {
        chunks[names.n_chunks++] = chunk;
        names.chunks = chunks;
    } else {
        free(chunk);
    }
}

/* The names of a code object, read once: the UTF-8 of its own strs, which
 * live as long as it (the depot keeps it for good); resolved stacks share
 * them. */
static struct code_names names_of(uintptr_t code)
{
    uint32_t i;
    struct code_names cn = {NULL, NULL};
    if (tl_memo_get(&names_of_code, code, &i)) {
        tl_lock(&names.lock);
        cn = names.chunks[i / NAMES_CHUNK][i % NAMES_CHUNK];
        tl_unlock(&names.lock);
        return cn;
    }
    tl_frames_names(code, &cn.function, &cn.file);
    tl_lock(&names.lock);
    if (names.n == names.n_chunks * NAMES_CHUNK)
        add_names_chunk(malloc(NAMES_CHUNK * sizeof(struct code_names)));
    int stored = names.n < names.n_chunks * NAMES_CHUNK;
    if (stored) {
        i = names.n++;
        names.chunks[i / NAMES_CHUNK][i % NAMES_CHUNK] = cn;
    }
    tl_unlock(&names.lock);
    if (stored)
        tl_memo_put(&names_of_code, code, i);
    return cn;
}

/* One frame: the code's shared names, and its line (remembered per code
 * and offset: a shared frame's line is looked up once). */
static void resolve_frame(uintptr_t code, uintptr_t offset, struct tl_pyframe *f)
{
    struct code_names cn = names_of(code);
    f->function = cn.function;
    f->file = cn.file;
    /* code < 2^48 on x86_64 and aarch64: an offset below 2^16 fits above it */
    uintptr_t key = offset < 0xFFFF && code < ((uintptr_t)1 << 48) ? code | offset << 48 : 0;
    uint32_t line;
    if (key && tl_memo_get(&line_of_frame, key, &line)) {
        f->line = (int)line - 2;
        return;
    }
    f->line = tl_py.PyCode_Addr2Line((PyObject *)code, (int)(intptr_t)offset);
    if (key)
        tl_memo_put(&line_of_frame, key, (uint32_t)(f->line + 2));
}

/* Room for a resolved stack of `n` frames; `fault_in`: its pages touched
 * now (the caller can wait now and not later). */
static struct tl_resolved_stack *new_room(uint32_t n, int fault_in)
{
    size_t size = sizeof(struct tl_resolved_stack) + n * sizeof(struct tl_pyframe);
    struct tl_resolved_stack *r = malloc(size);
    if (r && fault_in)
        memset(r, 0, size);
    if (r)
        r->n = n;
    return r;
}

/* How many outermost frames two stacks (n and m frames) have in common. */
static uint32_t common_outer(const uintptr_t *w, uint32_t n, const uintptr_t *v, uint32_t m)
{
    uint32_t k = 0;
    while (k < n && k < m && w[2 * (n - 1 - k)] == v[2 * (m - 1 - k)] &&
           w[2 * (n - 1 - k) + 1] == v[2 * (m - 1 - k) + 1])
        k++;
    return k;
}

/* The tables' room for `frames` more frames' names and lines, allocated
 * and faulted in now. */
static void reserve(uint32_t frames)
{
    tl_memo_reserve(&names_of_code, frames);
    tl_memo_reserve(&line_of_frame, frames);
    tl_lock(&names.lock);
    uint32_t chunks = (names.n + frames + NAMES_CHUNK - 1) / NAMES_CHUNK, have = names.n_chunks;
    tl_unlock(&names.lock);
    for (double since = tl_now(); have < chunks; have++) { /* faulted in outside the lock */
        tl_give_way(&since);
        struct code_names *chunk = malloc(NAMES_CHUNK * sizeof *chunk);
        if (!chunk)
            return;
        memset(chunk, 0, NAMES_CHUNK * sizeof *chunk);
        tl_lock(&names.lock);
        add_names_chunk(chunk);
        tl_unlock(&names.lock);
    }
}

void tl_capture_prepare_resolve(uint32_t first, uint32_t n, struct tl_resolved_stack **rooms)
{
    const uintptr_t *prev = NULL;
    uint32_t prev_frames = 0, fresh = 0, last = tl_depot_count(&tl_py_stacks);
    double since = tl_now();
    for (uint32_t k = 0; k < n; k++) {
        tl_give_way(&since);
        uint32_t id = first + k, words = 0;
        const uintptr_t *w = id <= last && !tl_depot_resolved(&tl_py_stacks, id)
                                 ? tl_depot_get(&tl_py_stacks, id, &words) : NULL;
        if (!w)
            continue;
        if (!rooms[k]) { /* a room kept from before was counted then */
            if (!(rooms[k] = new_room(words / 2, 1)))
                continue;
            /* Frames it shares with the stack before it need no new entries. */
            fresh += words / 2 - (prev ? common_outer(w, words / 2, prev, prev_frames) : 0);
        }
        prev = w;
        prev_frames = words / 2;
    }
    if (fresh)
        reserve(fresh);
}

/* The last stack resolved (GIL held): stacks share their outer frames
 * (the program's main, the event loop's), which are copied from it rather
 * than looked up again (a look-up is a cache miss in a big table). */
static struct {
    const uintptr_t *w; /* its words in the depot, which keeps them */
    const struct tl_resolved_stack *r;
} last_resolved;

const struct tl_resolved_stack *tl_capture_resolve_in(uint32_t id, struct tl_resolved_stack *room)
{
    const struct tl_resolved_stack *done = tl_depot_resolved(&tl_py_stacks, id);
    uint32_t n;
    const uintptr_t *w = done ? NULL : tl_depot_get(&tl_py_stacks, id, &n);
    struct tl_resolved_stack *r = w && room && room->n == n / 2 ? room : NULL;
    if (r != room)
        free(room);
    if (!w)
        return done;
    if (!r && !(r = new_room(n / 2, 0)))
        return NULL;
    uint32_t shared = last_resolved.r ? common_outer(w, r->n, last_resolved.w, last_resolved.r->n) : 0;
    uint32_t own = r->n - shared;
    for (uint32_t i = 0; i < own; i++)
        resolve_frame(w[2 * i], w[2 * i + 1], &r->frames[i]);
    if (shared)
        memcpy(&r->frames[own], &last_resolved.r->frames[last_resolved.r->n - shared],
               shared * sizeof r->frames[0]);
    if (tl_depot_set_resolved(&tl_py_stacks, id, r) < 0) {
        tl_resolved_stack_free(r); /* the names are the table's */
        return tl_depot_resolved(&tl_py_stacks, id);
    }
    last_resolved.w = w;
    last_resolved.r = r;
    return r;
}

const struct tl_resolved_stack *tl_capture_resolve(uint32_t id)
{
    return tl_capture_resolve_in(id, NULL);
}
