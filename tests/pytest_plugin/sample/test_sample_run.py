"""The acceptance suite, with plain asyncio.run: two leaking tests (a task
that swallows its cancel, a pending task destroyed), two clean ones."""

import asyncio
import gc


async def swallower():
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return "swallowed"


async def swallow_main():
    task = asyncio.create_task(swallower())  # SWALLOW-CREATED
    await asyncio.sleep(0)
    task.cancel()
    assert await task == "swallowed"


async def forgotten(future):
    await future


async def destroy_main():
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(forgotten(loop.create_future()))  # DESTROY-CREATED
    await asyncio.sleep(0)
    del task
    gc.collect()


async def worker():
    await asyncio.sleep(0)
    return 42


async def clean_main():
    assert await asyncio.create_task(worker()) == 42


async def cancel_main():
    task = asyncio.create_task(asyncio.sleep(60))
    await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert task.cancelled()


def test_swallows_cancel():
    asyncio.run(swallow_main())


def test_destroys_pending_task():
    asyncio.run(destroy_main())


def test_clean_await():
    asyncio.run(clean_main())


def test_clean_cancel():
    asyncio.run(cancel_main())
