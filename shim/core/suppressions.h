/* SPDX-License-Identifier: MIT */
/* Suppressions: `kind:pattern` lines; a leak whose creation stack has a
 * frame whose function or file matches the glob is not reported. */
#ifndef TL_SUPPRESSIONS_H
#define TL_SUPPRESSIONS_H

#include <stdint.h>
#include <stdio.h>

#include "core/depot.h"
#include "core/tasks.h"

/* Load `path`; each malformed line is one message on `err` naming the file
 * and line, and the rest still applies.  Returns the number of problems,
 * or -1 when the file cannot be read (also said on `err`). */
int tl_suppressions_load(const char *path, FILE *err);

/* The built-in rules (intentional swallows of widely used libraries). */
void tl_suppressions_add_builtin(void);

/* 1 when a rule of `kind` (or `*`) matches a frame of `created`; that rule's
 * hit count goes up. */
int tl_suppressed(enum tl_kind kind, const struct tl_resolved_stack *created);

/* 1 when a `scope:MODULE_GLOB` rule names `module` as a cancel scope. */
int tl_suppressions_scope(const char *module);

/* `reason` is NULL for a rule of the user's file, set for a built-in one. */
typedef void (*tl_suppression_visitor)(void *ctx, const char *kind, const char *pattern,
                                       uint64_t hits, const char *reason);
void tl_suppressions_visit(tl_suppression_visitor visit, void *ctx);

/* Forget every rule (the file's and the built-in ones) and free the table,
 * as before the first load.  The library never calls it (a process loads its
 * rules once, and the table only grows); the fuzz harnesses do, so that each
 * run starts from an empty table.  Nothing may use the rules meanwhile. */
void tl_suppressions_reset(void);

#endif
