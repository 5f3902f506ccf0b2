# Issue 11: with thousands of distinct creation sites the first periodic
# report must not stall the event loop: the collector resolves the new
# stacks in slices of the GIL (stats.hooks.collect counts them).  Regression:
# before, one hold did it all (no `collect` entry, one stall of 10-50 ms).
# The program waits (only with the library) for a periodic report whose
# swallowed_cancel leak has its creation line resolved and that took more
# than one slice.
# options: interval=0.2
# observe: sliced periodic
# expect-observed: sliced swallowed_cancel coro=swallower state=finished create=
# expect: swallowed_cancel coro=swallower state=finished create=
import asyncio

import _e2e

SITES = 3000


async def noop() -> None:
    pass


async def swallower() -> None:
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        pass


def sliced(rep) -> bool:
    collect = ((rep.get("stats") or {}).get("hooks") or {}).get("collect") or {}
    swallowed = _e2e.leaks(rep, "swallowed_cancel", "swallower")
    return (rep.get("reason") == "periodic" and collect.get("calls", 0) >= 2 and
            bool(swallowed) and swallowed[0]["created"]["python_stack"][0]["line"] is not None)


async def main() -> None:
    ns = {"asyncio": asyncio, "noop": noop}
    for i in range(SITES):  # distinct creation sites, 3 frames deep each
        exec("def a%d(): return b%d()\ndef b%d(): return c%d()\n"
             "def c%d(): return asyncio.ensure_future(noop())\n" % ((i,) * 5), ns)
    await asyncio.gather(*[ns["a%d" % i]() for i in range(SITES)])
    t = asyncio.create_task(swallower())  # <- create
    await asyncio.sleep(0)
    t.cancel()
    await t
    if _e2e.preloaded():
        await _e2e.await_report(sliced, "a sliced periodic collection", save_as="sliced")
    print("done")


asyncio.run(main())
