# SPDX-License-Identifier: MIT
"""A test that hangs explains itself: when it times out, the live tasks of
that test (where each is suspended, what it waits for, who holds what it
waits for, deadlocks, waits that can never end) come first, then the test
fails the way pytest-timeout fails it.

- pytest-timeout installed: its timer is wrapped, never replaced, once its
  own `pytest_timeout_set_timer` has set it.  Signal method: the SIGALRM
  handler it installed is called after the explanation (it dumps the other
  threads and raises its Failed); the explanation goes into the failed
  report as the section "taskleak: live tasks at the timeout", before the
  captured output.  Thread method: the main thread hangs, so the
  explanation is taken from the timer thread (taskleak_snapshot_now holds
  the GIL there; the main thread waits in select() without it), printed on
  the terminal, and then pytest-timeout's own function dumps the stacks
  and ends the process (os._exit(1)).
- Without it, `--taskleak-timeout=S` does the same with a timer of the
  plugin's own over each test's setup, call and teardown: SIGALRM in the
  main thread, then `pytest.fail("Timeout (>Ss) from taskleak.")`; in
  another thread (no SIGALRM there) a timer thread that explains, dumps
  every thread's stack (faulthandler) and ends the process with status 1.
  When pytest-timeout sets a timer for a test, its timer governs that
  test and the plugin's own is cancelled.
"""

import faulthandler
import os
import signal
import sys
import threading

import pytest

SECTION = "taskleak: live tasks at the timeout"


def main_thread():
    return threading.current_thread() is threading.main_thread()


class Timeouts:
    """Registered as a plugin of its own (the pytest-timeout hook is
    optional: it exists only when pytest-timeout is installed)."""

    def __init__(self, session, seconds):
        self.session = session
        self.seconds = seconds       # --taskleak-timeout, or None
        self.own = {}                # node id -> cancel() of the plugin's own timer
        self.texts = {}              # node id -> explanation, for the failed report

    # -- pytest-timeout's timers ------------------------------------------------

    @pytest.hookimpl(hookwrapper=True, optionalhook=True)
    def pytest_timeout_set_timer(self, item, settings):
        self.cancel_own(item)
        before = signal.getsignal(signal.SIGALRM) if main_thread() else None
        yield
        seconds = getattr(settings, "timeout", None)
        handler = signal.getsignal(signal.SIGALRM) if main_thread() else None
        if handler is not before and callable(handler):
            def explained(signum, frame):
                __tracebackhide__ = True
                self.explain(item, seconds, "pytest-timeout, signal method")
                return handler(signum, frame)
            signal.signal(signal.SIGALRM, explained)
            return
        for thread in threading.enumerate():
            args = getattr(thread, "args", None)
            if isinstance(thread, threading.Timer) and args and args[0] is item:
                function = thread.function

                def explained_then_exit(*args, **kwargs):
                    self.explain_on_terminal(item, seconds, "pytest-timeout, thread method")
                    return function(*args, **kwargs)
                thread.function = explained_then_exit

    # -- the plugin's own timer (--taskleak-timeout) --------------------------

    def start_own(self, item):
        if not self.seconds:
            return
        seconds = self.seconds
        if main_thread() and hasattr(signal, "SIGALRM"):
            def on_alarm(signum, frame):
                __tracebackhide__ = True
                self.explain(item, seconds, "--taskleak-timeout")
                pytest.fail("Timeout (>%ss) from taskleak." % seconds, pytrace=True)
            previous = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, seconds)

            def cancel():
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        else:
            timer = threading.Timer(seconds, self.own_thread_timeout, (item, seconds))
            timer.name = "taskleak timeout %s" % item.nodeid
            timer.daemon = True
            timer.start()

            def cancel():
                timer.cancel()
                timer.join()
        self.own[item.nodeid] = cancel

    def cancel_own(self, item):
        cancel = self.own.pop(item.nodeid, None)
        if cancel is not None:
            cancel()

    def own_thread_timeout(self, item, seconds):
        """The main thread hangs: explain, dump every stack, end (as
        pytest-timeout's thread method does)."""
        try:
            self.explain_on_terminal(item, seconds, "--taskleak-timeout, thread method")
            sys.stderr.write("\nTimeout (>%ss) from taskleak: the stacks of every thread\n"
                             % seconds)
            sys.stderr.flush()
            faulthandler.dump_traceback(all_threads=True)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(1)

    # -- the explanation ------------------------------------------------------

    def explain(self, item, seconds, how):
        """The explanation (kept for the failed report); never raises: the
        test must still time out."""
        try:
            text = self.session.hang_text(item, seconds, how)
        except Exception as error:     # the timeout must happen all the same
            text = "taskleak: no explanation of the timeout: %r" % (error,)
        self.texts[item.nodeid] = text
        return text

    def explain_on_terminal(self, item, seconds, how):
        text = self.explain(item, seconds, how)
        try:
            capture = item.config.pluginmanager.getplugin("capturemanager")
            if capture is not None:
                capture.suspend_global_capture()
            writer = item.config.get_terminal_writer()
            writer.line("")
            writer.sep("+", SECTION)
            writer.line(text)
            writer.flush()
        except Exception:
            sys.stderr.write("\n%s\n" % text)
            sys.stderr.flush()

    def attach(self, item, report):
        """The explanation, first among the sections of the test's failed report."""
        text = self.texts.get(item.nodeid)
        if text is not None and report.failed:
            del self.texts[item.nodeid]
            report.sections.insert(0, (SECTION, text))
