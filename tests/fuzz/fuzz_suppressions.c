/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the suppressions file (shim/core/suppressions.c).
 *
 * The input is the file's content.  Each run writes it to a temporary file,
 * loads it with tl_suppressions_load, matches every kind against a small
 * resolved stack (tl_suppressed), asks tl_suppressions_scope about a few
 * modules and visits the rules.
 *
 * The rules are a global table that only grows (a process loads one file).
 * So that runs stay independent and memory bounded, the harness empties the
 * table before and after each run with tl_suppressions_reset(), which only
 * tests call.  It sees the rules as the report does, through
 * tl_suppressions_visit.
 *
 * Oracle: a reference parser of the documented format (one rule per line,
 * `KIND:PATTERN`, `#` starts a comment, blanks trimmed).  The rules the
 * library keeps must be the reference's rules, in order; a line longer than
 * the library's line buffer may be dropped as a whole, but it must never be
 * cut short or split (a split would turn the tail of a long comment into a
 * live rule). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/suppressions.h"
#include "core/tasks.h"

#define REQUIRE(c)                                                                 \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "fuzz_suppressions: invariant failed: %s\n", #c);       \
            abort();                                                               \
        }                                                                          \
    } while (0)

static char path[4096];
static FILE *devnull;
static struct tl_resolved_stack *stack;

static void remove_file(void)
{
    if (path[0])
        unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/tl-fuzz-supp-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        exit(1);
    }
    close(fd);
    atexit(remove_file);
    devnull = fopen("/dev/null", "w");
    static const struct tl_pyframe frames[] = {
        {"create_task", "/usr/lib/python3.11/asyncio/tasks.py", 10},
        {"leaky_worker.<locals>.inner", "/srv/app/vendor/lib.py", 3},
        {"main", "/srv/app/main.py", 22},
        {NULL, NULL, -1}, /* a frame that could not be resolved */
    };
    size_t n = sizeof frames / sizeof frames[0];
    stack = calloc(1, sizeof *stack + n * sizeof stack->frames[0]);
    stack->n = (uint32_t)n;
    memcpy(stack->frames, frames, sizeof frames);
    return 0;
}

/* ---- the reference parser ---------------------------------------------- */

struct ref_rule {
    const char *kind; /* as tl_suppressions_visit names it */
    char *pattern;
    int long_line;
};

/* The documented kinds: `*`, `scope`, or one of tl_kind_names; NULL for
 * anything else. */
static const char *ref_kind(const char *s)
{
    if (!strcmp(s, "*"))
        return "*";
    if (!strcmp(s, "scope"))
        return "scope";
    for (int k = 0; k < TL_N_KINDS; k++)
        if (!strcmp(s, tl_kind_names[k]))
            return tl_kind_names[k];
    return NULL;
}

static char *ref_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
        *--end = 0;
    return s;
}

static size_t reference(const uint8_t *data, size_t size, struct ref_rule **out)
{
    struct ref_rule *r = NULL;
    size_t n = 0;
    for (size_t start = 0; start < size;) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t len = nl ? (size_t)(nl - (data + start)) : size - start;
        char *line = malloc(len + 1);
        memcpy(line, data + start, len);
        line[len] = 0; /* an embedded NUL ends the line's text, as in C */
        start += len + 1;
        int long_line = len + 1 >= 4096; /* does not fit fgets' buffer whole */
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *s = ref_trim(line);
        char *colon = strchr(s, ':');
        if (*s && colon) {
            *colon = 0;
            const char *kind = ref_kind(ref_trim(s));
            char *pattern = ref_trim(colon + 1);
            if (kind && *pattern) {
                r = realloc(r, (n + 1) * sizeof *r);
                r[n++] = (struct ref_rule){kind, strdup(pattern), long_line};
            }
        }
        free(line);
    }
    *out = r;
    return n;
}

/* ---- the library's rules, as tl_suppressions_visit gives them ----------- */

struct lib_rules {
    struct lib_rule {
        const char *kind, *pattern; /* the library's: valid until a reset */
    } *r;
    size_t n;
};

static void collect(void *ctx, const char *kind, const char *pattern, uint64_t hits,
                    const char *reason)
{
    struct lib_rules *lib = ctx;
    (void)hits;
    REQUIRE(reason == NULL); /* only the file's rules: no built-in ones */
    lib->r = realloc(lib->r, (lib->n + 1) * sizeof *lib->r);
    REQUIRE(lib->r);
    lib->r[lib->n++] = (struct lib_rule){kind, pattern};
}

static void compare(const uint8_t *data, size_t size)
{
    struct ref_rule *ref;
    size_t n_ref = reference(data, size, &ref), j = 0;
    struct lib_rules lib = {NULL, 0};
    tl_suppressions_visit(collect, &lib);
    for (size_t i = 0; i < n_ref; i++) {
        if (j < lib.n && !strcmp(lib.r[j].kind, ref[i].kind) &&
            !strcmp(lib.r[j].pattern, ref[i].pattern)) {
            j++;
            continue;
        }
        if (!ref[i].long_line) {
            fprintf(stderr, "fuzz_suppressions: rule %zu of the file (%s, pattern of %zu bytes) "
                            "is not the library's rule %zu\n", i, ref[i].kind,
                    strlen(ref[i].pattern), j);
            abort();
        }
    }
    if (j != lib.n) {
        fprintf(stderr, "fuzz_suppressions: the library made %zu rule(s) the file does not hold "
                        "(first: %s:%.60s, a pattern of %zu bytes)\n", lib.n - j,
                lib.r[j].kind, lib.r[j].pattern, strlen(lib.r[j].pattern));
        abort();
    }
    free(lib.r);
    for (size_t i = 0; i < n_ref; i++)
        free(ref[i].pattern);
    free(ref);
}

/* ---- the run ------------------------------------------------------------ */

static void visit(void *ctx, const char *kind, const char *pattern, uint64_t hits,
                  const char *reason)
{
    uint64_t *total = ctx;
    (void)reason;
    REQUIRE(strlen(kind) > 0 && strlen(pattern) > 0);
    *total += hits;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    if (size && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return 0;
    }
    fclose(f);

    tl_suppressions_reset();
    int problems = tl_suppressions_load(path, devnull);
    REQUIRE(problems >= 0);
    compare(data, size);

    uint64_t matched = 0;
    for (int k = 0; k < TL_N_KINDS; k++) {
        int r = tl_suppressed(k, stack);
        REQUIRE(r == 0 || r == 1);
        matched += (uint64_t)r;
        REQUIRE(tl_suppressed(k, NULL) == 0);
    }
    static const char *const modules[] = {"asyncio.timeouts", "mylib.timeouts", "", "a.b.c"};
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
        tl_suppressions_scope(modules[i]);
    REQUIRE(tl_suppressions_scope(NULL) == 0);
    uint64_t hits = 0;
    tl_suppressions_visit(visit, &hits);
    REQUIRE(hits == matched);
    tl_suppressions_reset();
    return 0;
}
