# SPDX-License-Identifier: MIT
"""The parts of the end-to-end runner (tests/e2e/run.py is its front and
documents the scenario language):

  scenario.py   the scenario language: a scenario file's header directives
                and line markers, parsed into a Scenario
  running.py    running a scenario's program with and without the library,
                its interactive steps, the reports it leaves
  reports.py    the checks of one report (header, shapes, counts, the
                expectations, live tasks) and of the exit summary line
  evaluate.py   one scenario on one interpreter: both runs, every check
  native.py     non-Python programs under the library (sh, perl, make, C)

Standard library only (3.8+); tests/common.py and the package's contract
(scripts/python/taskleak/contract.py) are put on sys.path here.
"""

import os
import sys

E2E = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
ROOT = os.path.dirname(os.path.dirname(E2E))
for _path in (os.path.join(ROOT, "tests"), os.path.join(ROOT, "scripts", "python")):
    if _path not in sys.path:
        sys.path.insert(0, _path)
