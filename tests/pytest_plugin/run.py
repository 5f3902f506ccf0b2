#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The pytest plugin's tests (test_selection.py: its logic; test_acceptance.py:
pytest --taskleak=fail on the sample suites), with every runner's options.

    python3 tests/pytest_plugin/run.py [--lib PATH] [-k PATTERN]... [--python LABEL|PATH]...
    make pytest-plugin K=asyncio_run PY=sid-3.14     (the same, from make)

-k keeps the tests whose id (tests.pytest_plugin.test_acceptance.
PluginAcceptance.test_fail_mode_with_asyncio_run) contains a pattern
(unittest's -k); --python gives the interpreters the acceptance tests run
pytest with (default: every one tests/common.py finds, those that cannot
import pytest skipped).  Standard library only.
"""

import argparse
import os
import sys
import unittest

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import common  # noqa: E402  (tests/common.py: the runners' options)

# How the options reach test_acceptance.py, which unittest imports.
LIB_ENV, PYTHONS_ENV = "TASKLEAK_TEST_LIB", "TASKLEAK_TEST_PYTHONS"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.runner_args(ap, what="tests")
    args = ap.parse_args(argv)
    os.environ[LIB_ENV] = os.path.abspath(args.lib)
    if args.python:
        os.environ[PYTHONS_ENV] = os.pathsep.join(args.python)
    else:
        os.environ.pop(PYTHONS_ENV, None)
    os.chdir(ROOT)
    unittest.main(module=None, argv=[
        "tests/pytest_plugin/run.py", "discover", "-s", HERE, "-t", ROOT, "-v"] +
        [a for p in args.patterns for a in ("-k", p)])


if __name__ == "__main__":
    main(sys.argv[1:])
