/* SPDX-License-Identifier: MIT */
/* The CPython versions taskleak supports: the one place that says so.  The
 * library's messages use it; tests/pythons.py (every test runner) and the
 * README's table check read these two lines. */
#ifndef TL_CPYTHON_VERSIONS_H
#define TL_CPYTHON_VERSIONS_H

#define TL_PY_MINOR_MIN 8
#define TL_PY_MINOR_MAX 15

#endif
