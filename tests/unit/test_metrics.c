/* SPDX-License-Identifier: MIT */
/* Prometheus metrics: the program label, the exposition text, the atomic
 * file at metrics_path (the stuck gauge from the leak table). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "collector/metrics.h"
#include "core/core.h"
#include "core/options.h"

static int program_is(const char *argv, size_t len, const char *want)
{
    char out[256];
    tl_metrics_program(argv, len, out, sizeof out);
    if (strcmp(out, want))
        fprintf(stderr, "program label: got %s, want %s\n", out, want);
    return !strcmp(out, want);
}
#define PROGRAM(lit, want) program_is(lit, sizeof lit, want)

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

int main(void)
{
    /* The label: the script or module a Python runs, else the executable. */
    CHECK(PROGRAM("python3\0app.py", "app.py"));
    CHECK(PROGRAM("/usr/bin/python3.14\0-X\0dev\0-u\0/srv/shop/server.py\0--port\01", "server.py"));
    CHECK(PROGRAM("python3\0-m\0pytest\0-q", "pytest"));
    CHECK(PROGRAM("python3\0-mpytest", "pytest"));
    CHECK(PROGRAM("python3\0-c\0import x", "-c"));
    CHECK(PROGRAM("python3", "python3"));
    CHECK(PROGRAM("/usr/local/bin/gunicorn\0app:main", "gunicorn"));
    CHECK(program_is("", 0, "unknown"));

    /* The text: families once, labels escaped, every kind and hook. */
    struct tl_stats s = {.tasks_created = 10, .tasks_done = 7, .tasks_live = 3,
                         .cancel_requests = 2, .leaks = {1, 2, 0, 4}, .leaks_omitted = 0};
    struct tl_metrics_input in = {.pid = 4242, .program = "we\"ird\\na\nme", .version = "1.0.0",
                                  .python = NULL, .reports_written = 5, .stuck_now = 1,
                                  .memory = {100, 200, 300}};
    char *text = tl_metrics_render(&s, &in);
    CHECK(text != NULL);
    const char *labels = "{pid=\"4242\",program=\"we\\\"ird\\\\na\\nme\"";
    char line[512];
    snprintf(line, sizeof line, "\ntaskleak_tasks_created_total%s} 10\n", labels);
    CHECK(text && strstr(text, line));
    snprintf(line, sizeof line, "\ntaskleak_leaks_total%s,kind=\"stuck_after_cancel\"} 2\n", labels);
    CHECK(text && strstr(text, line));
    snprintf(line, sizeof line, "\ntaskleak_leaks_total%s,kind=\"pending_at_exit\"} 4\n", labels);
    CHECK(text && strstr(text, line));
    snprintf(line, sizeof line, "\ntaskleak_reports_written_total%s} 5\n", labels);
    CHECK(text && strstr(text, line));
    snprintf(line, sizeof line, "\ntaskleak_memory_bytes%s,part=\"leaks\"} 300\n", labels);
    CHECK(text && strstr(text, line));
    snprintf(line, sizeof line, "\ntaskleak_info%s,version=\"1.0.0\",python=\"unknown\"} 1\n",
             labels);
    CHECK(text && strstr(text, line));
    CHECK(text && strstr(text, "\n# TYPE taskleak_leaks_total counter\n"));
    CHECK(text && strstr(text, "\n# TYPE taskleak_stuck_tasks gauge\n"));
    int families = 0, hooks = 0;
    for (const char *p = text; p && (p = strstr(p, "# TYPE ")); p++)
        families++;
    for (const char *p = text; p && (p = strstr(p, "taskleak_hook_calls_total{")); p++)
        hooks++;
    CHECK(families == 12);
    CHECK(hooks == TL_N_HOOKS);
    free(text);

    /* The file: unset = nothing; %p expanded; atomic (no temporary left);
     * the stuck gauge counts stuck leaks not resolved. */
    char dir[] = "/tmp/tl-metrics-XXXXXX", path[512], want[64];
    CHECK(mkdtemp(dir) != NULL);
    tl_options_parse(&tl_opt, NULL, NULL);
    tl_metrics_init();
    CHECK(tl_metrics_write("python3\0app.py", 15, "3.11.2", 0) == 0);
    CHECK(entries(dir) == 0);
    tl_tasks_init(10);
    tl_task_spawned(0x1000, 1, 1, 0, 42, 1);
    tl_task_spawned(0x2000, 1, 1, 0, 42, 1);
    tl_task_cancelled(0x1000, tl_ticks(), 7, 0, 0, NULL, 0, NULL);
    struct tl_outcome pending;
    memset(&pending, 0, sizeof pending);
    tl_task_judged(0x1000, 1, 0, TL_STUCK_AFTER_CANCEL, &pending, 6.0);
    snprintf(path, sizeof path, "metrics_path=%s/m.%%p.prom", dir);
    CHECK(tl_options_parse(&tl_opt, path, NULL) == 0);
    tl_metrics_init();
    int is_new;
    uintptr_t trace[] = {1, 2, 3};
    size_t before = tl_depot_bytes(&tl_py_stacks);
    tl_depot_put(&tl_py_stacks, trace, 3, &is_new);
    CHECK(tl_depot_bytes(&tl_py_stacks) > before);
    CHECK(tl_metrics_write("python3\0app.py", 15, "3.11.2", 3) == 0);
    snprintf(path, sizeof path, "%s/m.%d.prom", dir, (int)getpid());
    char *written = slurp(path);
    CHECK(written != NULL);
    snprintf(want, sizeof want, "{pid=\"%d\",program=\"app.py\"} 1\n", (int)getpid());
    snprintf(line, sizeof line, "\ntaskleak_stuck_tasks%s", want);
    CHECK(written && strstr(written, line));
    snprintf(line, sizeof line, "\ntaskleak_tasks_live%s", want);
    CHECK(written && strstr(written, "taskleak_tasks_live{") && !strstr(written, line));
    CHECK(written && strstr(written, ",python=\"3.11.2\"} 1\n"));
    free(written);
    CHECK(entries(dir) == 1);

    /* Resolved: no longer stuck now (the leak stays counted). */
    struct tl_outcome cancelled;
    memset(&cancelled, 0, sizeof cancelled);
    cancelled.state = TL_CANCELLED;
    tl_task_destroyed(0x1000, 1, TL_NO_LEAK, &cancelled, 7.0);
    CHECK(tl_metrics_write("python3\0app.py", 15, "3.11.2", 4) == 0);
    written = slurp(path);
    snprintf(line, sizeof line, "\ntaskleak_stuck_tasks{pid=\"%d\",program=\"app.py\"} 0\n",
             (int)getpid());
    CHECK(written && strstr(written, line));
    snprintf(line, sizeof line,
             "\ntaskleak_leaks_total{pid=\"%d\",program=\"app.py\",kind=\"stuck_after_cancel\"} 1\n",
             (int)getpid());
    CHECK(written && strstr(written, line));
    free(written);
    unlink(path);

    /* A directory that is not there: the errno, said once, no file. */
    snprintf(path, sizeof path, "metrics_path=%s/absent/m.prom", dir);
    tl_options_parse(&tl_opt, path, NULL);
    tl_metrics_init();
    CHECK(tl_metrics_write("python3\0app.py", 15, NULL, 0) == ENOENT);
    CHECK(entries(dir) == 0);
    rmdir(dir);
    return check_summary("metrics");
}
