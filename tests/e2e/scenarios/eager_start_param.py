# 3.14's create_task(..., eager_start=True): the task starts inside
# create_task, without an eager task factory.  One that completes at once is
# not a leak; one that suspends, is cancelled and swallows it is.
# min-python: 3.14
# expect: swallowed_cancel coro=eager_swallower state=finished result_type=str
import asyncio


async def instant() -> str:
    return "done at creation"


async def eager_swallower(log: list) -> str:
    log.append("started synchronously")
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        log.append("swallowed")
    return "carried on"


async def main() -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_task(instant(), eager_start=True)
    print("instant:", done.done(), done.result())
    log = []
    t = asyncio.create_task(eager_swallower(log), eager_start=True)  # <- create
    print("log after create_task:", log)
    t.cancel()  # <- cancel
    print("result:", await t, "log:", log)


asyncio.run(main())
