# The 3.11+ primitives: two tasks at a Barrier of three, an Event waited
# inside `async with asyncio.timeout(...)` (the enclosing deadline), and a
# TaskGroup whose parent waits for its child: a future the group keeps, not
# "never" (the child's completion resolves it).  Stdin's end releases them;
# no leak.
# min-python: 3.11
# step: wait-line ready
# step: snapshot 2
# step: close-stdin
# live: coro=at_barrier waits=barrier waits_call=Barrier.wait never=no await_chain=barrier
# live: coro=bounded waits=event deadline=yes never=no await_chain=bounded
# live: coro=group_parent waits=future never=no
# live: coro=group_child waits=event never=no
# expect-none
import asyncio

import _e2e

release = None


async def at_barrier(barrier):
    await barrier.wait()  # <- await:barrier


async def bounded():
    async with asyncio.timeout(3600):
        await release.wait()  # <- await:bounded


async def group_child():
    await release.wait()


async def group_parent():
    async with asyncio.TaskGroup() as tg:
        tg.create_task(group_child())



async def main():
    global release
    release = asyncio.Event()
    barrier = asyncio.Barrier(3)
    tasks = [asyncio.ensure_future(at_barrier(barrier)), asyncio.ensure_future(at_barrier(barrier)),
             asyncio.ensure_future(bounded()), asyncio.ensure_future(group_parent())]
    await _e2e.ready_until_stdin_closes(3)
    release.set()
    await barrier.wait()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    print([type(r).__name__ for r in results])


asyncio.run(main())
