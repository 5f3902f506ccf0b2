# Ctrl-C with Python's own SIGINT handler (CPython installs it through
# sigaction at start-up; asyncio.run's Runner, 3.11+, its own through
# signal.signal): the Runner cancels the main coroutine, then what is left,
# and a background task's cleanup hangs until the runner closes stdin.
# (3.11+: before, KeyboardInterrupt lands in whichever coroutine or loop
# code runs, which differs from run to run, and so does the program's
# output.)  A SIGINT alone is no shutdown (a program may catch
# KeyboardInterrupt and go on: shutdown_signals_not_shutdowns); asyncio.run
# cancelling its tasks confirms it, dated from the signal: a report, reason
# "shutdown", half a second after it, naming the worker, and one stderr
# line; the program then prints "interrupted" and exits 0, as without the
# library.
# min-python: 3.11
# options: shutdown_timeout=0.5
# step: wait-line ready
# step: signal SIGINT
# step: shutdown-report
# step: close-stdin
# expect-none
# expect-shutdown: cause=signal signal=SIGINT blocker="by Task-2 (worker, suspended at shutdown_sigint_default_handler.py:"
# live: coro=worker cancels=1 await=flush awaited_by=none
import asyncio

import _e2e


async def worker(flushed: asyncio.Event) -> None:
    try:
        await asyncio.sleep(3600)
    finally:
        await flushed.wait()  # <- await:flush


async def main() -> None:
    loop = asyncio.get_running_loop()
    flushed = asyncio.Event()
    _e2e.on_stdin_closed(lambda: loop.call_soon_threadsafe(flushed.set))
    asyncio.ensure_future(worker(flushed))
    await asyncio.sleep(0)
    print("ready", flush=True)
    while True:  # ticks: the kernel may hand SIGINT to another thread, and Python's
        await asyncio.sleep(0.05)  # handler runs only when the main thread runs


try:
    asyncio.run(main())
except KeyboardInterrupt:
    print("interrupted")
