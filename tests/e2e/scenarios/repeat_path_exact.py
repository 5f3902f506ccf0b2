# A thread compares a task's creation path with its last one frame by frame
# (loading each frame where it was the last time): two call lines of one
# function, at the same depth and so at the same frame addresses, alternate,
# and every task must still get the stack of its own line.  The same from
# coroutines run as tasks of their own, whose frames live in their objects
# (a frame at another address each time: the walk's other path).
# Regression: a compare that trusted a frame's address, or skipped a frame,
# would give a task the other line's stack.
# expect: swallowed_cancel coro=swallow_a state=finished result_repr="'a'" create=A
# expect: swallowed_cancel coro=swallow_b state=finished result_repr="'b'" create=B
# expect: swallowed_cancel coro=swallow_c state=finished result_repr="'c'" create=C
# expect: swallowed_cancel coro=swallow_d state=finished result_repr="'d'" create=D
# expect-count: swallowed_cancel=16
import asyncio


async def swallow_a() -> str:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        return "a"


async def swallow_b() -> str:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        return "b"


async def swallow_c() -> str:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        return "c"


async def swallow_d() -> str:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        return "d"


def spawn(coro) -> asyncio.Future:
    return asyncio.ensure_future(coro)


def via(which: str) -> asyncio.Future:
    if which == "a":
        return spawn(swallow_a())  # <- create:A
    return spawn(swallow_b())  # <- create:B


async def via_task(which: str) -> asyncio.Future:
    if which == "c":
        return spawn(swallow_c())  # <- create:C
    return spawn(swallow_d())  # <- create:D


async def main() -> None:
    tasks = []
    for which in "aabbabab":
        tasks.append(via(which))
    callers = [asyncio.ensure_future(via_task(which)) for which in "ccddcdcd"]
    tasks += await asyncio.gather(*callers)
    await asyncio.sleep(0)
    for t in tasks:
        t.cancel()
    print(await asyncio.gather(*tasks))


asyncio.run(main())
