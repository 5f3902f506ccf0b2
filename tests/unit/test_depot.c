/* SPDX-License-Identifier: MIT */
/* Stack depot: interning, ids, resolved slots. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "core/depot.h"

int main(void)
{
    struct tl_depot d;
    tl_depot_init(&d);
    uintptr_t a[] = {1, 2, 3}, b[] = {1, 2, 4};
    int is_new;
    uint32_t ia = tl_depot_put(&d, a, 3, &is_new);
    CHECK(ia == 1 && is_new);
    CHECK(tl_depot_put(&d, a, 3, &is_new) == ia && !is_new);
    uint32_t ib = tl_depot_put(&d, b, 3, &is_new);
    CHECK(ib == 2 && is_new);
    CHECK(tl_depot_put(&d, a, 2, &is_new) == 3 && is_new); /* a prefix is another trace */
    uint32_t n;
    const uintptr_t *w = tl_depot_get(&d, ib, &n);
    CHECK(w && n == 3 && w[2] == 4);
    CHECK(tl_depot_get(&d, 99, &n) == NULL);

    /* Many traces: growth keeps ids and contents stable.  After each new
     * one an earlier one is found again, so lookups meet the buckets in
     * every state of their move to a grown array. */
    int found = 1;
    uint64_t rnd = 7;
    for (uintptr_t i = 0; i < 200000; i++) {
        uintptr_t t[2] = {i, i * 7};
        tl_depot_put(&d, t, 2, &is_new);
        rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
        uintptr_t j = (uintptr_t)(rnd >> 33) % (i + 1), u[2] = {j, j * 7};
        found &= tl_depot_put(&d, u, 2, &is_new) == 3 + j + 1 && !is_new;
    }
    CHECK(found);
    CHECK(tl_depot_count(&d) == 200003);
    uintptr_t probe[2] = {12345, 12345 * 7};
    uint32_t ip = tl_depot_put(&d, probe, 2, &is_new);
    CHECK(!is_new && ip == 3 + 12345 + 1);
    w = tl_depot_get(&d, ia, &n);
    CHECK(w && n == 3 && w[0] == 1 && w[1] == 2 && w[2] == 3);
    int all = 1; /* every id, across the entries' chunks */
    for (uintptr_t i = 0; i < 200000; i++) {
        const uintptr_t *t = tl_depot_get(&d, (uint32_t)(3 + i + 1), &n);
        all &= t && n == 2 && t[0] == i && t[1] == i * 7;
    }
    CHECK(all);

    static int x, y;
    CHECK(tl_depot_resolved(&d, ia) == NULL);
    CHECK(tl_depot_set_resolved(&d, ia, &x) == 0);
    CHECK(tl_depot_set_resolved(&d, ia, &y) == -1); /* first one wins */
    CHECK(tl_depot_resolved(&d, ia) == &x);
    tl_depot_destroy(&d);
    return check_summary("depot");
}
