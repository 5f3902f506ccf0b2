# A task still pending when the interpreter shuts down: its loop was stopped
# (not closed) and the program exits while the task waits, referenced from a
# global, so it is still alive and pending at exit.
# expect: pending_at_exit coro=background state=pending cancels=0
import asyncio


async def background() -> None:
    asyncio.get_running_loop().stop()
    await asyncio.sleep(0)  # <- await
    print("not reached")


loop = asyncio.new_event_loop()
task = loop.create_task(background())  # <- create
loop.run_forever()
print("exiting with a pending task:", not task.done())
