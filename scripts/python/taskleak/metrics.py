# SPDX-License-Identifier: MIT
"""Prometheus metrics of a report: the text exposition format the library
writes to metrics_path (collector/metrics.c), from what a report holds.

The families, their HELP texts and the `program` label are the library's;
two families are not in a report and are left out: reports written
(taskleak_reports_written_total) and the library's memory
(taskleak_memory_bytes).  tests/cli/test_metrics.py holds the two together.
"""

import os

from .fields import count, dict_of, dicts_in, list_of, number, text
from .model import ordered_kinds

# (name, type, help), in the library's order.
FAMILIES = (
    ("taskleak_info", "gauge", "The auditing library and the Python it audits (always 1)."),
    ("taskleak_tasks_created_total", "counter", "asyncio tasks created."),
    ("taskleak_tasks_done_total", "counter", "asyncio tasks that finished."),
    ("taskleak_tasks_live", "gauge", "asyncio tasks not finished yet."),
    ("taskleak_cancel_requests_total", "counter",
     "Effective cancel requests (Task.cancel() returned True)."),
    ("taskleak_leaks_total", "counter", "Task leaks found, by kind."),
    ("taskleak_leaks_omitted_total", "counter",
     "Leaks counted but not kept in full in the report (beyond max_leaks)."),
    ("taskleak_stuck_tasks", "gauge",
     "stuck_after_cancel tasks still pending (of the leaks kept in full)."),
    ("taskleak_reports_written_total", "counter", "Report files written."),
    ("taskleak_hook_seconds_total", "counter",
     "Time spent in taskleak's own work, by hook (not the wrapped function)."),
    ("taskleak_hook_calls_total", "counter", "Calls of each hook."),
    ("taskleak_memory_bytes", "gauge",
     "Heap taskleak holds: stack depots, task records and kept leaks (their fixed part)."),
)
NOT_IN_A_REPORT = ("taskleak_reports_written_total", "taskleak_memory_bytes")

# CPython's options that take a separate value.
_VALUE_OPTIONS = ("-W", "-X", "--check-hash-based-pycs")


def program_label(argv):
    """The script or module a Python runs ('app.py', 'pytest' for -m
    pytest, '-c'), else the executable's base name; as the library says."""
    args = [text(a) for a in list_of(argv)][:64]
    program = os.path.basename(args[0]) if args else ""
    if program.startswith("python"):
        i = 1
        while i < len(args):
            arg = args[i]
            if arg in ("-m", "-c"):
                if arg == "-c":
                    program = "-c"
                elif i + 1 < len(args):
                    program = args[i + 1]
                break
            if arg.startswith("-m"):
                program = arg[2:]
                break
            if not arg.startswith("-") or arg == "-":
                program = os.path.basename(arg)
                break
            if arg in _VALUE_OPTIONS:
                i += 1
            i += 1
    return program or "unknown"


def escape_label(value):
    return text(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def series(report):
    """{family name: [(extra labels, value text)]} of one process's report."""
    doc = report.doc
    stats = report.stats
    leaks = dict_of(stats.get("leaks"))
    kinds = ordered_kinds(set(leaks))
    stuck = sum(1 for leak in report.leaks if leak.get("kind") == "stuck_after_cancel"
                and not isinstance(leak.get("resolved"), dict))
    hooks = [(name, dict_of(value)) for name, value in dict_of(stats.get("hooks")).items()
             if name != "total"]
    python = doc.get("python")
    return {
        "taskleak_info": [('version="%s",python="%s"' % (
            escape_label(doc.get("version")),
            escape_label(python if python is not None else "unknown")), "1")],
        "taskleak_tasks_created_total": [("", str(count(stats.get("tasks_created"))))],
        "taskleak_tasks_done_total": [("", str(count(stats.get("tasks_done"))))],
        "taskleak_tasks_live": [("", str(count(stats.get("tasks_live"))))],
        "taskleak_cancel_requests_total": [("", str(count(stats.get("cancel_requests"))))],
        "taskleak_leaks_total": [('kind="%s"' % escape_label(k), str(count(leaks.get(k))))
                                 for k in kinds],
        "taskleak_leaks_omitted_total": [("", str(count(stats.get("leaks_omitted"))))],
        "taskleak_stuck_tasks": [("", str(stuck))],
        "taskleak_hook_seconds_total": [
            ('hook="%s"' % escape_label(name), "%d.%09d" % divmod(count(h.get("ns")), 10 ** 9))
            for name, h in hooks],
        "taskleak_hook_calls_total": [
            ('hook="%s"' % escape_label(name), str(count(h.get("calls")))) for name, h in hooks],
    }


def exposition(reports):
    """The exposition text of REPORTS (each a process's own report): every
    family once, the series of every process under it."""
    per_report = [(report, series(report)) for report in reports]
    lines = []
    for name, kind, help_text in FAMILIES:
        rows = []
        for report, families in per_report:
            base = 'pid="%s",program="%s"' % (
                report.pid if report.pid is not None else "unknown",
                escape_label(program_label(report.doc.get("argv"))))
            for extra, value in families.get(name, ()):
                rows.append("%s{%s} %s" % (name, base + ("," + extra if extra else ""), value))
        if rows:
            lines += ["# HELP %s %s" % (name, help_text), "# TYPE %s %s" % (name, kind)] + rows
    return "\n".join(lines) + "\n" if lines else ""


def is_merged(report):
    return report.doc.get("merged") is True or bool(dicts_in(report.doc.get("reports")))


def latest_per_pid(reports):
    """One report per process (the one written last): two series with the
    same labels would make the exposition invalid."""
    chosen = {}
    for report in reports:
        key = report.pid
        t = number(report.doc.get("t"))
        old = chosen.get(key)
        if old is None or (t is not None and t >= (number(old.doc.get("t")) or 0)):
            chosen[key] = report
    return [r for r in reports if chosen.get(r.pid) is r]
