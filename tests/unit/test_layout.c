/* SPDX-License-Identifier: MIT */
/* The object layouts api.h hard-codes, checked against this system's
 * Python.h (per-version frame layouts are checked by scripts/dev). */
#include <Python.h>
#include <stddef.h>

#include "check.h"
#include "cpython/offsets.h"

int main(void)
{
    CHECK(offsetof(PyObject, ob_type) == TL_OFF_OB_TYPE);
    CHECK(offsetof(PyTypeObject, tp_name) == TL_OFF_TP_NAME);
    CHECK(offsetof(PyTypeObject, tp_basicsize) == TL_OFF_TP_BASICSIZE);
    CHECK(offsetof(PyTypeObject, tp_itemsize) == TL_OFF_TP_ITEMSIZE);
    CHECK(offsetof(PyTypeObject, tp_init) == TL_OFF_TP_INIT);
    CHECK(offsetof(PyTypeObject, tp_finalize) == TL_OFF_TP_FINALIZE);
    CHECK(offsetof(PyMethodDescrObject, d_method) == TL_OFF_DESCR_METHOD);
    CHECK(offsetof(PyWrapperDescrObject, d_wrapped) == TL_OFF_DESCR_WRAPPED);
    CHECK(offsetof(PyGetSetDescrObject, d_getset) == TL_OFF_DESCR_GETSET);
    CHECK(offsetof(PyVarObject, ob_size) == TL_OFF_VAR_SIZE);
    /* api.h's copy of the public struct the state and cr_await getters use */
    CHECK(offsetof(PyGetSetDef, get) == sizeof(void *) && offsetof(PyGetSetDef, closure) == 4 * sizeof(void *));
    CHECK(METH_FASTCALL == TL_METH_FASTCALL && METH_NOARGS == TL_METH_NOARGS);
    CHECK(METH_KEYWORDS == TL_METH_KEYWORDS);
    CHECK(sizeof(PyObject) == TL_OFF_AGEN_DRIVER_TARGET); /* the field after the head */
    CHECK(offsetof(PyMethodObject, im_func) == TL_OFF_METHOD_FUNC);
    CHECK(offsetof(PyMethodObject, im_self) == TL_OFF_METHOD_SELF);
    CHECK(sizeof(PyObject) == TL_OFF_FUTUREITER_FUTURE);
    return check_summary("layout");
}
