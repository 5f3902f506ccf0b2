/* SPDX-License-Identifier: MIT */
/* lock.h: mutual exclusion under contention (waiters sleep on the futex
 * and are woken), and the reset a fork child does. */
#include <pthread.h>

#include "check.h"
#include "core/lock.h"

#define THREADS 4
#define ROUNDS 200000

static struct tl_lock lock = TL_LOCK_INITIALIZER;
static volatile long counter; /* a lost update shows a broken lock */
static volatile int inside;
static int overlapped;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        tl_lock(&lock);
        if (inside++)
            overlapped = 1;
        counter = counter + 1;
        if (i % 4096 == 0)
            sched_yield(); /* holding it: the others must wait, then sleep */
        inside--;
        tl_unlock(&lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(counter == (long)THREADS * ROUNDS);
    CHECK(!overlapped);
    CHECK(lock.state == 0);

    tl_lock(&lock); /* a fork child finds it taken by a thread it has not */
    tl_lock_reset(&lock);
    tl_lock(&lock);
    CHECK(lock.state == 1);
    tl_unlock(&lock);
    CHECK(lock.state == 0);
    return check_summary("lock");
}
