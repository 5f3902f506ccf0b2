"""fork() from a thread while the main thread runs an event loop and the
collector writes constantly (the runner sets interval=0.001).

`fork_thread.py os.fork PIDFILE`: a helper thread calls os.fork() 12 times.
Each child runs its own small asyncio program with one swallowed cancel;
even children write their report with taskleak_report_now (with the
library) and leave with os._exit(0), odd ones let the thread end, which
ends the process like glibc does when its last thread exits.

`fork_thread.py subprocess PIDFILE`: 4 threads each start 3 Python children
with subprocess and a preexec_fn (which forces a real fork(), not vfork,
and runs Python code in the child before exec): the os.fork audit event
never fires, so the collector is not stopped first.

Child pids go to PIDFILE (one a line) so the runner can look for their
reports; stdout is deterministic."""
import asyncio
import ctypes
import os
import subprocess
import sys
import threading
import time
import warnings

warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads

mode, pidfile = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
stop = False
pids = []
statuses = []


async def child_worker():
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return "child swallowed"


def write_own_report():
    """With the library, write this process's report now: os._exit writes no
    exit report, and the runner checks that one is there, whole, and that no
    temporary file is left.  taskleak_report_now waits for a periodic write
    in flight, and after it the content no longer changes (this child makes
    no more tasks), so no periodic write can start before os._exit either.
    Without the library: nothing."""
    try:
        report_now = ctypes.PyDLL(None).taskleak_report_now
    except AttributeError:
        return
    if report_now() != 0:
        sys.stderr.write("taskleak_report_now failed in child %d\n" % os.getpid())
        os._exit(3)


async def child_main():
    t = asyncio.create_task(child_worker())
    await asyncio.sleep(0.001)
    t.cancel()
    return await t


def forker():
    for i in range(12):
        pid = os.fork()
        if pid == 0:
            asyncio.run(child_main())
            if i % 2 == 0:
                write_own_report()
                os._exit(0)
            return  # the thread ends: the process ends with status 0
        pids.append(pid)
        time.sleep(0.01)
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        statuses.append(status)


def spawner():
    for i in range(3):
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "leaky.py"), "1", "2"],
                             stdout=subprocess.PIPE, preexec_fn=lambda: None)
        with lock:
            pids.append(p.pid)
        out, _ = p.communicate()
        with lock:
            statuses.append((p.returncode, out.decode().strip()))


lock = threading.Lock()


async def parent_worker(i):
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return i


async def parent_main(threads):
    n = 0
    while any(t.is_alive() for t in threads):
        a = asyncio.create_task(asyncio.sleep(0.001))
        b = asyncio.create_task(parent_worker(n))
        await asyncio.sleep(0.002)
        b.cancel()
        await a
        await b
        n += 1
    return n


# The policy exists before any fork: a child forked while the main thread
# creates it (asyncio.run, under asyncio.events._lock) would wait for that
# lock for ever, with or without the library (seen under load).
asyncio.get_event_loop_policy()
if mode == "os.fork":
    threads = [threading.Thread(target=forker)]
else:
    threads = [threading.Thread(target=spawner) for _ in range(4)]
for t in threads:
    t.start()
asyncio.run(parent_main(threads))
for t in threads:
    t.join()
with open(pidfile, "w") as f:
    f.write("".join("%d\n" % p for p in pids))
print(mode, "children", len(pids), "statuses", sorted(statuses))
