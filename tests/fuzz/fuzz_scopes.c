/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the cancel scope classifier (shim/core/scopes.c), with the
 * `scope:MODULE_GLOB` rules of the suppressions file.
 *
 * Input: FILE NUL FUNCTION [NUL GLOB].  Without a NUL the whole input is
 * tried as the file (function NULL, "" and "cancel") and as the function
 * (file NULL).  With a GLOB the suppressions file (in memory, a memfd) is
 * the line `scope:GLOB`, loaded by tl_suppressions_load: the rules are what
 * the library makes of that text, the one rule `scope:GLOB` unless GLOB
 * holds a newline, a `#` or blanks at its ends.  Otherwise the file holds a
 * fixed set of scope rules, including `scope:*`, so that every `.py` path
 * goes through the module-name code.
 *
 * scopes.c remembers up to 64 user module names and suppressions.c keeps a
 * global rule table.  So that every run starts from empty tables and stays
 * reproducible, the harness empties both with tl_scopes_reset() and
 * tl_suppressions_reset(), which only tests call.  The file is loaded again
 * only when its text changes (the table is then the same as after a reset
 * and a load).
 *
 * Checks: the result is 0 or a valid scope (user scopes are numbered after
 * the built-in ones, at most one new one a call), its name is non-NULL
 * exactly when the result is not 0, and a user scope's name matches a scope
 * rule. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/scopes.h"
#include "core/suppressions.h"

#define REQUIRE(c)                                                                 \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "fuzz_scopes: invariant failed: %s\n", #c);             \
            abort();                                                               \
        }                                                                          \
    } while (0)

static const char fixed_rules[] = "scope:mylib.*\nscope:*.timeouts\nscope:pkg\nscope:*\n";

static int memfd;     /* the suppressions file, in memory */
static char path[64]; /* its name for tl_suppressions_load */
static FILE *devnull;
static int n_builtin; /* the built-in scopes are 1..n_builtin */
static int n_calls;   /* classify() calls this run: each makes at most one user name */
static char *loaded;  /* the file's text the rule table holds; NULL: no rules */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    memfd = memfd_create("tl-fuzz-scopes", MFD_CLOEXEC);
    if (memfd < 0) {
        perror("memfd_create");
        exit(1);
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    devnull = fopen("/dev/null", "w");
    /* With no user names, the scopes with a name are the built-in ones. */
    tl_scopes_reset();
    while (n_builtin < 1000 && tl_scope_name(n_builtin + 1))
        n_builtin++;
    REQUIRE(n_builtin > 0 && n_builtin < 1000);
    return 0;
}

/* The suppression table holds the rules of the file `text` (NULL: none). */
static void load_rules(const char *text)
{
    if (loaded && text && !strcmp(loaded, text))
        return;
    tl_suppressions_reset();
    free(loaded);
    loaded = NULL;
    if (!text)
        return;
    size_t n = strlen(text);
    REQUIRE(ftruncate(memfd, 0) == 0 && pwrite(memfd, text, n, 0) == (ssize_t)n);
    REQUIRE(tl_suppressions_load(path, devnull) >= 0);
    loaded = strdup(text);
    REQUIRE(loaded);
}

static void classify(const char *file, const char *function)
{
    n_calls++;
    int s = tl_scope_classify(file, function);
    REQUIRE(s >= 0 && s <= n_builtin + n_calls);
    const char *name = tl_scope_name(s);
    REQUIRE((s == TL_SCOPE_NONE) == (name == NULL));
    if (s > n_builtin)
        REQUIRE(tl_suppressions_scope(name));
    if (s != TL_SCOPE_NONE) {
        REQUIRE(file && function);
        REQUIRE(strlen(name) < 1024);
    }
    /* Same answer the second time (user names are cached). */
    REQUIRE(tl_scope_classify(file, function) == s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = 0;
    const char *file = buf, *function = NULL, *glob = NULL;
    const char *nul = memchr(buf, 0, size);
    if (nul) {
        function = nul + 1;
        const char *nul2 = memchr(function, 0, size - (size_t)(function - buf));
        if (nul2 && nul2 < buf + size)
            glob = nul2 + 1;
    }
    tl_scopes_reset();
    n_calls = 0;
    if (glob) {
        char *text = NULL;
        if (*glob) {
            text = malloc(strlen(glob) + sizeof "scope:\n");
            REQUIRE(text);
            strcat(strcat(strcpy(text, "scope:"), glob), "\n");
        }
        load_rules(text);
        free(text);
    } else {
        load_rules(fixed_rules);
    }
    if (function) {
        classify(file, function);
    } else {
        classify(file, NULL);
        classify(file, "");
        classify(file, "cancel");
        classify(NULL, file);
        classify("/usr/lib/python3.12/asyncio/taskgroups.py", file);
    }
    REQUIRE(tl_scope_name(-1) == NULL && tl_scope_name(n_builtin + n_calls + 1) == NULL);
    tl_scopes_reset();
    free(buf);
    return 0;
}
