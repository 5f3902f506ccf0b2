# A SIGTERM handler installed with signal.signal (CPython's C handler,
# through sigaction, then the Python function): the program's handler runs
# with the same arguments as without the library, and the cleanup it starts
# hangs until the runner closes stdin: one shutdown report and line.
# options: shutdown_timeout=0.5
# step: wait-line ready
# step: signal SIGTERM
# step: shutdown-report
# step: close-stdin
# expect-none
# expect-shutdown: cause=signal signal=SIGTERM blocker="by Task-1 (main, suspended at shutdown_signal_module_handler.py:"
import asyncio
import signal
import types

import _e2e


async def main() -> None:
    loop = asyncio.get_running_loop()
    stop, flushed = asyncio.Event(), asyncio.Event()

    got = []

    def on_term(signum, frame):  # (no print here: it may run inside one)
        got.append((signum == signal.SIGTERM, isinstance(frame, types.FrameType)))
        loop.call_soon_threadsafe(stop.set)

    previous = signal.signal(signal.SIGTERM, on_term)
    print("previous:", previous == signal.SIG_DFL, signal.getsignal(signal.SIGTERM) is on_term)
    _e2e.on_stdin_closed(lambda: loop.call_soon_threadsafe(flushed.set))
    print("ready", flush=True)
    while not stop.is_set():  # ticks: the kernel may hand the signal to another thread,
        await asyncio.sleep(0.05)  # and a Python handler runs only in the main one
    print("handler:", got, flush=True)
    await flushed.wait()  # <- await:flush
    print("stopped")


asyncio.run(main())
