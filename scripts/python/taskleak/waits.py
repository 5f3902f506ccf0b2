# SPDX-License-Identifier: MIT
"""Why a hung process does not move on, in words: what each pending task
waits for (its `waits_for`), who holds the lock it wants, the deadlocks
first, and the tasks the others wait for.  Shared by the text renderer
(taskleak dump, taskleak report) and the pytest plugin."""

from .fields import dict_of, dicts_in, fmt_t, list_of, number, text
from .frames import frame_site


def short_type(wait):
    """'Lock' of 'asyncio.locks.Lock'."""
    return text(wait.get("type"), "object").rsplit(".", 1)[-1]


def task_short(task_id, tasks):
    """'Task-3 (worker)' for an id, from the report's tasks."""
    entry = tasks.get(task_id)
    if entry is None:
        return "task %s" % text(task_id)
    task = dict_of(entry.get("task"))
    return "%s (%s)" % (text(task.get("name"), "task %s" % text(task_id)),
                        text(task.get("coro"), "?"))


def task_name(task_id, tasks):
    entry = tasks.get(task_id)
    name = dict_of(entry.get("task")).get("name") if entry else None
    return text(name, "task %s" % text(task_id))


def tasks_of(report):
    """{id: entry} of every task a report describes (live tasks, leaks)."""
    out = {}
    for entry in dicts_in(report.doc.get("leaks")) + dicts_in(report.doc.get("live_tasks")):
        task_id = number(dict_of(entry.get("task")).get("id"))
        if task_id is not None:
            out[task_id] = entry
    return out


def what(wait):
    """'Lock app.lock', 'Future 0x7f..', 'sleep'."""
    kind = text(wait.get("kind"), "other")
    name = wait.get("name")
    label = text(name) if name else text(wait.get("object"), "")
    if wait.get("named_in"):
        label += " in %s" % text(wait.get("named_in"))
    if kind == "sleep":
        return "asyncio.sleep()"
    if kind in ("task", "gather", "wait"):
        return {"task": "a task", "gather": "gather()", "wait": "asyncio.wait()"}[kind]
    if kind == "timeout":
        return "wait_for()"
    if kind == "executor":
        return "a job in an executor"
    if kind == "queue_get":
        return "an item from Queue %s" % label
    if kind == "queue_put":
        return "room in Queue %s" % label
    if kind == "stream_read":
        return "data on StreamReader %s" % label
    if kind == "stream_write":
        return "the drain of StreamWriter %s" % label
    return ("%s %s" % (short_type(wait), label)).strip()


def holder_words(wait, entry_tasks, root):
    """', held by Task-2 (holder) in `async with` at app.py:5', or the like."""
    if wait.get("holders") is None:
        return ""
    ids = [i for i in list_of(wait.get("held_by")) if number(i) is not None]
    if wait.get("holders") == "unknown" or (not ids and wait.get("taken")):
        return ", holder unknown"
    if not ids:
        return ", free"
    parts = []
    for i in ids:
        words = task_short(i, entry_tasks)
        held = [h for h in dicts_in(dict_of(entry_tasks.get(i)).get("locks_held"))
                if h.get("object") == wait.get("object")]
        if held and isinstance(held[0].get("at"), dict):
            words += " inside `async with` at %s" % frame_site(held[0]["at"], root)
        parts.append(words)
    how = " (inferred: it keeps it after acquire())" if wait.get("holders") == "inferred" else ""
    return ", held by %s%s" % (", ".join(parts), how)


def wait_line(entry, tasks, report_t, root):
    """What one pending task waits for, in a sentence; None when the report
    does not say (an older library, a report without the GIL)."""
    if "waits_for" not in entry:
        return None
    wait = entry.get("waits_for")
    if not isinstance(wait, dict):
        return "ready to run (it waits for nothing)"
    line = "waits for " + what(wait)
    if wait.get("call") and wait.get("kind") == "other":
        line += " (in %s)" % text(wait.get("call"))
    if wait.get("kind") == "event" and not wait.get("waking"):
        line += ", not set"
    awaited = [i for i in list_of(wait.get("tasks")) if number(i) is not None]
    if awaited:
        line += ": " + ", ".join(task_short(i, tasks) for i in awaited[:6])
        if len(awaited) > 6:
            line += " and %d more" % (len(awaited) - 6)
    line += holder_words(wait, tasks, root)
    if wait.get("kind") == "executor":
        thread = dict_of(wait.get("thread"))
        if thread:
            line += ", run by thread %s" % text(thread.get("name"), "?")
        if wait.get("job"):
            line += " (%s)" % text(wait.get("job"))
    deadline = number(wait.get("deadline"))
    if deadline is not None:
        line += ", until %s" % fmt_t(deadline)
        if number(report_t) is not None:
            line += " (%.1f s after this report)" % max(0.0, deadline - report_t)
    if wait.get("waking"):
        line += " (already woken)"
    never = dict_of(wait.get("never_wakes"))
    if never:
        line += "; it can never wake: %s" % text(never.get("reason"), "")
    return line


def deadlock_lines(report, indent=""):
    """'Found 1 asyncio deadlock:' and a sentence per cycle, or []."""
    deadlocks = dicts_in(report.doc.get("deadlocks"))
    if not deadlocks:
        return []
    tasks = tasks_of(report)
    lines = ["%sFound %d asyncio deadlock%s in pid %s:" % (
        indent, len(deadlocks), "" if len(deadlocks) == 1 else "s",
        report.pid if report.pid is not None else "?")]
    for d in deadlocks:
        edges = dicts_in(d.get("edges"))
        by_from = {}
        for e in edges:
            by_from.setdefault(e.get("from"), e)
        start = edges[0].get("from") if edges else None
        words, seen, at = [], set(), start
        while at in by_from and at not in seen:
            seen.add(at)
            e = by_from[at]
            wait = dict_of(dict_of(tasks.get(at)).get("waits_for"))
            if e.get("via") in ("task", "gather"):
                step = "awaits %s" % task_short(e.get("to"), tasks)
            else:
                step = "waits for %s held by %s" % (what(wait) if wait else text(e.get("via")),
                                                    task_short(e.get("to"), tasks))
            words.append(step)
            at = e.get("to")
        sentence = "%s %s" % (task_short(start, tasks), ", which ".join(words))
        lines.append("%s  %s" % (indent, sentence))
    return lines


def blocker_lines(report, root, indent=""):
    """The tasks others wait for (a lock they hold, the task itself) and that
    wait for no task themselves: where to look first.  [] when there is none
    (a gather's or asyncio.wait()'s tasks are not counted: they are simply
    awaited together)."""
    tasks = tasks_of(report)
    waited = {}
    for task_id, entry in tasks.items():
        wait = dict_of(entry.get("waits_for"))
        awaited = list_of(wait.get("tasks")) if wait.get("kind") == "task" else []
        for other in list_of(wait.get("held_by")) + awaited:
            if other != task_id and other in tasks:
                waited.setdefault(other, set()).add(task_id)
    roots = []
    for task_id, waiters in sorted(waited.items()):
        wait = dict_of(tasks[task_id].get("waits_for"))
        if wait.get("kind") in ("task", "gather", "wait", "timeout") and \
                any(i in tasks for i in list_of(wait.get("tasks"))):
            continue  # it waits for a task in turn: not where it starts
        if wait.get("holders") in ("certain", "inferred") and \
                any(i in tasks and i != task_id for i in list_of(wait.get("held_by"))):
            continue
        roots.append((task_id, waiters))
    if not roots:
        return []
    lines = ["%sBlocking the others:" % indent]
    for task_id, waiters in roots:
        line = wait_line(tasks[task_id], tasks, report.doc.get("t"), root)
        lines.append("%s  %s, which %s wait%s for: it %s" % (
            indent, task_short(task_id, tasks),
            ", ".join(task_name(w, tasks) for w in sorted(waiters)),
            "s" if len(waiters) == 1 else "", line or "waits for something taskleak cannot tell"))
    return lines
