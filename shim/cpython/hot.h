/* SPDX-License-Identifier: MIT */
/* The per-task path, kept together.  It runs once per task in programs that
 * touch much memory in between (a server's request), and finds its code and
 * data cold each time: a cache miss for every line they span.  On 3.14 under
 * aiohttp it spanned 38 lines of code on 7 pages and 20 of data on 7.  So
 * its functions are `hot` (together in .text.hot) and the data it reads
 * shares one section, away from the big tables.  In the lowest layer, so
 * that each layer marks its own part. */
#ifndef TL_CPYTHON_HOT_H
#define TL_CPYTHON_HOT_H

#define TL_HOT __attribute__((hot))
/* A hot function's rare path, out of line (with its big locals) and away
 * from the hot code. */
#define TL_COLD __attribute__((noinline, cold))
#define TL_HOT_DATA __attribute__((section(".data.tl_hot")))

#endif
