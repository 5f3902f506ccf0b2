/* SPDX-License-Identifier: MIT */
/* Memo table: remembered values, misses, overwrites, growth. */
#include <sched.h>
#include <stdint.h>

#include "check.h"
#include "core/memo.h"

/* Counted instead of done: which paths give the CPU away. */
static int yields;
int sched_yield(void)
{
    yields++;
    return 0;
}

int main(void)
{
    struct tl_memo m;
    uint32_t v = 77;
    tl_memo_init(&m);
    CHECK(!tl_memo_get(&m, 1, &v) && v == 77); /* empty: a miss, value untouched */
    tl_memo_put(&m, 0x1000, 0);                /* 0 is a value like any other */
    CHECK(tl_memo_get(&m, 0x1000, &v) && v == 0);
    tl_memo_put(&m, 0x1000, 5); /* a key is remembered once, with its last value */
    CHECK(tl_memo_get(&m, 0x1000, &v) && v == 5);
    CHECK(m.used == 1);
    tl_memo_put(&m, 0, 9); /* key 0 is never stored */
    CHECK(!tl_memo_get(&m, 0, &v));

    /* Growth keeps every key, including ones that collide in a small table. */
    for (uintptr_t k = 1; k <= 100000; k++)
        tl_memo_put(&m, k * 4096, (uint32_t)k);
    int all = 1;
    for (uintptr_t k = 1; k <= 100000; k++)
        all &= tl_memo_get(&m, k * 4096, &v) && v == (uint32_t)k;
    CHECK(all);
    CHECK(!tl_memo_get(&m, 4096 * 100001, &v));
    CHECK(m.used == 100000 && m.capacity >= 2 * m.used);
    CHECK(yields == 0); /* the puts' growth runs in the program's thread: no giving way */
    tl_memo_destroy(&m);
    CHECK(!tl_memo_get(&m, 4096, &v));

    /* A growth moves the old table a few entries a put: every key stays
     * found meanwhile, and a put during the move keeps its newer value. */
    tl_memo_init(&m);
    for (uintptr_t k = 1; k <= 128; k++)
        tl_memo_put(&m, k * 8, (uint32_t)k);
    tl_memo_put(&m, 129 * 8, 129); /* half full: a new table, the old one moving */
    CHECK(m.old != NULL && m.capacity == 512);
    tl_memo_put(&m, 3 * 8, 333);
    all = 1;
    for (uintptr_t k = 1; k <= 129; k++)
        all &= tl_memo_get(&m, k * 8, &v) && v == (k == 3 ? 333u : (uint32_t)k);
    CHECK(all && m.used == 129);
    for (uintptr_t k = 130; m.old_next < m.old_capacity && k < 1000; k++) /* the move ends */
        tl_memo_put(&m, k * 8, (uint32_t)k);
    CHECK(m.old_next == m.old_capacity && tl_memo_get(&m, 3 * 8, &v) && v == 333);
    tl_memo_reserve(&m, 1); /* unmaps the moved table, grows nothing */
    CHECK(m.old == NULL && m.capacity == 512 && tl_memo_get(&m, 3 * 8, &v) && v == 333);
    tl_memo_destroy(&m);

    /* A reservation grows the table at once, past several doublings, and
     * the puts it made room for grow it no more; every key stays found. */
    tl_memo_init(&m);
    for (uintptr_t k = 1; k <= 100; k++)
        tl_memo_put(&m, k * 8, (uint32_t)k);
    tl_memo_reserve(&m, 5000);
    CHECK(m.capacity == 16384 && m.old != NULL);
    uint32_t reserved = m.capacity;
    for (uintptr_t k = 101; k <= 5100; k++)
        tl_memo_put(&m, k * 8, (uint32_t)k);
    all = 1;
    for (uintptr_t k = 1; k <= 5100; k++)
        all &= tl_memo_get(&m, k * 8, &v) && v == (uint32_t)k;
    CHECK(all && m.used == 5100 && m.capacity == reserved);
    tl_memo_reserve(&m, 10); /* room enough: nothing changes */
    CHECK(m.capacity == reserved && m.old == NULL);
    tl_memo_destroy(&m);
    tl_memo_init(&m);
    tl_memo_reserve(&m, 1); /* an empty table gets its first slots */
    CHECK(m.capacity == 256 && m.old == NULL);
    tl_memo_put(&m, 8, 1);
    CHECK(tl_memo_get(&m, 8, &v) && v == 1);
    tl_memo_destroy(&m);

    /* A big reservation faults its 32 MiB in without the GIL, beside the
     * program's threads: milliseconds of page faults, so it gives way. */
    tl_memo_init(&m);
    tl_memo_reserve(&m, 1u << 20);
    CHECK(m.capacity == 1u << 21 && yields > 0);
    tl_memo_destroy(&m);
    return check_summary("memo");
}
