# SPDX-License-Identifier: MIT
"""Non-Python processes under the library (sh, perl, make, a C program
compiled on the fly): same output as without, empty stderr, no file written."""

import os
import shutil
import subprocess
import tempfile

import common
from common import check, selected
from .running import E2E_DROP, run_process, short, text
from .scenario import DEFAULT_TIMEOUT

C_PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    void *p = malloc(64);
    printf("hello from C, %d arg(s)\n", argc);
    fprintf(stdout, "%s\n", argc > 1 ? argv[1] : "-");
    free(p);
    return 0;
}
"""


def native_checks(lib, wanted):
    """(name, callable) pairs checking that non-Python processes are untouched."""
    def make(name, argv_fn):
        def go():
            work = tempfile.mkdtemp(prefix="taskleak-e2e-native-")
            try:
                argv = argv_fn(work)
                if argv is None:
                    return "skip", "cc is absent"
                runs = {}
                for with_lib in (True, False):
                    cwd = os.path.join(work, "cwd-lib" if with_lib else "cwd-plain")
                    os.mkdir(cwd)
                    env = common.env(lib=lib if with_lib else None, drop=E2E_DROP,
                                     LD_BIND_NOW="1")
                    runs[with_lib] = run_process(argv, env, cwd, DEFAULT_TIMEOUT)
                a, b = runs[True], runs[False]
                check(a.status == b.status, "exit status %s with the library, %s without"
                      % (a.status, b.status))
                check(a.stdout == b.stdout, "stdout differs: %r vs %r"
                      % (short(text(a.stdout)), short(text(b.stdout))))
                check(a.stdout, "no output at all")
                check(a.stderr == b"", "stderr with the library: %r" % short(text(a.stderr)))
                check(a.files == [], "files appeared in the cwd: %s" % a.files)
                return "pass", None
            finally:
                shutil.rmtree(work, ignore_errors=True)
        return name, go

    def c_prog(work):
        cc = shutil.which("cc")
        if not cc:
            return None
        src, exe = os.path.join(work, "hello.c"), os.path.join(work, "hello")
        with open(src, "w") as f:
            f.write(C_PROGRAM)
        r = subprocess.run([cc, "-o", exe, src], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=common.env(drop=E2E_DROP),
                           timeout=120)
        check(r.returncode == 0, "cc failed: %s" % short(text(r.stdout)))
        return [exe, "world"]

    checks = [
        make("native-sh", lambda w: ["/bin/sh", "-c", "echo hi"]),
        make("native-perl", lambda w: [shutil.which("perl") or "perl", "-e", 'print "hi\\n"']),
        make("native-make", lambda w: [shutil.which("make") or "make", "-v"]),
        make("native-c-program", c_prog),
    ]
    return [(n, f) for n, f in checks if selected(n, wanted)]

