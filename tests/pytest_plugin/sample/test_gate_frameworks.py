"""anyio's pytest plugin (a module-scoped async fixture keeps its runner and
loop across tests), unittest.IsolatedAsyncioTestCase, plain asyncio.run,
and an event loop a test leaves open with a task on it."""

import asyncio
import unittest

import pytest

from _loops import forever


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
async def long_lived(anyio_backend):
    stop = asyncio.Event()
    task = asyncio.create_task(stop.wait())  # ANYIO-FIXTURE-CREATED
    yield task
    stop.set()
    await task


@pytest.mark.anyio
async def test_anyio_sets_up_fixture(long_lived):
    assert not long_lived.done()


@pytest.mark.anyio
async def test_anyio_leaves_task(long_lived):
    asyncio.create_task(forever())  # ANYIO-CREATED


class IsolatedCase(unittest.IsolatedAsyncioTestCase):
    async def test_unittest_leaves_task(self):
        asyncio.create_task(forever())   # its runner cancels it: nothing outlives

    async def test_unittest_clean(self):
        await asyncio.sleep(0)


async def main():
    task = asyncio.create_task(asyncio.sleep(0))
    await task


def test_asyncio_run_clean():
    asyncio.run(main())


LEFT_OPEN = []


def test_loop_left_open():
    loop = asyncio.new_event_loop()
    LEFT_OPEN.append(loop)

    async def start():
        asyncio.create_task(forever())  # OPEN-LOOP-CREATED
    loop.run_until_complete(start())
