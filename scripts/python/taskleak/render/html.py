# SPDX-License-Identifier: MIT
"""HTML: one self-contained page (inline CSS and JavaScript, nothing fetched
at view time) with three views of the reports:

- leaks: the groups of the text rendering as cards (kind, coroutine,
  creation site, the fix), each task with its cancels, how it ended, where
  it waits; stacks with asyncio's frames folded (a click unfolds them) and
  the source lines this machine can read; an anchor per leak
  (#leak-PID-ID) and per group (#group-N);
- timeline: a lane per task of interest (leaked, cancelled or live in a
  snapshot) on its process's time axis: created, cancel requested (by
  whom), delivered, caught, ended or still pending; a mark shows its stack
  on hover and in the side panel on click;
- await tree (snapshots and shutdown reports): the live tasks by who awaits
  whom, each with what it waits for, what it holds, deadlocks marked, and
  the other threads running Python.

Filters by kind and by text apply to every view.  The page stays usable
with many thousands of leaks: the data is one JSON document with stacks and
frames interned, the cards are paged and the timeline draws only the lanes
in view (docs/html.md has the measurements).
"""

import html
import json
import linecache
import os

from . import Renderer
from .html_assets import CSS, SCRIPT
from ..contract import FIXES, KINDS
from ..fields import count, dict_of, dicts_in, list_of, number, one_line, plural, text
from ..frames import frame_place, is_asyncio_frame, is_runtime_frame, show_path, site_frame
from ..model import (ending, group_leaks, merged_suppressions, ordered_kinds, summary_line,
                     total_counts)

SOURCE_MAX = 160          # characters of a source line kept
LIVE = "live"             # the filter name of tasks that are not leaks


def source_line(frame):
    """The frame's own source text when the report has it, else the line
    as this machine's file has it, else ''."""
    for key in ("source", "code"):
        if isinstance(frame.get(key), str):
            return one_line(frame[key].strip())[:SOURCE_MAX]
    path, line = frame.get("file"), number(frame.get("line"))
    if not isinstance(path, str) or not isinstance(line, int) or line <= 0:
        return ""
    return one_line(linecache.getline(path, line).strip())[:SOURCE_MAX]


class Tables:
    """Frames and stacks interned: a thousand leaks created at one site
    share one stack in the page."""

    def __init__(self, root):
        self.root = root
        self.frames, self.frame_ids = [], {}
        self.stacks, self.stack_ids = [], {}

    def frame(self, frame):
        if not isinstance(frame, dict):
            return -1
        key = (text(frame.get("file")), number(frame.get("line")), text(frame.get("function")))
        found = self.frame_ids.get(key)
        if found is None:
            runtime = 2 if is_asyncio_frame(frame) else 1 if is_runtime_frame(frame) else 0
            found = self.frame_ids[key] = len(self.frames)
            place = show_path(key[0] or "<unknown>", self.root)
            line = key[1] if isinstance(key[1], int) and key[1] > 0 else None
            self.frames.append([place, line, key[2] or "<unknown>", runtime,
                                "" if runtime else source_line(frame)])
        return found

    def stack(self, frames):
        """The stack's id, or -1 for no frames."""
        frames = dicts_in(frames)
        if not frames:
            return -1
        key = tuple(self.frame(f) for f in frames)
        found = self.stack_ids.get(key)
        if found is None:
            found = self.stack_ids[key] = len(self.stacks)
            self.stacks.append(list(key))
        return found


def waits_for_entry(value, tables):
    """The spec's waits_for, kept as it is but for what the page needs
    typed: ids as numbers, the reason as text."""
    waits = dict_of(value)
    if not waits:
        return None
    entry = {}
    for key in ("kind", "object", "type", "name"):
        if waits.get(key) is not None:
            entry[key] = text(waits.get(key))
    for key in ("tasks", "held_by"):
        ids = [number(i) for i in list_of(waits.get(key)) if number(i) is not None]
        if ids or isinstance(waits.get(key), list):
            entry[key] = ids
    if number(waits.get("deadline")) is not None:
        entry["deadline"] = number(waits.get("deadline"))
    never = waits.get("never_wakes")
    if isinstance(never, dict):
        entry["never"] = text(never.get("reason"), "never wakes")
    known = set(("kind", "object", "type", "name", "tasks", "held_by", "deadline",
                 "never_wakes"))
    extra = dict((k, v) for k, v in waits.items() if k not in known
                 and isinstance(v, (str, int, float, bool)))
    if extra:
        entry["more"] = extra
    return entry


def holds_lines(entry):
    lines = []
    for held in dicts_in(entry.get("holds")):
        where = held.get("path") or " -> ".join(
            text(held.get(k), "?") for k in ("local", "peer") if held.get(k) or k == "local")
        line = "%s fd %s %s" % (text(held.get("kind"), "?"), text(held.get("fd"), "?"), where)
        if held.get("variable"):
            line += " (%s in %s)" % (text(held.get("variable")), text(held.get("function"), "?"))
        lines.append(line.rstrip())
    return lines


class PageModel:
    """The page's data: every task (leaked or live) once, the groups of
    leaks, the processes, the pytest session when there is one."""

    def __init__(self, reports, root):
        self.root = root
        self.tables = Tables(root)
        self.tasks, self.task_index = [], {}
        self.reports = reports
        self.tests = self.pytest_tests(reports)

    # -- tasks -----------------------------------------------------------------

    def cancels(self, entry):
        out = []
        for cancel in dicts_in(entry.get("cancels")):
            c = {"t": number(cancel.get("t")),
                 "s": self.tables.stack(cancel.get("python_stack")),
                 "d": self.tables.stack(cancel.get("delivered_at")),
                 "x": self.tables.frame(cancel.get("caught_at"))}
            if cancel.get("message") is not None:
                c["m"] = one_line(text(cancel.get("message")))
            if cancel.get("scope") is not None:
                c["by"] = text(cancel.get("scope"))
            if number(cancel.get("forwarded_from")) is not None:
                c["fw"] = number(cancel.get("forwarded_from"))
            if cancel.get("before_attach"):
                c["ba"] = 1
            out.append(c)
        return out

    def task_record(self, report, entry, pid):
        task = dict_of(entry.get("task"))
        created = dict_of(entry.get("created"))
        state = text(entry.get("state"), "pending")
        record = {"p": pid, "id": number(task.get("id")),
                  "n": text(task.get("name"), "<unnamed task>"),
                  "co": text(task.get("coro"), "<unknown>"),
                  "st": state, "ct": number(created.get("t")),
                  "cs": self.tables.stack(created.get("python_stack")),
                  "c": self.cancels(entry),
                  "a": self.tables.stack(entry.get("awaiting"))}
        if created.get("before_attach"):
            record["ba"] = 1
        if state != "pending":
            record["out"] = ending(entry)
        ended = dict_of(entry.get("ended"))
        if number(ended.get("t")) is not None:
            record["e"] = number(ended.get("t"))
        holds = holds_lines(entry)
        if holds:
            record["h"] = holds
        waits = waits_for_entry(entry.get("waits_for"), self.tables)
        if waits:
            record["w"] = waits
        context = dict((text(k), text(v)) for k, v in dict_of(entry.get("context")).items())
        if context:
            record["ctx"] = context
        return record

    def add_task(self, report, entry, pid, leak):
        key = (pid, number(dict_of(entry.get("task")).get("id")))
        found = self.task_index.get(key) if key[1] is not None else None
        if found is not None and not leak:
            record = self.tasks[found]          # a leak also live in the snapshot
            fresh = self.task_record(report, entry, pid)
            for field in ("w", "h", "a"):
                if field in fresh and field not in record:
                    record[field] = fresh[field]
        else:
            record = self.task_record(report, entry, pid)
            found = len(self.tasks)
            self.tasks.append(record)
            if key[1] is not None and key not in self.task_index:
                self.task_index[key] = found
        if not leak:
            record["live"] = 1
            if number(entry.get("awaited_by")) is not None:
                record["by"] = number(entry.get("awaited_by"))
        return found

    def leak_record(self, report, leak, group):
        pid = report.pid_of(leak)
        index = self.add_task(report, leak, pid, leak=True)
        record = self.tasks[index]
        record["k"] = text(leak.get("kind"), "unknown")
        record["g"] = group
        resolved = dict_of(leak.get("resolved"))
        if resolved:
            record["rs"] = {"t": number(resolved.get("t")), "state": text(resolved.get("state"), "?")}
        test = self.test_of(leak, pid)
        if test:
            record["te"], record["v"] = test
        return index

    # -- pytest ---------------------------------------------------------------

    @staticmethod
    def pytest_tests(reports):
        """{(task id, coro): (node id, verdict)} of a pytest session report."""
        tests = {}
        for report in reports:
            session = dict_of(report.doc.get("pytest"))
            for nodeid, entries in dict_of(session.get("tests")).items():
                for entry in dicts_in(entries):
                    key = (number(entry.get("task_id")), text(entry.get("coro")))
                    tests[key] = (text(nodeid), text(entry.get("verdict")))
        return tests

    def test_of(self, leak, pid):
        context = dict_of(leak.get("context"))
        task = dict_of(leak.get("task"))
        found = self.tests.get((number(task.get("id")), text(task.get("coro"))))
        if found:
            return list(found)
        if isinstance(context.get("taskleak.test"), str):
            return [context["taskleak.test"], ""]
        return None

    # -- the whole page's data ----------------------------------------------------

    def groups(self):
        out = []
        for kind, coro, site, members in group_leaks(self.reports, self.root):
            g = len(out)
            first = members[0][1]
            indices = [self.leak_record(report, leak, g) for report, leak in members]
            group = {"k": kind, "co": coro, "site": site, "m": indices,
                     "cs": self.tables.stack(dict_of(first.get("created")).get("python_stack")),
                     "fix": FIXES.get(kind, "")}
            bug = dict_of(first.get("cpython_bug"))
            if bug:
                group["bug"] = "the cancel was delivered inside %s: %s (CPython %s, fixed in %s)" % (
                    text(bug.get("where"), "asyncio"), text(bug.get("summary")),
                    text(bug.get("id"), "?"), text(bug.get("fixed_in"), "?"))
                group["fix"] = text(bug.get("advice"), group["fix"])
            out.append(group)
        return out

    def processes(self):
        out = []
        for index, report in enumerate(self.reports):
            for header in self.headers(report):
                out.append(header)
            for task in report.live_tasks:
                self.add_task(report, task, report.pid_of(task), leak=False)
        return out

    def headers(self, report):
        doc = report.doc
        merged = dicts_in(doc.get("reports")) if doc.get("merged") is True else []
        if merged:   # a merged document (taskleak report --format json, pytest)
            return [self.header(dict_of(h), None) for h in merged]
        return [self.header(doc, report)]

    def header(self, doc, report):
        pid = number(doc.get("pid"))
        header = {"p": pid, "argv": " ".join(text(a) for a in list_of(doc.get("argv"))),
                  "py": text(doc.get("python")), "r": text(doc.get("reason"), "?"),
                  "t": number(doc.get("t")), "time": text(doc.get("time"))}
        if doc.get("incomplete") is not None:
            header["inc"] = one_line(text(doc.get("incomplete")))
        if report is not None:
            leaks = report.leak_counts()
            header["n"] = sum(leaks.values())
            omitted = count(report.stats.get("leaks_omitted"))
            if omitted:
                header["om"] = omitted
            deadlocks = self.deadlocks(doc)
            if deadlocks:
                header["dl"] = deadlocks
            threads = self.threads(doc)
            if threads:
                header["th"] = threads
        return header

    @staticmethod
    def deadlocks(doc):
        out = []
        for deadlock in dicts_in(doc.get("deadlocks")):
            ids = [number(i) for i in list_of(deadlock.get("tasks")) if number(i) is not None]
            edges = []
            for edge in list_of(deadlock.get("edges")):
                if isinstance(edge, dict):
                    edges.append(dict((text(k), v) for k, v in edge.items()
                                      if isinstance(v, (str, int, float, list)) or v is None))
                elif isinstance(edge, list) and len(edge) >= 2:
                    edges.append({"from": edge[0], "to": edge[1]})
            out.append({"tasks": ids, "edges": edges})
        return out

    def threads(self, doc):
        out = []
        for thread in dicts_in(doc.get("threads")):
            stack = thread.get("python_stack", thread.get("stack"))
            facts = dict((text(k), v) for k, v in thread.items()
                         if isinstance(v, (str, int, float, bool)) or v is None)
            out.append({"f": facts, "s": self.tables.stack(stack)})
        return out

    def data(self):
        groups = self.groups()
        processes = self.processes()
        totals = total_counts(self.reports)
        kinds = ordered_kinds(set(k for k, n in totals.items() if n)
                              | set(g["k"] for g in groups))
        return {"kinds": kinds, "known": list(KINDS), "groups": groups,
                "tasks": self.tasks, "procs": processes,
                "frames": self.tables.frames, "stacks": self.tables.stacks,
                "tests": self.tests_summary()}

    def tests_summary(self):
        """[[node id, {kind: n}, verdicts]] of a pytest session."""
        out = []
        for report in self.reports:
            session = dict_of(report.doc.get("pytest"))
            for nodeid, entries in dict_of(session.get("tests")).items():
                kinds, verdicts = {}, []
                for entry in dicts_in(entries):
                    kind = text(entry.get("kind"), "unknown")
                    kinds[kind] = kinds.get(kind, 0) + 1
                    verdict = text(entry.get("verdict"))
                    if verdict and verdict not in verdicts:
                        verdicts.append(verdict)
                out.append([text(nodeid), kinds, verdicts])
            outside = dicts_in(session.get("outside_tests"))
            if outside:
                kinds = {}
                for entry in outside:
                    kind = text(entry.get("kind"), "unknown")
                    kinds[kind] = kinds.get(kind, 0) + 1
                out.append(["(outside any test)", kinds, []])
        return out


def esc(value):
    return html.escape(text(value), quote=True)


def script_json(value):
    """JSON that cannot end the <script> element it sits in."""
    return (json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def finite(value):
    """NaN and infinities (which JSON cannot carry) as None, recursively."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return dict((k, finite(v)) for k, v in value.items())
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


class HtmlRenderer(Renderer):
    """Renders reports as one self-contained HTML page."""

    name = "html"

    def __init__(self, root=None, title=None, **options):
        Renderer.__init__(self, root)
        self.title = title

    def render(self, reports):
        model = PageModel(reports, self.root)
        data = finite(model.data())
        summary = summary_line(reports)
        title = self.title or "taskleak: " + summary.split(": ", 2)[-1]
        return "".join([
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<meta name=\"generator\" content=\"taskleak report --format html\">\n",
            "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n" % (esc(title), CSS),
            self.header_html(reports, data, summary),
            "<noscript><p class=\"note\">The views below need JavaScript; "
            "`taskleak report` prints the same as text.</p></noscript>\n",
            "<main id=\"app\"></main>\n",
            "<script type=\"application/json\" id=\"taskleak-data\">%s</script>\n"
            % script_json(data),
            "<script>%s</script>\n</body>\n</html>\n" % SCRIPT])

    def header_html(self, reports, data, summary):
        """The summary, as plain HTML: readable before (and without) the script."""
        totals = total_counts(reports)
        chips = "".join(
            "<span class=\"chip k-%s\"><b>%d</b> %s</span>" % (esc(kind), totals.get(kind, 0),
                                                              esc(kind))
            for kind in ordered_kinds(set(totals) | set(KINDS)))
        processes = sum(r.processes for r in reports)
        parts = ["<header id=\"summary\">\n<h1>taskleak report</h1>\n",
                 "<p class=\"sum\" id=\"summary-line\">%s</p>\n" % esc(summary),
                 "<p class=\"chips\">%s</p>\n" % chips,
                 "<p class=\"meta\">%s" % esc(plural(processes, "process", "processes"))]
        lived = sum(len(r.live_tasks) for r in reports)
        if lived:
            parts.append(", %s in snapshots" % esc(plural(lived, "live task")))
        if data["tests"]:
            with_leaks = sum(1 for _, kinds, _ in data["tests"] if sum(kinds.values()))
            parts.append(", %s with leaks" % esc(plural(with_leaks, "test")))
        used = [s for s in merged_suppressions(reports) if s["hits"] > 0]
        if used:
            parts.append(", %s suppressed" % esc(plural(sum(s["hits"] for s in used), "leak")))
        parts.append("</p>\n</header>\n")
        return "".join(parts)


def write_html(reports, path, root=None, title=None):
    """The page of REPORTS written to PATH (whole or not at all); CliError
    when it cannot be."""
    from ..errors import CliError
    page = HtmlRenderer(root, title=title).render(reports)
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    try:
        with open(temporary, "w", encoding="utf-8") as stream:
            stream.write(page)
        os.replace(temporary, path)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise CliError("cannot write %s: %s" % (path, error.strerror or error))
