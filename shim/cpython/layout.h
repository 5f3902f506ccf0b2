/* SPDX-License-Identifier: MIT */
/* Where CPython keeps what taskleak reads: one row of layouts.inc per minor
 * and build kind, picked once by version.c. */
#ifndef TL_CPYTHON_LAYOUT_H
#define TL_CPYTHON_LAYOUT_H

/* Fields are byte offsets, -1 where the version has no such field; see the
 * header of layouts.inc. */
struct tl_layout {
    int minor, debug;
    int ts_frame, ts_cframe, cframe_current, ts_interp;
    int ts_thread_id, ts_native_id;
    int frame_back, frame_code, frame_instr, frame_owner;
    int owner_skip, stackref_mask, code_adaptive, instr_unit;
    int gen_frame, gen_state, gen_finished;
    int frame_locals, code_nlocals, gen_qualname, tuple_items;
    int code_name, code_filename;
    int frame_stack, frame_stacktop, stacktop_kind, frame_state, gen_executing;
    int op_push_exc_info, op_with_except_start;
    struct { /* 3.13+: slots of the same fields in _PyRuntime.debug_offsets */
        int ts_frame, ts_interp, frame_back, frame_code, frame_instr, frame_owner,
            code_adaptive, gen_frame, gen_state, frame_locals, frame_stacktop, ts_thread_id,
            ts_native_id, gen_name, tuple_items, code_name, code_filename;
    } dbg;
};

extern const struct tl_layout *tl_layout; /* NULL until version.c picked one */

/* The row of a build, or NULL. */
const struct tl_layout *tl_layout_find(int major, int minor, int debug);

#endif
