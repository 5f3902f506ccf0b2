# A loop that is never closed: run_until_complete() runs one job while two
# other tasks stay pending, and the program just ends.  Both are
# pending_at_exit, with where they wait: `poller` (kept in a global) in
# poll_once() below its loop, `orphan` (referenced only through the loop's
# timer) in its sleep.  When the interpreter then tears the loop down, asyncio
# says "Task was destroyed but it is pending!" for them (with and without the
# library; the loop's exception handler prints it without the addresses that
# 3.8/3.9 put in a task's repr): the report must not count them again as
# destroyed_pending (the counts below are exact).
# expect: pending_at_exit coro=poller state=pending cancels=0 create=poller await_chain=poll_once,poller
# expect: pending_at_exit coro=orphan state=pending cancels=0 create=orphan await_chain=orphan
import asyncio
import sys


async def poll_once() -> None:
    await asyncio.sleep(3600)  # <- await:poll_once


async def poller() -> None:
    while True:
        await poll_once()  # <- await:poller


async def orphan() -> None:
    await asyncio.sleep(3600)  # <- await:orphan


async def short_job() -> str:
    await asyncio.sleep(0.01)
    return "job done"


def handler(loop, context) -> None:
    task = context.get("task")
    print(context["message"], task.get_coro().__qualname__ if task else "-", file=sys.stderr)


loop = asyncio.new_event_loop()
loop.set_exception_handler(handler)
kept = loop.create_task(poller())  # <- create:poller
loop.create_task(orphan())  # <- create:orphan
print(loop.run_until_complete(short_job()))
print("exiting; poller pending:", not kept.done(), "loop closed:", loop.is_closed())
