# SPDX-License-Identifier: MIT
"""The checks of one report: its header, the shapes of its entries, the
counts, the scenario's expectations and live tasks; the exit summary line
against the report it names.  Each check raises common.Failure."""

import json
import os
import re
import threading

from . import ROOT
from common import Failure, check, SHUTDOWN_RE, SUMMARY_RE
from taskleak.contract import (KINDS, OPTIONS, SHUTDOWN_CAUSES, SNAPSHOT_REASONS, STATES,
                               THREAD_WHYS, VERSION)  # (checked against C)
from .scenario import WHYS

OPTION_KEYS = tuple(key for key, _, _, _, _ in OPTIONS)

# What the hang explanations of every report checked said, for the run's
# last lines: no "never" and no deadlock goes undeclared by its scenario.
EXPLAINED = {"reports": 0, "tasks": 0, "never": 0, "deadlocks": 0}
_explained_lock = threading.Lock()


def count_explained(rep):
    entries = list(rep.get("live_tasks") or []) + list(rep.get("leaks") or [])
    with _explained_lock:
        EXPLAINED["reports"] += 1
        EXPLAINED["tasks"] += sum(1 for e in entries if "waits_for" in e)
        EXPLAINED["never"] += sum(1 for e in entries if (e.get("waits_for") or {}).get("never_wakes"))
        EXPLAINED["deadlocks"] += len(rep.get("deadlocks") or [])
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
HEX_RE = re.compile(r"^0x[0-9a-fA-F]+$")
# The reasons of reports with every live task: the dump signal's, and the
# snapshot a program asks for (taskleak_snapshot_now).


def soft(errors, fn, *args):
    """Runs one group of checks; a failure is recorded and the next group runs."""
    try:
        fn(*args)
        return True
    except Failure as e:
        errors.append(str(e))
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as e:
        errors.append("malformed report (%s: %s)" % (type(e).__name__, e))
    return False


# Every report read is validated against the published schema, when this
# interpreter has jsonschema (Debian: python3-jsonschema); main() says SKIP
# once otherwise.
REPORT_SCHEMA = os.path.join(ROOT, "docs", "report.schema.json")
try:
    import jsonschema
except ImportError:
    jsonschema = None
_schema = {}
_schema_lock = threading.Lock()


def schema_problems(doc):
    """'' when DOC matches docs/report.schema.json (or it cannot be checked),
    else its first errors, one line."""
    if jsonschema is None:
        return ""
    with _schema_lock:
        if "validator" not in _schema:
            with open(REPORT_SCHEMA, encoding="utf-8") as f:
                _schema["validator"] = jsonschema.Draft202012Validator(json.load(f))
        errors = sorted(_schema["validator"].iter_errors(doc), key=lambda e: list(e.absolute_path))
    return "; ".join("at %s: %s" % ("/".join(map(str, e.absolute_path)) or "top level",
                                    e.message[:200]) for e in errors[:3])


def parse_report(data, what):
    if data is None:
        raise Failure("%s: no report" % what)
    try:
        doc = json.loads(data.decode("utf-8"))
    except ValueError as e:
        raise Failure("%s is not valid JSON (%d bytes): %s" % (what, len(data), e))
    problems = schema_problems(doc)
    if problems:
        raise Failure("%s does not match docs/report.schema.json: %s" % (what, problems))
    return doc



def check_summary(line, report, report_path):
    m = SUMMARY_RE.match(line)
    total = sum(report["stats"]["leaks"].values())
    check(int(m.group(1)) == total,
          "summary says %s leaks, report stats say %d: %r" % (m.group(1), total, line))
    check(m.group(1) != "1" or " 1 leak " in line + " " or "1 leak (" in line,
          "summary grammar: %r" % line)
    parts = {}
    for part in m.group(2).split(","):
        n, _, kind = part.strip().partition(" ")
        check(n.isdigit() and kind in KINDS, "summary breakdown %r in %r" % (part, line))
        parts[kind] = int(n)
    want = {k: v for k, v in report["stats"]["leaks"].items() if v}
    check(parts == want, "summary breakdown %s != stats %s" % (parts, want))
    check(m.group(3) == report_path,
          "summary names report %s, it was written to %s" % (m.group(3), report_path))


def is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def check_pyframes(stack, where, depth, unresolved_ok=False):
    """unresolved_ok: a report that says `incomplete` may hold frames whose
    function, file and line are all null (resolving needs the GIL)."""
    check(isinstance(stack, list), "%s is not a list" % where)
    check(len(stack) <= depth, "%s has %d frames, stack_depth is %d"
          % (where, len(stack), depth))
    for fr in stack:
        if unresolved_ok and isinstance(fr, dict) and \
                fr.get("function") is None and fr.get("file") is None and fr.get("line") is None:
            continue
        check(isinstance(fr, dict) and isinstance(fr.get("function"), str)
              and isinstance(fr.get("file"), str) and is_int(fr.get("line")),
              "%s: bad frame %r" % (where, fr))


def check_native(stack, where, native, depth):
    check(isinstance(stack, list), "%s is not a list" % where)
    if not native:
        check(stack == [], "%s not empty with native=0: %d frames" % (where, len(stack)))
        return
    check(stack, "%s is empty" % where)
    check(len(stack) <= depth, "%s has %d frames, native_depth is %d"
          % (where, len(stack), depth))
    for fr in stack:
        check(isinstance(fr, dict) and isinstance(fr.get("ip"), str)
              and HEX_RE.match(fr["ip"]), "%s: bad frame %r" % (where, fr))
        check(fr.get("symbol") is None or isinstance(fr["symbol"], str),
              "%s: bad symbol in %r" % (where, fr))
        check(fr.get("offset") is None or is_int(fr["offset"]),
              "%s: bad offset in %r" % (where, fr))
        check(fr.get("module") is None or isinstance(fr["module"], str),
              "%s: bad module in %r" % (where, fr))
    check(any(fr.get("symbol") for fr in stack),
          "%s: no frame has a symbol" % where)


def leak_summary(e):
    t = e.get("task") or {}
    return "%s %s(%s)" % (e.get("kind"), t.get("coro"), e.get("state"))


def check_leak_shape(e, report, opts, live=False):
    """A LEAK entry, or (live) a TASK_SNAPSHOT: the fields of LEAK but kind,
    plus awaited_by; a live task is pending."""
    k = e.get("kind")
    if live:
        check("kind" not in e, "live task with a kind: %r" % k)
        e = dict(e, kind="live")
    else:
        check(k in KINDS, "leak kind %r" % k)
    w = leak_summary(e)
    task = e.get("task")
    check(isinstance(task, dict), "%s: no task object" % w)
    check(is_int(task.get("id")) and 1 <= task["id"] <= report["stats"]["tasks_created"],
          "%s: task.id %r out of 1..tasks_created" % (w, task.get("id")))
    check((isinstance(task.get("name"), str) and task["name"]) or
          (task.get("name") is None and report.get("incomplete") is not None),
          "%s: task.name %r" % (w, task.get("name")))
    check(isinstance(task.get("coro"), str) and task["coro"], "%s: task.coro %r" % (w, task.get("coro")))
    check(is_int(task.get("thread_id")) and task["thread_id"] > 0,
          "%s: task.thread_id %r" % (w, task.get("thread_id")))
    check(isinstance(task.get("address"), str) and HEX_RE.match(task["address"]),
          "%s: task.address %r" % (w, task.get("address")))
    st = e.get("state")
    check(st in STATES, "%s: state %r" % (w, st))
    if live:
        check(st == "pending", "%s: a live task in state %r" % (w, st))
        by = e.get("awaited_by", "absent")
        check(by is None or is_int(by), "%s: awaited_by %r" % (w, by))
    if st == "finished":
        r = e.get("result")
        check(isinstance(r, dict) and isinstance(r.get("type"), str)
              and isinstance(r.get("repr"), str), "%s: result %r" % (w, r))
    else:
        check(e.get("result") is None, "%s: result present in state %s" % (w, st))
    if st == "failed":
        x = e.get("exception")
        check(isinstance(x, dict) and isinstance(x.get("type"), str)
              and isinstance(x.get("message"), str), "%s: exception %r" % (w, x))
    else:
        check(e.get("exception") is None, "%s: exception present in state %s" % (w, st))
    cr = e.get("created")
    check(isinstance(cr, dict) and is_num(cr.get("t")) and cr["t"] >= 0,
          "%s: created %r" % (w, cr))
    unresolved = report.get("incomplete") is not None
    check_pyframes(cr.get("python_stack"), w + " created.python_stack", opts["stack_depth"],
                   unresolved)
    check(cr["python_stack"], "%s: created.python_stack is empty" % w)
    check_native(cr.get("native_stack"), w + " created.native_stack",
                 opts["native"], opts["native_depth"])
    cancels = e.get("cancels")
    check(isinstance(cancels, list), "%s: cancels %r" % (w, cancels))
    last_t = cr["t"]
    for i, c in enumerate(cancels):
        cw = "%s cancels[%d]" % (w, i)
        check(isinstance(c, dict) and is_num(c.get("t")), "%s: %r" % (cw, c))
        check(c["t"] >= last_t - 1e-6, "%s: t %s before the previous event %s" % (cw, c["t"], last_t))
        last_t = c["t"]
        check(c.get("message") is None or isinstance(c["message"], str), "%s: message %r" % (cw, c.get("message")))
        check_pyframes(c.get("python_stack"), cw + ".python_stack", opts["stack_depth"],
                       unresolved)
        check("scope" in c and (c["scope"] is None or isinstance(c["scope"], str)),
              "%s: scope %r" % (cw, c.get("scope")))
        check("forwarded_from" in c and (c["forwarded_from"] is None or is_int(c["forwarded_from"])),
              "%s: forwarded_from %r" % (cw, c.get("forwarded_from")))
    ended = e.get("ended")
    if st == "pending":
        check(ended is None, "%s: ended %r for a pending task" % (w, ended))
    else:
        check(isinstance(ended, dict) and is_num(ended.get("t")), "%s: ended %r" % (w, ended))
        check(ended["t"] >= last_t - 1e-6 and ended["t"] <= report["t"] + 1e-6,
              "%s: ended.t %s out of order (last event %s, report t %s)"
              % (w, ended["t"], last_t, report["t"]))
    aw = e.get("awaiting", None)
    check("awaiting" in e, "%s: no awaiting field" % w)
    if aw is not None:
        check_pyframes(aw, w + " awaiting", opts["stack_depth"], unresolved)
    if k == "stuck_after_cancel":
        r = e.get("resolved")
        check(r is None or (isinstance(r, dict) and is_num(r.get("t"))
                            and r.get("state") in STATES), "%s: resolved %r" % (w, r))
        check(cancels, "%s: stuck_after_cancel without cancels" % w)
        grace = float(opts["grace"])
        check(report["t"] >= cancels[0]["t"] + grace - 1e-3,
              "%s: reported at t %s, before grace %s had passed since the first cancel at %s"
              % (w, report["t"], grace, cancels[0]["t"]))
        if r is not None:
            check(r["t"] >= cancels[0]["t"] + grace - 1e-3 and r["t"] <= report["t"] + 1e-6,
                  "%s: resolved.t %s out of order (first cancel %s, grace %s, report t %s)"
                  % (w, r["t"], cancels[0]["t"], grace, report["t"]))
    if k == "swallowed_cancel":
        check(st in ("finished", "failed"), "%s: swallowed_cancel in state %s" % (w, st))
        check(cancels, "%s: swallowed_cancel without cancels" % w)
    if k == "destroyed_pending":
        check(st == "pending", "%s: destroyed_pending in state %s" % (w, st))


def frame_lines(stack, path):
    return [fr["line"] for fr in stack if fr.get("file") == path]


def marker_lines(sc, kind, label):
    """Lines to look for, or None when the check does not apply."""
    marks = sc.markers[kind]
    if label == "none":
        return None
    if label is not None:
        if label not in marks:
            raise Failure("bad scenario: no `# <- %s:%s` marker" % (kind, label))
        return marks[label]
    return marks.get("") or None


def check_expectation(sc, kind, attrs, e, pid, live=None):
    """One expect (or, kind "live", one live) line's attributes against one
    entry.  Unlabelled markers do not apply to live lines."""
    if kind == "live":
        attrs = dict(attrs)
        for key in ("create", "cancel", "await"):
            attrs.setdefault(key, "none")
        w = "live task %s#%s" % (e["task"]["coro"], e["task"]["id"])
    else:
        w = leak_summary(e)
    t = e["task"]
    if "id" in attrs:
        check(t["id"] == int(attrs["id"]), "%s: task.id %r, expected %s" % (w, t["id"], attrs["id"]))
    if "awaited_by" in attrs:
        by = e.get("awaited_by")
        if attrs["awaited_by"] == "none":
            check(by is None, "%s: awaited_by %r, expected null" % (w, by))
        else:
            ids = [x["task"]["id"] for x in live or [] if x["task"]["coro"] == attrs["awaited_by"]]
            check(ids, "%s: awaited_by=%s names no live task" % (w, attrs["awaited_by"]))
            check(by in ids, "%s: awaited_by %r, expected the id of %s %s"
                  % (w, by, attrs["awaited_by"], ids))
    if "state" in attrs:
        check(e["state"] == attrs["state"], "%s: state %r, expected %r" % (w, e["state"], attrs["state"]))
    res = e.get("result") or {}
    if "result_type" in attrs:
        check(res.get("type") == attrs["result_type"],
              "%s: result %r, expected type %r" % (w, e.get("result"), attrs["result_type"]))
    if "result_repr" in attrs:
        check(res.get("repr") == attrs["result_repr"],
              "%s: result %r, expected repr %r" % (w, e.get("result"), attrs["result_repr"]))
    exc = e.get("exception") or {}
    if "exception_type" in attrs:
        check(exc.get("type") == attrs["exception_type"],
              "%s: exception %r, expected type %r" % (w, e.get("exception"), attrs["exception_type"]))
    if "exception_message" in attrs:
        check(exc.get("message") == attrs["exception_message"],
              "%s: exception %r, expected message %r" % (w, e.get("exception"), attrs["exception_message"]))
    cancels = e["cancels"]
    if "cancels" in attrs:
        check(len(cancels) == int(attrs["cancels"]),
              "%s: %d cancels recorded, expected %s" % (w, len(cancels), attrs["cancels"]))
    if "message" in attrs:
        want = None if attrs["message"] == "null" else attrs["message"]
        check(cancels and cancels[0].get("message") == want,
              "%s: first cancel message %r, expected %r"
              % (w, cancels[0].get("message") if cancels else "<no cancel>", want))
    if "scope" in attrs:
        want = None if attrs["scope"] == "null" else attrs["scope"]
        check(cancels and cancels[0].get("scope") == want,
              "%s: first cancel scope %r, expected %r"
              % (w, cancels[0].get("scope") if cancels else "<no cancel>", want))
    if "main_thread" in attrs:
        is_main = t["thread_id"] == pid
        check(is_main == (attrs["main_thread"] == "yes"),
              "%s: thread_id %s vs pid %s, expected main_thread=%s"
              % (w, t["thread_id"], pid, attrs["main_thread"]))
    if "resolved" in attrs:
        r = e.get("resolved")
        if attrs["resolved"] == "null":
            check(r is None, "%s: resolved %r, expected null" % (w, r))
        else:
            check(r and r.get("state") == attrs["resolved"],
                  "%s: resolved %r, expected state %r" % (w, r, attrs["resolved"]))
    lines = marker_lines(sc, "create", attrs.get("create"))
    if lines:
        stack = e["created"]["python_stack"]
        got = frame_lines(stack, sc.path)
        check(set(got) & set(lines),
              "%s: created.python_stack has no frame at %s:%s (its lines there: %s; stack: %s)"
              % (w, sc.name, lines, got, fmt_stack(stack)))
        at = min(i for i, f in enumerate(stack)
                 if f.get("file") == sc.path and f.get("line") in lines)
        module = [i for i, f in enumerate(stack)
                  if f.get("file") == sc.path and f.get("function") == "<module>"]
        check(not module or at <= module[-1],
              "%s: created.python_stack is not innermost first: %s" % (w, fmt_stack(stack)))
    lines = marker_lines(sc, "await", attrs.get("await"))
    if lines:
        aw = e.get("awaiting")
        check(aw, "%s: awaiting %r, expected a frame at line %s" % (w, aw, lines))
        got = frame_lines(aw, sc.path)
        check(set(got) & set(lines),
              "%s: awaiting has no frame at %s:%s (its lines there: %s; stack: %s)"
              % (w, sc.name, lines, got, fmt_stack(aw)))
    check_waits(attrs, e, w, live)
    if "await_chain" in attrs or "opaque" in attrs:
        # An awaitable the walk cannot enter ends the chain: named, never silent.
        got = (e.get("awaiting_opaque") or {}).get("type")
        want = attrs.get("opaque", "none")
        check(got is None if want == "none" else want in (got or ""),
              "%s: awaiting_opaque %r, expected %s" % (w, e.get("awaiting_opaque"),
                                                      "none" if want == "none" else want))
    if "await_chain" in attrs:
        labels = attrs["await_chain"].split(",")
        want = [marker_lines(sc, "await", label) for label in labels]
        aw = e.get("awaiting") or []
        mine = [fr for fr in aw if fr.get("file") == sc.path]
        check(len(mine) == len(want) and all(fr["line"] in lines
                                             for fr, lines in zip(mine, want)),
              "%s: awaiting's frames in %s are at lines %s, expected (innermost first) "
              "the markers %s at %s; awaiting: %s"
              % (w, sc.name, [fr["line"] for fr in mine], labels, want, fmt_stack(aw)))
    lines = marker_lines(sc, "cancel", attrs.get("cancel"))
    if lines:
        check(cancels, "%s: no cancels recorded, expected one at line %s" % (w, lines))
        got = frame_lines(cancels[0]["python_stack"], sc.path)
        check(set(got) & set(lines),
              "%s: cancels[0].python_stack has no frame at %s:%s (its lines there: %s; stack: %s)"
              % (w, sc.name, lines, got, fmt_stack(cancels[0]["python_stack"])))


def ids_of(coros, live, w, what):
    """The task ids of the tasks (live tasks, or leaks) whose coroutines COROS name."""
    if coros == "none":
        return []
    ids = []
    for coro in coros.split(","):
        got = [x["task"]["id"] for x in live or [] if x["task"]["coro"] == coro]
        check(got, "%s: %s=%s names no live task" % (w, what, coro))
        ids += got
    return sorted(ids)


def check_waits(attrs, e, w, live):
    """waits= waits_name= waits_call= waits_tasks= held_by= holders= never=
    deadline= locks_held=: what the entry's waits_for says."""
    wf = e.get("waits_for")
    if "waits" in attrs:
        if attrs["waits"] == "none":
            check(wf is None, "%s: waits_for %r, expected null (ready to run)" % (w, wf))
        else:
            check(wf and wf.get("kind") == attrs["waits"],
                  "%s: waits_for %r, expected kind %s" % (w, wf, attrs["waits"]))
    wf = wf or {}
    for key, field in (("waits_name", "name"), ("waits_call", "call"), ("holders", "holders")):
        if key in attrs:
            want = None if attrs[key] == "none" else attrs[key]
            check(wf.get(field) == want, "%s: waits_for.%s %r, expected %r; waits_for: %r"
                  % (w, field, wf.get(field), want, wf))
    for key, field in (("waits_tasks", "tasks"), ("held_by", "held_by")):
        if key in attrs:
            want = ids_of(attrs[key], live, w, key)
            check(sorted(wf.get(field) or []) == want, "%s: waits_for.%s %r, expected %r (%s)"
                  % (w, field, wf.get(field), want, attrs[key]))
    if "never" in attrs:
        never = wf.get("never_wakes")
        check(bool(never) == (attrs["never"] == "yes"),
              "%s: never_wakes %r, expected %s" % (w, never, attrs["never"]))
    if "deadline" in attrs:
        check((wf.get("deadline") is not None) == (attrs["deadline"] == "yes"),
              "%s: deadline %r, expected %s" % (w, wf.get("deadline"), attrs["deadline"]))
    if "waits_job" in attrs:  # executor: the worker running the job, and the job
        check(wf.get("job") == attrs["waits_job"] and isinstance(wf.get("thread"), dict)
              and wf["thread"].get("name"),
              "%s: waits_for job %r on thread %r, expected job %s on a named thread"
              % (w, wf.get("job"), wf.get("thread"), attrs["waits_job"]))
    if "locks_held" in attrs:
        held = e.get("locks_held") or []
        check(len(held) == int(attrs["locks_held"]), "%s: locks_held %r, expected %s"
              % (w, held, attrs["locks_held"]))


def check_no_undeclared_never(entries, declared, what):
    """No false "never": an entry says it only where its scenario does."""
    for e in entries:
        never = (e.get("waits_for") or {}).get("never_wakes")
        check(not never or id(e) in declared,
              "%s %s#%s says never_wakes %r, which its scenario does not declare (never=yes)"
              % (what, e["task"]["coro"], e["task"]["id"], never))


def check_deadlocks(sc, rep):
    """The report's deadlocks are exactly the scenario's `deadlock:` lines
    (snapshots) or `exit-deadlock:` lines (the exit report), by the
    coroutines of each cycle: none, unless declared."""
    want = sc.deadlocks if rep.get("reason") in SNAPSHOT_REASONS else sc.exit_deadlocks
    coro = {e["task"]["id"]: e["task"]["coro"]
            for e in list(rep.get("live_tasks") or []) + list(rep.get("leaks") or [])}
    got = sorted(sorted(coro.get(i, "?") for i in d["tasks"]) for d in rep.get("deadlocks") or [])
    check(got == sorted(want), "deadlocks %s, expected %s" % (got, sorted(want)))
    for d in rep.get("deadlocks") or []:
        for edge in d["edges"]:
            check(edge["from"] in d["tasks"] and edge["to"] in d["tasks"],
                  "deadlock edge %r leaves its cycle %r" % (edge, d["tasks"]))


def check_forwarded(want, e, leaks):
    """forwarded_from=null, or =CORO: the first cancel was forwarded from the
    task of the leak entry whose coroutine is CORO."""
    cancels = e["cancels"]
    got = cancels[0].get("forwarded_from") if cancels else None
    w = leak_summary(e)
    if want == "null":
        check(cancels and got is None, "%s: first cancel forwarded_from %r, expected null" % (w, got))
        return
    ids = [x["task"]["id"] for x in leaks if x["task"]["coro"] == want]
    check(ids, "%s: forwarded_from=%s names no reported task" % (w, want))
    check(got in ids, "%s: first cancel forwarded_from %r, expected the id of %s %s"
          % (w, got, want, ids))


def fmt_stack(stack):
    return " < ".join("%s@%s:%s" % (f.get("function"), os.path.basename(str(f.get("file"))),
                                   f.get("line")) for f in stack[:6])


def check_report(sc, exp, interp, run, rep, errors, reason, pid, ppid, what="",
                 incomplete="null"):
    """Every check of one report, as groups (a failed group does not stop the
    next).  exp: the ExpectSet its leaks must match (None: not checked)."""
    errs = []
    if soft(errs, check_header, sc, interp, run, rep, reason, pid, ppid, incomplete) and \
            soft(errs, check_shapes, rep):
        soft(errs, check_counts, rep)
        count_explained(rep)
        if exp is not None:
            soft(errs, check_expectations, sc, exp, pid, rep)
        if reason in SNAPSHOT_REASONS:
            soft(errs, check_live, sc, rep, pid)
            soft(errs, check_threads, sc, rep)
        if (reason in SNAPSHOT_REASONS or reason == "exit") and not incomplete_ok(rep):
            soft(errs, check_deadlocks, sc, rep)
    errors.extend(what + e for e in errs)


def incomplete_ok(rep):
    """A report written without the GIL has no explanations to check."""
    return rep.get("incomplete") is not None


def check_header(sc, interp, run, rep, reason="exit", pid=None, ppid=None, incomplete="null"):
    check(isinstance(rep, dict), "report is not an object")
    check(rep.get("tool") == "taskleak", "tool %r" % rep.get("tool"))
    check(rep.get("version") == VERSION, "version %r, the VERSION file says %r"
          % (rep.get("version"), VERSION))
    check(rep.get("schema") == 1, "schema %r" % rep.get("schema"))
    pid = run.pid if pid is None else pid
    ppid = os.getpid() if ppid is None else ppid
    check(rep.get("pid") == pid, "pid %r, the process was %d" % (rep.get("pid"), pid))
    check(rep.get("ppid") == ppid, "ppid %r, the parent was %d" % (rep.get("ppid"), ppid))
    check(rep.get("argv") == run.argv, "argv %r, the process ran %r" % (rep.get("argv"), run.argv))
    check(rep.get("python") == interp.version_str,
          "python %r, the interpreter is %s" % (rep.get("python"), interp.version_str))
    check(rep.get("reason") == reason, "reason %r, expected %r" % (rep.get("reason"), reason))
    check(is_num(rep.get("t")) and rep["t"] >= 0, "t %r" % rep.get("t"))
    check(isinstance(rep.get("time"), str) and TIME_RE.match(rep["time"]), "time %r" % rep.get("time"))
    check("incomplete" in rep, "no incomplete field")
    inc = rep["incomplete"]
    if incomplete == "null":
        check(inc is None, "incomplete %r" % inc)
    elif incomplete == "required":
        check(isinstance(inc, str) and inc, "incomplete %r, expected a reason (the GIL "
              "could not be taken)" % inc)
    else:
        check(inc is None or (isinstance(inc, str) and inc), "incomplete %r" % inc)
    if reason in SNAPSHOT_REASONS:
        check(isinstance(rep.get("live_tasks"), list),
              "live_tasks %r in a %s report" % (rep.get("live_tasks"), reason))
        check(isinstance(rep.get("threads"), list),
              "threads %r in a %s report" % (rep.get("threads"), reason))
    else:
        check("live_tasks" not in rep and "threads" not in rep,
              "live_tasks or threads in a report whose reason is %s" % reason)
    if reason == "shutdown":   # (the reports after one say it too)
        check(isinstance(rep.get("shutdown"), dict), "no shutdown object in a shutdown report")

    opts = rep.get("options")
    check(isinstance(opts, dict), "options %r" % opts)
    missing = [k for k in OPTION_KEYS if k not in opts]
    check(not missing, "options lacks %s" % missing)
    want_path = sc.option("report_path") or os.path.join(run.tmp, "r.%p.json")
    check(opts["report_path"] == want_path,
          "options.report_path %r, set to %r" % (opts["report_path"], want_path))
    check(float(opts["interval"]) == float(sc.option("interval", "0")),
          "options.interval %r" % opts["interval"])
    for key, value in sc.options:
        if key in ("report_path", "interval", "dump_signal", "suppressions"):
            continue
        check(str(opts.get(key)) == value or
              (is_num(opts.get(key)) and float(opts[key]) == float(value)),
              "options.%s %r, set to %r" % (key, opts.get(key), value))
    for key in ("stack_depth", "native_depth", "max_leaks"):
        check(is_int(opts[key]) and opts[key] >= 1, "options.%s %r" % (key, opts[key]))


def check_shapes(rep):
    """Types and per-entry invariants; what the other groups rely on."""
    opts = rep["options"]
    stats = rep.get("stats")
    check(isinstance(stats, dict), "stats %r" % stats)
    for key in ("tasks_created", "tasks_done", "tasks_live", "cancel_requests", "leaks_omitted"):
        check(is_int(stats.get(key)) and stats[key] >= 0, "stats.%s %r" % (key, stats.get(key)))
    leaks_stats = stats.get("leaks")
    check(isinstance(leaks_stats, dict) and sorted(leaks_stats) == sorted(KINDS)
          and all(is_int(v) and v >= 0 for v in leaks_stats.values()),
          "stats.leaks %r" % leaks_stats)
    leaks = rep.get("leaks")
    check(isinstance(leaks, list), "leaks %r" % leaks)
    for e in leaks:
        check(isinstance(e, dict), "leak entry %r" % e)
        check_leak_shape(e, rep, opts)
    for e in rep.get("live_tasks") or []:
        check(isinstance(e, dict), "live_tasks entry %r" % e)
        check_leak_shape(e, rep, opts, live=True)
    if "threads" in rep:
        check_threads_shape(rep, opts)


def check_threads_shape(rep, opts):
    """Every thread entry, and that the main thread comes first, once."""
    threads = rep["threads"]
    unresolved = rep.get("incomplete") is not None
    idents = []
    for i, t in enumerate(threads):
        w = "threads[%d] (%s)" % (i, t.get("name") if isinstance(t, dict) else t)
        check(isinstance(t, dict), "%s is not an object" % w)
        check(t.get("name") is None or isinstance(t["name"], str), "%s: name %r" % (w, t.get("name")))
        check(is_int(t.get("ident")) and t["ident"] > 0, "%s: ident %r" % (w, t.get("ident")))
        check(t.get("native_id") is None or (is_int(t["native_id"]) and t["native_id"] > 0),
              "%s: native_id %r" % (w, t.get("native_id")))
        check(t.get("daemon") in (True, False, None), "%s: daemon %r" % (w, t.get("daemon")))
        check(t.get("main") in (True, False), "%s: main %r" % (w, t.get("main")))
        check_pyframes(t.get("python_stack"), w + " python_stack", opts["stack_depth"], unresolved)
        check(t["python_stack"] or t.get("name"), "%s: no stack and no name (taskleak's own "
              "thread?)" % w)
        check(t.get("why") is None or t["why"] in THREAD_WHYS, "%s: why %r" % (w, t.get("why")))
        check(t.get("exit_waits") is (t.get("why") is not None),
              "%s: exit_waits %r with why %r" % (w, t.get("exit_waits"), t.get("why")))
        check(not (t["main"] and t["exit_waits"]), "%s: the exit waits for the main thread" % w)
        job = t.get("job")
        check(job is None or (isinstance(job, dict) and isinstance(job.get("function"), str)),
              "%s: job %r" % (w, job))
        check(job is None or t["why"] in (WHYS["default-executor"], WHYS["executor"]),
              "%s: a job but why %r" % (w, t["why"]))
        check(t["why"] not in (WHYS["default-executor"], WHYS["executor"]) or job is not None,
              "%s: a pool's worker running a job, but no job" % w)
        idents.append(t["ident"])
    check(len(set(idents)) == len(idents), "a thread is listed twice: idents %s" % idents)
    mains = [i for i, t in enumerate(threads) if t["main"]]
    if rep.get("reason") == "snapshot":
        # taskleak_snapshot_now(): the thread asking (the main one here) is
        # not among the others; any other one is listed at most once.
        check(len(mains) <= 1, "the main thread is at %s in threads, expected once at most" % mains)
    elif not unresolved:
        check(mains == [0], "the main thread is at %s in threads, expected first and once" % mains)


def check_counts(rep):
    """stats agree with each other and with the entries."""
    opts, stats, leaks = rep["options"], rep["stats"], rep["leaks"]
    leaks_stats = stats["leaks"]
    reason = rep["reason"]
    if reason not in SNAPSHOT_REASONS:   # a snapshot is written even when no task was made
        check(stats["tasks_created"] >= 1, "stats.tasks_created is 0 in a %s report" % reason)
    check(stats["tasks_done"] + stats["tasks_live"] <= stats["tasks_created"],
          "stats: tasks_done %d + tasks_live %d > tasks_created %d"
          % (stats["tasks_done"], stats["tasks_live"], stats["tasks_created"]))
    check(len({(e["kind"], e["task"]["id"]) for e in leaks}) == len(leaks),
          "the same task is reported twice for the same kind")
    total = sum(leaks_stats.values())
    max_leaks = opts["max_leaks"]
    check(len(leaks) == min(total, max_leaks),
          "%d leak entries, stats.leaks sum %d, max_leaks %d" % (len(leaks), total, max_leaks))
    check(stats["leaks_omitted"] == total - len(leaks),
          "stats.leaks_omitted %d, expected %d" % (stats["leaks_omitted"], total - len(leaks)))
    if total <= max_leaks:
        for kind in KINDS:
            n = sum(1 for e in leaks if e["kind"] == kind)
            check(n == leaks_stats[kind], "stats.leaks.%s %d but %d entries"
                  % (kind, leaks_stats[kind], n))
    # A task can be in two entries (stuck, then swallowed): count it once.
    per_task = {e["task"]["id"]: len(e["cancels"]) for e in leaks}
    check(sum(per_task.values()) <= stats["cancel_requests"],
          "cancels recorded in leaks exceed stats.cancel_requests %d" % stats["cancel_requests"])
    check(rep["t"] >= max([e["created"]["t"] for e in leaks] or [0]), "report t before a task creation")
    unfinished = [k for k in ("stuck_after_cancel", "destroyed_pending", "pending_at_exit")
                  if leaks_stats[k]]
    if not unfinished and reason == "exit":
        # Every task this program created ran to completion before exit.
        check(stats["tasks_done"] == stats["tasks_created"] and stats["tasks_live"] == 0,
              "stats at exit: tasks_created %d, tasks_done %d, tasks_live %d, but every "
              "task had ended (no stuck/destroyed/pending-at-exit leak)"
              % (stats["tasks_created"], stats["tasks_done"], stats["tasks_live"]))
    if reason in SNAPSHOT_REASONS:
        live = rep["live_tasks"]
        check(len(live) == stats["tasks_live"],
              "%d live_tasks in a snapshot, stats.tasks_live is %d (live_tasks: every live "
              "task)" % (len(live), stats["tasks_live"]))
        ids = [e["task"]["id"] for e in live]
        check(len(set(ids)) == len(ids), "a task is listed twice in live_tasks: ids %s" % ids)
        for e in live:
            by = e.get("awaited_by")
            check(by is None or (by in ids and by != e["task"]["id"]),
                  "%s: awaited_by %r is no other live task (ids %s)" % (leak_summary(e), by, ids))


def check_provenance(sc, attrs, e, rep):
    """caught=LABEL: on 3.12+ the last cancel's caught_at is at the `caught`
    marker (sys.monitoring); before 3.12 it is null.  delivered=LABEL: the
    last cancel's delivered_at has a frame at the `delivered` marker."""
    w = leak_summary(e)
    cancels = e["cancels"]
    last = cancels[-1] if cancels else {}
    version = tuple(int(x) for x in re.findall(r"\d+", rep.get("python", ""))[:2])
    lines = marker_lines(sc, "caught", attrs.get("caught"))
    if lines:
        got = last.get("caught_at")
        if version >= (3, 12):
            check(isinstance(got, dict) and got.get("file") == sc.path and got.get("line") in lines,
                  "%s: last cancel caught_at %r, expected %s:%s" % (w, got, sc.name, lines))
        else:
            check(got is None, "%s: caught_at %r before 3.12, expected null" % (w, got))
    lines = marker_lines(sc, "delivered", attrs.get("delivered"))
    if lines:
        got = frame_lines(last.get("delivered_at") or [], sc.path)
        check(set(got) & set(lines), "%s: last cancel delivered_at has no frame at %s:%s (%s)"
              % (w, sc.name, lines, fmt_stack(last.get("delivered_at") or [])))


def check_expectations(sc, exp, pid, rep):
    leaks, leaks_stats = rep["leaks"], rep["stats"]["leaks"]
    total = sum(leaks_stats.values())
    got = ", ".join(leak_summary(e) for e in leaks) or "none"
    if exp.expect_none:
        check(total == 0 and not leaks, "expected no leaks, got %d: %s" % (total, got))
        return

    want_counts = {k: 0 for k in KINDS}
    for kind, _ in exp.expects:
        want_counts[kind] += 1
    want_counts.update(exp.counts)
    check(leaks_stats == want_counts, "stats.leaks %s, expected %s; entries: %s"
          % ({k: v for k, v in leaks_stats.items() if v},
             {k: v for k, v in want_counts.items() if v}, got))
    matched, declared = set(), set()
    for kind, attrs in exp.expects:
        sel = [i for i, e in enumerate(leaks) if e["kind"] == kind
               and ("coro" not in attrs or e["task"]["coro"] == attrs["coro"])
               and ("name" not in attrs or e["task"]["name"] == attrs["name"])]
        desc = " ".join([kind] + ["%s=%s" % kv for kv in sorted(attrs.items())
                                  if kv[0] in ("coro", "name")])
        check(sel, "expected leak %s not reported; got: %s" % (desc, got))
        for i in sel:
            check_expectation(sc, kind, attrs, leaks[i], pid, live=rep.get("live_tasks") or leaks)
            if attrs.get("never") == "yes":
                declared.add(id(leaks[i]))
            check_provenance(sc, attrs, leaks[i], rep)
            if "forwarded_from" in attrs:
                check_forwarded(attrs["forwarded_from"], leaks[i], leaks)
        matched.update(sel)
    extra = [leak_summary(e) for i, e in enumerate(leaks) if i not in matched]
    check(not extra, "unexpected leaks: %s" % ", ".join(extra))
    check_no_undeclared_never(leaks, declared, "leak")
    for field in exp.distinct:
        vals = []
        for e in leaks:
            v = e
            for part in field.split("."):
                v = v.get(part) if isinstance(v, dict) else None
            vals.append(v)
        check(len(set(map(repr, vals))) == len(vals),
              "%s not distinct across the leaks: %s" % (field, vals))


def check_live(sc, rep, pid):
    """The `live:` lines and `live-count:` against a snapshot's live_tasks."""
    live = rep["live_tasks"]
    got = ", ".join("%s#%s" % (e["task"]["coro"], e["task"]["id"]) for e in live) or "none"
    if sc.live_count is not None:
        check(len(live) == sc.live_count, "%d live_tasks, expected %d: %s"
              % (len(live), sc.live_count, got))
    declared = set()
    for attrs in sc.live:
        sel = [e for e in live if e["task"]["coro"] == attrs["coro"]
               and ("name" not in attrs or e["task"]["name"] == attrs["name"])]
        check(sel, "live task %s not in live_tasks: %s" % (attrs["coro"], got))
        for e in sel:
            check_expectation(sc, "live", attrs, e, pid, live=live)
            if attrs.get("never") == "yes":
                declared.add(id(e))
    check_no_undeclared_never(live, declared, "live task")



def thread_matches(sc, attrs, t):
    """Whether thread T is one the `thread:` line ATTRS selects (by name, else
    by job, else by stack marker)."""
    if "name" in attrs:
        return t.get("name") == attrs["name"]
    if "job" in attrs:
        return (t.get("job") or {}).get("function") == attrs["job"]
    if "stack" in attrs:
        lines = marker_lines(sc, "thread", attrs["stack"])
        return bool(set(frame_lines(t.get("python_stack") or [], sc.path)) & set(lines or []))
    return t.get("main") is (attrs.get("main") == "yes")


def check_threads(sc, rep):
    """The `thread:` lines against a snapshot's or shutdown report's threads."""
    threads = rep["threads"]
    got = ", ".join("%s%s" % (t.get("name"), "*" if t.get("exit_waits") else "")
                    for t in threads) or "none"
    yes_no = {"yes": True, "no": False, "null": None}
    for attrs in sc.threads:
        sel = [t for t in threads if thread_matches(sc, attrs, t)]
        check(sel, "expect-thread %s: no such thread in threads: %s (* the exit waits for it)"
              % (" ".join("%s=%s" % kv for kv in sorted(attrs.items())), got))
        for t in sel:
            w = "thread %s" % t.get("name")
            for key in ("main", "daemon", "exit_waits"):
                if key in attrs:
                    check(t.get(key) is yes_no[attrs[key]], "%s: %s %r, expected %s"
                          % (w, key, t.get(key), attrs[key]))
            if "why" in attrs:
                check(t.get("why") == WHYS[attrs["why"]], "%s: why %r, expected %r"
                      % (w, t.get("why"), WHYS[attrs["why"]]))
            if "job" in attrs:
                job = t.get("job") or {}
                check(job.get("function") == attrs["job"], "%s: job %r, expected %s"
                      % (w, job, attrs["job"]))
            if "stack" in attrs:
                lines = marker_lines(sc, "thread", attrs["stack"])
                check(set(frame_lines(t["python_stack"], sc.path)) & set(lines),
                      "%s: python_stack has no frame at %s:%s (%s)"
                      % (w, sc.name, lines, fmt_stack(t["python_stack"])))


def check_shutdown(sc, rep, line, report_path, after_signal, final):
    """The shutdown report (one, reason shutdown), the stderr line naming it,
    and the exit report after it, against the scenario's `shutdown:` line."""
    want = sc.shutdown
    sd = rep.get("shutdown")
    timeout = float(rep["options"]["shutdown_timeout"])
    check(isinstance(sd, dict) and sd.get("cause") in SHUTDOWN_CAUSES, "shutdown %r" % sd)
    check(is_num(sd.get("t")) and is_num(sd.get("blocked_for")) and sd.get("timeout") == timeout,
          "shutdown %r (shutdown_timeout %s)" % (sd, timeout))
    check(sd["blocked_for"] >= timeout - 1e-3 and abs(rep["t"] - sd["t"] - sd["blocked_for"]) < 1e-3,
          "the shutdown report came %.3fs after the shutdown started at %s (report t %s), "
          "before shutdown_timeout %s" % (sd["blocked_for"], sd["t"], rep["t"], timeout))
    if any(st == "signal" for st, _ in sc.steps):
        # Seen by the runner no sooner than the timeout after it sent the signal.
        check(after_signal >= timeout - 0.01, "the shutdown report appeared %.3fs after the "
              "signal, before shutdown_timeout %s" % (after_signal, timeout))
    if "cause" in want:
        check(sd["cause"] == want["cause"], "shutdown cause %r, expected %r" % (sd["cause"], want["cause"]))
    if "signal" in want:
        check(sd.get("signal") == want["signal"], "shutdown signal %r, expected %r"
              % (sd.get("signal"), want["signal"]))
    else:
        check(sd.get("signal") is None or sd["cause"] == "signal", "shutdown %r" % sd)
    if line is not None:
        m = SHUTDOWN_RE.match(line)
        check(m.group(3) == report_path, "the shutdown line names %r, the report is %s: %r"
              % (m.group(3), report_path, line))
        check(float(m.group(1)) >= round(timeout, 1) - 0.05 and
              abs(float(m.group(1)) - sd["blocked_for"]) < 0.06,
              "the shutdown line says %s s, the report %.3f s: %r"
              % (m.group(1), sd["blocked_for"], line))
        for text_ in want["blocker"]:
            check(text_ in line, "the shutdown line does not name %r: %r" % (text_, line))
    if final is not None and final.get("reason") == "exit":
        check(final.get("shutdown", {}).get("cause") == sd["cause"],
              "the exit report after the shutdown report has shutdown %r, expected cause %r"
              % (final.get("shutdown"), sd["cause"]))
