/* SPDX-License-Identifier: MIT */
/* The slice of the CPython C API that taskleak uses, resolved at run time.
 *
 * The library never links libpython and never includes Python.h: one .so
 * serves every interpreter, and inline macros from one version's headers
 * corrupt another version's objects.  Every function comes from dlsym. */
#ifndef TL_CPYTHON_API_H
#define TL_CPYTHON_API_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cpython/offsets.h"

typedef struct _object PyObject;
typedef ssize_t Py_ssize_t;
typedef int (*Py_AuditHookFunction)(const char *, PyObject *, void *);

typedef struct {
    void *ctx;
    void *(*malloc)(void *ctx, size_t size);
    void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
    void *(*realloc)(void *ctx, void *ptr, size_t new_size);
    void (*free)(void *ctx, void *ptr);
} PyMemAllocatorEx;

typedef struct {
    const char *ml_name;
    void *ml_meth;
    int ml_flags;
    const char *ml_doc;
} PyMethodDef;

typedef struct {
    const char *name;
    PyObject *(*get)(PyObject *, void *);
    int (*set)(PyObject *, PyObject *, void *);
    const char *doc;
    void *closure;
} PyGetSetDef;

#define TL_PYMEM_DOMAIN_RAW 0

#define TL_FIELD(obj, off, type) (*(type *)((char *)(obj) + (off)))
#define TL_TYPE(obj) TL_FIELD(obj, TL_OFF_OB_TYPE, PyObject *)

/* X(return type, name, parameters): required everywhere we run.  The
 * hooks' per-task ones first (struct tl_py_api). */
#define TL_PY_FUNCTIONS(X)                                                     \
    X(void *, PyThreadState_Get, (void))                                       \
    X(void, Py_DecRef, (PyObject *))                                           \
    X(void, Py_IncRef, (PyObject *))                                           \
    X(int, Py_IsInitialized, (void))                                           \
    X(const char *, Py_GetVersion, (void))                                     \
    X(int, PySys_AddAuditHook, (Py_AuditHookFunction, void *))                 \
    X(PyObject *, PySys_GetObject, (const char *))                             \
    X(PyObject *, PyDict_GetItemString, (PyObject *, const char *))            \
    X(PyObject *, PyObject_GetAttrString, (PyObject *, const char *))          \
    X(PyObject *, PyObject_GetAttr, (PyObject *, PyObject *))                  \
    X(PyObject *, PyObject_CallObject, (PyObject *, PyObject *))               \
    X(PyObject *, PyObject_CallMethodObjArgs, (PyObject *, PyObject *, ...))   \
    X(PyObject *, PyObject_Repr, (PyObject *))                                 \
    X(PyObject *, PyObject_GetItem, (PyObject *, PyObject *))                  \
    X(int, PyType_IsSubtype, (PyObject *, PyObject *))                         \
    X(unsigned long, PyType_GetFlags, (PyObject *))                            \
    X(PyObject *, PyObject_GenericGetDict, (PyObject *, void *))               \
    X(PyObject *, PyObject_Str, (PyObject *))                                  \
    X(int, PyObject_IsTrue, (PyObject *))                                      \
    X(int, PyObject_IsInstance, (PyObject *, PyObject *))                      \
    X(PyObject *, PyObject_CallFunctionObjArgs, (PyObject *, ...))             \
    X(PyObject *, PyUnicode_FromString, (const char *))                        \
    X(PyObject *, PyLong_FromLong, (long))                                     \
    X(PyObject *, PyTuple_New, (Py_ssize_t))                                   \
    X(PyObject *, PyTuple_Pack, (Py_ssize_t, ...))                             \
    X(PyObject *, PyDict_New, (void))                                          \
    X(int, PyDict_SetItemString, (PyObject *, const char *, PyObject *))       \
    X(PyObject *, PyObject_Call, (PyObject *, PyObject *, PyObject *))         \
    X(void *, PyEval_SaveThread, (void))                                       \
    X(void, PyEval_RestoreThread, (void *))                                    \
    X(int, Py_AddPendingCall, (int (*)(void *), void *))                       \
    X(PyObject *, PyObject_GetIter, (PyObject *))                              \
    X(PyObject *, PyIter_Next, (PyObject *))                                   \
    X(void, PyErr_Fetch, (PyObject **, PyObject **, PyObject **))              \
    X(void, PyErr_Restore, (PyObject *, PyObject *, PyObject *))               \
    X(void, PyErr_Clear, (void))                                               \
    X(PyObject *, PyErr_Occurred, (void))                                      \
    X(const char *, PyUnicode_AsUTF8, (PyObject *))                            \
    X(PyObject *, PyUnicode_InternFromString, (const char *))                  \
    X(long, PyLong_AsLong, (PyObject *))                                       \
    X(double, PyFloat_AsDouble, (PyObject *))                                  \
    X(PyObject *, PyLong_FromUnsignedLong, (unsigned long))                    \
    X(unsigned long, PyLong_AsUnsignedLong, (PyObject *))                      \
    X(Py_ssize_t, PyTuple_Size, (PyObject *))                                  \
    X(Py_ssize_t, PyList_Size, (PyObject *))                                   \
    X(PyObject *, PyList_GetItem, (PyObject *, Py_ssize_t))                    \
    X(PyObject *, PyTuple_GetItem, (PyObject *, Py_ssize_t))                   \
    X(PyObject *, PyDict_GetItem, (PyObject *, PyObject *))                    \
    X(int, PyDict_Next, (PyObject *, Py_ssize_t *, PyObject **, PyObject **))  \
    X(PyObject *, PyImport_ImportModule, (const char *))                       \
    X(PyObject *, PyCFunction_NewEx, (PyMethodDef *, PyObject *, PyObject *))  \
    X(PyObject *, PyWeakref_NewRef, (PyObject *, PyObject *))                  \
    X(PyObject *, PyWeakref_GetObject, (PyObject *))                           \
    X(int, PyGILState_Check, (void))                                           \
    X(void *, PyInterpreterState_ThreadHead, (void *))                         \
    X(void *, PyThreadState_Next, (void *))                                    \
    X(void *, PyInterpreterState_Main, (void))                                 \
    X(void *, PyThreadState_New, (void *))                                     \
    X(void, PyThreadState_Clear, (void *))                                     \
    X(void, PyThreadState_DeleteCurrent, (void))                               \
    X(int, PyCode_Addr2Line, (PyObject *, int))                                \
    X(void *, PyMem_RawMalloc, (size_t))                                       \
    X(void, PyMem_GetAllocator, (int, PyMemAllocatorEx *))                     \
    X(void, PyMem_SetAllocator, (int, PyMemAllocatorEx *))

#define TL_PY_DECLARE(ret, name, params) ret(*name) params;
struct tl_py_api {
    /* What the hooks read for every task, in the table's first cache line
     * with their functions (first in TL_PY_FUNCTIONS). */
    PyObject *True, *TupleType, *CoroType, *GenType;
    void *main_interp; /* PyInterpreterState_Main(), once a hook asked */
    TL_PY_FUNCTIONS(TL_PY_DECLARE)
    PyObject *None;
    PyObject *SystemExit, *KeyboardInterrupt; /* the exception types; */
    PyObject *BaseExceptionGroup;             /* NULL before 3.11 */
    PyObject *CodeType;
    PyObject *AsyncGenType, *MethodType;
    int (*IsFinalizing)(void); /* Py_IsFinalizing (3.13+), _Py_IsFinalizing before */
    void *runtime;            /* _PyRuntime */
    size_t runtime_size;      /* from the ELF symbol table; 0 if unknown */
    int major, minor, micro;  /* from Py_GetVersion() */
};
#undef TL_PY_DECLARE

extern struct tl_py_api tl_py;

/* Resolve the table.  Returns 0 when this process is CPython with every
 * function present, -1 otherwise (then nothing else may be called). */
int tl_py_resolve(void);

/* An entry of an object's instance dictionary (a new reference), read
 * without attribute lookup: no property or __getattr__ of the program's
 * runs.  NULL when absent; errors are cleared.  GIL held. */
PyObject *tl_py_instance_item(PyObject *obj, const char *key);
/* obj.name (a new reference), or NULL with the error cleared (NULL obj
 * too).  For objects of CPython's and asyncio's own types. */
PyObject *tl_py_attr(PyObject *obj, const char *name);
/* sys.modules[name] (borrowed), or NULL: never an import. */
PyObject *tl_py_module(const char *name);
/* A str's UTF-8 text as a malloc'd copy, or NULL (error cleared). */
char *tl_py_utf8_copy(PyObject *str);

/* module.function(fn) or, with `keywords`, module.function(kw=fn, ...): the
 * way a C function of ours registers as a Python callback (atexit.register,
 * os.register_at_fork).  GIL held; errors are cleared. */
void tl_py_register(const char *module, const char *function, PyMethodDef *def,
                    const char *const *keywords);

/* The C definition behind a method (a method_descriptor) or an attribute (a
 * getset_descriptor) of a built-in type, which keeps it: the hooks call
 * the C function itself, with no lookup.  NULL when `name` is something
 * else.  GIL held; errors are cleared. */
PyMethodDef *tl_py_method_def(PyObject *type, const char *name);
PyGetSetDef *tl_py_getset_def(PyObject *type, const char *name);
/* The first item of an exact tuple (borrowed), read in place; else NULL. */
PyObject *tl_py_tuple_first(PyObject *obj);

#endif
