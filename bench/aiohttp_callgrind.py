#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What the library costs an aiohttp request, counted by callgrind: the
instructions and the simulated cache misses it adds per request, on the
program's thread, and its own functions' share.

    python3 bench/aiohttp_callgrind.py --lib build/libtaskleak.so
                                       [--python LABEL|PATH] [--requests 500,2500]
                                       [--options OPTS] [--top N]

The hello-world server of bench/aiohttp_server.py runs under callgrind (with
this machine's caches, as bench/callgrind.py simulates them), and one
keep-alive connection sends it requests one at a time; per request = (count
after the larger number of requests - after the smaller) / their
difference, which leaves out start-up and exit.  The runs without the
library get its variables under other names of the same length, as in
bench/callgrind.py.

Why: aiohttp's wall ratio is the one budget the instruction counts do not
explain.  On sid's 3.14 the library adds about 0.6 % of a request's
instructions (+859 to +1,090 Ir) but 2 % of its L1i misses (+127) and 4-5 %
of its L1d misses.  Its own functions are the steady part: 456 Ir, 39 L1i
and 41 L1d misses a request, the same in every run.  The rest moves from
run to run (timers and the date header are time-driven work that valgrind's
slowness moves): CPython's lines that the hooks displace between two
requests, and two more misses of CPython's type cache a request in the
program's own look-ups (one method, one attribute: find_name_in_mro, about
+440 Ir), because the cache hashes each type's version tag and each name's
address, which the library's start-up moves: a layout effect, as on 3.10
(bench/callgrind.py, layouts()).  So a change meant for that cell is
judged here on the library's own functions, in minutes, before a wall run.
Under valgrind, and only there, glibc also trims and regrows its heap
twice a request with the library (sbrk: 5,103 calls against 1,103 for
2,500 and 500 requests; none without it; about +85 Ir a request in
systrim and sbrk, and two brk system calls): strace of the same server
outside valgrind counts 89 brk calls after 200 requests and after 2,200,
with the library or without.  That part of the whole-request figure is
valgrind's.
aiohttp 3.8 (Debian's 3.11) moves too much for the whole-request figure
(-1,557 and +4,698 Ir per request in two runs), and so does sid's 3.13.
Standard library only.
"""

import argparse
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import callgrind  # noqa: E402  (valgrind's argv, the caches, the interpreters)

SERVER = os.path.join(HERE, "aiohttp_server.py")
EVENTS = ("Ir", "I1mr", "D1mr", "D1mw", "DLmr", "DLmw")


def serve_and_count(interp, lib, mode, options, requests, out_dir):
    """{event: count} of the server's main thread after REQUESTS requests,
    and the callgrind file it wrote."""
    prefix, why = callgrind.valgrind_argv(interp)
    if prefix is None:
        raise RuntimeError(why)
    out = os.path.join(out_dir, "cg.%s.%d" % (mode, requests))
    env = {"PYTHONHASHSEED": "0", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    opts = "report_path=%s/tl.%%p.json" % out_dir + (":" + options if options else "")
    for name, value in (("LD_PRELOAD", lib), ("TASKLEAK_OPTIONS", opts)):
        env[name if mode == "library" else callgrind.PADDED[name]] = value
    argv = prefix + ["-i"] + ["%s=%s" % kv for kv in sorted(env.items())] + [
        "valgrind", "--tool=callgrind", "--separate-threads=yes",
        "--callgrind-out-file=" + out] + callgrind.CACHES + [
        interp.argv0, SERVER, "--max-seconds", "900"]
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)
    try:
        line = server.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError("the server did not start: %r %s"
                               % (line, server.stderr.read()[-400:]))
        conn = http.client.HTTPConnection("127.0.0.1", int(line.split()[1]), timeout=120)
        for _ in range(requests):
            conn.request("GET", "/")
            conn.getresponse().read()
        conn.close()
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=600)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    if server.returncode != 0:
        raise RuntimeError("the server exited %d: %s" % (server.returncode, err.strip()[-400:]))
    with open(out + "-01") as f:
        text = f.read()
    names = re.search(r"^events: (.*)$", text, re.M).group(1).split()
    totals = re.search(r"^totals: (.*)$", text, re.M).group(1).split()
    return dict(zip(names, map(int, totals))), out + "-01"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lib", default=os.path.join(callgrind.ROOT, "build", "libtaskleak.so"))
    ap.add_argument("--python", default="sid-3.14", help="a label (tests/pythons.py) or a path")
    ap.add_argument("--requests", default="500,2500")
    ap.add_argument("--options", default="", help="more TASKLEAK_OPTIONS, as native=0")
    ap.add_argument("--top", type=int, default=12, help="the library's functions listed")
    a = ap.parse_args()
    lib = os.path.abspath(a.lib)
    small, large = (int(n) for n in a.requests.split(","))
    found, notes = callgrind.common.discover(explicit=[a.python])
    if not found:
        sys.exit("aiohttp_callgrind: no interpreter %s: %s" % (a.python, "; ".join(notes)))
    interp = found[0]
    work = callgrind.common.mkdtemp("taskleak-aiohttp-cg.")
    try:
        per, files = {}, {}
        for mode in ("none", "library"):
            (c0, f0), (c1, f1) = (serve_and_count(interp, lib, mode, a.options, n, work)
                                  for n in (small, large))
            per[mode] = {e: (c1[e] - c0[e]) / (large - small) for e in EVENTS}
            files[mode] = (f0, f1)
        print("%s, aiohttp hello, per request (the program's thread; %s):"
              % (interp.label, callgrind.cache_label()))
        print("  %-12s" % "" + "".join("%11s" % e for e in EVENTS))
        for mode in per:
            print("  %-12s" % mode + "".join("%11.1f" % per[mode][e] for e in EVENTS))
        print("  %-12s" % "added" + "".join("%+11.1f" % (per["library"][e] - per["none"][e])
                                             for e in EVENTS))
        own = library_functions(files["library"], lib, large - small)
        print("  the library's own functions: " + ", ".join(
            "%s %.1f" % (e, sum(v[i] for v in own.values())) for i, e in enumerate(EVENTS)))
        for name, v in sorted(own.items(), key=lambda kv: -kv[1][1])[:a.top]:
            print("    " + "".join("%9.1f" % x for x in v) + "  " + name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def source_root(lib):
    """The checkout that built LIB (its code inlined elsewhere is named by
    file there): the nearest directory above it with a shim/, else ours."""
    d = os.path.dirname(os.path.abspath(lib))
    while d != os.path.dirname(d):
        if os.path.isdir(os.path.join(d, "shim")):
            return d
        d = os.path.dirname(d)
    return callgrind.ROOT


def library_functions(files, lib, requests):
    """{function: [per-request count of each of EVENTS]} of LIB's own
    functions, the difference of the two runs' callgrind_annotate tables."""
    name, root = os.path.basename(lib), source_root(lib)

    def read(path):
        p = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no",
                            "--show=" + ",".join(EVENTS), path], cwd="/",
                           stdout=subprocess.PIPE, universal_newlines=True)
        return {fn: v for (fn, obj), v in callgrind.parse_counts(p.stdout, name, len(EVENTS),
                                                                 root).items()
                if obj == name}
    a, b = read(files[0]), read(files[1])
    return {k: [(x - y) / requests for x, y in zip(v, a.get(k, [0] * len(EVENTS)))]
            for k, v in b.items()}

if __name__ == "__main__":
    main()
