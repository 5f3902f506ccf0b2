# A pending task in a reference cycle, collected at once: the garbage
# collector closes the coroutine (running its `finally`) before the task is
# finalized, so the coroutine's frame now says where it ended, not where it
# waited.  The report must not show that line: `awaiting` is null (unknown).
# expect: destroyed_pending coro=outer state=pending await=none
import asyncio
import gc


async def inner() -> None:
    await asyncio.sleep(3600)


async def outer() -> None:
    try:
        await inner()
    finally:
        x = 1  # ran by the close: never the suspension point


loop = asyncio.new_event_loop()
# asyncio's own warning names addresses; print only its message.
loop.set_exception_handler(lambda loop, context: print(context["message"]))
t = loop.create_task(outer())  # <- create
loop.run_until_complete(asyncio.sleep(0.01))
loop.close()
del t
gc.collect()
print("collected")
