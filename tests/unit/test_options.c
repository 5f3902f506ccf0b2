/* SPDX-License-Identifier: MIT */
/* TASKLEAK_OPTIONS: defaults, every kind of value, and bad input. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/options.h"

static int parse(struct tl_options *o, const char *text, char *err, size_t n)
{
    FILE *f = fmemopen(err, n, "w");
    int problems = tl_options_parse(o, text, f);
    fclose(f);
    return problems;
}

int main(void)
{
    struct tl_options o;
    char err[1024];

    CHECK(parse(&o, NULL, err, sizeof err) == 0);
    CHECK(!strcmp(o.report_path, "taskleak.%p.json"));
    CHECK(o.interval == 1.0 && o.grace == 5.0 && o.stack_depth == 32);
    CHECK(o.native == 1 && o.native_depth == 32 && o.dump_signal == SIGUSR2);
    CHECK(o.exitcode == 0 && o.suppressions[0] == 0 && o.max_leaks == 1000 && o.verbosity == 1);
    CHECK(o.catch_sites == 1 && o.builtin_suppressions == 1);
    CHECK(parse(&o, "builtin_suppressions=0", err, sizeof err) == 0 && o.builtin_suppressions == 0);

    memset(err, 0, sizeof err);
    CHECK(parse(&o, "report_path=/tmp/tl.%p.json:grace=0.5:interval=0.2:native=0:"
                    "dump_signal=SIGUSR1:exitcode=23:stack_depth=256:verbosity=2",
                err, sizeof err) == 0);
    CHECK(err[0] == 0);
    CHECK(!strcmp(o.report_path, "/tmp/tl.%p.json"));
    CHECK(o.grace == 0.5 && o.interval == 0.2 && o.native == 0);
    CHECK(o.dump_signal == SIGUSR1 && o.exitcode == 23 && o.stack_depth == 256);

    CHECK(parse(&o, "dump_signal=none", err, sizeof err) == 0 && o.dump_signal == 0);
    CHECK(parse(&o, "dump_signal=USR1", err, sizeof err) == 0 && o.dump_signal == SIGUSR1);
    CHECK(parse(&o, "dump_signal=10", err, sizeof err) == 0 && o.dump_signal == 10);

    /* Each problem: one line naming key and value; the default stays. */
    memset(err, 0, sizeof err);
    CHECK(parse(&o, "grace=-1", err, sizeof err) == 1);
    CHECK(o.grace == 5.0 && strstr(err, "grace") && strstr(err, "'-1'"));
    memset(err, 0, sizeof err);
    CHECK(parse(&o, "stack_depth=0:native_depth=9999:grace=abc", err, sizeof err) == 3);
    CHECK(o.stack_depth == 32 && o.native_depth == 32);
    memset(err, 0, sizeof err);
    CHECK(parse(&o, "bogus=1", err, sizeof err) == 1 && strstr(err, "unknown key 'bogus'"));
    memset(err, 0, sizeof err);
    CHECK(parse(&o, "dump_signal=SIGKILL", err, sizeof err) == 1 && o.dump_signal == SIGUSR2);
    CHECK(parse(&o, "noequals", err, sizeof err) == 1);
    CHECK(parse(&o, "::grace=1::", err, sizeof err) == 0 && o.grace == 1.0);
    CHECK(parse(&o, "interval=nan", err, sizeof err) == 1 && o.interval == 1.0);

    char name[16];
    CHECK(!strcmp(tl_signal_name(SIGUSR2, name), "SIGUSR2"));
    CHECK(!strcmp(tl_signal_name(0, name), "none"));
    return check_summary("options");
}
