/* SPDX-License-Identifier: MIT */
/* Stack depot: hash of traces into an append-only arena. */
#include "core/depot.h"

#include <stdlib.h>
#include <string.h>

struct tl_depot_entry {
    uint64_t hash;
    const uintptr_t *words;
    uint32_t n;
    uint32_t next; /* entry index + 1 of the next in the bucket */
    void *resolved;
};

#define ARENA_WORDS (64 * 1024)
/* Entries come in chunks that never move: a new one costs a malloc, not a
 * copy of all the others on the thread that spawns a task (512 KiB at
 * 16,384 stacks). */
#define ENTRY_CHUNK 1024

static struct tl_depot_entry *entry(const struct tl_depot *d, uint32_t index)
{
    return &d->chunks[index / ENTRY_CHUNK][index % ENTRY_CHUNK];
}

void tl_depot_init(struct tl_depot *d)
{
    memset(d, 0, sizeof *d);
    d->lock = (struct tl_lock)TL_LOCK_INITIALIZER;
}

/* Four independent multiply chains (the hot path hashes ~50 words a task),
 * in registers, folded at the end. */
static uint64_t hash_words(const uintptr_t *w, uint32_t n)
{
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    uint64_t a = n, b = 0x243F6A8885A308D3ull, c = 0x13198A2E03707344ull,
             d = 0xA4093822299F31D0ull;
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a = (a ^ (uint64_t)w[i]) * k;
        b = (b ^ (uint64_t)w[i + 1]) * k;
        c = (c ^ (uint64_t)w[i + 2]) * k;
        d = (d ^ (uint64_t)w[i + 3]) * k;
    }
    for (; i < n; i++)
        a = (a ^ (uint64_t)w[i]) * k;
    uint64_t h = a ^ (b >> 7) ^ (c << 11) ^ (d >> 17);
    h ^= h >> 31;
    return h * k;
}

/* Buckets grow without a pause: the new array takes the chains of the old
 * one MOVE_PER_PUT buckets a put, done long before the next growth (which
 * is `nbuckets` inserts away).  A rehash at once took 1.8 ms at 65,536
 * stacks, on the thread that spawns a task. */
#define MOVE_PER_PUT 8

static void move_buckets(struct tl_depot *d, uint32_t n)
{
    for (; n && d->old_buckets; n--) {
        for (uint32_t i = d->old_buckets[d->moved]; i;) {
            struct tl_depot_entry *e = entry(d, i - 1);
            uint32_t next = e->next, slot = (uint32_t)(e->hash & (d->nbuckets - 1));
            e->next = d->buckets[slot];
            d->buckets[slot] = i;
            i = next;
        }
        if (++d->moved == d->old_nbuckets) {
            free(d->old_buckets);
            d->old_buckets = NULL;
        }
    }
}

/* The chain where hash `h` is: the new array's, or the old one's until
 * its bucket has moved. */
static uint32_t *bucket_of(struct tl_depot *d, uint64_t h)
{
    if (d->old_buckets) {
        uint32_t old = (uint32_t)(h & (d->old_nbuckets - 1));
        if (old >= d->moved)
            return &d->old_buckets[old];
    }
    return &d->buckets[h & (d->nbuckets - 1)];
}

static int grow_buckets(struct tl_depot *d)
{
    move_buckets(d, UINT32_MAX); /* the last growth's, if not yet done */
    uint32_t nb = d->nbuckets ? d->nbuckets * 2 : 1024;
    uint32_t *b = calloc(nb, sizeof *b);
    if (!b)
        return -1;
    d->old_buckets = d->buckets;
    d->old_nbuckets = d->nbuckets;
    d->moved = 0;
    d->bytes += (size_t)(nb - d->nbuckets) * sizeof *b;
    d->buckets = b;
    d->nbuckets = nb;
    return 0;
}

static const uintptr_t *store_words(struct tl_depot *d, const uintptr_t *w,
                                    uint32_t n)
{
    if (!d->arena || d->arena_used + n > d->arena_size) {
        size_t size = n > ARENA_WORDS ? n : ARENA_WORDS;
        uintptr_t *chunk = malloc((size + 1) * sizeof *chunk);
        if (!chunk)
            return NULL;
        chunk[0] = (uintptr_t)d->arena; /* old chunks stay: ids point into them */
        d->bytes += (size_t)(size + 1) * sizeof *chunk;
        d->arena = chunk + 1;
        d->arena_used = 0;
        d->arena_size = size;
    }
    uintptr_t *dst = d->arena + d->arena_used;
    memcpy(dst, w, n * sizeof *w);
    d->arena_used += n;
    return dst;
}

static uint32_t insert(struct tl_depot *d, uint64_t h, const uintptr_t *w,
                       uint32_t n)
{
    if (d->count == UINT32_MAX - 1)
        return 0;
    if (d->count >= d->nbuckets && grow_buckets(d) < 0)
        return 0;
    if (d->count == d->nchunks * ENTRY_CHUNK) {
        struct tl_depot_entry *chunk = malloc(ENTRY_CHUNK * sizeof *chunk);
        struct tl_depot_entry **chunks =
            chunk ? realloc(d->chunks, (d->nchunks + 1) * sizeof *chunks) : NULL;
        if (!chunks) {
            free(chunk);
            return 0;
        }
        chunks[d->nchunks++] = chunk;
        d->chunks = chunks;
        d->bytes += ENTRY_CHUNK * sizeof *chunk + sizeof *chunks;
    }
    const uintptr_t *stored = store_words(d, w, n);
    if (!stored)
        return 0;
    uint32_t *bucket = bucket_of(d, h);
    *entry(d, d->count) = (struct tl_depot_entry){h, stored, n, *bucket, NULL};
    *bucket = ++d->count;
    return d->count;
}

/* A small per-thread cache of recent traces: a task spawned where the last
 * ones were finds its id without the lock.  Stored words never move. */
#define CACHE_SLOTS 16 /* small: initial-exec TLS must fit the loader's static surplus */
static __thread struct cached {
    const struct tl_depot *depot;
    uint64_t hash;
    const uintptr_t *words;
    uint32_t n, id;
} cache[CACHE_SLOTS] __attribute__((tls_model("initial-exec")));

uint32_t tl_depot_put(struct tl_depot *d, const uintptr_t *w, uint32_t n,
                      int *is_new)
{
    uint64_t h = hash_words(w, n);
    uint32_t id = 0;
    *is_new = 0;
    struct cached *c = &cache[h % CACHE_SLOTS];
    if (c->depot == d && c->hash == h && c->n == n && !memcmp(c->words, w, n * sizeof *w))
        return c->id;
    tl_lock(&d->lock);
    move_buckets(d, MOVE_PER_PUT);
    if (d->nbuckets) {
        for (uint32_t i = *bucket_of(d, h); i; i = entry(d, i - 1)->next) {
            const struct tl_depot_entry *e = entry(d, i - 1);
            if (e->hash == h && e->n == n && !memcmp(e->words, w, n * sizeof *w)) {
                id = i;
                break;
            }
        }
    }
    if (!id) {
        id = insert(d, h, w, n);
        *is_new = id != 0;
    }
    if (id)
        *c = (struct cached){d, h, entry(d, id - 1)->words, n, id};
    tl_unlock(&d->lock);
    return id;
}

const uintptr_t *tl_depot_get(struct tl_depot *d, uint32_t id, uint32_t *n)
{
    const uintptr_t *w = NULL;
    tl_lock(&d->lock);
    if (id >= 1 && id <= d->count) {
        w = entry(d, id - 1)->words;
        *n = entry(d, id - 1)->n;
    }
    tl_unlock(&d->lock);
    return w;
}

void *tl_depot_resolved(struct tl_depot *d, uint32_t id)
{
    void *r = NULL;
    tl_lock(&d->lock);
    if (id >= 1 && id <= d->count)
        r = entry(d, id - 1)->resolved;
    tl_unlock(&d->lock);
    return r;
}

int tl_depot_set_resolved(struct tl_depot *d, uint32_t id, void *resolved)
{
    int rc = -1;
    tl_lock(&d->lock);
    if (id >= 1 && id <= d->count && !entry(d, id - 1)->resolved) {
        entry(d, id - 1)->resolved = resolved;
        rc = 0;
    }
    tl_unlock(&d->lock);
    return rc;
}

void tl_depot_destroy(struct tl_depot *d)
{
    for (int i = 0; i < CACHE_SLOTS; i++) /* this thread's; tests use one */
        if (cache[i].depot == d)
            cache[i].depot = NULL;
    for (uintptr_t *chunk = d->arena; chunk;) {
        uintptr_t *prev = (uintptr_t *)chunk[-1];
        free(chunk - 1);
        chunk = prev;
    }
    for (uint32_t i = 0; i < d->nchunks; i++)
        free(d->chunks[i]);
    free(d->chunks);
    free(d->buckets);
    free(d->old_buckets);
    memset(d, 0, sizeof *d);
}

uint32_t tl_depot_count(struct tl_depot *d)
{
    tl_lock(&d->lock);
    uint32_t n = d->count;
    tl_unlock(&d->lock);
    return n;
}

void tl_resolved_stack_free(struct tl_resolved_stack *r)
{
    free(r);
}

size_t tl_depot_bytes(struct tl_depot *d)
{
    tl_lock(&d->lock);
    size_t n = d->bytes;
    tl_unlock(&d->lock);
    return n;
}
