# Eager tasks (3.12+): the coroutine starts running synchronously inside
# create_task. An eager task that completes at once is not a leak; one that
# suspends, is cancelled and swallows it is.
# min-python: 3.12
# expect: swallowed_cancel coro=eager_swallower state=finished result_type=NoneType
import asyncio


async def instant() -> str:
    return "finished eagerly"


async def eager_swallower(log: list) -> None:
    log.append("started synchronously")
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        log.append("swallowed")


async def main() -> None:
    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    done = asyncio.create_task(instant())
    print("instant done at creation:", done.done(), done.result())
    log = []
    t = asyncio.create_task(eager_swallower(log))  # <- create
    print("log after create_task:", log)
    t.cancel()  # <- cancel
    await t
    print("log:", log, "cancelled:", t.cancelled())


asyncio.run(main())
