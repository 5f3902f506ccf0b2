# Issue 7: a cancel scope of the program's own, declared with a
# `scope:MODULE_GLOB` suppressions line, cancels its task and consumes the
# cancel without uncancel() (like anyio and async_timeout): no false alarm.
# Without the scope rule this would be reported (fake_scope_undeclared).
# suppress: scope:_fake_scope
# expect-none
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _fake_scope  # noqa: E402


async def worker() -> str:
    with _fake_scope.move_on_after(0.01):
        await asyncio.sleep(30)
    return "moved on"


async def main() -> None:
    print(await asyncio.create_task(worker()))


asyncio.run(main())
