# Timely swallowed_cancel: with interval=0.05 the leak must be in the first
# report written after the task finished, while the program still holds the
# task object (it polls its own report, the task in a local variable, and
# saves the periodic report that has the leak as the observed report
# "timely").  That report is periodic and holds exactly this leak; the exit
# report holds it too.
# options: interval=0.05
# observe: timely periodic
# expect-observed: timely swallowed_cancel coro=leaky_worker state=finished result_repr="'swallowed'" cancels=1 create= cancel=
# expect: swallowed_cancel coro=leaky_worker state=finished result_repr="'swallowed'" cancels=1 create= cancel=
import asyncio

import _e2e


async def leaky_worker(started: asyncio.Event) -> str:
    started.set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        return "swallowed"


def has_leak(rep):
    return _e2e.leaks(rep, "swallowed_cancel", "leaky_worker")


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.ensure_future(leaky_worker(started))  # <- create
    await started.wait()
    t.cancel()  # <- cancel
    await asyncio.wait([t])
    if _e2e.preloaded():
        await _e2e.await_report(has_leak, "the swallowed_cancel of leaky_worker",
                                save_as="timely")
    print("result:", t.result(), "done:", t.done())  # still referenced here


asyncio.run(main())
