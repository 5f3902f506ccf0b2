# SPDX-License-Identifier: MIT
"""`taskleak dump`: make a running process write a snapshot, print its live
tasks."""

import os
import signal
import time

from ..contract import DEFAULT_DUMP_SIGNAL_NAME, DEFAULT_REPORT_PATH
from ..errors import CliError, NotAReport
from ..fields import plural
from ..model import Report, ordered_kinds, parse_report, read_bytes
from ..options import parse_options, parse_signal, signal_name
from ..output import current_dir, write_out
from ..render.text import TextRenderer
from . import attach as attach_command
from ._args import nonnegative_seconds, wrap

NAME = "dump"


def proc_path(pid, name):
    return "/proc/%d/%s" % (pid, name)


def is_gone(pid):
    """True when PID no longer runs (no such process, or a zombie)."""
    try:
        with open(proc_path(pid, "stat"), "rb") as stream:
            stat = stream.read().decode("ascii", "replace")
    except OSError:
        return True
    fields = stat.rpartition(")")[2].split()
    return bool(fields) and fields[0] in ("Z", "X")


def read_environ(pid):
    if is_gone(pid):
        raise CliError("no running process with pid %d" % pid)
    try:
        with open(proc_path(pid, "environ"), "rb") as stream:
            data = stream.read()
    except FileNotFoundError:
        raise CliError("no running process with pid %d" % pid)
    except PermissionError:
        raise CliError("process %d belongs to another user; taskleak cannot look into it "
                       "(run it as that user or as root)" % pid)
    except OSError as error:
        raise CliError("cannot read the environment of process %d: %s"
                       % (pid, error.strerror or error))
    env = {}
    for entry in data.split(b"\0"):
        key, sep, value = entry.partition(b"=")
        if sep:
            env[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
    return env



def signal_mask(pid, field):
    """The set of signals in /proc/PID/status FIELD (SigCgt, SigIgn...)."""
    try:
        with open(proc_path(pid, "status")) as stream:
            for line in stream:
                name, _, value = line.partition(":")
                if name == field:
                    mask = int(value.strip(), 16)
                    return set(n for n in range(1, signal.NSIG) if mask >> (n - 1) & 1)
    except (OSError, ValueError):
        pass
    return None


def check_signal_is_handled(pid, signum):
    """Refuse to send a signal whose default action would kill the process:
    the library only installs its handler in CPython, and LD_PRELOAD is
    inherited by every child (a shell, make...)."""
    caught, ignored = signal_mask(pid, "SigCgt"), signal_mask(pid, "SigIgn")
    if caught is None or ignored is None or signum in caught | ignored:
        return
    raise CliError("process %d does not handle %s (taskleak acts only in CPython "
                   "processes); not sending it, as it would end the process"
                   % (pid, signal_name(signum)))



def snapshot_paths(pid, options, env):
    """Where the process writes its report; a relative report_path is taken
    from its working directory, and from $PWD in case it has since moved."""
    path = (options.get("report_path") or DEFAULT_REPORT_PATH).replace("%p", str(pid))
    if os.path.isabs(path):
        return [path]
    paths = []
    try:
        paths.append(os.path.join(os.readlink(proc_path(pid, "cwd")), path))
    except OSError:
        pass
    if os.path.isabs(env.get("PWD", "")):
        pwd_path = os.path.join(env["PWD"], path)
        if pwd_path not in paths:
            paths.append(pwd_path)
    if not paths:
        raise CliError("cannot find the working directory of process %d" % pid)
    return paths


def read_snapshot_stamp(path):
    """The bytes in PATH before the signal, or None."""
    try:
        return read_bytes(path)
    except OSError:
        return None


def fresh_snapshot(path, stamp, pid):
    """The report in PATH if it is a signal snapshot written since STAMP.  A
    rewritten file is what counts, not a later "t": the file may be the
    report of an earlier process that had the same pid."""
    try:
        data = read_bytes(path)
    except OSError:
        return None
    if data == stamp:
        return None
    try:
        report = Report(path, parse_report(data))
    except NotAReport:
        return None
    if report.doc.get("reason") != "signal" or report.pid not in (None, pid):
        return None
    return report


def wait_for_snapshot(pid, paths, stamps, timeout):
    deadline = time.monotonic() + timeout
    while True:
        for path in paths:
            report = fresh_snapshot(path, stamps[path], pid)
            if report is not None:
                return report
        if is_gone(pid):
            raise CliError("process %d exited before writing a snapshot" % pid)
        if time.monotonic() >= deadline:
            raise CliError("process %d wrote no snapshot to %s within %gs (a handler "
                           "the program installed for its dump_signal wins over "
                           "taskleak's)" % (pid, " or ".join(paths), timeout), 1)
        time.sleep(0.02)


def main(args):
    pid = args.pid
    if pid <= 0:
        raise CliError("%d is not a process id" % pid)
    env = read_environ(pid)
    if "libtaskleak" in env.get("LD_PRELOAD", ""):
        options = parse_options(env.get("TASKLEAK_OPTIONS", ""))
        signum = parse_signal(options.get("dump_signal", DEFAULT_DUMP_SIGNAL_NAME))
        if signum is None:
            raise CliError("process %d has dumping disabled (dump_signal=none)" % pid)
        paths = snapshot_paths(pid, options, env)
    else:  # started without the library: attach first (once), reports only on request
        started = time.monotonic()
        target = attach_command.attach(args, {"interval": 0, "grace": args.grace})
        args.timeout = max(0.5, args.timeout - (time.monotonic() - started))
        signum, paths = signal.SIGUSR2, [target.report_pattern.replace("%p", str(pid))]
    check_signal_is_handled(pid, signum)
    stamps = dict((path, read_snapshot_stamp(path)) for path in paths)
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        raise CliError("no running process with pid %d" % pid)
    except OSError as error:
        raise CliError("cannot signal process %d: %s" % (pid, error.strerror or error))
    report = wait_for_snapshot(pid, paths, stamps, args.timeout)
    write_out(render_dump(report, TextRenderer(current_dir(), fold=args.fold)))
    return 0


def render_dump(report, renderer):
    lines = renderer.snapshot_lines(report, indent="")
    lines[0] = "taskleak: " + lines[0]
    totals = report.leak_counts()
    leaks = sum(totals.values())
    if leaks:
        parts = ", ".join("%d %s" % (totals[k], k) for k in ordered_kinds(totals) if totals[k])
        lines += ["", "taskleak: %s so far (%s); `taskleak report %s` shows them"
                  % (plural(leaks, "leak"), parts, report.path)]
    return "\n".join(lines) + "\n"



def add_parser(commands, formatter):
    dump = commands.add_parser(
        "dump", formatter_class=formatter,
        help="print the live tasks of a running asyncio process",
        description=wrap("Make a running process write a snapshot report (it is sent "
                    "its dump_signal, SIGUSR2 by default), wait for the snapshot "
                    "and print every live task: where it was created, where it is "
                    "suspended, who awaits it, what it holds, and its cancel history. "
                    "This is the view for a shutdown that hangs. A process started "
                    "without the library is attached to first (see taskleak attach)."),
        epilog="exit status: 0; 1 when no snapshot arrived in time; 2 when the "
               "process does\nnot exist or cannot be attached to.")
    dump.add_argument("pid", metavar="PID", type=int, help="process id")
    dump.add_argument("--timeout", metavar="S", type=nonnegative_seconds, default=10.0,
                      help="seconds to wait for the snapshot, the attach included "
                           "(default 10)")
    dump.add_argument("--grace", metavar="S", type=nonnegative_seconds, default=5.0,
                      help="when attaching: seconds after a cancel before a pending task "
                           "is stuck (default 5)")
    dump.add_argument("--no-fold", dest="fold", action="store_false",
                      help="show asyncio's and the standard library's frames too")
    dump.set_defaults(func=main)

