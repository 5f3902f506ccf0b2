# A parent that forked a helper child (which ends at once through os._exit)
# and then hangs in its event loop: SIGUSR2 must still bring a snapshot within
# one second with the parent's waiting tasks (the collector of the parent
# must be running again after the fork even when the program does nothing
# more).  The child makes no task: it leaves no report.  Then stdin closes and
# the program ends normally.
# step: wait-line ready
# step: snapshot 2
# step: close-stdin
# live-count: 3
# live: coro=main await_chain=main awaited_by=none
# live: coro=worker await_chain=worker awaited_by=main
# live: coro=watch_stdin await_chain=stdin awaited_by=none
# expect-none
import asyncio
import os
import sys


async def worker(gate: asyncio.Event) -> str:
    await gate.wait()  # <- await:worker
    return "done"


async def watch_stdin(gate: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    eof = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: eof.done() or eof.set_result(None))
    await eof  # <- await:stdin
    loop.remove_reader(sys.stdin.fileno())
    gate.set()


def ready() -> None:
    print("ready", flush=True)


async def main() -> None:
    gate = asyncio.Event()
    w = asyncio.ensure_future(worker(gate))
    watch = asyncio.ensure_future(watch_stdin(gate))
    await asyncio.sleep(0)
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print("helper child status:", status)
    asyncio.get_running_loop().call_soon(ready)
    print(await w)  # <- await:main
    await watch


asyncio.run(main())
