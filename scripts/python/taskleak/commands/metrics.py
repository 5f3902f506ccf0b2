# SPDX-License-Identifier: MIT
"""`taskleak metrics`: a report's numbers in the Prometheus text format."""

from ..errors import CliError
from ..metrics import exposition, is_merged, latest_per_pid
from ..model import expand_inputs, load_reports
from ..output import write_out
from ._args import wrap

NAME = "metrics"


def main(args):
    reports, bad = load_reports(expand_inputs(args.files))
    if bad:
        return 2
    merged = [r.path for r in reports if is_merged(r)]
    if merged:
        raise CliError("%s: a merged document has no per-process counters; give the "
                       "processes' own reports (taskleak.PID.json)" % merged[0])
    write_out(exposition(latest_per_pid(reports)))
    return 0


def add_parser(commands, formatter):
    metrics = commands.add_parser(
        "metrics", formatter_class=formatter,
        help="print a report's numbers as Prometheus metrics",
        description=wrap("Print the Prometheus metrics (text exposition format) of "
                         "one or more reports: what the library writes to "
                         "metrics_path at every report, but for the two numbers a "
                         "report does not hold (reports written, the library's "
                         "memory). One report per process: the latest of each pid."),
        epilog="A directory stands for the taskleak.PID.json files in it; '-' "
               "reads stdin.\nexit status: 0; 2 when a file is not a process's "
               "taskleak report.")
    metrics.add_argument("files", nargs="+", metavar="FILE", help="report file or directory")
    metrics.set_defaults(func=main)
