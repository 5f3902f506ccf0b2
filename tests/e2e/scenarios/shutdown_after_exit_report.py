# The exit hangs after taskleak's exit report: an atexit callback the
# program registered before importing asyncio (so it runs after taskleak's)
# waits until the runner closes stdin.  The shutdown started with that exit
# report; half a second later the watchdog writes the shutdown report,
# without the GIL (the interpreter is exiting: `incomplete` says so), which
# stays the last report on disk.
# options: shutdown_timeout=0.5
# step: wait-line ready
# step: shutdown-report
# step: close-stdin
# reason: shutdown
# expect-none
# expect-shutdown: cause=exit incomplete=yes
import atexit
import sys
import threading

done = threading.Event()


def flush_logs() -> None:
    print("ready", flush=True)
    done.wait()


atexit.register(flush_logs)

import asyncio  # noqa: E402  (after the callback: it runs after taskleak's)

import _e2e  # noqa: E402


async def main() -> None:
    await asyncio.sleep(0)


asyncio.run(main())
_e2e.on_stdin_closed(done.set)
