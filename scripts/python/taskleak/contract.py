# SPDX-License-Identifier: MIT
"""The names taskleak shares with the C library, in one place.

Each constant here mirrors a table of the library (the file and symbol say
which); tests/cli/test_contract.py parses those files and fails, naming the
difference, when the two drift apart.  Nothing here is read at run time from
the C sources: an installed taskleak has none.  The version is read from the
VERSION file, the one place it is written (the library's TL_VERSION and the
package's version come from it too): beside this module once installed
(setup.py, make install put it there), at the top of a checkout otherwise.
"""

import os


def _version():
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (os.path.join(here, "VERSION"),
                 os.path.join(here, os.pardir, os.pardir, os.pardir, "VERSION")):
        try:
            with open(path, encoding="utf-8") as stream:
                return stream.read().strip()
        except OSError:
            pass
    return "unknown"


# VERSION (collector/report.c's TL_VERSION), and the "schema" the library writes.
VERSION = _version()
SCHEMA = 1

# shim/core/kinds.inc: the leak kinds, in the library's order (the contract's order).
KINDS = ("swallowed_cancel", "stuck_after_cancel",
         "destroyed_pending", "pending_at_exit")

# shim/core/waits.inc: what a pending task can wait for (waits_for.kind).
WAIT_KINDS = ("future", "task", "gather", "wait", "sleep", "lock", "semaphore", "event",
              "condition", "barrier", "queue_get", "queue_put", "stream_read",
              "stream_write", "socket", "executor", "subprocess", "timeout", "other")

# shim/core/kinds.c: tl_state_names.
STATES = ("pending", "finished", "failed", "cancelled")

# shim/core/options.inc: X(key, KIND, field, "default", min, max, "help"), in the
# table's order, as (key, kind, default, min, max).  min/max bound INT only.
OPTIONS = (
    ("report_path", "STR", "taskleak.%p.json", 0, 0),
    ("metrics_path", "STR", "", 0, 0),
    ("interval", "SECONDS", "1.0", 0, 0),
    ("grace", "SECONDS", "5.0", 0, 0),
    ("shutdown_timeout", "SECONDS", "10.0", 0, 0),
    ("stack_depth", "INT", "32", 1, 256),
    ("native", "INT", "1", 0, 1),
    ("native_depth", "INT", "32", 1, 256),
    ("dump_signal", "SIGNAL", "SIGUSR2", 0, 0),
    ("exitcode", "INT", "0", 0, 255),
    ("suppressions", "STR", "", 0, 0),
    ("builtin_suppressions", "INT", "1", 0, 1),
    ("max_leaks", "INT", "1000", 0, 100000000),
    ("catch_sites", "INT", "1", 0, 1),
    ("verbosity", "INT", "1", 0, 2),
)

# shim/core/options.inc's help column: one line per option, for
# `taskleak --help`.
OPTION_HELP = {
    "report_path": "where the report goes; %p is the pid",
    "metrics_path": "Prometheus text file written at every report; %p is the pid; unset = off",
    "interval": "seconds between periodic reports; 0 = only at exit and on signal",
    "grace": "seconds after the first effective cancel before a pending task is stuck",
    "shutdown_timeout": "seconds a shutdown may take before a report names what blocks it; 0 = off",
    "stack_depth": "Python frames kept per backtrace",
    "native": "capture native backtraces with libunwind",
    "native_depth": "native frames kept",
    "dump_signal": "signal that makes the collector write a snapshot; none = off",
    "exitcode": "exit status when the final report has leaks; 0 = keep the program's",
    "suppressions": "file of kind:pattern lines",
    "builtin_suppressions":
        "apply the built-in suppressions of intentional swallows in widely used libraries",
    "max_leaks": "leak entries kept in full",
    "catch_sites": "3.12+: record where CancelledError is caught (sys.monitoring tool id 4 or 3)",
    "verbosity": "0 silent; 1 one stderr line at exit when there are leaks; 2 diagnostics",
}

OPTION_DEFAULTS = dict((key, default) for key, _, default, _, _ in OPTIONS)
DEFAULT_REPORT_PATH = OPTION_DEFAULTS["report_path"]
DEFAULT_DUMP_SIGNAL_NAME = OPTION_DEFAULTS["dump_signal"]

# shim/core/threads.c: tl_exit_wait_names, why the exit waits for a thread.
THREAD_WHYS = ("non-daemon thread", "default executor worker running a job",
               "executor worker running a job")

# shim/core/shutdown.c: tl_shutdown_cause_names, what started a shutdown.
SHUTDOWN_CAUSES = ("signal", "asyncio.run", "executor", "threads", "exit")

# The reasons whose report is a snapshot: live_tasks (and threads).
SNAPSHOT_REASONS = ("signal", "snapshot", "shutdown")

# The kinds a code-scanning UI shows as errors; the others are warnings.
ERROR_KINDS = ("swallowed_cancel", "stuck_after_cancel")

FIXES = {
    "swallowed_cancel": "re-raise CancelledError (catch it narrowly and "
                        "`raise`), or use try/finally for cleanup",
    "stuck_after_cancel": "bound awaits in cleanup with asyncio.timeout() and "
                          "asyncio.shield(); do not loop on CancelledError",
    "destroyed_pending": "keep a reference to the task and await or cancel it "
                         "before dropping it",
    "pending_at_exit": "cancel and await every task before the loop closes "
                       "(asyncio.run does this; a loop you manage must too)",
}

DESCRIPTIONS = {
    "swallowed_cancel": (
        "A cancelled task swallowed CancelledError",
        "The task was cancelled (Task.cancel() returned True) and then "
        "finished without reaching the cancelled state: it returned a value "
        "or raised another exception while the cancel request was still "
        "outstanding. Whoever cancelled it believes it stopped, and what it "
        "held was abandoned mid-cycle."),
    "stuck_after_cancel": (
        "A cancelled task is still pending after the grace period",
        "The task was still pending `grace` seconds after its first effective "
        "cancel request: a zombie that hangs shutdown, usually cleanup code "
        "that awaits without a bound or loops on CancelledError."),
    "destroyed_pending": (
        "A pending task was destroyed",
        "The task object was destroyed while still pending (asyncio's 'Task "
        "was destroyed but it is pending!'): nothing kept a reference to it, "
        "so its work was silently dropped."),
    "pending_at_exit": (
        "A task was still pending at interpreter exit",
        "The task was still pending when the interpreter shut down: its event "
        "loop was closed or abandoned without cancelling and awaiting it."),
}

EXIT_LEAKS = 23           # LeakSanitizer's status for "ran fine but leaked"
EXIT_SOFTWARE = 70        # an internal error (sysexits.h EX_SOFTWARE)
