/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: TASKLEAK_OPTIONS parsing (shim/core/options.c).
 *
 * The input is the text of TASKLEAK_OPTIONS (cut at its first NUL, as an
 * environment variable would be).  Besides the sanitizers, every effective
 * value must stay inside the range the option table promises, whatever the
 * text: the rest of the library relies on it (stack_depth sizes arrays). */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"

static FILE *devnull;

#define REQUIRE(c)                                                                 \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "fuzz_options: invariant failed: %s\n", #c);            \
            abort();                                                               \
        }                                                                          \
    } while (0)

static void visit(void *ctx, const char *key, int is_number, double number, const char *text)
{
    size_t *total = ctx;
    REQUIRE(key && *key);
    if (is_number)
        REQUIRE(isfinite(number));
    else
        *total += strlen(text); /* must be a terminated string */
}

static void check(const struct tl_options *o)
{
    REQUIRE(memchr(o->report_path, 0, sizeof o->report_path));
    REQUIRE(memchr(o->suppressions, 0, sizeof o->suppressions));
    REQUIRE(isfinite(o->interval) && o->interval >= 0 && o->interval <= 1e6);
    REQUIRE(isfinite(o->grace) && o->grace >= 0 && o->grace <= 1e6);
    REQUIRE(o->stack_depth >= 1 && o->stack_depth <= 256);
    REQUIRE(o->native == 0 || o->native == 1);
    REQUIRE(o->native_depth >= 1 && o->native_depth <= 256);
    REQUIRE(o->dump_signal >= 0 && o->dump_signal < NSIG);
    REQUIRE(o->dump_signal != SIGKILL && o->dump_signal != SIGSTOP);
    REQUIRE(o->exitcode >= 0 && o->exitcode <= 255);
    REQUIRE(o->max_leaks >= 0 && o->max_leaks <= 100000000);
    REQUIRE(o->verbosity >= 0 && o->verbosity <= 2);
    char sig[16];
    REQUIRE(strlen(tl_signal_name(o->dump_signal, sig)) < sizeof sig);
    size_t total = 0;
    tl_options_visit(o, visit, &total);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    devnull = fopen("/dev/null", "w");
    struct tl_options o;
    REQUIRE(tl_options_parse(&o, NULL, devnull) == 0);
    check(&o);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    struct tl_options *o = malloc(sizeof *o); /* heap: ASan sees overruns */
    int problems = tl_options_parse(o, text, devnull);
    REQUIRE(problems >= 0);
    check(o);
    /* Without an error stream (the path the unit tests take). */
    tl_options_parse(o, text, NULL);
    check(o);
    free(o);
    free(text);
    return 0;
}
