# Who holds the lock a task waits for, when no task is inside `async with`
# of it: one other task that acquired it with acquire() and keeps it in a
# local is the holder, inferred; when two tasks keep it, the holder is
# unknown, and nothing is guessed.  Stdin's end releases the locks; no leak.
# step: wait-line ready
# step: snapshot 2
# step: close-stdin
# live: coro=keeps_one waits=event never=no
# live: coro=wants_one waits=lock waits_name=hang_holders.ONE held_by=keeps_one holders=inferred never=no await_chain=wants_one
# live: coro=keeps_two waits=event never=no
# live: coro=also_keeps_two waits=event never=no
# live: coro=wants_two waits=lock held_by=none holders=unknown never=no await_chain=wants_two
# expect-none
import asyncio

import _e2e

ONE = TWO = release = None


async def keeps_one():
    lock = ONE
    await lock.acquire()
    try:
        await release.wait()
    finally:
        lock.release()


async def wants_one():
    async with ONE:  # <- await:wants_one
        pass


async def keeps_two():
    lock = TWO
    await lock.acquire()
    try:
        await release.wait()
    finally:
        lock.release()


async def also_keeps_two():
    lock = TWO
    await release.wait()
    return lock.locked()


async def wants_two():
    async with TWO:  # <- await:wants_two
        pass



async def main():
    global ONE, TWO, release
    ONE, TWO, release = asyncio.Lock(), asyncio.Lock(), asyncio.Event()
    tasks = [asyncio.ensure_future(c()) for c in (keeps_one, wants_one, keeps_two, also_keeps_two, wants_two)]
    await _e2e.ready_until_stdin_closes(3)
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    print(results)


asyncio.run(main())
