# TaskGroups used correctly: children complete; a failing child makes the group
# cancel its siblings, which end CANCELLED; the parent catches the ExceptionGroup.
# The parent is never a leak, including the gh-116720 shape (parent already in
# __aexit__ when the child fails: on 3.11/3.12 its cancelling() stays 1).
# min-python: 3.11
# expect-none
import asyncio


async def work(n: int) -> int:
    await asyncio.sleep(0)
    return n * 2


async def polite(started: asyncio.Event) -> None:
    started.set()
    try:
        await asyncio.Event().wait()
    finally:
        print("polite: cleanup, cancel propagates")


async def failer(started: asyncio.Event) -> None:
    await started.wait()
    raise RuntimeError("child failed")


async def normal() -> None:
    async with asyncio.TaskGroup() as tg:
        ts = [tg.create_task(work(i)) for i in range(3)]
    print("normal:", [t.result() for t in ts])


async def failing_parent_in_body() -> None:
    started = asyncio.Event()
    try:
        async with asyncio.TaskGroup() as tg:
            p = tg.create_task(polite(started))
            tg.create_task(failer(started))
            await asyncio.Event().wait()
    except ExceptionGroup as eg:
        print("body: caught", [str(e) for e in eg.exceptions], "sibling cancelled:", p.cancelled())


async def failing_parent_in_aexit() -> None:
    started = asyncio.Event()
    try:
        async with asyncio.TaskGroup() as tg:
            p = tg.create_task(polite(started))
            tg.create_task(failer(started))
    except ExceptionGroup as eg:
        print("aexit: caught", [str(e) for e in eg.exceptions], "sibling cancelled:", p.cancelled())


async def nested_both_fail() -> None:
    s1, s2 = asyncio.Event(), asyncio.Event()
    try:
        async with asyncio.TaskGroup() as outer:
            outer.create_task(failer(s1))
            async with asyncio.TaskGroup() as inner:
                inner.create_task(failer(s2))
                s1.set()
                s2.set()
                await asyncio.Event().wait()
    except ExceptionGroup as eg:
        print("nested: caught", len(eg.exceptions), "exception(s)")


async def main() -> None:
    for f in (normal, failing_parent_in_body, failing_parent_in_aexit, nested_both_fail):
        await asyncio.create_task(f())
    await normal()
    await failing_parent_in_aexit()  # the runner's main task as the parent


asyncio.run(main())
