/* SPDX-License-Identifier: MIT */
/* Resolve the CPython C API with dlsym: see api.h for why. */
#include "cpython/api.h"

#include "cpython/hot.h"
#include "cpython/layout.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

struct tl_py_api tl_py TL_HOT_DATA __attribute__((aligned(64)));

static size_t symbol_size(void *addr)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (!dladdr1(addr, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
        return 0;
    return sym->st_size;
}

int tl_py_resolve(void)
{
    /* The first lookup doubles as "is this CPython at all?". */
#define TL_PY_RESOLVE(ret, name, params)                                       \
    *(void **)&tl_py.name = dlsym(RTLD_DEFAULT, #name);                        \
    if (!tl_py.name)                                                           \
        return -1;
    TL_PY_FUNCTIONS(TL_PY_RESOLVE)
#undef TL_PY_RESOLVE
    tl_py.None = dlsym(RTLD_DEFAULT, "_Py_NoneStruct");
    /* PyExc_* are pointers to the types. */
    PyObject **exc_system_exit = dlsym(RTLD_DEFAULT, "PyExc_SystemExit");
    PyObject **exc_interrupt = dlsym(RTLD_DEFAULT, "PyExc_KeyboardInterrupt");
    PyObject **exc_group = dlsym(RTLD_DEFAULT, "PyExc_BaseExceptionGroup");
    tl_py.SystemExit = exc_system_exit ? *exc_system_exit : NULL;
    tl_py.KeyboardInterrupt = exc_interrupt ? *exc_interrupt : NULL;
    tl_py.BaseExceptionGroup = exc_group ? *exc_group : NULL;
    tl_py.True = dlsym(RTLD_DEFAULT, "_Py_TrueStruct");
    tl_py.CodeType = dlsym(RTLD_DEFAULT, "PyCode_Type");
    tl_py.CoroType = dlsym(RTLD_DEFAULT, "PyCoro_Type");
    tl_py.GenType = dlsym(RTLD_DEFAULT, "PyGen_Type");
    tl_py.AsyncGenType = dlsym(RTLD_DEFAULT, "PyAsyncGen_Type");
    tl_py.MethodType = dlsym(RTLD_DEFAULT, "PyMethod_Type");
    tl_py.TupleType = dlsym(RTLD_DEFAULT, "PyTuple_Type");
    tl_py.runtime = dlsym(RTLD_DEFAULT, "_PyRuntime");
    *(void **)&tl_py.IsFinalizing = dlsym(RTLD_DEFAULT, "Py_IsFinalizing");
    if (!tl_py.IsFinalizing)
        *(void **)&tl_py.IsFinalizing = dlsym(RTLD_DEFAULT, "_Py_IsFinalizing");
    if (!tl_py.None || !tl_py.True || !tl_py.SystemExit || !tl_py.KeyboardInterrupt ||
        !tl_py.CodeType || !tl_py.CoroType || !tl_py.GenType || !tl_py.AsyncGenType ||
        !tl_py.MethodType || !tl_py.TupleType || !tl_py.runtime || !tl_py.IsFinalizing)
        return -1;
    tl_py.runtime_size = symbol_size(tl_py.runtime);
    if (sscanf(tl_py.Py_GetVersion(), "%d.%d.%d", &tl_py.major, &tl_py.minor,
               &tl_py.micro) != 3)
        return -1;
    return 0;
}

PyObject *tl_py_instance_item(PyObject *obj, const char *key)
{
    PyObject *d = obj ? tl_py.PyObject_GenericGetDict(obj, NULL) : NULL;
    PyObject *v = d ? tl_py.PyDict_GetItemString(d, key) : NULL;
    if (v)
        tl_py.Py_IncRef(v);
    if (d)
        tl_py.Py_DecRef(d);
    tl_py.PyErr_Clear();
    return v;
}

PyObject *tl_py_attr(PyObject *obj, const char *name)
{
    PyObject *v = obj ? tl_py.PyObject_GetAttrString(obj, name) : NULL;
    if (!v)
        tl_py.PyErr_Clear();
    return v;
}

PyObject *tl_py_module(const char *name)
{
    PyObject *modules = tl_py.PySys_GetObject("modules");
    return modules ? tl_py.PyDict_GetItemString(modules, name) : NULL;
}

char *tl_py_utf8_copy(PyObject *str)
{
    const char *u = str ? tl_py.PyUnicode_AsUTF8(str) : NULL;
    if (!u)
        tl_py.PyErr_Clear();
    return u ? strdup(u) : NULL;
}

void tl_py_register(const char *module, const char *function, PyMethodDef *def,
                    const char *const *keywords)
{
    PyObject *mod = tl_py.PyImport_ImportModule(module);
    PyObject *register_fn = mod ? tl_py.PyObject_GetAttrString(mod, function) : NULL;
    PyObject *fn = tl_py.PyCFunction_NewEx(def, NULL, NULL);
    PyObject *args = NULL, *kwargs = NULL, *r = NULL;
    if (register_fn && fn) {
        if (keywords) {
            args = tl_py.PyTuple_New(0);
            kwargs = tl_py.PyDict_New();
            for (int i = 0; kwargs && keywords[i]; i++)
                tl_py.PyDict_SetItemString(kwargs, keywords[i], fn);
        } else {
            args = tl_py.PyTuple_Pack(1, fn);
        }
        if (args)
            r = tl_py.PyObject_Call(register_fn, args, kwargs);
    }
    if (!r)
        tl_py.PyErr_Clear();
    PyObject *refs[] = {r, kwargs, args, fn, register_fn, mod};
    for (int i = 0; i < 6; i++)
        if (refs[i])
            tl_py.Py_DecRef(refs[i]);
}

/* The descriptor `name` of a type when its type is `kind` (GIL held). */
static PyObject *descriptor(PyObject *type, const char *name, const char *kind)
{
    PyObject *descr = tl_py.PyObject_GetAttrString(type, name);
    if (!descr) {
        tl_py.PyErr_Clear();
        return NULL;
    }
    const char *tname = TL_FIELD(TL_TYPE(descr), TL_OFF_TP_NAME, const char *);
    int ok = tname && !strcmp(tname, kind);
    tl_py.Py_DecRef(descr); /* the type keeps it */
    return ok ? descr : NULL;
}

PyMethodDef *tl_py_method_def(PyObject *type, const char *name)
{
    PyObject *d = descriptor(type, name, "method_descriptor");
    return d ? TL_FIELD(d, TL_OFF_DESCR_METHOD, PyMethodDef *) : NULL;
}

PyGetSetDef *tl_py_getset_def(PyObject *type, const char *name)
{
    PyObject *d = descriptor(type, name, "getset_descriptor");
    return d ? TL_FIELD(d, TL_OFF_DESCR_GETSET, PyGetSetDef *) : NULL;
}

PyObject *tl_py_tuple_first(PyObject *obj)
{
    return obj && TL_TYPE(obj) == tl_py.TupleType && TL_FIELD(obj, TL_OFF_VAR_SIZE, Py_ssize_t) > 0
               ? TL_FIELD(obj, tl_layout->tuple_items, PyObject *)
               : NULL;
}
