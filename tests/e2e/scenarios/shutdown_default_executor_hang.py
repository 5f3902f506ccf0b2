# asyncio.run waits, in shutdown_default_executor (3.9+), for a job of the
# default executor that blocks until the runner closes stdin.  The library
# sees the executor's shutdown (the _do_shutdown thread of the main
# thread's loop), and half a second later writes the shutdown report: the
# worker is a default executor worker running blocking_job, which the exit
# waits for.  3.8 waits elsewhere: shutdown_executor_atexit_38.
# min-python: 3.9
# options: shutdown_timeout=0.5
# step: wait-line ready
# step: shutdown-report
# step: close-stdin
# expect-none
# expect-shutdown: cause=executor blocker="thread asyncio_0 (blocking_job at shutdown_default_executor_hang.py:"
# expect-thread: job=blocking_job name=asyncio_0 exit_waits=yes why=default-executor daemon=no stack=job
# expect-thread: main=yes exit_waits=no
import asyncio
import threading

import _e2e

released = threading.Event()


def blocking_job() -> str:
    released.wait()  # <- thread:job
    return "done"


async def main() -> None:
    _e2e.on_stdin_closed(released.set)
    asyncio.get_running_loop().run_in_executor(None, blocking_job)
    await asyncio.sleep(0)
    print("ready", flush=True)


asyncio.run(main())
print("exited")
