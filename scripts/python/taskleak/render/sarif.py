# SPDX-License-Identifier: MIT
"""SARIF 2.1.0, for code-scanning UIs."""

import hashlib
import json
from urllib.parse import quote

from . import Renderer
from ..contract import DESCRIPTIONS, ERROR_KINDS, FIXES, KINDS, VERSION
from ..fields import dict_of, dicts_in, line_number, text
from ..frames import frame_site, is_runtime_frame, show_path, site_frame
from ..model import ending, leak_kind, shutdown_blockers, shutdown_phrase, thread_label
from ..waits import deadlock_lines, tasks_of

DEADLOCK = "deadlock"
DEADLOCK_RULE = {
    "id": DEADLOCK, "name": "Deadlock",
    "shortDescription": {"text": "asyncio tasks that wait for each other"},
    "fullDescription": {"text": "Pending tasks that each wait for another of them (a lock "
                                "it holds, the task itself): none of them can move on."},
    "help": {"text": "Take locks in one order everywhere, never await a task that waits for "
                     "you, and bound waits with asyncio.timeout().",
             "markdown": "Take locks in one order everywhere, never await a task that waits "
                         "for you, and bound waits with `asyncio.timeout()`."},
    "defaultConfiguration": {"level": "error"},
    "properties": {"tags": ["asyncio", "concurrency", "reliability"]}}

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


class SarifRenderer(Renderer):

    name = "sarif"

    def render(self, reports):
        return json.dumps(sarif_document(reports, self.root), indent=2) + "\n"


def sarif_document(reports, root):
    kinds = list(KINDS) + sorted(set(leak_kind(l) for r in reports
                                     for l in r.leaks) - set(KINDS))
    results = [sarif_result(report, leak, kinds.index(leak_kind(leak)), root)
               for report in reports for leak in report.leaks]
    results += [result for report in reports
                for result in deadlock_results(report, len(kinds), root)]
    rules = [sarif_rule(kind) for kind in kinds] + [DEADLOCK_RULE]
    blocked = [r for r in reports if r.doc.get("reason") == "shutdown" and r.shutdown]
    if blocked:
        rules.append(SHUTDOWN_RULE)
        results += [shutdown_result(r, len(rules) - 1, root) for r in blocked]
    run = {"tool": {"driver": {"name": "taskleak", "version": VERSION,
                               "semanticVersion": VERSION,
                               "rules": rules}},
           "results": results,
           "columnKind": "unicodeCodePoints"}
    if root:
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": file_uri(root.rstrip("/") + "/")}}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def deadlock_results(report, rule_index, root):
    """A deadlock is a result: the cycle in words, a location per task (where
    it is suspended)."""
    tasks = tasks_of(report)
    sentences = deadlock_lines(report)[1:]
    out = []
    for d, sentence in zip(dicts_in(report.doc.get("deadlocks")), sentences):
        locations = []
        for task_id in d.get("tasks") or []:
            frame = site_frame(dicts_in(dict_of(tasks.get(task_id)).get("awaiting")))
            if frame is not None:
                locations.append(sarif_location(frame, root, "task %s waits here" % task_id))
        out.append({"ruleId": DEADLOCK, "ruleIndex": rule_index, "level": "error",
                    "message": {"text": "asyncio deadlock: " + sentence.strip()},
                    "locations": locations[:1], "relatedLocations": [
                        dict(loc, id=i) for i, loc in enumerate(locations[1:], 1)],
                    "properties": {"pid": report.pid, "tasks": d.get("tasks")}})
    return out


def sarif_rule(kind):
    short, full = DESCRIPTIONS.get(kind, ("A task leak of kind " + kind,
                                          "A task leak of kind %s." % kind))
    fix = FIXES.get(kind, "see the taskleak documentation")
    return {"id": kind,
            "name": "".join(part.capitalize() for part in kind.split("_")),
            "shortDescription": {"text": short},
            "fullDescription": {"text": full},
            "help": {"text": "%s\nFix: %s." % (full, fix),
                     "markdown": "%s\n\n**Fix:** %s." % (full, fix)},
            "defaultConfiguration": {"level": sarif_level(kind)},
            "properties": {"tags": ["asyncio", "concurrency", "reliability"]}}


def sarif_level(kind):
    return "error" if kind in ERROR_KINDS else "warning"


def sarif_result(report, leak, rule_index, root):
    kind = leak_kind(leak)
    task = dict_of(leak.get("task"))
    created = dicts_in(dict_of(leak.get("created")).get("python_stack"))
    creation = site_frame(created)
    cancels = dicts_in(leak.get("cancels"))
    caught = next((c["caught_at"] for c in cancels
                   if isinstance(c.get("caught_at"), dict)), None)
    related = []
    if caught is not None:
        primary = sarif_location(caught, root, "CancelledError caught here")
        if creation is not None:
            related.append(sarif_location(creation, root, "task created here"))
    else:
        primary = sarif_location(creation, root, "task created here") if creation else None
    for cancel in cancels:
        frame = site_frame(dicts_in(cancel.get("python_stack")))
        if frame is not None:
            related.append(sarif_location(frame, root, cancel_description(cancel)))
    for number_, location in enumerate(related, 1):
        location["id"] = number_
    result = {"ruleId": kind, "ruleIndex": rule_index, "level": sarif_level(kind),
              "message": {"text": result_message(leak, root)},
              "locations": [primary] if primary else [],
              "partialFingerprints": {"taskleakSite/v1": fingerprint(kind, task, creation, root)},
              "properties": {"pid": report.pid, "taskId": task.get("id"),
                             "taskName": task.get("name"), "coroutine": task.get("coro"),
                             "state": leak.get("state")}}
    if related:
        result["relatedLocations"] = related
    stacks = sarif_stacks(leak, root)
    if stacks:
        result["stacks"] = stacks
    return result


def sarif_location(frame, root, message=None):
    physical = {"artifactLocation": artifact_location(text(frame.get("file"), "<unknown>"), root)}
    line = line_number(frame)
    if line is not None:
        physical["region"] = {"startLine": line}
    location = {"physicalLocation": physical}
    if frame.get("function") is not None:
        location["logicalLocations"] = [{"name": text(frame.get("function")),
                                         "kind": "function"}]
    if message:
        location["message"] = {"text": message}
    return location


def artifact_location(path, root):
    shown = show_path(path, root)
    if shown.startswith("/"):
        return {"uri": file_uri(shown)}
    return {"uri": quote(shown), "uriBaseId": "%SRCROOT%"}


def file_uri(path):
    return "file://" + quote(path)


def sarif_stacks(leak, root):
    stacks = []
    created = dicts_in(dict_of(leak.get("created")).get("python_stack"))
    if created:
        stacks.append(sarif_stack("creation of the task", created, root))
    for i, cancel in enumerate(dicts_in(leak.get("cancels")), 1):
        frames = dicts_in(cancel.get("python_stack"))
        if frames:
            stacks.append(sarif_stack("cancel request %d" % i, frames, root))
    awaiting = dicts_in(leak.get("awaiting"))
    if awaiting:
        message = "where the task is suspended"
        opaque = dict_of(leak.get("awaiting_opaque")).get("type")
        if opaque:
            message += " (then awaiting a %s, which taskleak cannot look into)" % opaque
        stacks.append(sarif_stack(message, awaiting, root))
    return stacks


def sarif_stack(message, frames, root):
    return {"message": {"text": message},
            "frames": [{"location": sarif_location(f, root)} for f in frames]}


def cancel_description(cancel):
    words = "cancel requested here"
    if cancel.get("scope") is not None:
        words = "cancelled here by " + text(cancel.get("scope"))
    if cancel.get("message") is not None:
        words += " (message %r)" % text(cancel.get("message"))
    return words


def result_message(leak, root):
    kind = leak_kind(leak)
    task = dict_of(leak.get("task"))
    who = "Task %s (coroutine %s)" % (text(task.get("name"), "?"),
                                      text(task.get("coro"), "?"))
    cancels = dicts_in(leak.get("cancels"))
    cancel_site = ""
    if cancels:
        frame = site_frame(dicts_in(cancels[0].get("python_stack")))
        cancel_site = " at " + frame_site(frame, root)
    if kind == "swallowed_cancel":
        return ("%s swallowed CancelledError: it was cancelled%s, then %s "
                "instead of ending cancelled." % (who, cancel_site,
                                                  ending(leak) or "finished"))
    if kind == "stuck_after_cancel":
        return "%s was still pending after the grace period; it was cancelled%s." % (
            who, cancel_site)
    if kind == "destroyed_pending":
        return "%s was destroyed while still pending." % who
    if kind == "pending_at_exit":
        return "%s was still pending when the interpreter shut down." % who
    return "%s leaked (%s)." % (who, kind)


def fingerprint(kind, task, frame, root):
    """Stable across runs and line shifts: kind, coroutine, file, function."""
    parts = [kind, text(task.get("coro"))]
    if frame is not None:
        parts += [show_path(text(frame.get("file")), root), text(frame.get("function"))]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "replace")).hexdigest()[:32]



SHUTDOWN_FULL = ("The process was still alive shutdown_timeout seconds after it started to "
                 "shut down (a handled SIGTERM or SIGINT, asyncio.run cancelling the "
                 "remaining tasks or shutting its default executor down, the interpreter's "
                 "exit): the pending tasks no other task awaits, and the threads the exit "
                 "waits for, block it.")
SHUTDOWN_FIX = ("bound cleanup awaits with asyncio.timeout(), make workers and threads "
                "stop when asked (daemon threads, cancellable jobs)")
SHUTDOWN_RULE = {"id": "shutdown_blocked", "name": "ShutdownBlocked",
                 "shortDescription": {"text": "A shutdown took longer than shutdown_timeout"},
                 "fullDescription": {"text": SHUTDOWN_FULL},
                 "help": {"text": "%s\nFix: %s." % (SHUTDOWN_FULL, SHUTDOWN_FIX),
                          "markdown": "%s\n\n**Fix:** %s." % (SHUTDOWN_FULL, SHUTDOWN_FIX)},
                 "defaultConfiguration": {"level": "warning"},
                 "properties": {"tags": ["asyncio", "concurrency", "reliability"]}}


def blocker_frame(entry):
    """Where a blocker is in the program's code: a task's suspension site, a
    thread's job or site; None when only the runtime's frames say."""
    job = dict_of(entry.get("job"))
    if job.get("file") is not None:
        return job
    frame = site_frame(dicts_in(entry.get("awaiting") if "awaiting" in entry
                                else entry.get("python_stack")))
    return frame if frame is not None and not is_runtime_frame(frame) else None


def shutdown_result(report, rule_index, root):
    tasks, threads = shutdown_blockers(report)
    named = ["%s (%s)" % (text(dict_of(t.get("task")).get("name"), "a task"),
                          text(dict_of(t.get("task")).get("coro"), "?")) for t in tasks]
    named += [thread_label(t) for t in threads]
    phrase = shutdown_phrase(report.shutdown)
    message = phrase[:1].upper() + phrase[1:]
    message += (" by " + ", ".join(named) if named else "") + "."
    locations = [sarif_location(f, root, "blocker %d" % i)
                 for i, f in enumerate((blocker_frame(e) for e in tasks + threads), 1)
                 if f is not None]
    result = {"ruleId": "shutdown_blocked", "ruleIndex": rule_index, "level": "warning",
              "message": {"text": message},
              "locations": locations[:1],
              "properties": {"pid": report.pid, "cause": report.shutdown.get("cause"),
                             "blockedFor": report.shutdown.get("blocked_for")}}
    if len(locations) > 1:
        related = locations[1:]
        for number_, location in enumerate(related, 1):
            location["id"] = number_
        result["relatedLocations"] = related
    stacks = [sarif_stack("where %s is" % thread_label(t), dicts_in(t.get("python_stack")), root)
              for t in threads if dicts_in(t.get("python_stack"))]
    if stacks:
        result["stacks"] = stacks
    return result
