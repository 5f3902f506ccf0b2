# The program installs its own SIGUSR2 handler (after asyncio is imported, so
# after the library's): per the contract the program's handler wins, so it
# runs on every SIGUSR2 (the runner sends two and waits for each line) and
# the program carries on; the exit report is as usual.  (Whether a snapshot is
# also written is not checked.)  The handler hands its work to the loop.
# step: wait-line ready
# step: signal SIGUSR2
# step: wait-line got SIGUSR2 1
# step: signal SIGUSR2
# step: wait-line got SIGUSR2 2
# step: close-stdin
# expect-none
import asyncio
import signal
import sys

loop = None
received = 0


def say(*words) -> None:
    print(*words, flush=True)


def on_usr2(signum, frame) -> None:
    global received
    received += 1
    loop.call_soon_threadsafe(say, "got SIGUSR2", received)


async def wait_stdin() -> str:
    return await loop.run_in_executor(None, sys.stdin.read)


async def main() -> None:
    global loop
    loop = asyncio.get_running_loop()
    signal.signal(signal.SIGUSR2, on_usr2)
    # Only the main thread may take SIGUSR2: one that lands in the stdin
    # reader's thread does not interrupt the loop's epoll_wait, and with no
    # wakeup fd the handler would wait for an event that never comes.  The
    # reader's thread starts during the sleep(0) and inherits the mask.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
    reader = asyncio.ensure_future(wait_stdin())
    await asyncio.sleep(0)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR2})
    loop.call_soon(say, "ready")
    print("stdin:", repr(await reader), "signals:", received)


asyncio.run(main())
