/* SPDX-License-Identifier: MIT */
/* Tick stamps to seconds between anchors. */
#include "core/anchors.h"

void tl_anchors_init(struct tl_anchors *a, uint64_t ticks, double t, double every)
{
    a->at[0] = (struct tl_anchor){ticks, t};
    a->n = 1;
    a->every = every;
}

void tl_anchors_add(struct tl_anchors *a, uint64_t ticks, double t)
{
    const struct tl_anchor *last = &a->at[a->n - 1];
    if (ticks <= last->ticks || t < last->t + a->every)
        return;
    if (a->n == TL_ANCHORS) { /* keep the first and every other one */
        for (unsigned i = 1; i < TL_ANCHORS / 2; i++)
            a->at[i] = a->at[2 * i];
        a->n = TL_ANCHORS / 2;
        a->every *= 2;
    }
    a->at[a->n++] = (struct tl_anchor){ticks, t};
}

static double along(struct tl_anchor from, struct tl_anchor to, uint64_t ticks)
{
    if (to.ticks <= from.ticks)
        return from.t;
    return from.t + (double)(int64_t)(ticks - from.ticks) * (to.t - from.t) /
                        (double)(to.ticks - from.ticks);
}

double tl_anchors_time(const struct tl_anchors *a, uint64_t ticks, uint64_t now_ticks, double now_t)
{
    /* The last anchor at or before `ticks` (the first when none is). */
    unsigned lo = 0, hi = a->n;
    while (hi - lo > 1) {
        unsigned mid = lo + (hi - lo) / 2;
        if (a->at[mid].ticks <= ticks)
            lo = mid;
        else
            hi = mid;
    }
    struct tl_anchor now = {now_ticks, now_t};
    if (lo + 1 < a->n)
        return along(a->at[lo], a->at[lo + 1], ticks);
    if (now_ticks > a->at[lo].ticks)
        return along(a->at[lo], now, ticks);
    return a->n > 1 ? along(a->at[lo - 1], a->at[lo], ticks) : a->at[lo].t;
}
