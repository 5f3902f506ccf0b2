# SPDX-License-Identifier: MIT
"""taskleak: find asyncio tasks that leak, with libtaskleak.so.

The command line (`taskleak run|report|dump`, also `python -m taskleak`) is
taskleak.cli.main; the renderers are in taskleak.render; the pytest plugin
is taskleak.pytest_plugin (`pytest --taskleak`).  Standard library only,
Python 3.8 and later.
"""

from .contract import KINDS, SCHEMA, VERSION

__version__ = VERSION
__all__ = ["KINDS", "SCHEMA", "VERSION", "main"]


def main(argv=None, launcher=None):
    from .cli import main as cli_main
    return cli_main(argv, launcher)
