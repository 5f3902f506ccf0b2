/* The JSON report (taskleak v1, schema 1): the only user of jansson. */
#ifndef TL_REPORT_H
#define TL_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/shutdown.h"
#include "core/tasks.h"
#include "core/threads.h"

struct tl_report_meta {
    const char *reason; /* "periodic" | "exit" | "signal" | "request" | "shutdown" */
    double t;
    const char *python;
    const char *argv; /* NUL-separated, as in /proc/self/cmdline */
    size_t argv_len;
    const struct tl_leak *live; /* live_tasks, for "signal" and "shutdown" */
    size_t n_live;
    const char *incomplete; /* why parts are missing, or NULL */
    const struct tl_threads *threads; /* for "signal" and "shutdown" (may be NULL) */
    const struct tl_shutdown *shutdown; /* the shutdown, once one was reported (may be NULL) */
};

/* Render the report.  Returns a malloc'd JSON text (NULL when out of
 * memory); `*stats` gets the counters it shows and `*content` a hash of
 * everything but the time and reason, to skip unchanged periodic reports. */
char *tl_report_render(const struct tl_report_meta *m, struct tl_stats *stats,
                       uint64_t *content);

#endif
