/* SPDX-License-Identifier: MIT */
/* Open addressing with linear probing, kept at most half full.  A table
 * that outgrows its slots moves to one twice as big a few entries a put,
 * not all at once: no single call pays for a rehash of the whole table (the
 * collection's slices hold the GIL, the hooks run in the program's thread). */
#include "core/memo.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/core.h"

struct tl_memo_slot {
    uintptr_t key;
    uint32_t value;
};

#define MOVE_PER_PUT 8 /* the old table is empty long before the new is half full */

/* Slots straight from the kernel.  `hurried` ones are faulted in at once
 * (MAP_POPULATE): one call instead of a page fault per page on first touch,
 * which cost 1-20 us each on a VM and held a collection slice 0.2-0.5 ms at
 * each doubling.  The others are for a caller that can wait but must not
 * keep a CPU from the program: faulted in a page at a time, giving way (a
 * big table's pages are milliseconds of faults on a VM). */
static struct tl_memo_slot *slots_new(uint32_t capacity, bool hurried)
{
    size_t size = (size_t)capacity * sizeof(struct tl_memo_slot);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | (hurried ? MAP_POPULATE : 0), -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (!hurried) {
        long page = sysconf(_SC_PAGESIZE);
        size_t step = page > 0 ? (size_t)page : 4096;
        double since = tl_now();
        for (size_t at = 0; at < size; at += step) {
            ((volatile char *)p)[at] = 0;
            tl_give_way(&since);
        }
    }
    return p;
}

static void slots_free(struct tl_memo_slot *slots, uint32_t capacity)
{
    if (slots)
        munmap(slots, (size_t)capacity * sizeof *slots);
}

void tl_memo_init(struct tl_memo *m)
{
    m->lock = (struct tl_lock)TL_LOCK_INITIALIZER;
    m->slots = m->old = NULL;
    m->capacity = m->used = m->old_capacity = m->old_next = 0;
}

/* The slot of `key` in a table, or the free slot where it would go. */
static struct tl_memo_slot *slot_in(struct tl_memo_slot *slots, uint32_t capacity, uintptr_t key)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing */
    uint32_t i = (uint32_t)(h >> 32) & (capacity - 1);
    while (slots[i].key && slots[i].key != key)
        i = (i + 1) & (capacity - 1);
    return &slots[i];
}

static const struct tl_memo_slot *find(const struct tl_memo *m, uintptr_t key)
{
    const struct tl_memo_slot *s = m->capacity ? slot_in(m->slots, m->capacity, key) : NULL;
    if (s && s->key)
        return s;
    s = m->old ? slot_in(m->old, m->old_capacity, key) : NULL;
    return s && s->key ? s : NULL;
}

int tl_memo_get(struct tl_memo *m, uintptr_t key, uint32_t *value)
{
    int found = 0;
    tl_lock(&m->lock);
    const struct tl_memo_slot *s = key ? find(m, key) : NULL;
    if (s) {
        *value = s->value;
        found = 1;
    }
    tl_unlock(&m->lock);
    return found;
}

/* Move up to `n` entries of the old table into the new one.  A table moved
 * whole stays (looked in, never found) until finish_move: unmapping it
 * interrupts the other CPUs (a TLB shootdown, 0.1-0.4 ms on a VM), which
 * the collection does between its slices, not in them. */
static void move_some(struct tl_memo *m, uint32_t n)
{
    while (m->old && m->old_next < m->old_capacity && n--) {
        const struct tl_memo_slot *s = &m->old[m->old_next++];
        struct tl_memo_slot *d = s->key ? slot_in(m->slots, m->capacity, s->key) : NULL;
        if (d && !d->key) /* a put since the move began has the newer value */
            *d = *s;
    }
}

/* The old table moved whole and out (lock held); returns it, to unmap. */
static struct tl_memo_slot *finish_move(struct tl_memo *m, uint32_t *capacity)
{
    move_some(m, UINT32_MAX);
    struct tl_memo_slot *old = m->old;
    *capacity = m->old_capacity;
    m->old = NULL;
    m->old_capacity = m->old_next = 0;
    return old;
}

/* The capacity that holds `keys` at most half full: 0 if it is the
 * current one (or none would). */
static uint32_t capacity_for(const struct tl_memo *m, uint64_t keys)
{
    uint64_t capacity = m->capacity ? m->capacity : 256;
    while (keys * 2 > capacity)
        capacity *= 2;
    return capacity > m->capacity && capacity <= UINT32_MAX / 2 + 1 ? (uint32_t)capacity : 0;
}

/* The new table (zeroed) in; the current one becomes the old one. */
static void install(struct tl_memo *m, struct tl_memo_slot *slots, uint32_t capacity)
{
    uint32_t old_capacity;
    struct tl_memo_slot *old = finish_move(m, &old_capacity); /* never two old tables */
    slots_free(old, old_capacity);
    m->old = m->capacity ? m->slots : NULL;
    m->old_capacity = m->capacity;
    m->old_next = 0;
    m->slots = slots;
    m->capacity = capacity;
}

static int grow(struct tl_memo *m)
{
    uint32_t capacity = capacity_for(m, (uint64_t)m->used + 1);
    struct tl_memo_slot *slots = capacity ? slots_new(capacity, true) : NULL;
    if (!slots)
        return -1;
    install(m, slots, capacity);
    return 0;
}

void tl_memo_reserve(struct tl_memo *m, uint32_t n)
{
    uint32_t old_capacity;
    tl_lock(&m->lock);
    struct tl_memo_slot *old = finish_move(m, &old_capacity);
    uint32_t capacity = capacity_for(m, (uint64_t)m->used + n);
    tl_unlock(&m->lock);
    slots_free(old, old_capacity);
    struct tl_memo_slot *slots = capacity ? slots_new(capacity, false) : NULL; /* outside the lock */
    if (!slots)
        return;
    tl_lock(&m->lock);
    if (capacity > m->capacity) {
        install(m, slots, capacity);
        slots = NULL;
    }
    tl_unlock(&m->lock);
    slots_free(slots, capacity);
}

void tl_memo_put(struct tl_memo *m, uintptr_t key, uint32_t value)
{
    if (!key)
        return;
    tl_lock(&m->lock);
    move_some(m, MOVE_PER_PUT);
    if ((m->used + 1) * 2 <= m->capacity || grow(m) == 0) {
        struct tl_memo_slot *s = slot_in(m->slots, m->capacity, key);
        if (!s->key && !(m->old && slot_in(m->old, m->old_capacity, key)->key))
            m->used++;
        *s = (struct tl_memo_slot){key, value};
    }
    tl_unlock(&m->lock);
}

void tl_memo_destroy(struct tl_memo *m)
{
    slots_free(m->slots, m->capacity);
    slots_free(m->old, m->old_capacity);
    m->slots = m->old = NULL;
    m->capacity = m->used = m->old_capacity = m->old_next = 0;
}
