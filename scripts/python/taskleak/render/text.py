# SPDX-License-Identifier: MIT
"""Text rendering, in the LeakSanitizer style: leaks grouped by kind,
coroutine and creation site, asyncio's own frames folded, the fix for each
kind; live tasks of snapshots; notes, suppressions used, the summary line."""

from . import Renderer
from ..contract import FIXES
from ..fields import count, dict_of, dicts_in, fmt_t, list_of, number, one_line, plural, text
from ..frames import frame_site, native_lines, site_frame, source_hint, stack_lines
from ..model import (ending, group_leaks, merged_suppressions, shutdown_phrase,
                     sorted_tasks, summary_line, task_label, thread_label)
from ..waits import blocker_lines, deadlock_lines, tasks_of, wait_line


def holds_lines(entry, indent):
    """What a pending task's coroutines keep in locals: sockets, streams,
    transports, files (the connection a zombie keeps from the pool)."""
    lines = []
    for held in dicts_in(entry.get("holds")):
        if held.get("fd") is None:  # closed: no descriptor, no address
            line = "%sholds a closed %s" % (indent, text(held.get("kind"), "?"))
        else:
            where = held.get("path") or " -> ".join(
                text(held.get(k), "?") for k in ("local", "peer") if held.get(k) or k == "local")
            line = "%sholds %s fd %s %s" % (indent, text(held.get("kind"), "?"),
                                              text(held.get("fd"), "?"), where)
        if held.get("variable"):
            line += " (%s in %s)" % (text(held.get("variable")), text(held.get("function"), "?"))
        lines.append(line.rstrip())
    return lines


class TextRenderer(Renderer):
    """Renders reports as text; ROOT is the directory paths are shown from."""

    name = "text"

    def __init__(self, root=None, native=False, fold=True, max_tasks=3, **options):
        Renderer.__init__(self, root)
        self.native = native
        self.fold = fold
        self.max_tasks = max_tasks

    def stack(self, frames, indent):
        return stack_lines(frames, self.root, indent, self.fold)

    def awaiting_lines(self, entry, head, indent):
        """`HEAD site` of where a task is suspended, then its await chain.
        Never folded: it is short (the coroutine chain, no event loop
        frames) and its innermost frame, often asyncio's own, says what the
        task waits for (a queue, a lock, a sleep).  An awaitable the chain
        goes into but taskleak cannot look into is named first."""
        frames = dicts_in(entry.get("awaiting"))
        if not frames:
            return []
        lines = [indent + head + " " + self.site(site_frame(frames))]
        opaque = dict_of(entry.get("awaiting_opaque")).get("type")
        if opaque:
            lines.append("%s  awaiting a %s, which taskleak cannot look into"
                         % (indent, text(opaque)))
        return lines + stack_lines(frames, self.root, indent + "  ", fold=False)

    def site(self, frame):
        return frame_site(frame, self.root)

    # -- whole output ------------------------------------------------------

    def render(self, reports):
        # Deadlocks first: nothing else explains a hang as quickly.
        sections = [deadlock_lines(r) for r in reports if deadlock_lines(r)]
        sections += [self.group_lines(group)
                     for group in group_leaks(reports, self.root)]
        sections += [self.snapshot_lines(r, deadlocks=False) for r in reports if r.is_snapshot()]
        notes = self.note_lines(reports)
        if notes:
            sections.append(notes)
        used = self.suppression_lines(reports)
        if used:
            sections.append(used)
        sections.append([summary_line(reports)])
        return "\n\n".join("\n".join(lines) for lines in sections) + "\n"

    # -- one group of leaks ------------------------------------------------

    def group_lines(self, group):
        kind, coro, site, members = group
        first_leak = members[0][1]
        created = dict_of(first_leak.get("created"))
        lines = ["%s of coroutine %s created at %s"
                 % (plural(len(members), kind + " leak"), coro, site)]
        lines += self.stack(dicts_in(created.get("python_stack")), "    ")
        native = dicts_in(created.get("native_stack"))
        if self.native and native:
            lines += native_lines(native, "    ")
        limit = len(members) if self.max_tasks <= 0 else self.max_tasks
        for report, leak in members[:limit]:
            lines += self.task_lines(report, leak)
        if len(members) > limit:
            lines.append("  (%s of this group not shown; --max-tasks 0 shows all)"
                         % plural(len(members) - limit, "more task"))
        bug = dict_of(first_leak.get("cpython_bug"))
        if bug:
            lines.append("  note: the cancel was delivered inside %s: %s (CPython %s, fixed in %s)"
                         % (text(bug.get("where"), "asyncio"), text(bug.get("summary"), ""),
                            text(bug.get("id"), "?"), text(bug.get("fixed_in"), "?")))
            lines.append("  fix: " + text(bug.get("advice"), FIXES.get(kind, "")))
        elif kind in FIXES:
            lines.append("  fix: " + FIXES[kind])
        return lines

    def task_lines(self, report, leak):
        task = dict_of(leak.get("task"))
        head = "  %s (id %s)" % (text(task.get("name"), "<unnamed task>"),
                                 text(task.get("id"), "?"))
        pid = report.pid_of(leak)
        if pid is not None:
            head += " in pid %d" % pid
        created_t = number(dict_of(leak.get("created")).get("t"))
        if created_t is not None:
            head += ", created at " + fmt_t(created_t)
        lines = [head]
        for cancel in dicts_in(leak.get("cancels")):
            lines += self.cancel_lines(cancel, "    ")
        lines += self.outcome_lines(leak, "    ", report)
        return lines

    def cancel_lines(self, cancel, indent):
        frames = dicts_in(cancel.get("python_stack"))
        if cancel.get("before_attach"):
            line = indent + "cancelled before taskleak was attached (when and by whom: unknown)"
        else:
            line = indent + "cancelled at " + self.site(site_frame(frames))
        if cancel.get("message") is not None:
            line += " (message: %r)" % text(cancel.get("message"))
        if cancel.get("scope") is not None:
            line += " (by %s)" % text(cancel.get("scope"))
        if cancel.get("forwarded_from") is not None:
            line += " (forwarded from task %s)" % text(cancel.get("forwarded_from"))
        if number(cancel.get("t")) is not None:
            line += ", " + fmt_t(cancel.get("t"))
        lines = [line] + self.stack(frames, indent + "  ")
        delivered = dicts_in(cancel.get("delivered_at"))
        if isinstance(cancel.get("caught_at"), dict):
            caught = cancel["caught_at"]
            lines.append(indent + "  CancelledError caught at " + self.site(caught)
                         + source_hint(caught))
        elif delivered:
            frame = site_frame(delivered)
            lines.append(indent + "  delivered at " + self.site(frame) + source_hint(frame))
        return lines

    def outcome_lines(self, leak, indent, report=None):
        state = text(leak.get("state"))
        awaiting = dicts_in(leak.get("awaiting"))
        lines = []
        if state == "pending":
            if awaiting:
                lines += self.awaiting_lines(leak, "still pending, suspended at", indent)
            elif leak.get("kind") == "destroyed_pending":
                lines.append(indent + "still pending; where it was suspended is unknown "
                             "(its coroutine was closed before the task was destroyed)")
            else:
                lines.append(indent + "still pending")
            waits = wait_line(leak, tasks_of(report), report.doc.get("t"), self.root) \
                if report is not None else None
            if waits:
                lines.append(indent + waits)
            lines += holds_lines(leak, indent)
        else:
            if state:
                lines.append(indent + "ended: " + ending(leak))
            lines += self.awaiting_lines(leak, "was suspended at", indent)
        resolved = leak.get("resolved")
        if isinstance(resolved, dict):
            lines.append("%sresolved at %s: %s" % (indent, fmt_t(resolved.get("t")),
                                                   text(resolved.get("state"), "?")))
        return lines

    # -- live tasks (signal snapshots, and `taskleak dump`) ---------------

    def snapshot_lines(self, report, indent="  ", deadlocks=True):
        head = "pid %s" % (report.pid if report.pid is not None else "?")
        argv = list_of(report.doc.get("argv"))
        if argv:
            head += " (%s)" % " ".join(text(a) for a in argv)
        reason = text(report.doc.get("reason"), "?")
        head += ": %s at %s (%s)" % (
            plural(len(report.live_tasks), "live task"), fmt_t(report.doc.get("t")),
            {"snapshot": "snapshot", "shutdown": "shutdown report"}.get(
                reason, reason + " snapshot"))
        lines = [head]
        if report.shutdown and report.doc.get("reason") == "shutdown":
            lines.append("%s%s (it started at %s)" % (indent, shutdown_phrase(report.shutdown),
                                                    fmt_t(report.shutdown.get("t"))))
        lines += (deadlock_lines(report) if deadlocks else []) + blocker_lines(report, self.root)
        tasks = tasks_of(report)
        for task in sorted_tasks(report.live_tasks):
            lines += self.live_task_lines(task, report.live_tasks, indent, report, tasks)
        return lines + self.thread_lines(report, indent)

    # -- threads (snapshots): those the exit waits for, with their stacks --

    def thread_lines(self, report, indent):
        threads = report.threads
        waited = [t for t in threads if t.get("exit_waits") is True]
        main = [t for t in threads if t.get("main") is True]
        lines = []
        if waited:
            lines.append("%sthe exit waits for %s:" % (indent, plural(len(waited), "thread")))
            for thread in waited:
                lines += self.one_thread_lines(thread, indent + "  ")
        if main and report.doc.get("reason") == "shutdown":
            lines.append(indent + "where the main thread is:")
            lines += self.stack(dicts_in(main[0].get("python_stack")), indent + "  ")
        others = len(threads) - len(waited) - len(main)
        if others > 0:
            lines.append("%s%s the exit does not wait for (daemon threads, idle pool workers)"
                         % (indent, plural(others, "other thread")))
        return lines

    def one_thread_lines(self, thread, indent):
        head = indent + thread_label(thread)
        if thread.get("native_id") is not None:
            head += " (native id %s)" % text(thread.get("native_id"))
        head += ": " + text(thread.get("why"), "the exit waits for it")
        job = dict_of(thread.get("job"))
        if job and job.get("file") is not None:
            head += ", job " + self.site(job)
        elif job:
            head += ", job %s (a C function)" % text(job.get("function"), "?")
        return [head] + self.stack(dicts_in(thread.get("python_stack")), indent + "  ")

    def live_task_lines(self, snapshot, all_tasks, indent, report=None, tasks=None):
        task = dict_of(snapshot.get("task"))
        lines = ["%s%s (coroutine %s, id %s) %s" % (
            indent, text(task.get("name"), "<unnamed task>"),
            text(task.get("coro"), "<unknown>"), text(task.get("id"), "?"),
            text(snapshot.get("state"), "pending"))]
        inner = indent + "  "
        created = dict_of(snapshot.get("created"))
        frames = dicts_in(created.get("python_stack"))
        if created.get("before_attach"):
            line = inner + "created before taskleak was attached"
        else:
            line = inner + "created at " + self.site(site_frame(frames))
        if number(created.get("t")) is not None:
            line += ", " + fmt_t(created.get("t"))
        lines += [line] + self.stack(frames, inner + "  ")
        lines += self.awaiting_lines(snapshot, "suspended at", inner)
        waits = wait_line(snapshot, tasks or {}, report.doc.get("t") if report else None, self.root)
        if waits:
            lines.append(inner + waits)
        lines += holds_lines(snapshot, inner)
        if snapshot.get("awaited_by") is not None:
            lines.append(inner + "awaited by " + task_label(snapshot.get("awaited_by"),
                                                             all_tasks))
        cancels = dicts_in(snapshot.get("cancels"))
        for cancel in cancels:
            lines += self.cancel_lines(cancel, inner)
        if not cancels:
            lines.append(inner + "never cancelled")
        return lines

    # -- trailer -----------------------------------------------------------

    def note_lines(self, reports):
        lines = []
        for report in reports:
            omitted = count(report.stats.get("leaks_omitted"))
            if omitted:
                limit = count(dict_of(report.doc.get("options")).get("max_leaks"))
                lines.append("taskleak: %s in pid %s %s counted but not kept in full%s"
                             % (plural(omitted, "more leak"),
                                report.pid if report.pid is not None else "?",
                                "was" if omitted == 1 else "were",
                                " (max_leaks=%d)" % limit if limit else ""))
            incomplete = report.doc.get("incomplete")
            if incomplete is not None:
                lines.append("taskleak: report %s is incomplete: %s"
                             % (report.path, one_line(text(incomplete))))
        return lines

    def suppression_lines(self, reports):
        used = [s for s in merged_suppressions(reports) if s["hits"] > 0]
        if not used:
            return []
        rule = "-" * 53
        lines = [rule, "Suppressions used:", "  %6s  %s" % ("hits", "suppression")]
        lines += ["  %6d  %s:%s" % (s["hits"], s["kind"], s["pattern"]) for s in used]
        return lines + [rule]

