/* SPDX-License-Identifier: MIT */
/* Cancel scopes: code that cancels its *own* task and consumes that cancel
 * itself (asyncio.timeout, a TaskGroup on its parent, async_timeout, anyio's
 * cancel scopes).  Such a cancel is not outstanding when the task ends. */
#ifndef TL_SCOPES_H
#define TL_SCOPES_H

#define TL_SCOPE_NONE 0

/* The scope a cancel issued from (file, function) belongs to: an index for
 * tl_scope_name(), or TL_SCOPE_NONE. */
int tl_scope_classify(const char *file, const char *function);
/* The scope's module name ("asyncio.timeouts", ...); NULL for none. */
const char *tl_scope_name(int scope);

/* Code of asyncio itself or of a cancel-scope library (anyio, async_timeout,
 * a `scope:` rule's module): its exception handlers are not the program's. */
int tl_scope_is_library(const char *file);

/* Whether the file name `s` (NULL: no) ends with `suffix`. */
int tl_ends_with(const char *s, const char *suffix);

/* Forget the module names made from user rules: the next one is numbered
 * after the built-in scopes again.  The library never calls it (a scope
 * number, once cached by the hooks, must keep its name); the fuzz harness
 * does, so that each run starts with no user names. */
void tl_scopes_reset(void);

#endif
