# SPDX-License-Identifier: MIT
"""Which test, or which module- or session-scoped fixture, a task belongs to
(the pytest plugin's attribution; no pytest, no library: unit-tested).

- 3.12+: the library copies a task's context variables named `taskleak.*`
  into each leak and live task ("context").  The plugin sets
  `taskleak.test` to the node id of the running test (setup, call and
  teardown) and, while a fixture wider than a function is set up,
  `taskleak.fixture` to that fixture's owner id: a task created then, and
  every task created in its context later, is the fixture's, unless the
  test's own function is on the task's creation stack (anyio 4 runs every
  test inside one long-lived task, made in the context of whatever set up
  its runner: a module-scoped async fixture, say).
- 3.8-3.11: no context in the reports; a task belongs to the innermost
  window (a test's whole run, or a wide fixture's setup inside it) whose
  time holds its creation time (created.t).  For the tasks that outlive a
  test, only those the test's own thread created count
  (`same_thread=True`): a server thread's task made while a test ran is
  not that test's.
"""

TEST_VARIABLE = "taskleak.test"
FIXTURE_VARIABLE = "taskleak.fixture"


def fixture_owner(scope, node_id, argname, param_index=None):
    """The owner id of one instance of a fixture wider than a function:
    `tests/test_db.py::server (module-scoped fixture)`, `pool (session-scoped
    fixture)`; a parametrized fixture's instance adds its index."""
    name = argname if param_index is None else "%s[%d]" % (argname, param_index)
    return "%s%s (%s-scoped fixture)" % (node_id + "::" if node_id else "", name, scope)


def is_fixture_owner(owner):
    return isinstance(owner, str) and owner.endswith("-scoped fixture)")


def entry_task(entry):
    return entry.get("task") if isinstance(entry.get("task"), dict) else {}


def leak_key(leak):
    return (entry_task(leak).get("id"), leak.get("kind"))


def context_owner(entry):
    """The fixture or test named in the entry's context, or None."""
    context = entry.get("context")
    if not isinstance(context, dict):
        return None
    for variable in (FIXTURE_VARIABLE, TEST_VARIABLE):
        if isinstance(context.get(variable), str):
            return context[variable]
    return None


def created_t(entry):
    created = entry.get("created") if isinstance(entry.get("created"), dict) else {}
    t = created.get("t")
    return t if isinstance(t, (int, float)) and not isinstance(t, bool) else None


class Attribution:
    """Owners of leaks and live tasks, and which leaks are new.

    Windows are kept in the library's time (seconds since the library
    started, the reports' `t`); a window opened before that time is known
    holds ("mono", time.monotonic()) until fill() converts it."""

    def __init__(self, use_windows, thread_id=None):
        self.use_windows = use_windows
        self.thread_id = thread_id  # native id of the thread that runs the tests
        self.windows = []           # [owner, start, end or None], in opening order
        self.seen = set()
        self.window_owner = {}      # task id -> owner by window (cached)
        self.functions = {}         # test node id -> (file, qualname, name) of its function

    def test_function(self, nodeid, code):
        """Remember the code object of the test NODEID's function."""
        if code is not None:
            self.functions[nodeid] = (code.co_filename, getattr(code, "co_qualname", None),
                                      code.co_name)

    def start(self, owner, t):
        self.windows.append([owner, t, None])

    def end(self, owner, t):
        for window in reversed(self.windows):
            if window[0] == owner and window[2] is None:
                window[2] = t
                return

    # The names the plugin used before fixtures had windows.
    start_test, end_test = start, end

    def fill(self, offset):
        """Convert ("mono", seconds) stamps with OFFSET = monotonic - library t."""
        for window in self.windows:
            for i in (1, 2):
                if isinstance(window[i], tuple):
                    window[i] = window[i][1] - offset

    def owner(self, entry, same_thread=False):
        owner = context_owner(entry)
        if owner is None or is_fixture_owner(owner):
            test = self.created_by_test(entry)
            if test is not None:
                return test
        if owner is not None or not self.use_windows:
            return owner
        if same_thread and self.thread_id is not None \
                and entry_task(entry).get("thread_id") != self.thread_id:
            return None
        return self.windows_of(entry)[0]

    def created_by_test(self, entry):
        """The test whose window holds the task's creation and whose own
        function is on its creation stack, or None."""
        test = self.windows_of(entry)[1]
        if test not in self.functions:
            return None
        created = entry.get("created") if isinstance(entry.get("created"), dict) else {}
        frames = created.get("python_stack")
        path, qualname, name = self.functions[test]
        for frame in frames if isinstance(frames, list) else []:
            if isinstance(frame, dict) and frame.get("file") == path \
                    and frame.get("function") in (qualname, name):
                return test
        return None

    def windows_of(self, entry):
        """(innermost owner, test) of the windows that hold the task's
        creation time (None for either when no window does); cached per
        task once every window's time is known (a later window cannot hold
        an earlier time)."""
        task_id = entry_task(entry).get("id")
        if task_id in self.window_owner:
            return self.window_owner[task_id]
        found, known = self.by_window(created_t(entry))
        if known and task_id is not None:
            self.window_owner[task_id] = found
        return found

    def by_window(self, t):
        """((innermost owner, test), whether every window's time was known).
        Tests do not overlap and a fixture's window lies inside a test's:
        past the first earlier test window, nothing holds T."""
        innermost = test = None
        if t is None:
            return (None, None), True
        for owner, start, end in reversed(self.windows):
            if isinstance(start, tuple) or isinstance(end, tuple):
                return (innermost, test), False   # not converted yet (no report so far)
            if start > t:
                continue
            fixture = is_fixture_owner(owner)
            if end is None or t <= end:
                innermost = innermost or owner
                if not fixture:
                    return (innermost, owner), True
            elif not fixture:
                break
        return (innermost, test), True

    def new_leaks(self, leaks):
        """[(owner or None, leak)] of the leaks not seen before."""
        found = []
        for leak in leaks:
            key = leak_key(leak)
            if key in self.seen:
                continue
            self.seen.add(key)
            found.append((self.owner(leak), leak))
        return found
