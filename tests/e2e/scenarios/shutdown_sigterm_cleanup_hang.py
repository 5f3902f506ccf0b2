# A service stopped by SIGTERM (loop.add_signal_handler) whose cleanup
# hangs: the worker's finally waits for a flush that only the runner
# releases, by closing stdin.  With shutdown_timeout=0.5, no sooner than
# half a second after the signal, the library writes one report, reason
# "shutdown", a snapshot with every live task and the threads, and one
# stderr line naming the blocker (main, which awaits the worker); then the
# program ends as it does without the library.
# options: shutdown_timeout=0.5
# step: wait-line ready
# step: signal SIGTERM
# step: shutdown-report
# step: close-stdin
# expect-none
# expect-shutdown: cause=signal signal=SIGTERM blocker="by Task-1 (main, suspended at shutdown_sigterm_cleanup_hang.py:"
# live-count: 2
# live: coro=main cancels=0 await=stop awaited_by=none id=1
# live: coro=worker cancels=1 await=flush awaited_by=main
# expect-thread: main=yes exit_waits=no daemon=no
# expect-thread: name=stdin-watch daemon=yes exit_waits=no why=none
import asyncio
import signal

import _e2e


async def worker(flushed: asyncio.Event) -> None:
    try:
        await asyncio.sleep(3600)
    finally:
        await flushed.wait()  # <- await:flush


async def main() -> None:
    loop = asyncio.get_running_loop()
    stop, flushed = asyncio.Event(), asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    _e2e.on_stdin_closed(lambda: loop.call_soon_threadsafe(flushed.set))
    task = asyncio.create_task(worker(flushed))
    await asyncio.sleep(0)
    print("ready", flush=True)
    await stop.wait()
    print("stopping", flush=True)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)  # <- await:stop
    print("stopped")


asyncio.run(main())
