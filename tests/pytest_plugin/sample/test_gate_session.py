"""A task that outlives its test in a session-scoped event loop."""

import asyncio

from _loops import asyncio_mark, event_loop_of, forever

pytestmark = asyncio_mark("session")
event_loop = event_loop_of("session")


async def test_session_leaves_task():
    asyncio.create_task(forever())  # SESSION-CREATED


async def test_session_clean():
    await asyncio.sleep(0)
