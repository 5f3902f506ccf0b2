# 3.8 has no shutdown_default_executor: asyncio.run returns, and it is the
# exit (concurrent.futures' atexit handler, _python_exit) that joins every
# pool's workers (daemon threads on 3.8), such as this one, still running
# its job until the runner closes stdin.  The library sees the main thread
# in _python_exit and writes the shutdown report half a second later
# (cause "threads"), naming the worker and its job.  (A pool of its own: a
# job of the default executor finishing after asyncio.run closed the loop
# prints a traceback with addresses, different from run to run.)
# max-python: 3.8
# options: shutdown_timeout=0.5
# step: wait-line ready
# step: shutdown-report
# step: close-stdin
# expect-none
# expect-shutdown: cause=threads blocker="(blocking_job at shutdown_executor_atexit_38.py:"
# expect-thread: job=blocking_job exit_waits=yes why=executor daemon=yes stack=job
import asyncio
import concurrent.futures
import threading

import _e2e

released = threading.Event()


def blocking_job() -> str:
    released.wait()  # <- thread:job
    return "done"


async def main() -> None:
    _e2e.on_stdin_closed(released.set)
    concurrent.futures.ThreadPoolExecutor(1).submit(blocking_job)
    await asyncio.sleep(0)
    print("ready", flush=True)


asyncio.run(main())
print("exited")
