# Ctrl-C with Python's own SIGINT handler (CPython installs it through
# sigaction at start-up; asyncio.run's Runner, 3.11+, its own through
# signal.signal): the main coroutine is interrupted and its cleanup hangs
# until the runner closes stdin.  The SIGINT starts the shutdown: a report,
# reason "shutdown", half a second later, and one stderr line; the program
# then prints "interrupted" and exits 0, as without the library.
# options: shutdown_timeout=0.5
# step: wait-line ready
# step: signal SIGINT
# step: shutdown-report
# step: close-stdin
# expect-none
# expect-shutdown: cause=signal signal=SIGINT blocker="by Task-1 (main, suspended at shutdown_sigint_default_handler.py:"
# live: coro=main await=flush awaited_by=none id=1
import asyncio

import _e2e


async def main() -> None:
    loop = asyncio.get_running_loop()
    flushed = asyncio.Event()
    _e2e.on_stdin_closed(lambda: loop.call_soon_threadsafe(flushed.set))
    try:
        print("ready", flush=True)
        await asyncio.sleep(3600)
    finally:
        await flushed.wait()  # <- await:flush


try:
    asyncio.run(main())
except KeyboardInterrupt:
    print("interrupted")
