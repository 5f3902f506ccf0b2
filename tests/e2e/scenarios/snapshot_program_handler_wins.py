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
import socket
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
    # A wakeup fd, as asyncio's own add_signal_handler sets: without one, a
    # signal that lands just before the loop blocks in epoll_wait, or in the
    # stdin reader's thread, leaves the Python handler waiting for an event
    # that never comes (with or without the library).
    rsock, wsock = socket.socketpair()
    rsock.setblocking(False)
    wsock.setblocking(False)
    signal.set_wakeup_fd(wsock.fileno(), warn_on_full_buffer=False)
    loop.add_reader(rsock.fileno(), rsock.recv, 4096)
    reader = asyncio.ensure_future(wait_stdin())
    loop.call_soon(say, "ready")
    text = await reader
    signal.set_wakeup_fd(-1)
    loop.remove_reader(rsock.fileno())
    rsock.close()
    wsock.close()
    print("stdin:", repr(text), "signals:", received)


asyncio.run(main())
