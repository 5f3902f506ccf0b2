/* SPDX-License-Identifier: MIT */
/* Tick stamps to seconds, piecewise linear between (ticks, seconds)
 * anchors taken now and then: exact wherever the tick rate holds between
 * two anchors, which needs no kernel trust in the TSC.  Bounded: when the
 * array is full every other anchor goes and the spacing doubles, so the
 * whole run stays covered.  Plain data; the caller locks. */
#ifndef TL_ANCHORS_H
#define TL_ANCHORS_H

#include <stdint.h>

#define TL_ANCHORS 64

struct tl_anchors {
    struct tl_anchor {
        uint64_t ticks;
        double t;
    } at[TL_ANCHORS];
    unsigned n;
    double every; /* least spacing, in seconds */
};

/* The first anchor, and the least spacing of the next ones. */
void tl_anchors_init(struct tl_anchors *a, uint64_t ticks, double t, double every);
/* An anchor at least `every` after the last one and later in both ticks
 * and seconds; anything else is ignored. */
void tl_anchors_add(struct tl_anchors *a, uint64_t ticks, double t);
/* The seconds at `ticks`; (now_ticks, now_t) is a pair read since, which
 * closes the segment past the last anchor. */
double tl_anchors_time(const struct tl_anchors *a, uint64_t ticks, uint64_t now_ticks, double now_t);

#endif
