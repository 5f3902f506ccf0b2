/* libFuzzer harness: the cancel scope classifier (shim/scopes.c), with the
 * `scope:MODULE_GLOB` rules of the suppressions file.
 *
 * Input: FILE NUL FUNCTION [NUL GLOB].  Without a NUL the whole input is
 * tried as the file (function NULL, "" and "cancel") and as the function
 * (file NULL).  With a GLOB the suppression table holds one rule
 * `scope:GLOB`; otherwise it holds a fixed set of scope rules, including
 * `scope:*`, so that every `.py` path goes through the module-name code.
 *
 * scopes.c remembers up to 64 user module names and suppressions.c keeps a
 * global rule table; both are compiled into this harness (#include) so that
 * every run starts from empty tables (reset_tables) and stays reproducible.
 *
 * Checks: the result is 0 or a valid scope, its name is non-NULL exactly
 * when the result is not 0, and a user scope's name matches a scope rule. */
#include "../../shim/suppressions.c"
#include "../../shim/scopes.c"

#include <stdio.h>

#define REQUIRE(c)                                                                 \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "fuzz_scopes: invariant failed: %s\n", #c);             \
            abort();                                                               \
        }                                                                          \
    } while (0)

static const char *const fixed_rules[] = {"mylib.*", "*.timeouts", "pkg", "*"};

static void reset_tables(void)
{
    for (size_t i = 0; i < n_rules; i++)
        free(rules[i].pattern);
    free(rules);
    rules = NULL;
    n_rules = 0;
    for (int i = 0; i < n_user; i++)
        free(user_names[i]);
    n_user = 0;
}

static void classify(const char *file, const char *function)
{
    int s = tl_scope_classify(file, function);
    REQUIRE(s >= 0 && s <= N_BUILTIN + MAX_USER);
    const char *name = tl_scope_name(s);
    REQUIRE((s == TL_SCOPE_NONE) == (name == NULL));
    if (s > N_BUILTIN)
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
    reset_tables();
    if (glob) {
        if (*glob)
            add_rule(KIND_SCOPE, glob, NULL);
    } else {
        for (size_t i = 0; i < sizeof fixed_rules / sizeof fixed_rules[0]; i++)
            add_rule(KIND_SCOPE, fixed_rules[i], NULL);
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
    REQUIRE(tl_scope_name(-1) == NULL && tl_scope_name(N_BUILTIN + MAX_USER + 1) == NULL);
    reset_tables();
    free(buf);
    return 0;
}
