/* SPDX-License-Identifier: MIT */
/* Open addressing with linear probing, kept at most half full. */
#include "core/memo.h"

#include <stdlib.h>

struct tl_memo_slot {
    uintptr_t key;
    uint32_t value;
};

void tl_memo_init(struct tl_memo *m)
{
    pthread_mutex_init(&m->lock, NULL);
    m->slots = NULL;
    m->capacity = m->used = 0;
}

static uint32_t slot_of(const struct tl_memo *m, uintptr_t key)
{
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing */
    uint32_t i = (uint32_t)(h >> 32) & (m->capacity - 1);
    while (m->slots[i].key && m->slots[i].key != key)
        i = (i + 1) & (m->capacity - 1);
    return i;
}

int tl_memo_get(struct tl_memo *m, uintptr_t key, uint32_t *value)
{
    int found = 0;
    pthread_mutex_lock(&m->lock);
    if (key && m->capacity) {
        const struct tl_memo_slot *s = &m->slots[slot_of(m, key)];
        if (s->key == key) {
            *value = s->value;
            found = 1;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return found;
}

static int grow(struct tl_memo *m)
{
    uint32_t capacity = m->capacity ? m->capacity * 2 : 256;
    struct tl_memo_slot *slots = calloc(capacity, sizeof *slots);
    if (!slots || capacity < m->capacity) {
        free(slots);
        return -1;
    }
    struct tl_memo old = {.slots = m->slots, .capacity = m->capacity};
    m->slots = slots;
    m->capacity = capacity;
    for (uint32_t i = 0; i < old.capacity; i++)
        if (old.slots[i].key)
            m->slots[slot_of(m, old.slots[i].key)] = old.slots[i];
    free(old.slots);
    return 0;
}

void tl_memo_put(struct tl_memo *m, uintptr_t key, uint32_t value)
{
    if (!key)
        return;
    pthread_mutex_lock(&m->lock);
    if ((m->used + 1) * 2 <= m->capacity || grow(m) == 0) {
        struct tl_memo_slot *s = &m->slots[slot_of(m, key)];
        m->used += !s->key;
        *s = (struct tl_memo_slot){key, value};
    }
    pthread_mutex_unlock(&m->lock);
}

void tl_memo_destroy(struct tl_memo *m)
{
    free(m->slots);
    m->slots = NULL;
    m->capacity = m->used = 0;
}
