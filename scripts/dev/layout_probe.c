/* SPDX-License-Identifier: MIT */
/* layout_probe.c -- compiled once per CPython build by gen_layouts.sh against
 * that build's own headers (public + internal), it prints the build's row of
 * shim/cpython/layouts.inc.  -1: the field does not exist in that version.
 * It also fails (exit 1) where a constant of shim/cpython/offsets.h, which
 * the library uses on every version, does not hold for this build. */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>

#if PY_VERSION_HEX < 0x030B0000
#include <frameobject.h>
#elif PY_VERSION_HEX < 0x030E0000
#include "internal/pycore_frame.h"
#else
#include "internal/pycore_frame.h"
#include "internal/pycore_interpframe.h"
#include "internal/pycore_stackref.h"
#endif
#if PY_VERSION_HEX < 0x03090000
#include "internal/pycore_pystate.h"
#else
#include "internal/pycore_runtime.h"
#endif
#if PY_VERSION_HEX >= 0x030D0000
#include "opcode_ids.h"
#elif PY_VERSION_HEX >= 0x030C0000
#include "opcode.h"
#endif

#include "../../shim/cpython/offsets.h"

/* Index of a _Py_DebugOffsets field, counted in its uint64_t slots. */
#define DBG(field) ((long)(offsetof(_Py_DebugOffsets, field) / sizeof(uint64_t)))

static int ok = 1;
static void same(const char *what, long have, long want)
{
    if (have != want) {
        fprintf(stderr, "layout_probe: %s is %ld here, offsets.h says %ld\n", what, have, want);
        ok = 0;
    }
}

int main(void)
{
    long ts_frame = -1, ts_cframe = -1, cframe_current = -1, owner_skip = -1, frame_owner = -1,
         code_adaptive = -1, stackref_mask = 0, op_push_exc_info = -1, op_with_except_start = -1,
         gen_state = -1, gen_finished = -1, frame_locals, code_nlocals, frame_stack = -1,
         frame_stacktop, stacktop_kind, frame_state = -1, gen_executing = -1, ts_native_id = -1;
    long frame_back, frame_code, frame_instr, instr_unit, gen_frame;
    long dbg_ts_frame = -1, dbg_ts_interp = -1, dbg_frame_back = -1, dbg_frame_code = -1,
         dbg_frame_instr = -1, dbg_frame_owner = -1, dbg_code_adaptive = -1, dbg_gen_frame = -1,
         dbg_gen_state = -1, dbg_frame_locals = -1, dbg_frame_stacktop = -1,
         dbg_ts_thread_id = -1, dbg_ts_native_id = -1, dbg_gen_name = -1, dbg_tuple_items = -1,
         dbg_code_name = -1, dbg_code_filename = -1;
#if PY_VERSION_HEX >= 0x030B0000
    long code_name = offsetof(PyCodeObject, co_qualname); /* what a report calls the function */
#else
    long code_name = offsetof(PyCodeObject, co_name);
#endif
    /* A coroutine's and a generator's __qualname__ (the same head). */
    long gen_qualname = offsetof(PyGenObject, gi_qualname);
    same("PyCoroObject.cr_qualname", offsetof(PyCoroObject, cr_qualname), gen_qualname);
    same("PyGenObject.gi_qualname after gi_name", offsetof(PyGenObject, gi_name) + sizeof(PyObject *),
         gen_qualname);
#ifdef Py_DEBUG
    int debug = 1;
#else
    int debug = 0;
#endif
#ifdef Py_GIL_DISABLED
    fprintf(stderr, "layout_probe: free-threaded builds are not supported\n");
    return 1;
#endif
#if PY_VERSION_HEX < 0x030B0000
    ts_frame = offsetof(PyThreadState, frame);
    frame_back = offsetof(PyFrameObject, f_back);
    frame_code = offsetof(PyFrameObject, f_code);
    frame_instr = offsetof(PyFrameObject, f_lasti);
    gen_frame = offsetof(PyGenObject, gi_frame); /* a PyFrameObject pointer */
    frame_locals = offsetof(PyFrameObject, f_localsplus);
    code_nlocals = offsetof(PyCodeObject, co_nlocals); /* plain locals first */
    instr_unit = PY_VERSION_HEX < 0x030A0000 ? 1 : 2; /* f_lasti: bytes, then code units */
    frame_stack = offsetof(PyFrameObject, f_valuestack);
#if PY_VERSION_HEX < 0x030A0000
    frame_stacktop = offsetof(PyFrameObject, f_stacktop);
    stacktop_kind = 0; /* a pointer past the top */
#else
    frame_stacktop = offsetof(PyFrameObject, f_stackdepth);
    stacktop_kind = 1; /* slots above f_valuestack */
    frame_state = offsetof(PyFrameObject, f_state);
    gen_executing = FRAME_EXECUTING;
#endif
#else
#if PY_VERSION_HEX < 0x030D0000
    ts_cframe = offsetof(PyThreadState, cframe);
    cframe_current = offsetof(_PyCFrame, current_frame);
    frame_code = offsetof(_PyInterpreterFrame, f_code);
    frame_instr = offsetof(_PyInterpreterFrame, prev_instr);
#else
    ts_frame = offsetof(PyThreadState, current_frame);
    frame_code = offsetof(_PyInterpreterFrame, f_executable);
    frame_instr = offsetof(_PyInterpreterFrame, instr_ptr);
#endif
    frame_back = offsetof(_PyInterpreterFrame, previous);
    frame_owner = offsetof(_PyInterpreterFrame, owner);
    frame_locals = offsetof(_PyInterpreterFrame, localsplus);
    code_nlocals = offsetof(PyCodeObject, co_nlocalsplus);
    gen_frame = offsetof(PyGenObject, gi_iframe); /* embedded */
    gen_state = offsetof(PyGenObject, gi_frame_state);
#if PY_VERSION_HEX >= 0x030F0000
    gen_finished = FRAME_CLEARED;
#else
    gen_finished = FRAME_COMPLETED;
#endif
    code_adaptive = offsetof(PyCodeObject, co_code_adaptive);
    instr_unit = sizeof(_Py_CODEUNIT);
#if PY_VERSION_HEX >= 0x030E0000
    frame_stacktop = offsetof(_PyInterpreterFrame, stackpointer);
    stacktop_kind = 0; /* a pointer past the top */
#else
    frame_stacktop = offsetof(_PyInterpreterFrame, stacktop);
    stacktop_kind = 2; /* slots above localsplus, the locals included */
#endif
    gen_executing = FRAME_EXECUTING;
    ts_native_id = offsetof(PyThreadState, native_thread_id);
#endif
#if PY_VERSION_HEX >= 0x030E0000
    owner_skip = FRAME_OWNED_BY_INTERPRETER; /* and CSTACK (3.14), above it */
    stackref_mask = Py_TAG_BITS;             /* f_executable is a tagged _PyStackRef */
#elif PY_VERSION_HEX >= 0x030C0000
    owner_skip = FRAME_OWNED_BY_CSTACK;
#endif
#if PY_VERSION_HEX >= 0x030C0000
    op_push_exc_info = PUSH_EXC_INFO;
    op_with_except_start = WITH_EXCEPT_START;
#endif
#if PY_VERSION_HEX >= 0x030D0000
    if (offsetof(_PyRuntimeState, debug_offsets) != 0) {
        fprintf(stderr, "layout_probe: _PyRuntime.debug_offsets is not first\n");
        return 1;
    }
    dbg_ts_frame = DBG(thread_state.current_frame);
    dbg_ts_interp = DBG(thread_state.interp);
    dbg_frame_back = DBG(interpreter_frame.previous);
    dbg_frame_code = DBG(interpreter_frame.executable);
    dbg_frame_instr = DBG(interpreter_frame.instr_ptr);
    dbg_frame_owner = DBG(interpreter_frame.owner);
    dbg_code_adaptive = DBG(code_object.co_code_adaptive);
    dbg_ts_thread_id = DBG(thread_state.thread_id);
    dbg_ts_native_id = DBG(thread_state.native_thread_id);
    dbg_code_name = DBG(code_object.qualname);
    dbg_code_filename = DBG(code_object.filename);
#endif
#if PY_VERSION_HEX >= 0x030E0000
    dbg_gen_frame = DBG(gen_object.gi_iframe);
    dbg_gen_state = DBG(gen_object.gi_frame_state);
    dbg_frame_locals = DBG(interpreter_frame.localsplus);
    dbg_frame_stacktop = DBG(interpreter_frame.stackpointer);
    dbg_gen_name = DBG(gen_object.gi_name); /* gi_qualname follows it (checked above) */
    dbg_tuple_items = DBG(tuple_object.ob_item);
#endif
    same("PyObject.ob_type", offsetof(PyObject, ob_type), TL_OFF_OB_TYPE);
    same("PyTypeObject.tp_name", offsetof(PyTypeObject, tp_name), TL_OFF_TP_NAME);
    same("PyTypeObject.tp_init", offsetof(PyTypeObject, tp_init), TL_OFF_TP_INIT);
    same("PyTypeObject.tp_finalize", offsetof(PyTypeObject, tp_finalize), TL_OFF_TP_FINALIZE);
    same("PyMethodDescrObject.d_method", offsetof(PyMethodDescrObject, d_method), TL_OFF_DESCR_METHOD);
    same("PyWrapperDescrObject.d_wrapped", offsetof(PyWrapperDescrObject, d_wrapped),
         TL_OFF_DESCR_WRAPPED);
    same("PyGetSetDescrObject.d_getset", offsetof(PyGetSetDescrObject, d_getset), TL_OFF_DESCR_GETSET);
    same("PyVarObject.ob_size", offsetof(PyVarObject, ob_size), TL_OFF_VAR_SIZE);
    same("METH_FASTCALL", METH_FASTCALL, TL_METH_FASTCALL);
    same("METH_NOARGS", METH_NOARGS, TL_METH_NOARGS);
    same("METH_KEYWORDS", METH_KEYWORDS, TL_METH_KEYWORDS);
    if (!ok)
        return 1;
    printf("TL_LAYOUT(.minor = %d, .debug = %d, /* %s */\n", PY_MINOR_VERSION, debug, PY_VERSION);
    printf("    .ts_frame = %ld, .ts_cframe = %ld, .cframe_current = %ld, .ts_interp = %ld,\n",
           ts_frame, ts_cframe, cframe_current, (long)offsetof(PyThreadState, interp));
    printf("    .ts_thread_id = %ld, .ts_native_id = %ld,\n",
           (long)offsetof(PyThreadState, thread_id), ts_native_id);
    printf("    .frame_back = %ld, .frame_code = %ld, .frame_instr = %ld, .frame_owner = %ld,\n",
           frame_back, frame_code, frame_instr, frame_owner);
    printf("    .owner_skip = %ld, .stackref_mask = %ld, .code_adaptive = %ld, .instr_unit = %ld,\n",
           owner_skip, stackref_mask, code_adaptive, instr_unit);
    printf("    .gen_frame = %ld, .gen_state = %ld, .gen_finished = %ld,\n", gen_frame, gen_state,
           gen_finished);
    printf("    .frame_locals = %ld, .code_nlocals = %ld, .gen_qualname = %ld, .tuple_items = %ld,\n",
           frame_locals, code_nlocals, gen_qualname, (long)offsetof(PyTupleObject, ob_item));
    printf("    .code_name = %ld, .code_filename = %ld,\n", code_name,
           (long)offsetof(PyCodeObject, co_filename));
    printf("    .frame_stack = %ld, .frame_stacktop = %ld, .stacktop_kind = %ld,\n", frame_stack,
           frame_stacktop, stacktop_kind);
    printf("    .frame_state = %ld, .gen_executing = %ld,\n", frame_state, gen_executing);
    printf("    .op_push_exc_info = %ld, .op_with_except_start = %ld,\n", op_push_exc_info,
           op_with_except_start);
    printf("    .dbg = {.ts_frame = %ld, .ts_interp = %ld, .frame_back = %ld, .frame_code = %ld,\n",
           dbg_ts_frame, dbg_ts_interp, dbg_frame_back, dbg_frame_code);
    printf("            .frame_instr = %ld, .frame_owner = %ld, .code_adaptive = %ld, .gen_frame = %ld,\n",
           dbg_frame_instr, dbg_frame_owner, dbg_code_adaptive, dbg_gen_frame);
    printf("            .gen_state = %ld, .frame_locals = %ld, .frame_stacktop = %ld,\n",
           dbg_gen_state, dbg_frame_locals, dbg_frame_stacktop);
    printf("            .ts_thread_id = %ld, .ts_native_id = %ld, .gen_name = %ld, .tuple_items = %ld,\n",
           dbg_ts_thread_id, dbg_ts_native_id, dbg_gen_name, dbg_tuple_items);
    printf("            .code_name = %ld, .code_filename = %ld})\n", dbg_code_name, dbg_code_filename);
    return 0;
}
