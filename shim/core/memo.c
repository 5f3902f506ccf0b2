/* SPDX-License-Identifier: MIT */
/* Open addressing with linear probing, kept at most half full.  A table
 * that outgrows its slots moves to one twice as big a few entries a put,
 * not all at once: no single call pays for a rehash of the whole table (the
 * collection's slices hold the GIL, the hooks run in the program's thread). */
#include "core/memo.h"

#include <stdlib.h>

struct tl_memo_slot {
    uintptr_t key;
    uint32_t value;
};

#define MOVE_PER_PUT 8 /* the old table is empty long before the new is half full */

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

/* Move up to `n` entries of the old table into the new one. */
static void move_some(struct tl_memo *m, uint32_t n)
{
    while (m->old && n--) {
        if (m->old_next == m->old_capacity) {
            free(m->old);
            m->old = NULL;
            break;
        }
        const struct tl_memo_slot *s = &m->old[m->old_next++];
        struct tl_memo_slot *d = s->key ? slot_in(m->slots, m->capacity, s->key) : NULL;
        if (d && !d->key) /* a put since the move began has the newer value */
            *d = *s;
    }
}

static int grow(struct tl_memo *m)
{
    move_some(m, UINT32_MAX); /* never two old tables */
    uint32_t capacity = m->capacity ? m->capacity * 2 : 256;
    struct tl_memo_slot *slots = capacity > m->capacity ? calloc(capacity, sizeof *slots) : NULL;
    if (!slots)
        return -1;
    m->old = m->slots;
    m->old_capacity = m->capacity;
    m->old_next = 0;
    m->slots = slots;
    m->capacity = capacity;
    if (!m->old_capacity)
        m->old = NULL;
    return 0;
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
    free(m->slots);
    free(m->old);
    m->slots = m->old = NULL;
    m->capacity = m->used = m->old_capacity = m->old_next = 0;
}
