"""Many fork()s from a thread while the main thread's loop keeps the
collector busy (the runner sets interval=0.001): each fork may land while
the collector's helper creates its thread state.  On CPython 3.8-3.11 a
child forked then used to deadlock in PyOS_AfterFork_Child.

`fork_storm.py N`: a helper thread forks N children, which leave at once
with os._exit(0) (the hang, when there is one, is before any Python code
runs in the child).  Each child gets DEADLINE seconds to end; a child that
does not is killed and counted.  Prints the counts; the exit status is 0.
"""
import asyncio
import os
import signal
import sys
import threading
import time
import warnings

warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads

N = int(sys.argv[1])
DEADLINE = 10.0
hung = []


def wait_or_kill(pid):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.001)
    hung.append(pid)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def forker():
    for _ in range(N):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        wait_or_kill(pid)


async def churn(thread):
    n = 0
    while thread.is_alive():
        t = asyncio.ensure_future(asyncio.sleep(0))
        await asyncio.sleep(0)
        t.cancel()
        n += 1
    return n


thread = threading.Thread(target=forker)
thread.start()
asyncio.run(churn(thread))
thread.join()
print("forks", N, "hung", len(hung))
