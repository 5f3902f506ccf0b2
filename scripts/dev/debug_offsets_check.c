/* SPDX-License-Identifier: MIT */
/*
 * debug_offsets_check.c -- 3.13+ only.  Built and run by gen_layouts.sh.
 * Reads the *live* _PyRuntime.debug_offsets exported by libpython3.X.so
 * (statically initialised data; no Py_Initialize needed) and compares it
 * with offsetof() from the headers the layout probe used.
 * Exit status 0 = all equal.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include "internal/pycore_frame.h"
#include "internal/pycore_runtime.h"
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030D0000
#  error "_Py_DebugOffsets exists from 3.13 on"
#endif

extern _PyRuntimeState _PyRuntime;   /* exported data symbol of libpython */

static int bad = 0;
static void cmp(const char *name, unsigned long long live, size_t hdr)
{
    int ok = live == (unsigned long long)hdr;
    printf("  %-40s debug_offsets=%-5llu offsetof=%-5zu %s\n",
           name, live, hdr, ok ? "ok" : "MISMATCH");
    if (!ok) bad = 1;
}

int main(void)
{
    const _Py_DebugOffsets *d = &_PyRuntime.debug_offsets;
    printf("  cookie=%.8s version=0x%llx free_threaded=%llu (headers PY_VERSION_HEX=0x%x)\n",
           d->cookie, (unsigned long long)d->version,
           (unsigned long long)d->free_threaded, PY_VERSION_HEX);
    if (memcmp(d->cookie, _Py_Debug_Cookie, 8) != 0) { puts("  bad cookie"); return 1; }
    cmp("thread_state.current_frame", d->thread_state.current_frame,
        offsetof(PyThreadState, current_frame));
    cmp("interpreter_frame.previous", d->interpreter_frame.previous,
        offsetof(_PyInterpreterFrame, previous));
    cmp("interpreter_frame.executable", d->interpreter_frame.executable,
        offsetof(_PyInterpreterFrame, f_executable));
    cmp("interpreter_frame.instr_ptr", d->interpreter_frame.instr_ptr,
        offsetof(_PyInterpreterFrame, instr_ptr));
    cmp("interpreter_frame.owner", d->interpreter_frame.owner,
        offsetof(_PyInterpreterFrame, owner));
    cmp("code_object.co_code_adaptive", d->code_object.co_code_adaptive,
        offsetof(PyCodeObject, co_code_adaptive));
    printf("  debug_offsets: %s\n", bad ? "MISMATCH" : "OK");
    return bad;
}
