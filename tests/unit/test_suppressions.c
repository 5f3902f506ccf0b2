/* SPDX-License-Identifier: MIT */
/* Suppression files: parsing, bad lines, matching, hit counts. */
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "check.h"
#include "core/suppressions.h"
#include "core/tasks.h"

static uint64_t hits_of(const char *pattern);
struct find {
    const char *pattern;
    uint64_t hits;
};
static void find_rule(void *ctx, const char *kind, const char *pattern, uint64_t hits,
                      const char *reason)
{
    struct find *f = ctx;
    (void)kind;
    (void)reason;
    if (!strcmp(pattern, f->pattern))
        f->hits = hits;
}
static uint64_t hits_of(const char *pattern)
{
    struct find f = {pattern, 99};
    tl_suppressions_visit(find_rule, &f);
    return f.hits;
}

int main(void)
{
    char path[] = "/tmp/tl-supp-XXXXXX", err[1024] = "";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("# comment\n\nswallowed_cancel:leaky_*\n*:*/vendor/*.py  # any kind\n"
          "bogus_kind:x\nno colon here\nscope:mylib.timeouts\n",
          f);
    fclose(f);
    FILE *e = fmemopen(err, sizeof err, "w");
    CHECK(tl_suppressions_load(path, e) == 2);
    fclose(e);
    CHECK(strstr(err, ":5:") && strstr(err, ":6:") && !strstr(err, ":3:"));

    struct tl_resolved_stack *s = calloc(1, sizeof *s + 2 * sizeof s->frames[0]);
    s->n = 2;
    s->frames[0] = (struct tl_pyframe){"create_task", "/usr/lib/python3/asyncio/tasks.py", 10};
    s->frames[1] = (struct tl_pyframe){"leaky_main", "/app/main.py", 3};
    CHECK(tl_suppressed(TL_SWALLOWED_CANCEL, s) == 1);
    CHECK(tl_suppressed(TL_STUCK_AFTER_CANCEL, s) == 0); /* other kind */
    CHECK(hits_of("leaky_*") == 1);
    s->frames[1] = (struct tl_pyframe){"main", "/app/vendor/lib.py", 3};
    CHECK(tl_suppressed(TL_DESTROYED_PENDING, s) == 1); /* '*' kind, by file */
    CHECK(hits_of("*/vendor/*.py") == 1);
    CHECK(tl_suppressions_scope("mylib.timeouts") && !tl_suppressions_scope("other"));
    CHECK(tl_suppressions_load("/nonexistent/file", NULL) == -1);
    unlink(path);
    free(s);
    return check_summary("suppressions");
}
