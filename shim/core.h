/* Process-wide state shared by the shim and the collector. */
#ifndef TL_CORE_H
#define TL_CORE_H

#include <stdint.h>
#include <sys/types.h>

#include "stacks.h"

extern struct tl_depot tl_py_stacks;     /* (code, offset) pairs */
extern struct tl_depot tl_native_stacks; /* return addresses */
extern struct tl_depot tl_names;         /* one interned str object each */

double tl_now(void); /* seconds since the library started */
pid_t tl_thread_id(void);
/* One line on stderr, at most once per `key` (a static flag). */
void tl_warn_once(int *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tl_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void tl_core_after_fork_child(void);

#endif
