# SPDX-License-Identifier: MIT
"""Where libtaskleak.so is: TASKLEAK_LIB, the copy inside the package (pip
install), then the layouts next to the command (make install's
<prefix>/lib, a checkout's build/)."""

import os

from .errors import CliError

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
PACKAGED_LIBRARY = os.path.join(PACKAGE_DIR, "lib", "libtaskleak.so")


def library_candidates(launcher=None):
    """Paths to try, in order.  LAUNCHER is the command's own file
    (scripts/taskleak or <prefix>/bin/taskleak): the library sits in ../lib
    (installed) or ../build (checkout) from it.  Without one (python -m
    taskleak), the package's own place stands for it: scripts/python/taskleak
    in a checkout, <prefix>/lib/taskleak/python/taskleak after make install."""
    candidates = [PACKAGED_LIBRARY]
    if launcher:
        for script in (os.path.abspath(launcher), os.path.realpath(launcher)):
            base = os.path.dirname(os.path.dirname(script))
            for sub in ("lib", "build"):
                candidates.append(os.path.join(base, sub, "libtaskleak.so"))
    else:
        for package in (PACKAGE_DIR, os.path.realpath(PACKAGE_DIR)):
            above = os.path.dirname(os.path.dirname(os.path.dirname(package)))
            candidates.append(os.path.join(above, "build", "libtaskleak.so"))
            candidates.append(os.path.join(above, "libtaskleak.so"))
    unique = []
    for path in candidates:
        if path not in unique:
            unique.append(path)
    return unique


def find_library(launcher=None):
    override = os.environ.get("TASKLEAK_LIB")
    if override:
        # Used as is; a bare name is left for ld.so's own search.
        return os.path.abspath(override) if "/" in override else override
    candidates = library_candidates(launcher)
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise CliError("cannot find libtaskleak.so (looked at %s); build it with "
                   "`make` or set TASKLEAK_LIB" % ", ".join(candidates))
