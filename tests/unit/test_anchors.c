/* SPDX-License-Identifier: MIT */
/* anchors.c: tick stamps to seconds between anchors, on made-up clocks
 * whose rate changes (a TSC the kernel would not trust). */
#include <math.h>

#include "check.h"
#include "core/anchors.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

int main(void)
{
    struct tl_anchors a;
    tl_anchors_init(&a, 1000, 0, 1.0);
    /* One anchor: the segment up to "now" converts. */
    CHECK(NEAR(tl_anchors_time(&a, 1500, 2000, 1.0), 0.5));
    CHECK(NEAR(tl_anchors_time(&a, 1000, 1000, 0), 0));

    /* 1000 ticks a second up to t=2, then 4000 a second. */
    tl_anchors_add(&a, 2000, 1.0);
    tl_anchors_add(&a, 2500, 1.5); /* too soon: ignored */
    tl_anchors_add(&a, 3000, 2.0);
    tl_anchors_add(&a, 7000, 3.0);
    tl_anchors_add(&a, 6000, 9.0); /* ticks went back: ignored */
    CHECK(a.n == 4);
    CHECK(NEAR(tl_anchors_time(&a, 2500, 9000, 3.5), 1.5));
    CHECK(NEAR(tl_anchors_time(&a, 5000, 9000, 3.5), 2.5));
    CHECK(NEAR(tl_anchors_time(&a, 8000, 9000, 3.5), 3.25)); /* past the last anchor */
    CHECK(NEAR(tl_anchors_time(&a, 9500, 9000, 3.5), 3.625)); /* after "now": the last rate */
    CHECK(NEAR(tl_anchors_time(&a, 7500, 7000, 3.0), 3.125));
    CHECK(NEAR(tl_anchors_time(&a, 500, 9000, 3.5), -0.5)); /* before the first */

    /* Full: every other anchor goes, the spacing doubles, the run stays
     * covered from the first anchor on. */
    struct tl_anchors b;
    tl_anchors_init(&b, 0, 0, 1.0);
    for (int i = 1; i < 1000; i++)
        tl_anchors_add(&b, (uint64_t)i * 1000, i);
    CHECK(b.n <= TL_ANCHORS && b.n >= TL_ANCHORS / 2);
    CHECK(b.at[0].ticks == 0 && b.every >= 16);
    int increasing = 1;
    for (unsigned i = 1; i < b.n; i++)
        increasing &= b.at[i].ticks > b.at[i - 1].ticks && b.at[i].t >= b.at[i - 1].t + 1;
    CHECK(increasing);
    CHECK(NEAR(tl_anchors_time(&b, 123456, 1000000, 1000), 123.456));
    CHECK(NEAR(tl_anchors_time(&b, 999500, 1000000, 1000), 999.5));
    return check_summary("anchors");
}
