/* What the collector asks of the Python side before a report: the one
 * interface between them (the asyncio adapter implements it, asyncio.c).
 * Every call holds the GIL. */
#ifndef TL_COLLECT_H
#define TL_COLLECT_H

#include <stddef.h>

#include "tasks.h"

/* Work that needs the GIL before a report (held by the caller): judge
 * finished and stuck tasks, resolve stacks to lines.  At exit, also
 * report every pending task as pending_at_exit and stop judging more; for
 * a snapshot, gather every live task. */
enum tl_collect_mode { TL_COLLECT_PERIODIC, TL_COLLECT_EXIT, TL_COLLECT_SNAPSHOT };
struct tl_collection;
struct tl_collection *tl_collect_begin(enum tl_collect_mode mode);
/* Work for about `budget` seconds at most (0: to the end).  Returns 1 while
 * work remains: release the GIL, take it again, and call it again. */
int tl_collect_step(struct tl_collection *c, double budget);
/* Free the collection (GIL held).  A snapshot's live tasks, when it got to
 * the end, are returned (malloc'd, `n_live` of them) for the report. */
struct tl_leak *tl_collect_end(struct tl_collection *c, size_t *n_live);
/* All of it at once: the exit report. */
void tl_collect_all(enum tl_collect_mode mode);

#endif
