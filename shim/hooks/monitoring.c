/* SPDX-License-Identifier: MIT */
/* EXCEPTION_HANDLED: for each CancelledError handled in a task, note the
 * handler's site and kind on the task's last cancel.  The last handler in
 * the task is the one that decided: a re-raise leads to another. */
#include "hooks/monitoring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/options.h"
#include "core/tasks.h"
#include "cpython/api.h"
#include "cpython/frames.h"
#include "cpython/version.h"
#include "hooks/capture.h"


static PyObject *current_task; /* _asyncio.current_task */
static PyObject *cancelled_error;

static PyObject *cancelled_error_class(void)
{
    if (!cancelled_error)
        cancelled_error = tl_py_attr(tl_py_module("asyncio.exceptions"), "CancelledError");
    return cancelled_error;
}

static enum tl_catch handler_kind(PyObject *code, long offset)
{
    enum tl_handler h = tl_frames_handler(code, offset);
    if (h == TL_HANDLER_NONE)
        return TL_CATCH_NONE;
    if (tl_capture_is_library_code((uintptr_t)code))
        return TL_CATCH_LIBRARY;
    return h == TL_HANDLER_WITH ? TL_CATCH_WITH : TL_CATCH_USER;
}

/* Whether an exception is a CancelledError.  Every handled exception of
 * the program comes here: the last type that is not one is remembered (a
 * reference kept, so that its address stays its own). */
static int is_cancelled_error(PyObject *exc)
{
    static PyObject *last_other;
    PyObject *cls = cancelled_error_class(), *type = TL_TYPE(exc);
    if (!cls || type == last_other)
        return 0;
    if (type == cls)
        return 1;
    int yes = tl_py.PyObject_IsInstance(exc, cls);
    if (yes < 0)
        tl_py.PyErr_Clear();
    if (yes == 0) {
        tl_py.Py_IncRef(type);
        if (last_other)
            tl_py.Py_DecRef(last_other);
        last_other = type;
    }
    return yes == 1;
}

static PyObject *on_handled(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    int timed = tl_hook_begin(TL_HOOK_HANDLED);
    uint64_t t0 = timed ? tl_ticks() : 0;
    if (nargs == 3 && is_cancelled_error(args[2])) {
        long offset = tl_py.PyLong_AsLong(args[1]);
        if (offset == -1)
            tl_py.PyErr_Clear();
        enum tl_catch kind = offset >= 0 && TL_TYPE(args[0]) == tl_py.CodeType
                                 ? handler_kind(args[0], offset)
                                 : TL_CATCH_NONE;
        PyObject *task = kind != TL_CATCH_NONE ? tl_py.PyObject_CallObject(current_task, NULL) : NULL;
        if (task && task != tl_py.None) {
            /* PUSH_EXC_INFO has no line; the next instruction has the
             * handler's (the `except` or `with` line). */
            uintptr_t site[2] = {(uintptr_t)args[0], (uintptr_t)offset + 2};
            tl_task_caught((uintptr_t)task, tl_capture_intern_py(site, 1), kind);
        }
        if (task)
            tl_py.Py_DecRef(task);
        else if (kind != TL_CATCH_NONE)
            tl_py.PyErr_Clear();
    }
    if (timed)
        tl_hook_timed(TL_HOOK_HANDLED, tl_ticks() - t0, 1);
    tl_py.Py_IncRef(tl_py.None);
    return tl_py.None;
}

static PyObject *call_monitoring(PyObject *mon, const char *fn, PyObject *a, PyObject *b, PyObject *c)
{
    PyObject *f = tl_py.PyObject_GetAttrString(mon, fn);
    PyObject *r = f ? tl_py.PyObject_CallFunctionObjArgs(f, a, b, c, NULL) : NULL;
    if (f)
        tl_py.Py_DecRef(f);
    return r;
}

void tl_monitoring_start(void)
{
    if (!tl_caps.monitoring)
        return;
    if (!tl_opt.catch_sites) {
        snprintf(tl_catch_sites_status, sizeof tl_catch_sites_status, "off (catch_sites=0)");
        return;
    }
    static PyMethodDef def = {"_taskleak_exception_handled", (void *)on_handled, TL_METH_FASTCALL, NULL};
    PyObject *modules = tl_py.PySys_GetObject("modules");
    PyObject *asyncio_c = modules ? tl_py.PyDict_GetItemString(modules, "_asyncio") : NULL;
    PyObject *sys = modules ? tl_py.PyDict_GetItemString(modules, "sys") : NULL;
    PyObject *mon = sys ? tl_py.PyObject_GetAttrString(sys, "monitoring") : NULL;
    current_task = asyncio_c ? tl_py.PyObject_GetAttrString(asyncio_c, "current_task") : NULL;
    PyObject *fn = tl_py.PyCFunction_NewEx(&def, NULL, NULL);
    PyObject *name = tl_py.PyUnicode_FromString("taskleak");
    /* The event's bit, as this version numbers it (3.14 renumbered them). */
    PyObject *ns = mon ? tl_py.PyObject_GetAttrString(mon, "events") : NULL;
    PyObject *events = ns ? tl_py.PyObject_GetAttrString(ns, "EXCEPTION_HANDLED") : NULL;
    if (ns)
        tl_py.Py_DecRef(ns);
    int tool = -1;
    /* 0-2 and 5 are named for debuggers, coverage, profilers, optimizers. */
    static const int candidates[] = {4, 3};
    for (size_t i = 0; mon && current_task && fn && name && events && i < 2 && tool < 0; i++) {
        PyObject *id = tl_py.PyLong_FromLong(candidates[i]);
        PyObject *r = id ? call_monitoring(mon, "use_tool_id", id, name, NULL) : NULL;
        if (r && (tl_py.Py_DecRef(r), r = call_monitoring(mon, "register_callback", id, events, fn))) {
            tl_py.Py_DecRef(r);
            r = call_monitoring(mon, "set_events", id, events, NULL);
        }
        if (r) {
            tl_py.Py_DecRef(r);
            tool = candidates[i];
        }
        tl_py.PyErr_Clear();
        if (id)
            tl_py.Py_DecRef(id);
    }
    if (tool >= 0) {
        snprintf(tl_catch_sites_status, sizeof tl_catch_sites_status,
                 "sys.monitoring EXCEPTION_HANDLED, tool id %d", tool);
    } else {
        snprintf(tl_catch_sites_status, sizeof tl_catch_sites_status,
                 "unavailable: sys.monitoring tool ids 3 and 4 are taken; "
                 "swallow sites are not known");
    }
    PyObject *refs[] = {events, name, fn, mon};
    for (int i = 0; i < 4; i++)
        if (refs[i])
            tl_py.Py_DecRef(refs[i]);
    tl_py.PyErr_Clear();
}
