/* SPDX-License-Identifier: MIT */
/* Prometheus metrics: the text exposition format, for node_exporter's
 * textfile collector, written at every report (option metrics_path). */
#ifndef TL_METRICS_H
#define TL_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/tasks.h"

/* What the metrics show besides the task table's counters. */
struct tl_metrics_input {
    pid_t pid;
    const char *program;      /* the `program` label */
    const char *version;      /* the library's, for taskleak_info */
    const char *python;       /* may be NULL */
    uint64_t reports_written;
    uint64_t stuck_now;       /* stuck_after_cancel leaks still pending */
    uint64_t memory[3];       /* bytes: stacks, tasks, leaks (TL_METRICS_MEMORY_PARTS) */
};
#define TL_METRICS_MEMORY_PARTS {"stacks", "tasks", "leaks"}

/* The `program` label of a command line (NUL-separated, as in
 * /proc/self/cmdline): the script or module a Python runs (`app.py`,
 * `pytest` for -m pytest, `-c`), else the executable's base name. */
void tl_metrics_program(const char *argv, size_t len, char *out, size_t n);

/* The exposition text (malloc'd; NULL when out of memory). */
char *tl_metrics_render(const struct tl_stats *stats, const struct tl_metrics_input *in);

/* Make a relative metrics_path absolute (at activation: the program may
 * change its directory later). */
void tl_metrics_init(void);

/* When metrics_path is set: gather, render and write atomically.  ARGV is
 * the command line (NUL-separated).  Returns 0, or the errno of a failure
 * (said once on stderr). */
int tl_metrics_write(const char *argv, size_t argv_len, const char *python,
                     uint64_t reports_written);

#endif
