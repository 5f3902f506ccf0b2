/* SPDX-License-Identifier: MIT */
/* The version pick: the layout row of this build, checked against the
 * offsets the runtime publishes about itself (3.13+), and capabilities. */
#include "cpython/version.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cpython/api.h"
#include "cpython/hot.h"
#include "cpython/layout.h"
#include "cpython/versions.h"

struct tl_caps tl_caps;
const struct tl_layout *tl_layout TL_HOT_DATA;
/* The row picked, copied next to the hooks' other data. */
static struct tl_layout chosen TL_HOT_DATA;

static const struct tl_layout layouts[] = {
#define TL_LAYOUT(...) {__VA_ARGS__},
#include "cpython/layouts.inc"
#undef TL_LAYOUT
};

static int is_debug_build(void)
{
    return dlsym(RTLD_DEFAULT, "_Py_NegativeRefcount") || dlsym(RTLD_DEFAULT, "_Py_RefTotal");
}

static int is_free_threaded(void)
{
    return dlsym(RTLD_DEFAULT, "_Py_MergeZeroLocalRefcount") != NULL;
}

/* 3.13+: the runtime's own _Py_DebugOffsets must agree with our row, or a
 * patch release moved something and no row can be trusted. */
static int check_debug_offsets(const struct tl_layout *l, char *why, size_t size)
{
    const uint64_t *d = tl_py.runtime;
    if (l->dbg.ts_frame < 0)
        return 0;
    if (memcmp(d, "xdebugpy", 8) || (d[1] >> 24) != 3 || ((d[1] >> 16) & 0xff) != (uint64_t)l->minor ||
        d[2] /* free_threaded */) {
        snprintf(why, size, d[2] ? "free-threaded builds of CPython are not supported"
                                 : "Python %d.%d.%d publishes no debug offsets taskleak can read",
                 tl_py.major, tl_py.minor, tl_py.micro);
        return -1;
    }
    const struct { const char *name; int slot, want; } fields[] = {
        {"thread_state.current_frame", l->dbg.ts_frame, l->ts_frame},
        {"thread_state.interp", l->dbg.ts_interp, l->ts_interp},
        {"interpreter_frame.previous", l->dbg.frame_back, l->frame_back},
        {"interpreter_frame.executable", l->dbg.frame_code, l->frame_code},
        {"interpreter_frame.instr_ptr", l->dbg.frame_instr, l->frame_instr},
        {"interpreter_frame.owner", l->dbg.frame_owner, l->frame_owner},
        {"code_object.co_code_adaptive", l->dbg.code_adaptive, l->code_adaptive},
        {"gen_object.gi_iframe", l->dbg.gen_frame, l->gen_frame},
        {"gen_object.gi_frame_state", l->dbg.gen_state, l->gen_state},
        {"interpreter_frame.localsplus", l->dbg.frame_locals, l->frame_locals},
        {"interpreter_frame.stackpointer", l->dbg.frame_stacktop, l->frame_stacktop},
        {"thread_state.thread_id", l->dbg.ts_thread_id, l->ts_thread_id},
        {"thread_state.native_thread_id", l->dbg.ts_native_id, l->ts_native_id},
        /* gi_qualname, read by the spawn hook, follows gi_name */
        {"gen_object.gi_name", l->dbg.gen_name, l->gen_qualname - (int)sizeof(void *)},
        {"tuple_object.ob_item", l->dbg.tuple_items, l->tuple_items},
        {"code_object.qualname", l->dbg.code_name, l->code_name},
        {"code_object.filename", l->dbg.code_filename, l->code_filename},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i].slot < 0 || d[fields[i].slot] == (uint64_t)fields[i].want)
            continue;
        snprintf(why, size, "Python %d.%d.%d's %s is at %llu, not %d as taskleak knows it",
                 tl_py.major, tl_py.minor, tl_py.micro, fields[i].name,
                 (unsigned long long)d[fields[i].slot], fields[i].want);
        return -1;
    }
    return 0;
}

const struct tl_layout *tl_layout_find(int major, int minor, int debug)
{
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (major == 3 && layouts[i].minor == minor && layouts[i].debug == debug)
            return &layouts[i];
    return NULL;
}

int tl_cpython_select(char *why, size_t size)
{
    int debug = is_debug_build();
    if (is_free_threaded()) {
        snprintf(why, size, "free-threaded builds of CPython are not supported");
        return -1;
    }
    const struct tl_layout *l = tl_layout_find(tl_py.major, tl_py.minor, debug);
    if (!l && debug && tl_py.major == 3 && tl_py.minor >= TL_PY_MINOR_MIN && tl_py.minor <= TL_PY_MINOR_MAX) {
        snprintf(why, size, "debug builds of Python %d.%d are not supported (those of 3.14 and 3.15 are)",
                 tl_py.major, tl_py.minor);
        return -1;
    }
    if (!l) {
        snprintf(why, size, "Python %d.%d is not supported (3.%d to 3.%d are)", tl_py.major,
                 tl_py.minor, TL_PY_MINOR_MIN, TL_PY_MINOR_MAX);
        return -1;
    }
    if (check_debug_offsets(l, why, size) < 0)
        return -1;
    chosen = *l;
    tl_layout = &chosen;
    tl_caps.cancelling = l->minor >= 11;
    tl_caps.qualname = l->minor >= 11;
    tl_caps.task_context = l->minor >= 12;
    tl_caps.monitoring = l->op_push_exc_info >= 0;
    tl_caps.fork_guard = l->minor <= 11;
    tl_caps.task_lists = l->minor >= 14;
    tl_caps.wait_for_swallows = l->minor <= 11;
    return 0;
}
