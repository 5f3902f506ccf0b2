# Pitfall: a TaskGroup child swallows the cancel the group sends it when a sibling
# fails. Only the child is a leak, never the parent that catches the ExceptionGroup:
#  - group A: the parent is suspended in the body when the sibling fails (the group
#    cancels the parent too, and uncancels it in __aexit__);
#  - group B: the parent is already waiting in __aexit__ (gh-116720 shape on
#    3.11/3.12: the group's cancel of the parent is never uncancelled).
# The child's cancel comes from TaskGroup._abort, which is not a cancel scope
# (scope null): a scope's cancel would excuse the swallow.
# min-python: 3.11
# expect: swallowed_cancel coro=swallower state=finished result_type=str result_repr="'swallowed'" scope=null cancels=1
# expect-count: swallowed_cancel=2
import asyncio


async def swallower(started: asyncio.Event) -> str:
    started.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        print("swallower: cleaning up, not re-raising")
        return "swallowed"


async def failer(started: asyncio.Event) -> None:
    await started.wait()
    raise RuntimeError("sibling failed")


async def parent_in_body() -> None:
    started = asyncio.Event()
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(swallower(started))  # <- create
            tg.create_task(failer(started))
            await asyncio.Event().wait()  # cancelled by the group
    except* RuntimeError as eg:
        print("A caught:", [str(e) for e in eg.exceptions])


async def parent_in_aexit() -> None:
    started = asyncio.Event()
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(swallower(started))  # <- create
            tg.create_task(failer(started))
    except* RuntimeError as eg:
        print("B caught:", [str(e) for e in eg.exceptions])


async def main() -> None:
    await asyncio.create_task(parent_in_body())
    await asyncio.create_task(parent_in_aexit())
    print("main done")


asyncio.run(main())
