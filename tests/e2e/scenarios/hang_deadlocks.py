# Deadlocks, each found once with its edges: two tasks that each hold one
# lock and acquire the other's; a ring of three (two locks and a task that
# awaits the first); a task that acquires a lock it already holds
# (asyncio.Lock is not reentrant).  A bystander that waits for a lock a
# deadlocked task holds never wakes either.  Not a deadlock: the same
# two-lock cycle where one side acquires through wait_for(..., 3600), which
# ends by itself.  Stdin's end cancels the tasks; the program ends as
# without the library, no leak.
# step: wait-line ready
# step: snapshot 2
# step: close-stdin
# deadlock: pair_a,pair_b
# deadlock: ring_x,ring_y,ring_z
# deadlock: self_lock
# live: coro=pair_a waits=lock held_by=pair_b holders=certain never=yes locks_held=1 await_chain=pair_a
# live: coro=pair_b waits=lock held_by=pair_a holders=certain never=yes locks_held=1 await_chain=pair_b
# live: coro=ring_x waits=lock held_by=ring_y never=yes await_chain=ring_x
# live: coro=ring_y waits=lock held_by=ring_z never=yes await_chain=ring_y
# live: coro=ring_z waits=task waits_tasks=ring_x never=yes await_chain=ring_z
# live: coro=self_lock waits=lock held_by=self_lock never=yes locks_held=1 await_chain=self_inner
# live: coro=bystander waits=lock held_by=pair_a never=yes await_chain=bystander
# live: coro=timed_p waits=timeout deadline=yes never=no locks_held=1
# live: coro=timed_q waits=lock held_by=timed_p never=no locks_held=1 await_chain=timed_q
# expect-none
import asyncio

import _e2e

L = {}


async def pair_a(both):
    async with L["a"]:
        await both.wait()
        async with L["b"]:  # <- await:pair_a
            pass


async def pair_b(both):
    async with L["b"]:
        both.set()
        async with L["a"]:  # <- await:pair_b
            pass


async def ring_x(started, all_in):
    async with L["x1"]:
        started.set()
        await all_in.wait()
        async with L["x2"]:  # <- await:ring_x
            pass


async def ring_y(started, all_in):
    async with L["x2"]:
        started.set()
        await all_in.wait()
        async with L["x3"]:  # <- await:ring_y
            pass


async def ring_z(x, started, all_in):
    async with L["x3"]:
        started.set()
        await all_in.wait()
        await x  # <- await:ring_z


async def self_lock():
    async with L["s"]:
        async with L["s"]:  # <- await:self_inner
            pass


async def bystander():
    async with L["a"]:  # <- await:bystander
        pass


async def timed_p(both):
    async with L["p1"]:
        await both.wait()
        await asyncio.wait_for(L["p2"].acquire(), 3600)


async def timed_q(both):
    async with L["p2"]:
        both.set()
        async with L["p1"]:  # <- await:timed_q
            pass



async def main():
    for name in ("a", "b", "x1", "x2", "x3", "s", "p1", "p2"):
        L[name] = asyncio.Lock()
    both, timed = asyncio.Event(), asyncio.Event()
    started, all_in = [asyncio.Event() for _ in range(3)], asyncio.Event()
    tasks = [asyncio.ensure_future(pair_a(both)), asyncio.ensure_future(pair_b(both))]
    x = asyncio.ensure_future(ring_x(started[0], all_in))
    tasks += [x, asyncio.ensure_future(ring_y(started[1], all_in)),
              asyncio.ensure_future(ring_z(x, started[2], all_in))]
    for ev in started:
        await ev.wait()
    all_in.set()
    tasks += [asyncio.ensure_future(self_lock()), asyncio.ensure_future(bystander())]
    tasks += [asyncio.ensure_future(timed_p(timed)), asyncio.ensure_future(timed_q(timed))]
    await _e2e.ready_until_stdin_closes(3)
    for t in tasks:
        t.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    print([type(r).__name__ for r in results])


asyncio.run(main())
