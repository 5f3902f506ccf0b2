# A retry loop that swallows every cancel (three of them), then the program
# leaves through os._exit: no exit report, so the last periodic report on disk
# (interval=0.05) must be whole JSON with reason "periodic", holding the zombie
# as stuck_after_cancel (grace=0.2), unresolved, with where it is stuck: the
# await in fetch() below the await in the loop.  The program polls its own
# report until the stuck entry is there, then calls os._exit(0) -- or, in the
# sigkill variant, sends itself SIGKILL.
# variant: sigkill env: RETRY_LOOP_END=sigkill; exit: -9
# options: grace=0.2:interval=0.05
# reason: periodic
# expect: stuck_after_cancel coro=retry_forever state=pending resolved=null cancels=3 await_chain=fetch,retry create= cancel=
import asyncio
import os
import signal
import sys

import _e2e

swallowed = 0


async def fetch() -> None:
    await asyncio.sleep(0.01)  # <- await:fetch


async def retry_forever(started: asyncio.Event) -> None:
    global swallowed
    started.set()
    while True:
        try:
            await fetch()  # <- await:retry
        except asyncio.CancelledError:
            swallowed += 1  # BUG: "transient error", retried forever
            continue


def is_stuck(rep):
    return _e2e.leaks(rep, "stuck_after_cancel", "retry_forever")


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.create_task(retry_forever(started))  # <- create
    await started.wait()
    for _ in range(3):
        before = swallowed
        t.cancel()  # <- cancel
        while swallowed == before:
            await asyncio.sleep(0)
    print("cancels swallowed:", swallowed, "pending:", not t.done())
    if _e2e.preloaded():
        await _e2e.await_report(is_stuck, "retry_forever stuck_after_cancel")
    if os.environ.get("RETRY_LOOP_END") == "sigkill":
        print("leaving by SIGKILL")
        os.kill(os.getpid(), signal.SIGKILL)
    print("leaving through os._exit")
    sys.stdout.flush()
    os._exit(0)


asyncio.run(main())
