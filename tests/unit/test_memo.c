/* SPDX-License-Identifier: MIT */
/* Memo table: remembered values, misses, overwrites, growth. */
#include <stdint.h>

#include "check.h"
#include "core/memo.h"

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
    tl_memo_destroy(&m);
    CHECK(!tl_memo_get(&m, 4096, &v));
    return check_summary("memo");
}
