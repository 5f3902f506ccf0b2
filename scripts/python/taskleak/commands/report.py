# SPDX-License-Identifier: MIT
"""`taskleak report`: render report files as text, merged JSON, SARIF or HTML."""

import os

from .. import render
from ..contract import EXIT_LEAKS
from ..frames import NATIVE_FRAMES_SHOWN
from ..model import expand_inputs, load_reports, total_counts
from ..output import current_dir, write_out
from ._args import wrap

NAME = "report"


def main(args):
    root = os.path.abspath(args.root) if args.root else current_dir()
    reports, bad = load_reports(expand_inputs(args.files))
    if bad:
        return 2   # partial output would mislead a CI job reading it
    renderer = render.create(args.format, root=root, native=args.native,
                             fold=args.fold, max_tasks=args.max_tasks)
    write_out(renderer.render(reports))
    if args.fail and sum(total_counts(reports).values()):
        return EXIT_LEAKS
    return 0


def add_parser(commands, formatter):
    report = commands.add_parser(
        "report", formatter_class=formatter,
        help="render report files as text, merged JSON, SARIF or HTML",
        description=wrap("Render one or more taskleak reports. Text groups the leaks "
                    "of all files by kind, coroutine and creation site and folds "
                    "asyncio's own frames; json merges the reports into one "
                    "document; sarif is SARIF 2.1.0 for code-scanning UIs; html is "
                    "one self-contained page (leaks, timeline, await tree)."),
        epilog="A directory stands for the taskleak.PID.json files in it; '-' "
               "reads stdin.\nexit status: 0; 2 when a file is not a taskleak "
               "report; 23 with --fail\nwhen there are leaks.")
    report.add_argument("files", nargs="+", metavar="FILE", help="report file or directory")
    report.add_argument("--format", choices=tuple(render.renderers()), default="text",
                        help="output format (default: text)")
    report.add_argument("--native", action="store_true",
                        help="text: also show the native creation stack (up to %d frames)"
                             % NATIVE_FRAMES_SHOWN)
    report.add_argument("--no-fold", dest="fold", action="store_false",
                        help="text: show asyncio's and the standard library's frames too")
    report.add_argument("--max-tasks", metavar="N", type=int, default=3,
                        help="text: tasks shown in full per group (default 3; 0 = all)")
    report.add_argument("--root", metavar="DIR", default=None,
                        help="show source paths relative to DIR, and use it as "
                             "SARIF's %%SRCROOT%% (default: the current directory)")
    report.add_argument("--fail", action="store_true",
                        help="exit 23 when the reports contain leaks")
    report.set_defaults(func=main)

