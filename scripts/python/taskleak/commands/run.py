# SPDX-License-Identifier: MIT
"""`taskleak run`: run a command under libtaskleak.so, then summarize."""

import argparse
import os
import signal
import subprocess

from ..contract import DEFAULT_REPORT_PATH, EXIT_LEAKS
from ..errors import CliError
from ..library import find_library
from ..model import REPORT_NAME, load_reports, report_files_in, total_counts
from ..options import merge_options, prepend_preload
from ..output import current_dir, eprint, write_out
from ..render.html import write_html
from ..render.text import TextRenderer
from ._args import nonnegative_seconds, wrap

NAME = "run"
SI_KERNEL = 0x80          # si_code of a signal the kernel sent, e.g. Ctrl-C


def prepare_report_dir(path):
    directory = os.path.abspath(path)
    if ":" in directory:
        raise CliError("report directory %s contains ':', which TASKLEAK_OPTIONS "
                       "cannot carry" % directory)
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as error:
        raise CliError("cannot create report directory %s: %s"
                       % (directory, error.strerror or error))
    return directory


def prepare_html_dir(path):
    """The directory of --html PATH exists before CMD runs (an error after
    it would cost the user the run)."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as error:
        raise CliError("cannot create directory %s for --html: %s"
                       % (directory, error.strerror or error))


def checked_suppressions(path):
    absolute = os.path.abspath(path)
    if ":" in absolute:
        raise CliError("suppressions file %s contains ':', which TASKLEAK_OPTIONS "
                       "cannot carry" % absolute)
    try:
        with open(absolute, "rb"):
            pass
    except OSError as error:
        raise CliError("cannot read suppressions file %s: %s"
                       % (path, error.strerror or error))
    return absolute


def flag_options(args, report_dir):
    """The TASKLEAK_OPTIONS entries the command-line flags set."""
    options = {"report_path": os.path.join(report_dir, DEFAULT_REPORT_PATH)}
    if args.grace is not None:
        options["grace"] = repr(args.grace)
    if args.interval is not None:
        options["interval"] = repr(args.interval)
    if args.shutdown_timeout is not None:
        options["shutdown_timeout"] = repr(args.shutdown_timeout)
    if args.no_native:
        options["native"] = "0"
    if args.suppressions is not None:
        options["suppressions"] = checked_suppressions(args.suppressions)
    return options


def child_environment(library, options):
    env = dict(os.environ)
    env["LD_PRELOAD"] = prepend_preload(env.get("LD_PRELOAD", ""), library)
    env["TASKLEAK_OPTIONS"] = merge_options(env.get("TASKLEAK_OPTIONS", ""), options)
    return env


def report_stamps(directory):
    """{file name: stat identity} of the report files in DIRECTORY."""
    stamps = {}
    for path in report_files_in(directory):
        try:
            st = os.stat(path)
        except OSError:
            continue
        stamps[os.path.basename(path)] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return stamps


def reports_written_since(directory, before):
    after = report_stamps(directory)
    return [os.path.join(directory, name) for name in
            sorted(after, key=lambda n: int(REPORT_NAME.match(n).group(1)))
            if before.get(name) != after[name]]


FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def run_child(argv, env):
    """Run ARGV, forwarding signals to it; return its shell-style status.

    The signals are blocked and taken with sigtimedwait so that taskleak
    never dies of them. A signal the kernel sent (Ctrl-C on the terminal)
    reached the child's process group already and is not sent twice: a
    second SIGINT would break asyncio.run's graceful shutdown.
    """
    watched = set(FORWARDED_SIGNALS) | {signal.SIGCHLD}
    # An inherited SIG_IGN for SIGCHLD would discard the child's exit signal.
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    try:
        try:
            child = subprocess.Popen(
                argv, env=env,
                preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_SETMASK, old_mask))
        except OSError as error:
            raise CliError("%s: %s" % (argv[0], error.strerror or error), 127)
        status = wait_forwarding(child, watched)
    finally:
        # Until taskleak exits, late signals are ignored rather than fatal.
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
    return status


def wait_forwarding(child, watched):
    while True:
        info = signal.sigtimedwait(watched, 0.5)
        if (info is not None and info.si_signo in FORWARDED_SIGNALS
                and info.si_code != SI_KERNEL):
            try:
                child.send_signal(info.si_signo)
            except OSError:
                pass   # it is already gone
        status = child.poll()
        if status is not None:
            return 128 - status if status < 0 else status


def main(args):
    argv = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not argv:
        raise CliError("run: no command given (usage: taskleak run [options] -- CMD ARGS...)")
    library = find_library(getattr(args, "launcher", None))
    report_dir = prepare_report_dir(args.report_dir)
    if args.html:
        prepare_html_dir(args.html)
    env = child_environment(library, flag_options(args, report_dir))
    before = report_stamps(report_dir)
    status = run_child(argv, env)
    paths = reports_written_since(report_dir, before)
    if not paths:
        eprint("taskleak: no asyncio tasks were seen")
        return status
    reports, _ = load_reports(paths)
    write_out(TextRenderer(current_dir()).render(reports))
    if args.html:
        write_html(reports, args.html, current_dir())
        eprint("taskleak: HTML report: %s" % os.path.abspath(args.html))
    if status == 0 and args.fail and sum(total_counts(reports).values()):
        return EXIT_LEAKS
    return status

def add_parser(commands, formatter):
    run = commands.add_parser(
        "run", formatter_class=formatter,
        usage="taskleak run [options] -- CMD ARGS...",
        help="run a command under libtaskleak.so and summarize its leaks",
        description=wrap("Run CMD with libtaskleak.so preloaded (prepended to any "
                    "LD_PRELOAD). Every process of its tree writes its report "
                    "into the report directory; when CMD ends, the reports "
                    "written during the run are summarized on stdout."),
        epilog="exit status: CMD's own (128+N if it died of signal N); 23 with "
               "--fail when CMD\nexited 0 but leaks were found; 127 when CMD "
               "cannot be run.\n\n"
               "SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to taskleak are "
               "forwarded to CMD.\nExisting TASKLEAK_OPTIONS are kept; the "
               "flags override them. The library is\nfound inside the "
               "package, else next to this command (../lib or ../build),\n"
               "unless TASKLEAK_LIB is set.")
    run.add_argument("--report-dir", metavar="D", default="taskleak-reports",
                     help="directory for the reports, created if needed "
                          "(default: ./taskleak-reports)")
    run.add_argument("--grace", metavar="S", type=nonnegative_seconds,
                     help="seconds a cancelled task may stay pending before it "
                          "is stuck_after_cancel (library default 5.0)")
    run.add_argument("--interval", metavar="S", type=nonnegative_seconds,
                     help="seconds between periodic reports; 0 = only at exit "
                          "and on signal (library default 1.0)")
    run.add_argument("--shutdown-timeout", metavar="S", type=nonnegative_seconds,
                     help="seconds a shutdown (SIGTERM, Ctrl-C, asyncio.run's end, the "
                          "exit) may take before a report names what blocks it; 0 = off "
                          "(library default 10)")
    run.add_argument("--no-native", action="store_true",
                     help="do not capture native backtraces (faster)")
    run.add_argument("--suppressions", metavar="F",
                     help="file of kind:pattern lines; matching leaks are not reported")
    run.add_argument("--fail", action="store_true",
                     help="exit 23 when CMD exits 0 but leaks were found")
    run.add_argument("--html", metavar="PATH",
                     help="also write the reports as one HTML page (taskleak report "
                          "--format html) to PATH")
    run.add_argument("cmd", nargs=argparse.REMAINDER, metavar="CMD ARGS...",
                     help="the command to run, after --")
    run.set_defaults(func=main)

