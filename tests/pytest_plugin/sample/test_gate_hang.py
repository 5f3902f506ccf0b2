"""Tests that hang: on an Event nobody sets, and in a deadlock of two
tasks over two locks; the test after them runs (signal method)."""

import asyncio


async def waiter(event):
    await event.wait()  # HANG-AWAIT


async def wait_for_event():
    event = asyncio.Event()
    task = asyncio.create_task(waiter(event))  # HANG-CREATED
    await task


def test_hangs_on_event():
    asyncio.run(wait_for_event())


async def crossing(first, second, ready):
    async with first:
        ready.set()
        await asyncio.sleep(0)
        async with second:  # DEADLOCK-AWAIT
            pass


async def deadlock():
    lock_a, lock_b = asyncio.Lock(), asyncio.Lock()
    ready = [asyncio.Event(), asyncio.Event()]
    await asyncio.gather(crossing(lock_a, lock_b, ready[0]), crossing(lock_b, lock_a, ready[1]))


def test_deadlock():
    asyncio.run(deadlock())


def test_after_the_hangs():
    pass
