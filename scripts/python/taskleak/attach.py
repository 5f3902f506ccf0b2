# SPDX-License-Identifier: MIT
"""Loading libtaskleak.so into a running CPython process started without it.

3.14+: `sys.remote_exec` (PEP 768), run by the target's own interpreter; the
script reaches the target at its next safe point, which an event loop idle
in epoll_wait does not have, so after a moment the debugger does it instead.
3.8-3.13 (and that fallback): gdb, which stops the process for a moment and
calls dlopen() in a thread that is safe to call into (blocked in a system
call, or running Python code; never inside the allocator or the loader).

The library then starts from a thread of its own as soon as it can take the
GIL, adopts the tasks that were already there, and says how it went in
taskleak.status beside its copy.  Everything lives in one directory of the
target's /tmp: the library's copy, its options, its status and its reports.
"""

import os
import shutil
import signal
import subprocess
import time

from .errors import CliError

MIN_MINOR, MAX_MINOR = 8, 15  # checked against shim/cpython/versions.h by a test
REMOTE_EXEC_GRACE = 1.0       # seconds for sys.remote_exec before gdb takes over
IDLE_GRACE = 0.2              # the same, when the main thread sleeps in a system call
# System calls a thread can be stopped in and safely made to call dlopen().
BLOCKING_SYSCALLS = {0, 7, 23, 35, 45, 47, 61, 202, 230, 232, 270, 271, 281, 288}
GDB_TIMEOUT = 30.0


class Target:
    """What the CLI learned about a process before touching it."""

    def __init__(self, pid):
        self.pid = pid
        self.proc = "/proc/%d" % pid
        if not os.path.isdir(self.proc):
            raise CliError("no running process with pid %d" % pid)
        try:
            self.exe = os.readlink(self.proc + "/exe")
            self.root = os.readlink(self.proc + "/root")
            self.uid = os.stat(self.proc).st_uid
            with open(self.proc + "/maps") as maps:
                self.maps = maps.read()
        except PermissionError:
            raise CliError("process %d belongs to another user; taskleak cannot attach to it "
                           "(run it as that user or as root)" % pid)
        except OSError as error:
            raise CliError("cannot inspect process %d: %s" % (pid, error.strerror or error))
        if self.root != "/" and self.exe.startswith(self.root.rstrip("/") + "/"):
            self.exe = self.exe[len(self.root.rstrip("/")):]  # as the target names it
        self.version = None
        self.debug = False

    def in_root(self, path):
        """PATH inside the target's root, as seen from here."""
        return path if self.root == "/" else os.path.join(self.root, path.lstrip("/"))

    def command(self, *argv):
        """A command that runs ARGV inside the target's root."""
        if self.root == "/":
            return list(argv)
        return ["chroot", self.root] + list(argv)

    def has_library(self):
        return "libtaskleak" in self.maps

    def probe_python(self):
        """The target's CPython version, from its own executable; CliError if
        it is no CPython or one out of range."""
        looks_python = "python" in os.path.basename(self.exe) or "libpython3" in self.maps
        if not looks_python:
            raise CliError("process %d (%s) is not a CPython process" % (self.pid, self.exe))
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        try:
            out = subprocess.run(
                self.command(self.exe, "-I", "-S", "-c",
                             "import sys; print(*sys.version_info[:2], "
                             "int(hasattr(sys, 'gettotalrefcount')), sys.implementation.name, "
                             "int(not getattr(sys, '_is_gil_enabled', lambda: 1)()))"),
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, timeout=30,
                universal_newlines=True, cwd="/")
            major, minor, debug, impl, free_threaded = out.stdout.split()
        except (OSError, ValueError, subprocess.SubprocessError):
            raise CliError("process %d (%s) is not a CPython process taskleak can run"
                           % (self.pid, self.exe))
        if impl != "cpython":
            raise CliError("process %d runs %s, not CPython" % (self.pid, impl))
        self.version = (int(major), int(minor))
        self.debug = debug == "1"
        if self.version[0] != 3 or not MIN_MINOR <= self.version[1] <= MAX_MINOR:
            raise CliError("process %d runs Python %d.%d; taskleak supports 3.%d to 3.%d"
                           % ((self.pid,) + self.version + (MIN_MINOR, MAX_MINOR)))
        if free_threaded == "1":
            raise CliError("process %d runs a free-threaded Python, which taskleak does not "
                           "support" % self.pid)


def attach_dir(target):
    """The directory of the target's /tmp that holds everything of one attach,
    as the target sees it."""
    return "/tmp/taskleak-attach-%d/%d" % (os.getuid(), target.pid)


def prepare(target, library, options):
    """Copy the library and write its options; returns the target's path of
    the copy."""
    inside = attach_dir(target)
    here = target.in_root(inside)
    parent = os.path.dirname(here)
    try:
        os.makedirs(parent, mode=0o711, exist_ok=True)
        if os.lstat(parent).st_uid != os.getuid() or os.path.islink(parent):
            raise CliError("%s is not this user's own directory; remove it" % parent)
        os.makedirs(here, mode=0o700, exist_ok=True)
        if target.uid != os.getuid():  # root attaching: the target writes its reports here
            os.chown(here, target.uid, -1)
        # An earlier process with this pid left them: not this one's.
        for name in ("taskleak.status", "taskleak.%d.json" % target.pid):
            if os.path.exists(os.path.join(here, name)):
                os.unlink(os.path.join(here, name))
        copy = os.path.join(here, "libtaskleak.so")
        shutil.copyfile(library, copy + ".tmp")
        os.chmod(copy + ".tmp", 0o755)
        os.replace(copy + ".tmp", copy)
        with open(os.path.join(here, "taskleak.options"), "w") as stream:
            stream.write(":".join("%s=%s" % kv for kv in options.items()) + "\n")
    except OSError as error:
        raise CliError("cannot prepare %s for process %d: %s"
                       % (here, target.pid, error.strerror or error))
    return inside + "/libtaskleak.so"


def remote_exec(target, lib):
    """3.14+: ask the interpreter to load the library at its next safe point."""
    script = os.path.dirname(lib) + "/load.py"
    with open(target.in_root(script), "w") as stream:
        stream.write("import ctypes\n"
                     "with open('/proc/self/maps') as _m:\n"
                     "    _loaded = 'libtaskleak' in _m.read()\n"
                     "if not _loaded:\n"
                     "    ctypes.PyDLL(%r, mode=ctypes.RTLD_GLOBAL)\n" % lib)
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    try:
        done = subprocess.run(
            target.command(target.exe, "-I", "-c",
                           "import sys; sys.remote_exec(%d, %r)" % (target.pid, script)),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=30,
            universal_newlines=True, cwd="/")
    except (OSError, subprocess.SubprocessError) as error:
        return str(error)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else "sys.remote_exec failed"
    return None


GDB_SCRIPT = r'''
set pagination off
set confirm off
set unwindonsignal on
sharedlibrary libc\.so
python
import gdb
LIB = %(lib)r
SAFE = %(safe)r
def unsafe(frame):
    """Inside the allocator, the dynamic loader or a lock: calling dlopen()
    from there could deadlock."""
    depth = 0
    try:
        while frame is not None and depth < 6:
            name = frame.name() or ""
            solib = gdb.solib_name(frame.pc()) or ""
            if "ld-linux" in solib or any(w in name for w in ("malloc", "free", "realloc",
                                                              "calloc", "_int_", "tcache",
                                                              "arena", "_dl_", "lll_lock",
                                                              "mutex_lock")):
                return True
            frame = frame.older()
            depth += 1
    except gdb.error:
        pass  # no unwind information further out: what was seen is enough
    return False
chosen = None
for thread in sorted(gdb.selected_inferior().threads(), key=lambda t: t.ptid[1] != %(pid)d):
    thread.switch()
    if thread.ptid[1] in SAFE or not unsafe(gdb.newest_frame()):
        chosen = thread
        break
if chosen is None:
    print("TASKLEAK-INJECT: busy: every thread is inside the allocator or the loader")
else:
    chosen.switch()
    value = gdb.parse_and_eval('((void*(*)(const char*, int))dlopen)("%%s", 0x102)' %% LIB)
    if int(value) == 0:
        print("TASKLEAK-INJECT: dlopen failed: %%s" %% gdb.parse_and_eval("(char*)dlerror()").string())
    else:
        print("TASKLEAK-INJECT: ok")
end
detach
quit
'''


def blocked_threads(target):
    """Threads stopped in a blocking system call (safe for dlopen)."""
    safe = []
    try:
        for tid in os.listdir(target.proc + "/task"):
            with open("%s/task/%s/syscall" % (target.proc, tid)) as stream:
                first = stream.read().split()
            if first and first[0].isdigit() and int(first[0]) in BLOCKING_SYSCALLS:
                safe.append(int(tid))
    except OSError:
        pass
    return safe


def gdb_inject(target, lib, attempts=5):
    gdb = shutil.which("gdb")
    if not gdb:
        raise CliError("attaching to Python %d.%d needs gdb (Debian: apt-get install gdb)"
                       % target.version if target.version < (3, 14) else
                       "process %d has not reached a safe point for sys.remote_exec (an idle "
                       "event loop); gdb would load the library anyway (apt-get install gdb)"
                       % target.pid)
    last = "no answer"
    script_path = target.in_root(os.path.dirname(lib)) + "/inject.gdb"
    for _ in range(attempts):
        with open(script_path, "w") as stream:
            stream.write(GDB_SCRIPT % {"lib": lib, "safe": blocked_threads(target),
                                       "pid": target.pid})
        try:
            # In another root (a container, a chroot) gdb must read the
            # target's libraries, not ours: a wrong dlopen address kills it.
            # Only libc's symbols are read (dlopen, and the allocator's names
            # that make a thread unsafe): a large interpreter's take seconds.
            sysroot = ["-iex", "set sysroot " + target.root] if target.root != "/" else []
            done = subprocess.run([gdb, "-nx", "-batch", "-iex", "set auto-solib-add off"] +
                                  sysroot + ["-p", str(target.pid),
                                   "-x", script_path], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  universal_newlines=True, timeout=GDB_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise CliError("gdb did not finish within %d s on process %d" % (GDB_TIMEOUT, target.pid))
        answer = [line for line in done.stdout.splitlines() if line.startswith("TASKLEAK-INJECT:")]
        if answer and answer[-1].endswith(": ok"):
            return
        text = done.stderr + done.stdout
        if "ptrace: Operation not permitted" in text:
            raise CliError("process %d may not be traced (another user, or "
                           "/proc/sys/kernel/yama/ptrace_scope); run as root" % target.pid)
        last = answer[-1].split(": ", 1)[1] if answer else (text.strip().splitlines() or ["?"])[-1]
        if not answer or "busy" not in last:
            break
        time.sleep(0.05)
    raise CliError("cannot load the library into process %d: %s" % (target.pid, last))


def wait_for(condition, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


def loaded(target):
    try:
        with open(target.proc + "/maps") as maps:
            return "libtaskleak" in maps.read()
    except OSError:
        return False


def status(target):
    try:
        with open(target.in_root(attach_dir(target)) + "/taskleak.status") as stream:
            return stream.read().strip()
    except OSError:
        return ""


def attach(pid, library, options, timeout):
    """Load the library into PID (once) and wait until it audits.  Returns the
    Target; the report path (as the caller sees it) is in target.report_path."""
    target = Target(pid)
    target.report_pattern = target.in_root(attach_dir(target)) + "/taskleak.%p.json"
    target.already = target.has_library()
    if target.already:
        options_file = target.in_root(attach_dir(target)) + "/taskleak.options"
        if not os.path.exists(options_file):
            raise CliError("process %d already runs taskleak (preloaded): use taskleak dump" % pid)
        with open(options_file) as stream:  # attached before: the library is there once,
            target.options = stream.read().strip()  # with the options it was loaded with
        wait_active(target, pid, timeout)
        return target
    target.probe_python()
    report = attach_dir(target) + "/taskleak.%p.json"
    options = dict(options, report_path=report, verbosity=0)
    lib = prepare(target, library, options)
    started = time.monotonic()
    if target.version >= (3, 14):
        error = remote_exec(target, lib)
        if error and "PermissionError" in error or error and "not permitted" in error:
            raise CliError("process %d may not be traced: %s" % (pid, error))
        idle = target.pid in blocked_threads(target)  # an idle loop reaches no safe point
        if error or not wait_for(lambda: loaded(target), IDLE_GRACE if idle else REMOTE_EXEC_GRACE):
            gdb_inject(target, lib)
    else:
        gdb_inject(target, lib)
    wait_active(target, pid, max(0.1, timeout - (time.monotonic() - started)))
    return target


def wait_active(target, pid, timeout):
    """Until the library says it audits; CliError with the reason otherwise."""
    state = wait_for(lambda: status(target), timeout)
    if state != "active":
        if not state:
            raise CliError("the library is loaded into process %d but could not take the GIL "
                           "within %.1f s (a thread holds it in C code); it starts as soon as "
                           "the GIL is free" % (pid, timeout))
        if state.startswith("waiting"):
            raise CliError("process %d does not use asyncio (not imported yet); the library "
                           "is loaded and starts when it is" % pid)
        raise CliError("the library could not start in process %d: %s" % (pid, state))


def dump_signal_caught(target, signum=signal.SIGUSR2):
    with open(target.proc + "/status") as stream:
        for line in stream:
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False
