/* SPDX-License-Identifier: MIT */
/* A memo table: what was computed once per key (a code object, a stack id),
 * remembered as a small number.  Thread-safe; grows, never shrinks. */
#ifndef TL_MEMO_H
#define TL_MEMO_H

#include <pthread.h>
#include <stdint.h>

struct tl_memo {
    pthread_mutex_t lock;
    struct tl_memo_slot *slots; /* open addressing; key 0 marks a free slot */
    uint32_t capacity, used;    /* capacity is 0 or a power of two */
};

void tl_memo_init(struct tl_memo *m);
/* 1 and `*value` when `key` (non-zero) is known, else 0. */
int tl_memo_get(struct tl_memo *m, uintptr_t key, uint32_t *value);
/* Remember `value` for `key`; out of memory, it is simply not remembered. */
void tl_memo_put(struct tl_memo *m, uintptr_t key, uint32_t value);
/* Free the slots (tests; the process's own memos live until exit). */
void tl_memo_destroy(struct tl_memo *m);

#endif
