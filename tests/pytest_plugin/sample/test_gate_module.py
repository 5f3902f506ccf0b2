"""Tasks that outlive their test in a module-scoped event loop: two tests
leave one each (the module's last test too, checked before the loop's own
teardown); a task cancelled without being awaited ends in the settle; a
module-scoped fixture's long-lived task is never blamed on the test that
set it up; the marker allows one test's."""

import asyncio

import pytest

from _loops import async_fixture, asyncio_mark, event_loop_of, forever

pytestmark = asyncio_mark("module")
event_loop = event_loop_of("module")


@async_fixture("module")
async def server():
    stop = asyncio.Event()
    task = asyncio.create_task(stop.wait())  # SERVER-CREATED
    yield task
    stop.set()
    await task


async def test_sets_up_server(server):
    assert not server.done()


async def test_leaves_task(server):
    asyncio.create_task(forever())  # MODULE-CREATED


async def test_cancels_without_awaiting():
    task = asyncio.create_task(forever())
    await asyncio.sleep(0)
    task.cancel()


@pytest.mark.taskleak(allow=["outlived"])
async def test_allowed_to_leave_task():
    asyncio.create_task(forever())  # ALLOWED-CREATED


async def test_last_leaves_task(server):
    asyncio.create_task(forever())  # LAST-CREATED
