/* SPDX-License-Identifier: MIT */
/* TASKLEAK_OPTIONS parser, driven by the table in options.inc. */
#include "core/options.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct tl_options tl_opt;

enum kind { STR, SECONDS, INT, SIGNAL };

struct option_def {
    const char *key;
    enum kind kind;
    size_t offset;
    const char *def;
    long min, max;
    const char *help;
};

static const struct option_def defs[] = {
#define X(key, kind, field, def, min, max, help)                               \
    {#key, kind, offsetof(struct tl_options, field), def, min, max, help},
#include "core/options.inc"
#undef X
};
#define N_DEFS (sizeof defs / sizeof defs[0])

static int parse_signal(const char *v, int *out)
{
    if (!strcasecmp(v, "none") || !strcmp(v, "0")) {
        *out = 0;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (*v && !*end && !errno) {
        if (n <= 0 || n >= NSIG || n == SIGKILL || n == SIGSTOP)
            return -1;
        *out = (int)n;
        return 0;
    }
    if (!strncasecmp(v, "SIG", 3))
        v += 3;
    for (int s = 1; s < NSIG; s++) {
        const char *abbrev = sigabbrev_np(s);
        if (abbrev && !strcasecmp(abbrev, v) && s != SIGKILL && s != SIGSTOP) {
            *out = s;
            return 0;
        }
    }
    return -1;
}

const char *tl_signal_name(int sig, char *buf)
{
    const char *abbrev = sig > 0 ? sigabbrev_np(sig) : NULL;
    if (sig == 0)
        snprintf(buf, 16, "none");
    else if (abbrev)
        snprintf(buf, 16, "SIG%s", abbrev);
    else
        snprintf(buf, 16, "%d", sig);
    return buf;
}

/* Store `v` into the field; -1 when it is not a valid value. */
static int set_value(struct tl_options *opt, const struct option_def *d,
                     const char *v)
{
    void *field = (char *)opt + d->offset;
    char *end;
    errno = 0;
    switch (d->kind) {
    case STR:
        if (strlen(v) >= TL_PATH_MAX)
            return -1;
        strcpy(field, v);
        return 0;
    case SECONDS: {
        double x = strtod(v, &end);
        if (!*v || *end || errno || !isfinite(x) || x < 0 || x > 1e6)
            return -1;
        *(double *)field = x;
        return 0;
    }
    case INT: {
        long x = strtol(v, &end, 10);
        if (!*v || *end || errno || x < d->min || x > d->max)
            return -1;
        *(int *)field = (int)x;
        return 0;
    }
    case SIGNAL:
        return parse_signal(v, field);
    }
    return -1;
}

static const char *expected(const struct option_def *d, char *buf, size_t n)
{
    switch (d->kind) {
    case STR:
        return "a path";
    case SECONDS:
        return "seconds >= 0";
    case INT:
        snprintf(buf, n, "an integer from %ld to %ld", d->min, d->max);
        return buf;
    case SIGNAL:
        return "a signal name or number, or none";
    }
    return "?";
}

static int apply_pair(struct tl_options *opt, const char *pair, size_t len,
                      FILE *err)
{
    char buf[TL_PATH_MAX + 64];
    if (len == 0)
        return 0;
    if (len >= sizeof buf) {
        if (err)
            fprintf(err, "taskleak: TASKLEAK_OPTIONS: entry too long; ignored\n");
        return 1;
    }
    memcpy(buf, pair, len);
    buf[len] = 0;
    char *eq = strchr(buf, '=');
    if (!eq) {
        if (err)
            fprintf(err, "taskleak: TASKLEAK_OPTIONS: '%s' is not key=value; ignored\n", buf);
        return 1;
    }
    *eq = 0;
    const char *key = buf, *value = eq + 1;
    for (size_t i = 0; i < N_DEFS; i++) {
        if (strcmp(defs[i].key, key))
            continue;
        if (set_value(opt, &defs[i], value) == 0)
            return 0;
        set_value(opt, &defs[i], defs[i].def);
        char hint[64];
        if (err)
            fprintf(err,
                    "taskleak: TASKLEAK_OPTIONS: bad value '%s' for %s (expected %s); using %s\n",
                    value, key, expected(&defs[i], hint, sizeof hint), defs[i].def);
        return 1;
    }
    if (err)
        fprintf(err, "taskleak: TASKLEAK_OPTIONS: unknown key '%s'; ignored\n", key);
    return 1;
}

int tl_options_parse(struct tl_options *opt, const char *text, FILE *err)
{
    memset(opt, 0, sizeof *opt);
    for (size_t i = 0; i < N_DEFS; i++)
        set_value(opt, &defs[i], defs[i].def);
    if (!text)
        return 0;
    int problems = 0;
    const char *p = text;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        problems += apply_pair(opt, p, len, err);
        if (!colon)
            break;
        p = colon + 1;
    }
    return problems;
}

void tl_options_visit(const struct tl_options *opt, tl_option_visitor visit,
                      void *ctx)
{
    for (size_t i = 0; i < N_DEFS; i++) {
        const void *field = (const char *)opt + defs[i].offset;
        char sig[16];
        switch (defs[i].kind) {
        case STR:
            visit(ctx, defs[i].key, 0, 0, field);
            break;
        case SECONDS:
            visit(ctx, defs[i].key, 1, *(const double *)field, NULL);
            break;
        case INT:
            visit(ctx, defs[i].key, 1, *(const int *)field, NULL);
            break;
        case SIGNAL:
            visit(ctx, defs[i].key, 0, 0, tl_signal_name(*(const int *)field, sig));
            break;
        }
    }
}
