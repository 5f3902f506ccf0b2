#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The CPython interpreters every test runner and the benchmarks use: one list.

The discovery and the sid chroot's wrappers are tests/common.py's (the
runners import it); this is the program that lists them.

As a program: `python3 tests/pythons.py [--debug]` lists the interpreters and
notes; `--path LABEL` prints the path of the one labelled LABEL, or says why
there is none and exits 1.  Standard library only, Python 3.8+.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from common import ROOT, SUPPORTED, VERSIONS_H, PythonsError, discover  # noqa: E402


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--debug", action="store_true", help="include debug builds")
    ap.add_argument("--path", metavar="LABEL", help="print the path of this interpreter only")
    args = ap.parse_args(argv)
    try:
        interps, notes = discover(include_debug=args.debug or bool(args.path))
    except PythonsError as e:
        print("pythons: %s" % e, file=sys.stderr)
        return 1
    if args.path:
        for it in interps:
            if it.label == args.path:
                print(it.path)
                return 0
        print("pythons: no interpreter labelled %s; %s" % (
            args.path, "; ".join(notes) or "none found"), file=sys.stderr)
        return 1
    for it in interps:
        flags = [f for f in ("system", "pyenv", "sid", "debug") if getattr(it, f)]
        print("%-14s %-8s %-12s %s" % (it.label, it.version_str, ",".join(flags), it.path))
    for note in notes:
        print(note)
    print("supported: %s (%s)" % (SUPPORTED, os.path.relpath(VERSIONS_H, ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
