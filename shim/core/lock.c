/* SPDX-License-Identifier: MIT */
/* The slow paths of lock.h: sleeping on the word, and waking a sleeper. */
#include "core/lock.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

void tl_lock_wait(struct tl_lock *l, int seen)
{
    /* From here on the word says 2, so the holder's unlock wakes us. */
    if (seen != 2)
        seen = __atomic_exchange_n(&l->state, 2, __ATOMIC_ACQUIRE);
    while (seen != 0) {
        syscall(SYS_futex, &l->state, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
        seen = __atomic_exchange_n(&l->state, 2, __ATOMIC_ACQUIRE);
    }
}

void tl_lock_wake(struct tl_lock *l)
{
    syscall(SYS_futex, &l->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
