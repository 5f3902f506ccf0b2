"""What the samples need from pytest-asyncio, whatever its version: a
module- or session-scoped event loop and fixtures on it.  loop_scope came
with 0.24 (sid has 1.x); Debian 12's 0.20 scopes the loop by overriding
its event_loop fixture."""

import asyncio

import pytest
import pytest_asyncio

LOOP_SCOPE = tuple(int(part) for part in pytest_asyncio.__version__.split(".")[:2]) >= (0, 24)


def event_loop_of(scope):
    """The pytest-asyncio 0.20 way to a SCOPE-scoped loop: a module's own
    event_loop fixture (None where loop_scope exists)."""
    if LOOP_SCOPE:
        return None

    @pytest.fixture(scope=scope)
    def event_loop():
        loop = asyncio.new_event_loop()
        yield loop
        loop.close()
    return event_loop


def asyncio_mark(scope):
    return pytest.mark.asyncio(loop_scope=scope) if LOOP_SCOPE else pytest.mark.asyncio


def async_fixture(scope):
    if LOOP_SCOPE:
        return pytest_asyncio.fixture(scope=scope, loop_scope=scope)
    return pytest_asyncio.fixture(scope=scope)


async def forever():
    await asyncio.sleep(3600)  # FOREVER-AWAIT
