# SPDX-License-Identifier: MIT
"""The command registry: one module per command.

A command module has NAME, add_parser(subparsers, formatter) (which sets
`func` to its entry point, called with the parsed arguments; `args.launcher`
is the command's own file, or None under `python -m taskleak`) and that
entry point.
"""

from . import attach, dump, metrics, report, run

COMMANDS = (run, report, dump, attach, metrics)
