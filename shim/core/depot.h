/* SPDX-License-Identifier: MIT */
/* Stack depot: interns traces (arrays of words) and hands out u32 ids, so a
 * million tasks created at one site cost one stack.  Thread-safe. */
#ifndef TL_DEPOT_H
#define TL_DEPOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/lock.h"

struct tl_depot_entry;

struct tl_depot {
    struct tl_lock lock;
    struct tl_depot_entry **chunks; /* of ENTRY_CHUNK entries: index = id - 1 */
    uint32_t count, nchunks;
    uint32_t *buckets; /* entry index + 1, chained through entries */
    uint32_t nbuckets;
    /* The buckets before the last growth, moved to `buckets` a few a put:
     * those below `moved` are done. */
    uint32_t *old_buckets;
    uint32_t old_nbuckets, moved;
    uintptr_t *arena;  /* current chunk of trace words */
    size_t arena_used, arena_size;
    size_t bytes; /* malloc'd by the depot: entries, buckets, arena chunks */
};

void tl_depot_init(struct tl_depot *d);

/* Intern `n` words.  Returns the id (>= 1), or 0 when out of memory.
 * `*is_new` is set when this call stored the trace. */
uint32_t tl_depot_put(struct tl_depot *d, const uintptr_t *words, uint32_t n,
                      int *is_new);

/* The words of `id` (stable for the life of the process); NULL if unknown. */
const uintptr_t *tl_depot_get(struct tl_depot *d, uint32_t id, uint32_t *n);

/* A per-trace slot for whoever resolves traces into names (lines, symbols):
 * set once, then read without further synchronisation by the caller. */
void *tl_depot_resolved(struct tl_depot *d, uint32_t id);
/* Returns 0 when stored, -1 when a value was already there (keep yours). */
int tl_depot_set_resolved(struct tl_depot *d, uint32_t id, void *resolved);

uint32_t tl_depot_count(struct tl_depot *d);
/* The bytes the depot allocated (entries, buckets, trace words; not what
 * resolvers hang on the `resolved` slots). */
size_t tl_depot_bytes(struct tl_depot *d);

/* A Python trace of a depot, resolved to names and lines: the depot's
 * `resolved` slot holds one (capture.c fills it, the report reads it).  The
 * names are not the stack's own: they are the code objects' (kept for good
 * by the depot), shared by every stack through that code. */
struct tl_pyframe {
    const char *function, *file;
    int line; /* -1 when unknown */
};
struct tl_resolved_stack {
    uint32_t n;
    struct tl_pyframe frames[];
};
void tl_resolved_stack_free(struct tl_resolved_stack *r); /* not its names */

/* Free everything (tests; the process's own depots live until exit). */
void tl_depot_destroy(struct tl_depot *d);

#endif
