# stats at exit count tasks by state: a task that failed (its exception caught by
# the awaiting task, never cancelled) is done even while its object is still
# alive in a reference cycle (exception -> traceback -> frame -> task) at exit.
# The runner asserts tasks_done == tasks_created and tasks_live == 0 whenever
# every task ended.
# expect-none
import asyncio


async def boom() -> None:
    raise ValueError("boom")


async def main() -> None:
    t = asyncio.create_task(boom())
    try:
        await t
    except ValueError as e:
        print("caught", repr(e), "done:", t.done())


asyncio.run(main())
