# SPDX-License-Identifier: MIT
"""The scenario language: a scenario file's header directives and line
markers (documented at the top of tests/e2e/run.py), parsed into a Scenario."""

import copy
import os
import re
import shlex
import signal

from taskleak.contract import KINDS  # (checked against C; lib/__init__.py finds it)

DEFAULT_TIMEOUT = 60.0
MARKER = r"<-\s*(create|cancel|await|caught|delivered|thread)(?::([\w.-]+))?"
MARKERS_RE = re.compile(r"#((?:\s*%s)+)\s*$" % MARKER)  # one or more at a line's end
DIRECTIVE_RE = re.compile(r"^#\s*([a-z][a-z-]*)\s*(?::\s*(.*?))?\s*$")
KNOWN_DIRECTIVES = {"expect", "expect-none", "expect-no-report", "expect-count",
                    "expect-distinct", "min-python", "max-python",
                    "requires-module", "options", "env", "args", "exit",
                    "lib-exit", "timeout", "suppress", "reason", "children",
                    "child-expect", "child-expect-none", "child-incomplete",
                    "observe", "expect-observed", "step", "live", "live-count",
                    "snapshot-incomplete", "variant", "deadlock", "exit-deadlock",
                    "expect-shutdown", "expect-no-shutdown", "expect-thread", "build-helper"}
NO_VALUE_DIRECTIVES = ("expect-none", "expect-no-report", "child-expect-none",
                       "expect-no-shutdown")
EXPECT_KEYS = {"coro", "name", "state", "result_type", "result_repr",
               "exception_type", "exception_message", "message", "scope",
               "cancels", "main_thread", "create", "cancel", "await", "resolved",
               "forwarded_from", "await_chain", "id", "caught", "delivered", "opaque",
               "waits", "waits_name", "waits_call", "waits_tasks", "held_by", "holders",
               "never", "deadline", "locks_held", "waits_job"}
LIVE_KEYS = (EXPECT_KEYS - {"result_type", "result_repr", "exception_type",
                            "exception_message", "resolved", "forwarded_from",
                            "caught", "delivered"}) | {"awaited_by"}
REASONS = ("exit", "periodic", "signal", "request", "snapshot", "shutdown")
STEP_ARGS = {"wait-line": "text", "signal": "signal", "close-stdin": None,
             "snapshot": "count", "storm": "count", "shutdown-report": None}
SHUTDOWN_KEYS = {"cause", "signal", "blocker", "incomplete"}
THREAD_KEYS = {"name", "main", "daemon", "exit_waits", "why", "job", "stack"}
WHYS = {"non-daemon": "non-daemon thread",
        "default-executor": "default executor worker running a job",
        "executor": "executor worker running a job", "none": None}


# ---------------------------------------------------------------- scenarios

class ExpectSet:
    """What one report's leaks must be: expect lines, counts, distinct fields."""

    def __init__(self):
        self.expects = []            # list of (kind, {key: value})
        self.expect_none = False
        self.counts = {}
        self.distinct = []


class Scenario(ExpectSet):
    def __init__(self, path):
        ExpectSet.__init__(self)
        self.path = os.path.realpath(path)
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.expect_no_report = False
        self.reason = "exit"
        self.children = 0
        self.child = ExpectSet()
        self.child_incomplete = False
        self.observed = {}           # label -> (reason, ExpectSet)
        self.steps = []              # [(step, argument)]
        self.live = []               # [{key: value}]
        self.live_count = None
        self.deadlocks = []          # [sorted coroutine names of one cycle]: snapshots
        self.exit_deadlocks = []     # the same, in the exit report
        self.snapshot_incomplete = False
        self.min_python = None
        self.max_python = None
        self.modules = []
        self.options = []            # [(key, value)]
        self.env = {}
        self.args = []
        self.exit = 0
        self.lib_exit = None
        self.timeout = DEFAULT_TIMEOUT
        self.markers = {"create": {}, "cancel": {}, "await": {}, "caught": {}, "delivered": {},
                        "thread": {}}  # kind -> label -> [lines]
        self.shutdown = None         # {key: value}, `blocker` a list
        self.expect_no_shutdown = False
        self.threads = []            # [{key: value}]
        self.builds = []             # C files of helpers, beside the scenario
        self.suppressions = []
        self.variants = []           # [(name, [(directive, value)])]
        self.error = None
        try:
            self._parse()
        except (ValueError, OSError) as e:
            self.error = "bad scenario: %s" % e

    def _parse(self):
        with open(self.path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        in_header = True
        for lineno, line in enumerate(lines, 1):
            m = MARKERS_RE.search(line)
            if m and not line.lstrip().startswith("#"):
                for kind, label in re.findall(MARKER, m.group(1)):
                    self.markers[kind].setdefault(label, []).append(lineno)
            if in_header:
                if not line.strip():
                    continue
                if not line.startswith("#"):
                    in_header = False
                    continue
                d = DIRECTIVE_RE.match(line)
                if d and d.group(1).startswith("expect") and \
                        d.group(1) not in KNOWN_DIRECTIVES:
                    raise ValueError("unknown directive %r" % d.group(1))
                if d and d.group(1) in KNOWN_DIRECTIVES and \
                        (d.group(2) is not None or d.group(1) in NO_VALUE_DIRECTIVES):
                    self._directive(d.group(1), d.group(2) or "")
        if self.expect_no_shutdown:
            self.shutdown = None  # the default; said aloud where a shutdown looks likely
        if self.expect_none and (self.expects or self.expect_no_report):
            raise ValueError("expect-none combined with other expectations")
        if not (self.expects or self.expect_none or self.expect_no_report):
            raise ValueError("no expect/expect-none/expect-no-report directive")
        for kind in self.counts:
            if not any(k == kind for k, _ in self.expects):
                raise ValueError("expect-count for %s without an expect line" % kind)
        if self.children and not (self.child.expects or self.child.expect_none):
            raise ValueError("children without child-expect/child-expect-none")
        if (self.live or self.live_count is not None) and \
                not any(st in ("snapshot", "shutdown-report") for st, _ in self.steps):
            raise ValueError("live lines without a snapshot or shutdown-report step")
        if self.expect_no_report and (self.steps or self.children or self.observed):
            raise ValueError("expect-no-report with steps, children or observe")
        has_report_step = any(st == "shutdown-report" for st, _ in self.steps)
        if (self.shutdown is not None) != has_report_step:
            raise ValueError("expect-shutdown needs a shutdown-report step, and the other way")
        if self.shutdown is not None and self.expect_no_shutdown:
            raise ValueError("expect-shutdown and expect-no-shutdown")
        if self.threads and not (has_report_step or any(st == "snapshot" for st, _ in self.steps)):
            raise ValueError("expect-thread lines without a snapshot or shutdown-report step")

    @staticmethod
    def _expect_line(value, keys, what):
        words = shlex.split(value)
        if not words or words[0] not in KINDS:
            raise ValueError("%s: unknown kind in %r" % (what, value))
        return words[0], Scenario._attrs(words[1:], keys, what)

    @staticmethod
    def _attrs(words, keys, what):
        attrs = {}
        for w in words:
            k, sep, v = w.partition("=")
            if not sep or k not in keys:
                raise ValueError("%s: bad attribute %r" % (what, w))
            attrs[k] = v
        return attrs

    def variant(self, name, directives):
        """A copy of this scenario named NAME[VARIANT] with DIRECTIVES added."""
        v = copy.deepcopy(self)
        v.name = "%s[%s]" % (self.name, name)
        v.variants = []
        for key, value in directives:
            v._directive(key, value)
        return v

    def _directive(self, key, value):
        if key == "variant":
            # `# variant: NAME DIRECTIVE: VALUE[; DIRECTIVE: VALUE]`: the same
            # program and expectations, run again with these added.
            name, _, rest = value.partition(" ")
            directives = []
            for part in rest.split(";"):
                k, sep, v = part.strip().partition(":")
                if not name or not sep or k.strip() not in KNOWN_DIRECTIVES - {"variant"}:
                    raise ValueError("variant: bad %r" % value)
                directives.append((k.strip(), v.strip()))
            self.variants.append((name, directives))
            return
        if key == "expect":
            self.expects.append(self._expect_line(value, EXPECT_KEYS, "expect"))
        elif key == "expect-none":
            self.expect_none = True
        elif key == "expect-no-shutdown":
            self.expect_no_shutdown = True
        elif key == "expect-shutdown":
            self.shutdown = {"blocker": []}
            for w in shlex.split(value):
                k, sep, v = w.partition("=")
                if not sep or k not in SHUTDOWN_KEYS:
                    raise ValueError("expect-shutdown: bad attribute %r" % w)
                if k == "blocker":
                    self.shutdown["blocker"].append(v)
                else:
                    self.shutdown[k] = v
        elif key == "expect-thread":
            attrs = self._attrs(shlex.split(value), THREAD_KEYS, "expect-thread")
            if "why" in attrs and attrs["why"] not in WHYS:
                raise ValueError("expect-thread: why=%s is none of %s" % (attrs["why"], sorted(WHYS)))
            if not attrs:
                raise ValueError("expect-thread: no attribute")
            self.threads.append(attrs)
        elif key == "build-helper":
            self.builds.extend(value.split())
        elif key == "expect-no-report":
            self.expect_no_report = True
        elif key == "reason":
            if value not in REASONS:
                raise ValueError("reason: %r is none of %s" % (value, REASONS))
            self.reason = value
        elif key == "children":
            self.children = int(value)
        elif key == "child-expect":
            self.child.expects.append(self._expect_line(value, EXPECT_KEYS, "child-expect"))
        elif key == "child-expect-none":
            self.child.expect_none = True
        elif key == "child-incomplete":
            if value != "allowed":
                raise ValueError("child-incomplete: only `allowed`")
            self.child_incomplete = True
        elif key == "observe":
            words = value.split()
            if len(words) != 2 or words[1] not in REASONS or words[0] in self.observed:
                raise ValueError("observe: LABEL REASON, got %r" % value)
            self.observed[words[0]] = (words[1], ExpectSet())
        elif key == "expect-observed":
            label, _, rest = value.partition(" ")
            if label not in self.observed:
                raise ValueError("expect-observed: no `observe: %s` line before" % label)
            exp = self.observed[label][1]
            if rest.strip() == "none":
                exp.expect_none = True
            else:
                exp.expects.append(self._expect_line(rest, EXPECT_KEYS, "expect-observed"))
        elif key == "step":
            name, _, arg = value.partition(" ")
            arg = arg.strip()
            if name not in STEP_ARGS or bool(arg) != (STEP_ARGS[name] is not None):
                raise ValueError("step: bad step %r" % value)
            if STEP_ARGS[name] == "count":
                arg = int(arg)
            elif STEP_ARGS[name] == "signal":
                arg = parse_signal(arg)
            self.steps.append((name, arg))
        elif key == "live":
            attrs = self._attrs(shlex.split(value), LIVE_KEYS, "live")
            if "coro" not in attrs:
                raise ValueError("live: coro= is required")
            self.live.append(attrs)
        elif key in ("deadlock", "exit-deadlock"):
            coros = sorted(c for c in value.split(",") if c)
            if not coros:
                raise ValueError("%s: the coroutines of a cycle, CORO,CORO..." % key)
            (self.deadlocks if key == "deadlock" else self.exit_deadlocks).append(coros)
        elif key == "live-count":
            self.live_count = int(value)
        elif key == "snapshot-incomplete":
            if value != "expected":
                raise ValueError("snapshot-incomplete: only `expected`")
            self.snapshot_incomplete = True
        elif key == "expect-count":
            for w in value.split():
                k, _, v = w.partition("=")
                if k not in KINDS:
                    raise ValueError("expect-count: unknown kind %r" % k)
                self.counts[k] = int(v)
        elif key == "expect-distinct":
            self.distinct.extend(value.split())
        elif key == "min-python":
            self.min_python = tuple(int(x) for x in value.split("."))
        elif key == "max-python":
            self.max_python = tuple(int(x) for x in value.split("."))
        elif key == "requires-module":
            self.modules.extend(value.split())
        elif key == "options":
            for item in value.split(":"):
                k, sep, v = item.partition("=")
                if not sep:
                    raise ValueError("options: bad item %r" % item)
                self.options.append((k.strip(), v.strip()))
        elif key == "env":
            for w in shlex.split(value):
                k, sep, v = w.partition("=")
                if not sep:
                    raise ValueError("env: bad item %r" % w)
                self.env[k] = v
        elif key == "args":
            self.args.extend(shlex.split(value))
        elif key == "exit":
            self.exit = int(value)
        elif key == "lib-exit":
            self.lib_exit = int(value)
        elif key == "timeout":
            self.timeout = float(value)
        elif key == "suppress":
            self.suppressions.append(value)

    def option(self, key, default=None):
        for k, v in reversed(self.options):
            if k == key:
                return v
        return default

    def dump_signal(self):
        return parse_signal(self.option("dump_signal", "SIGUSR2"))


def parse_signal(name):
    if name.isdigit():
        return int(name)
    try:
        return int(getattr(signal, name if name.startswith("SIG") else "SIG" + name))
    except AttributeError:
        raise ValueError("unknown signal %r" % name)

