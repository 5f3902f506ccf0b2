/* SPDX-License-Identifier: MIT */
/* A lock of one word for the hot paths: one atomic instruction to take it
 * and one to give it back while nobody waits (a glibc mutex pair costs
 * some 50 instructions), a futex sleep when somebody does.  Drepper's
 * "Futexes Are Tricky", mutex 3.  Not recursive; process-private. */
#ifndef TL_LOCK_H
#define TL_LOCK_H

struct tl_lock {
    int state; /* 0 free, 1 taken, 2 taken and maybe waited for */
};
#define TL_LOCK_INITIALIZER {0}

void tl_lock_wait(struct tl_lock *l, int seen);
void tl_lock_wake(struct tl_lock *l);

static inline void tl_lock(struct tl_lock *l)
{
    int seen = 0;
    if (!__atomic_compare_exchange_n(&l->state, &seen, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        tl_lock_wait(l, seen);
}

static inline void tl_unlock(struct tl_lock *l)
{
    if (__atomic_exchange_n(&l->state, 0, __ATOMIC_RELEASE) != 1)
        tl_lock_wake(l);
}

/* After fork, in the child: free, whoever held it in the parent. */
static inline void tl_lock_reset(struct tl_lock *l)
{
    __atomic_store_n(&l->state, 0, __ATOMIC_RELAXED);
}

#endif
