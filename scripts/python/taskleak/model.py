# SPDX-License-Identifier: MIT
"""Reading reports: the Report model, and what every renderer derives from a
set of reports (leak counts, groups of leaks, the summary line)."""

import json
import os
import re
import sys

from .contract import KINDS, SCHEMA, SNAPSHOT_REASONS
from .errors import NotAReport
from .fields import count, dict_of, dicts_in, number, one_line, plural, text
from .frames import frame_place, site_frame
from .output import eprint

REPORT_NAME = re.compile(r"^taskleak\.(\d+)\.json$")


class Report:
    """One report file, validated at the top level only."""

    def __init__(self, path, doc):
        self.path = path
        self.doc = doc
        pid = number(doc.get("pid"))
        self.pid = pid if isinstance(pid, int) else None
        self.leaks = dicts_in(doc.get("leaks"))
        self.live_tasks = dicts_in(doc.get("live_tasks"))
        self.threads = dicts_in(doc.get("threads"))
        self.shutdown = dict_of(doc.get("shutdown"))
        self.stats = dict_of(doc.get("stats"))
        # A document made by `report --format json` stands for its processes.
        merged = dicts_in(doc.get("reports")) if doc.get("merged") is True else []
        self.processes = len(merged) or 1

    def is_snapshot(self):
        """A snapshot: every live task and thread (a dump, a shutdown report)."""
        return (self.doc.get("reason") in SNAPSHOT_REASONS or bool(self.live_tasks)
                or bool(self.threads))

    def pid_of(self, entry):
        """The pid an entry belongs to (merged documents tag each entry)."""
        pid = number(entry.get("pid"))
        return pid if isinstance(pid, int) else self.pid

    def leak_counts(self):
        """Leaks per kind: the stats counters (they include leaks beyond
        max_leaks), never fewer than the entries actually listed."""
        counts = {}
        for leak in self.leaks:
            kind = leak_kind(leak)
            counts[kind] = counts.get(kind, 0) + 1
        for kind, value in dict_of(self.stats.get("leaks")).items():
            counts[kind] = max(counts.get(kind, 0), count(value))
        return counts


def leak_kind(leak):
    return text(leak.get("kind"), "unknown")


def read_bytes(path):
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as stream:
        return stream.read()


def parse_report(data):
    """The report in DATA (bytes) as a dict; NotAReport says why not."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotAReport("not UTF-8 text")
    except RecursionError:
        raise NotAReport("invalid JSON: nested too deeply")
    except ValueError as error:
        raise NotAReport("invalid JSON: %s" % error)
    if not isinstance(doc, dict):
        raise NotAReport("not a JSON object")
    if "tool" not in doc:
        raise NotAReport('no "tool" field')
    if doc["tool"] != "taskleak":
        raise NotAReport('"tool" is %s, not "taskleak"' % short_json(doc["tool"]))
    schema = doc.get("schema")
    if number(schema) != SCHEMA:
        raise NotAReport('"schema" is %s; this taskleak reads schema %d'
                         % (short_json(schema), SCHEMA))
    return doc


def short_json(value):
    shown = json.dumps(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def load_report(path):
    if path != "-" and os.path.isdir(path):
        raise NotAReport("a directory without taskleak.PID.json files")
    try:
        data = read_bytes(path)
    except OSError as error:
        raise NotAReport(error.strerror or str(error))
    return Report(path, parse_report(data))


def expand_inputs(paths):
    """FILE arguments, with a directory standing for its taskleak.PID.json files."""
    files = []
    for path in paths:
        if path != "-" and os.path.isdir(path):
            files.extend(report_files_in(path) or [path])
        else:
            files.append(path)
    return files


def report_files_in(directory):
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    found = [(int(m.group(1)), name) for name in names
             for m in [REPORT_NAME.match(name)] if m]
    return [os.path.join(directory, name) for _, name in sorted(found)]


def load_reports(paths):
    """(reports, number of bad files); each bad file gets its error line."""
    reports, bad = [], 0
    for path in paths:
        try:
            reports.append(load_report(path))
        except NotAReport as error:
            eprint("taskleak: %s: not a taskleak report (%s)" % (path, error))
            bad += 1
    return reports, bad


def total_counts(reports):
    totals = {}
    for report in reports:
        for kind, n in report.leak_counts().items():
            totals[kind] = totals.get(kind, 0) + n
    return totals


def ordered_kinds(kinds):
    """The contract's kinds in its order, then any newer ones by name."""
    return [k for k in KINDS if k in kinds] + sorted(k for k in kinds if k not in KINDS)

def ending(leak):
    """How a task that is no longer pending ended: 'returned NoneType None'."""
    state = text(leak.get("state"))
    if state == "finished":
        result = dict_of(leak.get("result"))
        return "returned %s %s" % (text(result.get("type"), "?"),
                                   one_line(text(result.get("repr"), "?")))
    if state == "failed":
        error = dict_of(leak.get("exception"))
        message = one_line(text(error.get("message")))
        return "raised " + text(error.get("type"), "?") + (": " + message if message else "")
    return state


def task_label(task_id, tasks):
    for snapshot in tasks:
        task = dict_of(snapshot.get("task"))
        if task.get("id") == task_id:
            return "%s (id %s)" % (text(task.get("name"), "<unnamed task>"), text(task_id))
    return "task id %s" % text(task_id)


def sorted_tasks(tasks):
    def key(snapshot):
        task_id = number(dict_of(snapshot.get("task")).get("id"))
        return (task_id is None, task_id if task_id is not None else 0)
    return sorted(tasks, key=key)


def group_leaks(reports, root):
    """[(kind, coroutine, site text, [(report, leak)...])], in kind order,
    bigger groups first, then in order of first appearance."""
    groups = {}
    for report in reports:
        for leak in report.leaks:
            frames = dicts_in(dict_of(leak.get("created")).get("python_stack"))
            frame = site_frame(frames)
            site = (frame_place(frame, root) if frame else
                    "an unknown site (before taskleak was attached)"
                    if dict_of(leak.get("created")).get("before_attach")
                    else "an unknown site")
            coro = text(dict_of(leak.get("task")).get("coro"), "<unknown>")
            key = (leak_kind(leak), coro, site)
            groups.setdefault(key, []).append((report, leak))
    kinds = ordered_kinds(set(k[0] for k in groups))
    first_seen = dict((key, i) for i, key in enumerate(groups))
    ranked = sorted(groups, key=lambda k: (kinds.index(k[0]), -len(groups[k]),
                                           first_seen[k]))
    return [key + (groups[key],) for key in ranked]


def summary_line(reports):
    totals = total_counts(reports)
    leaks = sum(totals.values())
    processes = plural(sum(r.processes for r in reports), "process", "processes")
    if not leaks:
        return "SUMMARY: taskleak: no leaks in %s" % processes
    parts = ["%d %s" % (totals[k], k) for k in ordered_kinds(totals) if totals[k]]
    return "SUMMARY: taskleak: %s (%s) in %s" % (plural(leaks, "leak"),
                                                 ", ".join(parts), processes)


def merged_suppressions(reports):
    merged = {}
    for report in reports:
        for entry in dicts_in(report.doc.get("suppressions")):
            key = (text(entry.get("kind"), "*"), text(entry.get("pattern")))
            merged[key] = merged.get(key, 0) + count(entry.get("hits"))
    return [{"kind": k, "pattern": p, "hits": h} for (k, p), h in merged.items()]



SHUTDOWN_CAUSES = {
    "asyncio.run": "after asyncio.run cancelled the remaining tasks",
    "executor": "after asyncio.run began to shut its default executor down",
    "threads": "in the interpreter's exit, joining threads",
    "exit": "in the interpreter's exit",
}


def shutdown_phrase(shutdown):
    """'shutdown blocked for 10.0 s after SIGTERM', as the library's line says it."""
    words = "shutdown blocked"
    blocked = number(shutdown.get("blocked_for"))
    if blocked is not None:
        words += " for %.1f s" % blocked
    cause = text(shutdown.get("cause"))
    if cause == "signal":
        words += " after " + text(shutdown.get("signal"), "a signal")
    elif cause in SHUTDOWN_CAUSES:
        words += " " + SHUTDOWN_CAUSES[cause]
    return words


def shutdown_blockers(report):
    """(tasks, threads) that block a shutdown: the pending tasks no other
    pending task awaits, and the threads the exit waits for."""
    tasks = [t for t in sorted_tasks(report.live_tasks) if t.get("awaited_by") is None]
    threads = [t for t in report.threads if t.get("exit_waits") is True]
    return tasks, threads


def thread_label(thread):
    """'thread asyncio_0', 'the main thread', 'a thread threading does not know'."""
    if thread.get("main") is True:
        return "the main thread"
    if thread.get("name") is not None:
        return "thread " + text(thread.get("name"))
    return "a thread threading does not know (ident %s)" % text(thread.get("ident"), "?")
