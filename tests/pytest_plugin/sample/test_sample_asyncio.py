"""The acceptance suite, with pytest-asyncio: two leaking tests (a task that
swallows its cancel, a pending task destroyed), two clean ones."""

import asyncio
import gc

import pytest


async def swallower():
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return "swallowed"


async def forgotten(future):
    await future


async def worker():
    await asyncio.sleep(0)
    return 42


@pytest.mark.asyncio
async def test_swallows_cancel():
    task = asyncio.create_task(swallower())  # SWALLOW-CREATED
    await asyncio.sleep(0)
    task.cancel()
    assert await task == "swallowed"


@pytest.mark.asyncio
async def test_destroys_pending_task():
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(forgotten(loop.create_future()))  # DESTROY-CREATED
    await asyncio.sleep(0)
    del task
    gc.collect()


@pytest.mark.asyncio
async def test_clean_await():
    assert await asyncio.create_task(worker()) == 42


@pytest.mark.asyncio
async def test_clean_cancel():
    task = asyncio.create_task(asyncio.sleep(60))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
