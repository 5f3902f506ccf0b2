/* SPDX-License-Identifier: MIT */
/* A memo table: what was computed once per key (a code object, a stack id),
 * remembered as a small number.  Thread-safe; grows a little at each put
 * (no call rehashes the whole table), never shrinks. */
#ifndef TL_MEMO_H
#define TL_MEMO_H

#include <stdint.h>

#include "core/lock.h"

struct tl_memo {
    struct tl_lock lock;
    struct tl_memo_slot *slots; /* open addressing; key 0 marks a free slot */
    uint32_t capacity, used;    /* capacity is 0 or a power of two; used: keys */
    struct tl_memo_slot *old;   /* the table before the last growth, being moved */
    uint32_t old_capacity, old_next;
};

void tl_memo_init(struct tl_memo *m);
/* 1 and `*value` when `key` (non-zero) is known, else 0. */
int tl_memo_get(struct tl_memo *m, uintptr_t key, uint32_t *value);
/* Remember `value` for `key`; out of memory, it is simply not remembered. */
void tl_memo_put(struct tl_memo *m, uintptr_t key, uint32_t value);
/* Make room for `n` more keys now (the table's memory faulted in, the last
 * growth's old table moved and unmapped), so that the next n puts neither
 * grow it, nor take a page fault, nor unmap: for a caller that can wait now
 * and not later (the collection, between its GIL slices). */
void tl_memo_reserve(struct tl_memo *m, uint32_t n);
/* Free the slots (tests; the process's own memos live until exit). */
void tl_memo_destroy(struct tl_memo *m);

#endif
