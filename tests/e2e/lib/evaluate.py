# SPDX-License-Identifier: MIT
"""One scenario on one interpreter: both runs (running.py), then every check
of their status, output, summary lines and reports (reports.py)."""

import os
import re
import statistics
import threading

from common import Failure, check, SHUTDOWN_RE, SUMMARY_RE
from .running import E2E_DIR_ENV, run_scenario, short, text
from .reports import check_report, check_shutdown, check_summary, parse_report, soft

SNAPSHOT_MAX_LATENCY = 1.0   # the contract
LATENCIES = []                   # (GIL held?, [seconds]) of every run with snapshots
_lat_lock = threading.Lock()


# asyncio's debug mode logs a step that took over 0.1 s: on a busy machine
# that comes and goes in either run, so the comparison leaves it out.
SLOW_STEP_RE = re.compile(r"^Executing <.*> took \d+\.\d+ seconds\n", re.M)


def untimed(stderr):
    return SLOW_STEP_RE.sub("", stderr)


def fmt_ms(seconds):
    return "%.1f ms" % (seconds * 1000)


def evaluate(sc, interp, lib):
    """Runs the scenario with and without the library and checks both runs.
    Returns notes (lines worth printing under the result)."""
    lib_run, plain = run_scenario(sc, interp, lib)
    errors = list(lib_run.step_errors)
    errors += ["without the library: %s" % e for e in plain.step_errors]
    notes = []
    want_lib_status = sc.lib_exit if sc.lib_exit is not None else sc.exit
    err_lines = text(lib_run.stderr).splitlines(True)
    summaries = [i for i, l in enumerate(err_lines) if SUMMARY_RE.match(l.rstrip("\n"))]
    shutdown_lines = [i for i, l in enumerate(err_lines) if SHUTDOWN_RE.match(l.rstrip("\n"))]
    # An expected shutdown line is checked below, against its report.
    expected_lines = set(summaries) | (set(shutdown_lines) if sc.shutdown is not None else set())
    def transparency():
        check(plain.status == sc.exit,
              "exit status without the library %s, expected %s; stderr: %r"
              % (plain.status, sc.exit, short(text(plain.stderr))))

    def status():
        check(lib_run.status == want_lib_status,
              "exit status with the library %s, expected %s; stderr: %r"
              % (lib_run.status, want_lib_status, short(text(lib_run.stderr))))

    def stdout():
        check(lib_run.stdout == plain.stdout,
              "stdout differs with the library: %r vs %r without"
              % (short(text(lib_run.stdout)), short(text(plain.stdout))))
        check(plain.files == [], "files left in the cwd without the library: %s" % plain.files)

    def stderr():
        rest = untimed("".join(l for i, l in enumerate(err_lines) if i not in expected_lines))
        check(rest == untimed(text(plain.stderr)),
              "stderr differs with the library (summary and expected shutdown lines aside): "
              "%r vs %r without"
              % (short(rest, 600), short(text(plain.stderr), 600)))

    for group in (transparency, status, stdout, stderr):
        soft(errors, group)

    if sc.expect_no_report:
        soft(errors, check, lib_run.files == [], "report files written by a process "
             "without asyncio tasks: %s" % lib_run.files)
        soft(errors, check, lib_run.stderr == b"", "stderr not empty with the library: %r"
             % short(text(lib_run.stderr)))
        if errors:
            raise Failure("; ".join(errors))
        return notes

    report_name = "r.%d.json" % lib_run.pid
    children = lib_run.children
    if len(children) != sc.children:
        errors.append("the program recorded %d forked children in $%s/children, the "
                      "scenario expects %d" % (len(children), E2E_DIR_ENV, sc.children))
    want_files = sorted([report_name] + ["r.%d.json" % c for c in children])
    report = None
    if lib_run.files != want_files:
        errors.append("expected exactly the reports %s in the report dir (%s the "
                      "parent's), found %s" % (want_files, report_name, lib_run.files))
    if lib_run.report_bytes is not None:
        try:
            report = parse_report(lib_run.report_bytes, "the report")
        except Failure as e:
            errors.append(str(e))
    report_path = os.path.join(lib_run.tmp, report_name)

    verbosity = int(sc.option("verbosity", "1"))

    def summary():
        # Who must print `taskleak: N leaks ...; report: PATH`: the parent when
        # it leaks and reaches its exit report, every child that leaks.
        want = {}
        if sc.expects and verbosity >= 1 and sc.reason == "exit":
            want[report_path] = report
        if sc.child.expects and verbosity >= 1:
            for c in children:
                path = os.path.join(lib_run.tmp, "r.%d.json" % c)
                name = os.path.basename(path)
                try:
                    want[path] = parse_report(lib_run.reports.get(name), "child report")
                except Failure:
                    want[path] = None
        named = {}
        for i in summaries:
            line = err_lines[i].rstrip("\n")
            named.setdefault(SUMMARY_RE.match(line).group(3), []).append(line)
        for path, lines in sorted(named.items()):
            check(path in want, "summary line printed for %s although %s: %r"
                  % (path, "verbosity=0" if verbosity < 1 else
                     "its process leaves no exit report with leaks", lines[0]))
            check(len(lines) == 1, "%d summary lines for %s: %r" % (len(lines), path, lines))
        for path, rep in sorted(want.items()):
            check(path in named, "expected one `taskleak: N leaks ...; report: %s` line on "
                  "stderr; stderr: %r" % (path, short(text(lib_run.stderr))))
            if rep is not None:
                check_summary(named[path][0], rep, path)
        if sc.expect_none and not (sc.child.expects and verbosity >= 1):
            rest = "".join(l for i, l in enumerate(err_lines) if i not in shutdown_lines
                           or sc.shutdown is None)
            check(rest == "",
                  "stderr not empty with the library for an expect-none scenario: %r"
                  % short(text(lib_run.stderr)))

    soft(errors, summary)
    if report is not None:
        check_report(sc, sc, interp, lib_run, report, errors, reason=sc.reason,
                     pid=lib_run.pid, ppid=os.getpid(), what="",
                     incomplete="required" if sc.reason == "shutdown" and
                     (sc.shutdown or {}).get("incomplete") == "yes" else "null")
    for c in children:
        name = "r.%d.json" % c
        what = "child %d's report: " % c
        try:
            rep = parse_report(lib_run.reports.get(name), what.rstrip(": "))
        except Failure as e:
            errors.append(str(e))
            continue
        check_report(sc, sc.child, interp, lib_run, rep, errors, reason="exit", pid=c,
                     ppid=lib_run.pid, what=what,
                     incomplete="allowed" if sc.child_incomplete else "null")
    for label, (reason, exp) in sorted(sc.observed.items()):
        what = "observed report %s: " % label
        if label not in lib_run.observed:
            errors.append("%sthe program saved none in $%s" % (what, E2E_DIR_ENV))
            continue
        try:
            rep = parse_report(lib_run.observed[label], what.rstrip(": "))
        except Failure as e:
            errors.append(str(e))
            continue
        check_report(sc, exp, interp, lib_run, rep, errors, reason=reason,
                     pid=lib_run.pid, ppid=os.getpid(), what=what)

    def shutdown():
        # One shutdown report and one line when the scenario expects them;
        # none at all otherwise.
        lines = [err_lines[i].rstrip("\n") for i in shutdown_lines]
        if sc.shutdown is None:
            check(not lines, "shutdown line(s) on stderr although no shutdown was expected: %r"
                  % lines)
            check(not lib_run.shutdowns, "%d report(s) with reason \"shutdown\" written although "
                  "no shutdown was expected" % len(lib_run.shutdowns))
            check(report is None or "shutdown" not in report,
                  "the last report has a shutdown object although none was expected: %r"
                  % (report or {}).get("shutdown"))
            return
        check(len(lib_run.shutdowns) == 1, "%d reports with reason \"shutdown\" were written, "
              "expected one" % len(lib_run.shutdowns))
        check(len(lines) == 1 or verbosity < 1, "%d shutdown lines on stderr, expected one: %r"
              % (len(lines), lines))
        after_signal, data = lib_run.shutdowns[0]
        rep = parse_report(data, "the shutdown report")
        check_report(sc, None, interp, lib_run, rep, errors, reason="shutdown", pid=lib_run.pid,
                     ppid=os.getpid(), what="the shutdown report: ",
                     incomplete="required" if sc.shutdown.get("incomplete") == "yes" else "null")
        check_shutdown(sc, rep, lines[0] if lines else None, report_path, after_signal,
                       report)

    soft(errors, shutdown)

    snapshot_steps = sum(n for step, n in sc.steps if step == "snapshot")
    if snapshot_steps:
        lats = [lat for lat, _ in lib_run.snapshots]
        if lats:
            with _lat_lock:
                LATENCIES.append((sc.snapshot_incomplete, lats))
            notes.append("signal->snapshot latency: median %s over %d signals (min %s, "
                         "max %s)" % (fmt_ms(statistics.median(lats)), len(lats),
                                      fmt_ms(min(lats)), fmt_ms(max(lats))))
        slow = [fmt_ms(lat) for lat in lats if lat > SNAPSHOT_MAX_LATENCY]
        if slow:
            errors.append("snapshots later than %gs after the signal: %s"
                          % (SNAPSHOT_MAX_LATENCY, ", ".join(slow)))
        for i, (_, data) in enumerate(lib_run.snapshots):
            n_err = len(errors)
            what = "snapshot %d/%d: " % (i + 1, len(lib_run.snapshots))
            if not check_snapshot(sc, interp, lib_run, data, errors, what, what.rstrip(": ")):
                break
            if len(errors) > n_err:
                break                # the others would say the same
    for st in lib_run.storms:
        notes.append("storm: %d dump signals sent in %s -> %d report writes, the last "
                     "%s after the storm" % (st["sent"], fmt_ms(st["seconds"]), st["writes"],
                                             fmt_ms(st["last_write_after"])
                                             if st["last_write_after"] is not None else "-"))
        what = "after a storm of %d dump signals: " % st["signals"]
        if not st["alive"]:
            errors.append("%sthe program died" % what)
            continue
        bound = max(5, st["signals"] // 10)
        if st["overflow"]:
            errors.append("%sinotify queue overflow: the writes were not counted" % what)
        elif st["writes"] > bound:
            errors.append("%s%d report writes (more than %d: the signals pile up work)"
                          % (what, st["writes"], bound))
        if st["writes"] == 0:
            errors.append("%sno snapshot written at all" % what)
        elif st["last_write_after"] > 1.0:
            errors.append("%sthe last snapshot came %.2fs after the storm ended (queued work)"
                          % (what, st["last_write_after"]))
        check_snapshot(sc, interp, lib_run, st["data"], errors, what, what + "the report")
    if errors:
        raise Failure("; ".join(errors), notes)
    return notes


def check_snapshot(sc, interp, run, data, errors, what, name):
    """Every report check of one snapshot (DATA, the file's bytes); False
    when it is no report at all (the reason is in ERRORS)."""
    try:
        rep = parse_report(data, name)
    except Failure as e:
        errors.append(str(e))
        return False
    check_report(sc, None, interp, run, rep, errors, reason="signal",
                 pid=run.pid, ppid=os.getpid(), what=what,
                 incomplete="required" if sc.snapshot_incomplete else "null")
    return True

