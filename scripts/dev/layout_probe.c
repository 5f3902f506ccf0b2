/*
 * layout_probe.c -- compiled once per CPython version by gen_layouts.sh.
 * Prints "key=value" lines with offsetof() values taken from that version's
 * own headers (public + internal).  -1 means "field does not exist".
 *
 * Build: gcc -I<inc> -I<inc>/internal layout_probe.c   (Py_BUILD_CORE set here)
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>

#if PY_VERSION_HEX < 0x03080000
#  error "CPython < 3.8 is not supported"
#endif

#if PY_VERSION_HEX < 0x030B0000
#  include <frameobject.h>               /* PyFrameObject (struct _frame) */
#else
#  include "internal/pycore_frame.h"     /* _PyInterpreterFrame */
#endif

#if PY_VERSION_HEX < 0x03090000
#  include "internal/pycore_pystate.h"   /* _PyRuntimeState lives here in 3.8 */
#else
#  include "internal/pycore_runtime.h"   /* _PyRuntimeState, 3.9+ */
#endif

#define P(k, v) printf("%s=%ld\n", (k), (long)(v))

int main(void)
{
    printf("py_version=%s\n", PY_VERSION);
    P("py_major", PY_MAJOR_VERSION);
    P("py_minor", PY_MINOR_VERSION);

    long ts_frame = -1, ts_cframe = -1, cframe_current = -1;
    long frame_back, frame_code, frame_instr, frame_owner = -1;
    long owner_cstack = -1, code_adaptive = -1, instr_unit;
    long frame_is_entry = -1, instr_size, gen_frame;

#if PY_VERSION_HEX < 0x030B0000
    /* 3.8 - 3.10: PyThreadState.frame -> PyFrameObject chain */
    ts_frame    = offsetof(PyThreadState, frame);
    frame_back  = offsetof(PyFrameObject, f_back);
    frame_code  = offsetof(PyFrameObject, f_code);
    frame_instr = offsetof(PyFrameObject, f_lasti);
    instr_size  = sizeof(((PyFrameObject *)0)->f_lasti);
    gen_frame   = offsetof(PyGenObject, gi_frame); /* a PyFrameObject pointer */
#  if PY_VERSION_HEX < 0x030A0000
    instr_unit  = 1;   /* f_lasti is a byte offset */
#  else
    instr_unit  = 2;   /* f_lasti counts _Py_CODEUNITs: Addr2Line(co, f_lasti*2) */
#  endif
#elif PY_VERSION_HEX < 0x030D0000
    /* 3.11 / 3.12: tstate->cframe->current_frame -> _PyInterpreterFrame */
    ts_cframe      = offsetof(PyThreadState, cframe);
    cframe_current = offsetof(_PyCFrame, current_frame);
    frame_back     = offsetof(_PyInterpreterFrame, previous);
    frame_code     = offsetof(_PyInterpreterFrame, f_code);
    frame_instr    = offsetof(_PyInterpreterFrame, prev_instr);
    instr_size     = sizeof(((_PyInterpreterFrame *)0)->prev_instr);
    gen_frame      = offsetof(PyGenObject, gi_iframe); /* embedded frame */
    frame_owner    = offsetof(_PyInterpreterFrame, owner);
    code_adaptive  = offsetof(PyCodeObject, co_code_adaptive);
    instr_unit     = sizeof(_Py_CODEUNIT);
#  if PY_VERSION_HEX < 0x030C0000
    frame_is_entry = offsetof(_PyInterpreterFrame, is_entry);
#  else
    owner_cstack   = FRAME_OWNED_BY_CSTACK;
#  endif
#else
    /* 3.13+: tstate->current_frame -> _PyInterpreterFrame */
    ts_frame      = offsetof(PyThreadState, current_frame);
    frame_back    = offsetof(_PyInterpreterFrame, previous);
    frame_code    = offsetof(_PyInterpreterFrame, f_executable);
    frame_instr   = offsetof(_PyInterpreterFrame, instr_ptr);
    instr_size    = sizeof(((_PyInterpreterFrame *)0)->instr_ptr);
    gen_frame     = offsetof(PyGenObject, gi_iframe); /* embedded frame */
    frame_owner   = offsetof(_PyInterpreterFrame, owner);
    owner_cstack  = FRAME_OWNED_BY_CSTACK;
    code_adaptive = offsetof(PyCodeObject, co_code_adaptive);
    instr_unit    = sizeof(_Py_CODEUNIT);
#endif

    P("ts_frame", ts_frame);
    P("ts_cframe", ts_cframe);
    P("cframe_current", cframe_current);
    P("frame_back", frame_back);
    P("frame_code", frame_code);
    P("frame_instr", frame_instr);
    P("frame_owner", frame_owner);
    P("owner_cstack", owner_cstack);
    P("code_adaptive", code_adaptive);
    P("instr_unit", instr_unit);
    P("gen_frame", gen_frame);

    /* ---- extra facts (not in layouts.inc) ---- */
    P("x_frame_instr_size", instr_size);
    P("x_frame_is_entry", frame_is_entry);
#if PY_VERSION_HEX >= 0x030B0000
    P("x_frame_owner_size", sizeof(((_PyInterpreterFrame *)0)->owner));
    P("x_owned_by_thread", FRAME_OWNED_BY_THREAD);
    P("x_owned_by_generator", FRAME_OWNED_BY_GENERATOR);
    P("x_owned_by_frame_object", FRAME_OWNED_BY_FRAME_OBJECT);
    P("x_code_firsttraceable", offsetof(PyCodeObject, _co_firsttraceable));
#else
    P("x_code_firsttraceable", -1);
#endif
    P("x_sizeof_PyThreadState", sizeof(PyThreadState));
    P("x_methoddescr_d_method", offsetof(PyMethodDescrObject, d_method));
    P("x_wrapperdescr_d_wrapped", offsetof(PyWrapperDescrObject, d_wrapped));
    P("x_wrapperdescr_d_base", offsetof(PyWrapperDescrObject, d_base));
    P("x_sizeof_PyRuntimeState", sizeof(_PyRuntimeState));
#if PY_VERSION_HEX < 0x030C0000
    P("x_runtime_audit_head", offsetof(_PyRuntimeState, audit_hook_head));
#else
    P("x_runtime_audit_head", offsetof(_PyRuntimeState, audit_hooks.head));
    P("x_runtime_audit_mutex", offsetof(_PyRuntimeState, audit_hooks.mutex));
#endif
#if PY_VERSION_HEX >= 0x030D0000
    P("x_runtime_debug_offsets", offsetof(_PyRuntimeState, debug_offsets));
#endif
#ifdef Py_GIL_DISABLED
    P("x_Py_GIL_DISABLED", 1);
#else
    P("x_Py_GIL_DISABLED", 0);
#endif
#ifdef Py_DEBUG
    P("x_Py_DEBUG", 1);
#else
    P("x_Py_DEBUG", 0);
#endif
    P("x_sizeof_PyObject", sizeof(PyObject));
    return 0;
}
