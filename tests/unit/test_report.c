/* The report: built from the core, parsed back with jansson. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "collector/report.h"
#include "core/core.h"
#include "core/options.h"
#include "core/tasks.h"
#include "core/unwind.h"

int main(void)
{
    tl_options_parse(&tl_opt, NULL, NULL);
    tl_tasks_init(10);
    uintptr_t ips[4];
    int is_new, n = tl_unwind_capture(ips, 4, 0);
    uint32_t native = tl_depot_put(&tl_native_stacks, ips, (uint32_t)n, &is_new);
    tl_task_spawned(0xabc0, 0, 0, native, 77, 0.25);
    tl_task_cancelled(0xabc0, 0.5, 0, 0, 0, strdup("bye"), 0, NULL);
    struct tl_outcome o = {.state = TL_FAILED};
    o.name = strdup("Task-1");
    o.type = strdup("ValueError");
    o.text = strdup("boom");
    tl_task_destroyed(0xabc0, 1, TL_SWALLOWED_CANCEL, &o, 0.75);

    static const char argv[] = "python3\0app.py";
    struct tl_report_meta m = {"exit", 1.5, "3.11.7", argv, sizeof argv, NULL, 0, NULL};
    struct tl_stats s;
    uint64_t h1, h2;
    char *text = tl_report_render(&m, &s, &h1);
    CHECK(text != NULL);
    json_error_t err;
    json_t *r = json_loads(text, 0, &err);
    CHECK(r != NULL);
    CHECK(!strcmp(json_string_value(json_object_get(r, "tool")), "taskleak"));
    CHECK(json_integer_value(json_object_get(r, "schema")) == 1);
    CHECK(json_integer_value(json_object_get(r, "pid")) == getpid());
    CHECK(json_array_size(json_object_get(r, "argv")) == 2);
    CHECK(!strcmp(json_string_value(json_array_get(json_object_get(r, "argv"), 1)), "app.py"));
    CHECK(!strcmp(json_string_value(json_object_get(r, "reason")), "exit"));
    CHECK(json_object_get(json_object_get(r, "options"), "grace") != NULL);
    CHECK(json_object_get(r, "live_tasks") == NULL);
    json_t *stats = json_object_get(r, "stats");
    CHECK(json_integer_value(json_object_get(json_object_get(stats, "leaks"), "swallowed_cancel")) == 1);
    json_t *leak = json_array_get(json_object_get(r, "leaks"), 0);
    CHECK(!strcmp(json_string_value(json_object_get(leak, "kind")), "swallowed_cancel"));
    CHECK(!strcmp(json_string_value(json_object_get(leak, "state")), "failed"));
    json_t *exc = json_object_get(leak, "exception");
    CHECK(!strcmp(json_string_value(json_object_get(exc, "type")), "ValueError"));
    CHECK(!strcmp(json_string_value(json_object_get(exc, "message")), "boom"));
    json_t *task = json_object_get(leak, "task");
    CHECK(json_integer_value(json_object_get(task, "id")) == 1);
    CHECK(json_integer_value(json_object_get(task, "thread_id")) == 77);
    CHECK(!strcmp(json_string_value(json_object_get(task, "address")), "0xabc0"));
    json_t *cancel = json_array_get(json_object_get(leak, "cancels"), 0);
    CHECK(!strcmp(json_string_value(json_object_get(cancel, "message")), "bye"));
    CHECK(json_real_value(json_object_get(json_object_get(leak, "ended"), "t")) == 0.75);
    json_t *frames = json_object_get(json_object_get(leak, "created"), "native_stack");
    CHECK(json_array_size(frames) == (size_t)n && n > 0);
    json_t *f0 = json_array_get(frames, 0);
    CHECK(!strncmp(json_string_value(json_object_get(f0, "ip")), "0x", 2));
    CHECK(json_object_get(f0, "module") && json_is_string(json_object_get(f0, "module")));

    /* Same content, other time and reason: same content hash. */
    m.reason = "periodic";
    m.t = 9.0;
    char *again = tl_report_render(&m, &s, &h2);
    CHECK(h1 == h2);
    /* A snapshot always carries live_tasks. */
    m.reason = "signal";
    char *snap = tl_report_render(&m, &s, &h2);
    json_t *rs = json_loads(snap, 0, &err);
    CHECK(rs && json_is_array(json_object_get(rs, "live_tasks")));
    json_decref(rs);
    json_decref(r);
    free(text);
    free(again);
    free(snap);
    return check_summary("report");
}
