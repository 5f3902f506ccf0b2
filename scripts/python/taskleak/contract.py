"""The names taskleak shares with the C library, in one place.

Each constant here mirrors a table of the library (the file and symbol say
which); tests/cli/test_contract.py parses those files and fails, naming the
difference, when the two drift apart.  Nothing here is read at run time from
the C sources: an installed taskleak has none.
"""

# collector/report.c: TL_VERSION, and the "schema" it writes.
VERSION = "1.0.0"
SCHEMA = 1

# shim/core/kinds.inc: the leak kinds, in the library's order (the contract's order).
KINDS = ("swallowed_cancel", "stuck_after_cancel",
         "destroyed_pending", "pending_at_exit")

# shim/core/kinds.c: tl_state_names.
STATES = ("pending", "finished", "failed", "cancelled")

# shim/core/options.inc: X(key, KIND, field, "default", min, max, "help"), in the
# table's order, as (key, kind, default, min, max).  min/max bound INT only.
OPTIONS = (
    ("report_path", "STR", "taskleak.%p.json", 0, 0),
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

OPTION_DEFAULTS = dict((key, default) for key, _, default, _, _ in OPTIONS)
DEFAULT_REPORT_PATH = OPTION_DEFAULTS["report_path"]
DEFAULT_DUMP_SIGNAL_NAME = OPTION_DEFAULTS["dump_signal"]

# shim/core/threads.c: tl_exit_wait_names, why the exit waits for a thread.
THREAD_WHYS = ("non-daemon thread", "default executor worker running a job",
               "executor worker running a job")

# shim/core/shutdown.c: tl_shutdown_cause_names, what started a shutdown.
SHUTDOWN_CAUSES = ("signal", "asyncio.run", "executor", "threads", "exit")

# The reasons whose report is a snapshot: live_tasks (and threads).
SNAPSHOT_REASONS = ("signal", "shutdown")

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
