/* SPDX-License-Identifier: MIT */
/* Object layouts and constants that have not changed from 3.8 to 3.13
 * (non-debug builds with the GIL); tests/unit/test_layout.c checks them
 * against the system's Python.h.  Per-version layouts: layouts.inc. */
#ifndef TL_OFFSETS_H
#define TL_OFFSETS_H

#define TL_OFF_OB_TYPE 8
#define TL_OFF_TP_NAME 24
#define TL_OFF_TP_BASICSIZE 32
#define TL_OFF_TP_ITEMSIZE 40
#define TL_OFF_TP_INIT 296
#define TL_OFF_TP_FINALIZE 392
#define TL_OFF_DESCR_METHOD 40  /* PyMethodDescrObject.d_method */
#define TL_OFF_DESCR_WRAPPED 48 /* PyWrapperDescrObject.d_wrapped */
#define TL_OFF_DESCR_GETSET 40  /* PyGetSetDescrObject.d_getset */
#define TL_OFF_VAR_SIZE 16      /* PyVarObject.ob_size */
/* Where an await passes through to, right after PyObject_HEAD (the structs
 * are private to Objects/genobject.c and iterobject.c, 3.8-3.15):
 * async_generator_asend.ags_gen, async_generator_athrow.agt_gen (the
 * generator) and anext_awaitable.wrapped (3.10+: the awaitable). */
#define TL_OFF_AGEN_DRIVER_TARGET 16
/* A bound method (PyMethodObject): im_func, im_self; _asyncio.FutureIter's
 * future.  Right after the head, 3.8-3.15. */
#define TL_OFF_METHOD_FUNC 16
#define TL_OFF_METHOD_SELF 24
#define TL_OFF_FUTUREITER_FUTURE 16

#define TL_METH_VARARGS 0x0001
#define TL_METH_KEYWORDS 0x0002
#define TL_METH_NOARGS 0x0004
#define TL_METH_FASTCALL 0x0080

#endif
