/* SPDX-License-Identifier: MIT */
/* Suppression rules, LeakSanitizer style, with hit counts. */
#include "core/suppressions.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "core/tasks.h"

#define KIND_ANY (-1)
#define KIND_SCOPE (-2)

struct rule {
    int kind;
    char *pattern;
    uint64_t hits;
    const char *reason; /* built-in rules only */
};

/* Intentional swallows in widely used libraries, as LeakSanitizer ships
 * suppressions of its own.  Each has a reason and an e2e scenario; the
 * option builtin_suppressions=0 turns them off. */
static const struct {
    int kind;
    const char *pattern, *reason;
} builtin_rules[] = {
    {TL_SWALLOWED_CANCEL, "*setup_process_pool_exit_at_shutdown",
     "anyio.to_process: at event loop shutdown, _shutdown_process_pool_on_exit catches the "
     "cancel, kills its worker processes and returns, on purpose"},
};

static struct rule *rules;
static size_t n_rules;

static int parse_kind(const char *s)
{
    if (!strcmp(s, "*"))
        return KIND_ANY;
    if (!strcmp(s, "scope"))
        return KIND_SCOPE;
    for (int k = 0; k < TL_N_KINDS; k++)
        if (!strcmp(s, tl_kind_names[k]))
            return k;
    return -3;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && strchr(" \t\r\n", end[-1]))
        *--end = 0;
    return s;
}

static int add_rule(int kind, const char *pattern, const char *reason)
{
    struct rule *r = realloc(rules, (n_rules + 1) * sizeof *r);
    if (!r)
        return -1;
    rules = r;
    char *p = strdup(pattern);
    if (!p)
        return -1;
    rules[n_rules++] = (struct rule){kind, p, 0, reason};
    return 0;
}

void tl_suppressions_add_builtin(void)
{
    for (size_t i = 0; i < sizeof builtin_rules / sizeof builtin_rules[0]; i++)
        add_rule(builtin_rules[i].kind, builtin_rules[i].pattern, builtin_rules[i].reason);
}

int tl_suppressions_load(const char *path, FILE *err)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        if (err)
            fprintf(err, "taskleak: suppressions %s: cannot read it; none apply\n", path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, problems = 0;
    while (getline(&line, &cap, f) >= 0) { /* whole lines, however long */
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *s = trim(line);
        if (!*s)
            continue;
        char *colon = strchr(s, ':');
        int kind = -3;
        if (colon) {
            *colon = 0;
            kind = parse_kind(trim(s));
        }
        const char *pattern = colon ? trim(colon + 1) : "";
        if (kind == -3 || !*pattern || add_rule(kind, pattern, NULL) < 0) {
            problems++;
            if (err)
                fprintf(err, "taskleak: suppressions %s:%d: expected KIND:PATTERN with KIND "
                             "one of "
#define X(constant, name) name ", "
#include "core/kinds.inc"
#undef X
                             "scope or *; line ignored\n", path, lineno);
        }
    }
    free(line);
    fclose(f);
    return problems;
}

static int frame_matches(const char *pattern, const struct tl_pyframe *f)
{
    return (f->function && !fnmatch(pattern, f->function, 0)) ||
           (f->file && !fnmatch(pattern, f->file, 0));
}

int tl_suppressed(enum tl_kind kind, const struct tl_resolved_stack *created)
{
    for (size_t i = 0; created && i < n_rules; i++) {
        if (rules[i].kind != kind && rules[i].kind != KIND_ANY)
            continue;
        for (uint32_t j = 0; j < created->n; j++)
            if (frame_matches(rules[i].pattern, &created->frames[j])) {
                __atomic_fetch_add(&rules[i].hits, 1, __ATOMIC_RELAXED);
                return 1;
            }
    }
    return 0;
}

int tl_suppressions_scope(const char *module)
{
    for (size_t i = 0; module && i < n_rules; i++)
        if (rules[i].kind == KIND_SCOPE && !fnmatch(rules[i].pattern, module, 0))
            return 1;
    return 0;
}

void tl_suppressions_visit(tl_suppression_visitor visit, void *ctx)
{
    for (size_t i = 0; i < n_rules; i++)
        visit(ctx,
              rules[i].kind == KIND_ANY     ? "*"
              : rules[i].kind == KIND_SCOPE ? "scope"
                                            : tl_kind_names[rules[i].kind],
              rules[i].pattern, __atomic_load_n(&rules[i].hits, __ATOMIC_RELAXED), rules[i].reason);
}

void tl_suppressions_reset(void)
{
    for (size_t i = 0; i < n_rules; i++)
        free(rules[i].pattern);
    free(rules);
    rules = NULL;
    n_rules = 0;
}
