# Eager tasks (3.12+) whose story starts inside create_task, in the first
# step the task's __init__ runs.  `self_cancel` cancels itself in that step
# and swallows it at its next await: swallowed_cancel, created and cancelled
# at the marked lines.  `stays` suspends in its first step and is still
# pending at exit (the loop is never closed; asyncio says so at teardown, the
# same with and without the library): pending_at_exit, created at its line.
# The 200 `instant` ones end in their first step: no leak.
# min-python: 3.12
# expect: swallowed_cancel coro=self_cancel state=finished result_type=str cancels=1 create=self cancel=self
# expect: pending_at_exit coro=stays state=pending cancels=0 create=stays await_chain=stays never=yes
import asyncio
import sys


async def instant(i: int) -> int:
    return i


async def self_cancel() -> str:
    asyncio.current_task().cancel()  # <- cancel:self
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        pass
    return "carried on"


async def stays() -> None:
    await asyncio.Event().wait()  # <- await:stays


async def main() -> None:
    done = [asyncio.create_task(instant(i)) for i in range(200)]
    print("instant, done at creation:", all(t.done() for t in done), sum(t.result() for t in done))
    t = asyncio.create_task(self_cancel())  # <- create:self
    print("self_cancel after create_task:", t.done(), "result:", await t)
    global kept
    kept = asyncio.create_task(stays())  # <- create:stays
    await asyncio.sleep(0)
    print("stays pending:", not kept.done())


def handler(loop, context) -> None:
    task = context.get("task")
    print(context["message"], task.get_coro().__qualname__ if task else "-", file=sys.stderr)


loop = asyncio.new_event_loop()
loop.set_exception_handler(handler)
loop.set_task_factory(asyncio.eager_task_factory)
loop.run_until_complete(main())
