# SPDX-License-Identifier: MIT
"""The `taskleak` command line: the parser built from the command registry,
and main(), which turns every failure into one stderr line and a status."""

import argparse
import os
import signal
import traceback

from .commands import COMMANDS
from .commands._args import wrap
from .contract import EXIT_SOFTWARE, OPTION_DEFAULTS, OPTION_HELP, VERSION
from .errors import CliError
from .output import configure_streams, eprint, silence_stdout


def option_lines():
    """The library's options with their defaults and help (options.inc)."""
    return "\n".join("  %-21s %s (%s)" % (key, text, OPTION_DEFAULTS[key] or "unset")
                     for key, text in OPTION_HELP.items())


def build_parser():
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="taskleak", formatter_class=formatter,
        description=wrap("Find asyncio tasks that leak: cancels that were swallowed, "
                    "tasks stuck after a cancel, tasks destroyed or left pending."),
        epilog="examples:\n"
               "  taskleak run -- python3 app.py\n"
               "  taskleak run --fail --grace 1 -- python3 -m pytest\n"
               "  taskleak report taskleak-reports/\n"
               "  taskleak report --format sarif taskleak-reports/*.json > taskleak.sarif\n"
               "  taskleak report --format html taskleak-reports/ > taskleak.html\n"
               "  taskleak dump 4242\n\n"
               "environment:\n"
               "  TASKLEAK_OPTIONS  library options, colon-separated key=value (below)\n"
               "  TASKLEAK_LIB      path of libtaskleak.so, overriding the search\n"
               "  TASKLEAK_DEBUG    set to show a traceback on an internal error\n\n"
               "TASKLEAK_OPTIONS keys (default):\n" + option_lines())
    parser.add_argument("--version", action="version", version=VERSION)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for command in COMMANDS:
        command.add_parser(commands, formatter)
    return parser


def main(argv=None, launcher=None):
    """Run the command line ARGV (default sys.argv[1:]); the exit status.
    LAUNCHER is the file of the command that was run (scripts/taskleak,
    <prefix>/bin/taskleak): the library is looked for next to it."""
    configure_streams()
    try:
        args = build_parser().parse_args(argv)
        args.launcher = launcher
        return args.func(args)
    except CliError as error:
        eprint("taskleak: " + error.message)
        return error.status
    except BrokenPipeError:
        silence_stdout()
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except Exception as error:   # the contract: never a traceback
        if os.environ.get("TASKLEAK_DEBUG"):
            traceback.print_exc()
        eprint("taskleak: internal error: %s: %s (set TASKLEAK_DEBUG=1 for details)"
               % (type(error).__name__, error))
        return EXIT_SOFTWARE

