/* Object layouts and constants that have not changed from 3.8 to 3.13
 * (non-debug builds with the GIL); tests/unit/test_layout.c checks them
 * against the system's Python.h.  Per-version layouts: layouts.inc. */
#ifndef TL_OFFSETS_H
#define TL_OFFSETS_H

#define TL_OFF_OB_TYPE 8
#define TL_OFF_TP_NAME 24
#define TL_OFF_TP_INIT 296
#define TL_OFF_TP_FINALIZE 392
#define TL_OFF_DESCR_METHOD 40  /* PyMethodDescrObject.d_method */
#define TL_OFF_DESCR_WRAPPED 48 /* PyWrapperDescrObject.d_wrapped */
#define TL_OFF_DESCR_GETSET 40  /* PyGetSetDescrObject.d_getset */
#define TL_OFF_VAR_SIZE 16      /* PyVarObject.ob_size */

#define TL_METH_VARARGS 0x0001
#define TL_METH_KEYWORDS 0x0002
#define TL_METH_NOARGS 0x0004
#define TL_METH_FASTCALL 0x0080

#endif
