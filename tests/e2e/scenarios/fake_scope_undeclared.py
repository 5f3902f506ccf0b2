# Issue 7, the control for fake_scope_clean: the same scope, not declared as
# one.  Its own cancel, consumed without uncancel(), counts as swallowed:
# this is what a scope rule (or the built-in list) prevents.
# expect: swallowed_cancel coro=worker state=finished result_repr="'moved on'"
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
    print(await asyncio.create_task(worker()))  # <- create


asyncio.run(main())
