/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: report path expansion (collector/output.c).
 *
 * Input: 2 bytes of output size n (0..8191), 4 bytes of pid, then the
 * template (cut at its first NUL).  The output buffer is exactly n bytes on
 * the heap, so ASan sees any write past it.  Oracle: the expansion equals a
 * reference expansion when it fits (with its NUL) in n bytes; -1 otherwise. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/output.h"

#define REQUIRE(c)                                                                 \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "fuzz_output_expand: invariant failed: %s\n", #c);      \
            abort();                                                               \
        }                                                                          \
    } while (0)

/* Reference: every "%p" is the decimal pid, every other byte is itself. */
static char *reference(const char *t, int pid)
{
    size_t cap = strlen(t) * 12 + 1, o = 0;
    char *out = malloc(cap);
    for (; *t; t++) {
        if (t[0] == '%' && t[1] == 'p') {
            o += (size_t)sprintf(out + o, "%d", pid);
            t++;
        } else {
            out[o++] = *t;
        }
    }
    out[o] = 0;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6)
        return 0;
    size_t n = (size_t)(data[0] | (data[1] << 8)) % 8192;
    int32_t pid;
    memcpy(&pid, data + 2, sizeof pid);
    char *tmpl = malloc(size - 6 + 1);
    memcpy(tmpl, data + 6, size - 6);
    tmpl[size - 6] = 0;
    char *out = malloc(n);
    int rc = tl_output_expand(tmpl, (pid_t)pid, out, n);
    char *want = reference(tmpl, pid);
    size_t want_len = strlen(want);
    if (want_len + 1 <= n) {
        REQUIRE(rc == 0);
        REQUIRE(strcmp(out, want) == 0);
    } else {
        REQUIRE(rc == -1);
    }
    free(want);
    free(out);
    free(tmpl);
    return 0;
}
