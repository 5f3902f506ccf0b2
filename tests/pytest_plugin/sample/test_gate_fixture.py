"""A module-scoped fixture whose task outlives the fixture: reported at that
fixture's teardown, as the fixture's, not the test's that set it up."""

import asyncio

from _loops import async_fixture, asyncio_mark, event_loop_of, forever

pytestmark = asyncio_mark("module")
event_loop = event_loop_of("module")


@async_fixture("module")
async def sloppy():
    task = asyncio.create_task(forever())  # FIXTURE-CREATED
    yield task


async def test_sets_up_sloppy(sloppy):
    assert not sloppy.done()


async def test_also_uses_sloppy(sloppy):
    assert not sloppy.done()
