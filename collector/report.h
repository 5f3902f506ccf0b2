/* SPDX-License-Identifier: MIT */
/* The JSON report (taskleak v1, schema 1): the only user of jansson. */
#ifndef TL_REPORT_H
#define TL_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/pyside.h"
#include "core/shutdown.h"
#include "core/tasks.h"
#include "core/threads.h"

/* Why a report is written: its "reason" (tl_report_reason_name). */
enum tl_report_reason {
    TL_REASON_PERIODIC, /* every `interval` seconds, when it changed */
    TL_REASON_EXIT,     /* the exit report */
    TL_REASON_SIGNAL,   /* a snapshot asked for by the dump signal */
    TL_REASON_REQUEST,  /* taskleak_report_now() */
    TL_REASON_SNAPSHOT, /* taskleak_snapshot_now(): a snapshot the program asked for */
    TL_REASON_SHUTDOWN, /* the watchdog: a shutdown blocked for shutdown_timeout */
};
const char *tl_report_reason_name(enum tl_report_reason reason);

struct tl_report_meta {
    enum tl_report_reason reason;
    double t;
    const char *python;
    const char *argv; /* NUL-separated, as in /proc/self/cmdline */
    size_t argv_len;
    const struct tl_collected *found; /* live_tasks and threads (snapshots), deadlocks */
    const char *incomplete; /* why parts are missing, or NULL */
    const struct tl_shutdown *shutdown; /* the shutdown, once one was reported (may be NULL) */
};

/* Render the report.  Returns a malloc'd JSON text (NULL when out of
 * memory); `*stats` gets the counters it shows and `*content` a hash of
 * everything but the time and reason, to skip unchanged periodic reports. */
char *tl_report_render(const struct tl_report_meta *m, struct tl_stats *stats,
                       uint64_t *content);

#endif
