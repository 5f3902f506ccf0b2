/* SPDX-License-Identifier: MIT */
/* Native backtraces: the only user of libunwind. */
#ifndef TL_UNWIND_H
#define TL_UNWIND_H

#include <stddef.h>
#include <stdint.h>

void tl_unwind_init(void);
/* Fill `ips` with up to `max` return addresses, innermost first, skipping
 * `skip` frames and then any frames of this library.  Returns the count. */
int tl_unwind_capture(uintptr_t *ips, int max, int skip);

struct tl_native_frame {
    uintptr_t ip;
    const char *symbol; /* NULL when unknown */
    uintptr_t offset;
    const char *module; /* NULL when unknown */
};
/* Symbolize one address with the dynamic symbol tables (dladdr). */
void tl_unwind_symbolize(uintptr_t ip, struct tl_native_frame *out);

#endif
