# SPDX-License-Identifier: MIT
"""`taskleak attach`: load the library into a running CPython process that
was started without it; from then on the process is audited as if it had
been preloaded (`dump` does the same first, for a process without it)."""

from .. import attach as mechanism
from ..errors import CliError
from ..library import find_library
from ..output import write_out
from ._args import nonnegative_seconds, wrap

NAME = "attach"


def attach(args, options):
    """The Target, attached (once: a second attach finds the library there)."""
    return mechanism.attach(args.pid, find_library(args.launcher), options, args.timeout)


def main(args):
    if args.pid <= 0:
        raise CliError("%d is not a process id" % args.pid)
    options = {"interval": args.interval, "grace": args.grace}
    target = attach(args, options)
    report = target.report_pattern.replace("%p", str(args.pid))
    if target.already:
        write_out("taskleak: process %d was attached to before; its options stay (%s); "
                  "reports go to %s\n" % (args.pid, target.options, report))
    else:
        write_out("taskleak: attached to process %d; reports go to %s\n" % (args.pid, report))
    return 0


def add_parser(commands, formatter):
    parser = commands.add_parser(
        "attach", formatter_class=formatter,
        help="load the library into a running CPython process",
        description=wrap("Load libtaskleak.so into a running CPython 3.8-3.15 process "
                         "that was started without it (3.14+: sys.remote_exec; earlier, "
                         "and for an idle event loop: gdb). From then on the process is "
                         "audited as if it had been preloaded: periodic reports, the exit "
                         "report, snapshots on SIGUSR2 (taskleak dump). Tasks created "
                         "before the attach have no creation stack; a pending one that "
                         "carries a cancel is reported stuck_after_cancel at once, its "
                         "cancel time and canceller unknown. The process is stopped only "
                         "for the moment the library is loaded, and prints nothing more."),
        epilog="exit status: 0; 2 when the process cannot be attached to (not CPython,\n"
               "unsupported, not traceable, gdb missing where needed, no asyncio, or the\n"
               "GIL not free within --timeout).")
    parser.add_argument("pid", metavar="PID", type=int, help="process id")
    parser.add_argument("--timeout", metavar="S", type=nonnegative_seconds, default=10.0,
                        help="seconds for the library to start (default 10)")
    parser.add_argument("--interval", metavar="S", type=nonnegative_seconds, default=1.0,
                        help="seconds between periodic reports (default 1; 0 = exit and "
                             "signal only)")
    parser.add_argument("--grace", metavar="S", type=nonnegative_seconds, default=5.0,
                        help="seconds after a cancel before a pending task is stuck "
                             "(default 5)")
    parser.set_defaults(func=main)
