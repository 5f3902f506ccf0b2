/* SPDX-License-Identifier: MIT */
/* The version pick: supported minors, refusals (unknown minor, too old,
 * free-threaded), and the 3.13+ check against the runtime's debug offsets,
 * with a fake _PyRuntime. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "cpython/api.h"
#include "cpython/layout.h"
#include "cpython/version.h"

static uint64_t runtime[256];

static int pick(int minor, char *why, size_t n)
{
    tl_py.major = 3;
    tl_py.minor = minor;
    tl_py.runtime = runtime;
    return tl_cpython_select(why, n) == 0;
}

/* A _PyRuntime whose debug offsets publish the row's own values. */
static void fake_runtime(const struct tl_layout *l, uint64_t version_hex)
{
    memset(runtime, 0, sizeof runtime);
    memcpy(runtime, "xdebugpy", 8);
    runtime[1] = version_hex;
    const int pairs[][2] = {{l->dbg.ts_frame, l->ts_frame},       {l->dbg.ts_interp, l->ts_interp},
                            {l->dbg.frame_back, l->frame_back},   {l->dbg.frame_code, l->frame_code},
                            {l->dbg.frame_instr, l->frame_instr}, {l->dbg.frame_owner, l->frame_owner},
                            {l->dbg.code_adaptive, l->code_adaptive}, {l->dbg.gen_frame, l->gen_frame},
                            {l->dbg.gen_state, l->gen_state}, {l->dbg.frame_locals, l->frame_locals},
                            {l->dbg.frame_stacktop, l->frame_stacktop},
                            {l->dbg.ts_thread_id, l->ts_thread_id},
                            {l->dbg.ts_native_id, l->ts_native_id},
                            {l->dbg.gen_name, l->gen_qualname - (int)sizeof(void *)},
                            {l->dbg.tuple_items, l->tuple_items},
                            {l->dbg.code_name, l->code_name},
                            {l->dbg.code_filename, l->code_filename}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (pairs[i][0] >= 0)
            runtime[pairs[i][0]] = (uint64_t)pairs[i][1];
}

int main(void)
{
    char why[160];
    for (int minor = 8; minor <= 12; minor++)
        CHECK(pick(minor, why, sizeof why) && tl_layout && tl_layout->minor == minor);
    CHECK(pick(11, why, sizeof why) && tl_caps.cancelling && !tl_caps.monitoring &&
          tl_caps.fork_guard && !tl_caps.task_lists);
    CHECK(pick(12, why, sizeof why) && tl_caps.monitoring && !tl_caps.fork_guard);

    CHECK(!pick(16, why, sizeof why) && strstr(why, "Python 3.16 is not supported (3.8 to 3.15 are)"));
    CHECK(!pick(7, why, sizeof why) && strstr(why, "Python 3.7 is not supported"));

    for (int minor = 13; minor <= 15; minor++) {
        const struct tl_layout *l = tl_layout_find(3, minor, 0);
        CHECK(l != NULL);
        if (!l)
            continue;
        uint64_t hex = 0x03000000u | (uint64_t)minor << 16 | 0x0AF0;
        fake_runtime(l, hex);
        CHECK(pick(minor, why, sizeof why) && !memcmp(tl_layout, l, sizeof *l)); /* a copy */
        CHECK(tl_caps.task_lists == (minor >= 14));
        runtime[l->dbg.frame_owner] += 8; /* a patch release moved a field */
        CHECK(!pick(minor, why, sizeof why) && strstr(why, "interpreter_frame.owner"));
        if (l->dbg.gen_name >= 0) { /* gi_qualname, which the spawn hook reads, moved */
            fake_runtime(l, hex);
            runtime[l->dbg.gen_name] += 8;
            CHECK(!pick(minor, why, sizeof why) && strstr(why, "gen_object.gi_name"));
        }
        fake_runtime(l, hex);
        runtime[l->dbg.ts_native_id] += 8;
        CHECK(!pick(minor, why, sizeof why) && strstr(why, "thread_state.native_thread_id"));
        fake_runtime(l, hex);
        runtime[2] = 1; /* free_threaded */
        CHECK(!pick(minor, why, sizeof why) && strstr(why, "free-threaded"));
        fake_runtime(l, hex + (1 << 16)); /* the offsets of another minor */
        CHECK(!pick(minor, why, sizeof why) && strstr(why, "no debug offsets"));
        memset(runtime, 0, sizeof runtime);
        CHECK(!pick(minor, why, sizeof why) && strstr(why, "no debug offsets"));
    }
    CHECK(tl_layout_find(3, 14, 1) && tl_layout_find(3, 15, 1) && !tl_layout_find(3, 13, 1));
    return check_summary("version");
}
