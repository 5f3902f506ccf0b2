# Issue 7: inside a scope that never calls uncancel(), the program's own
# handler swallows the scope's cancel.  The count alone cannot tell; on 3.12+
# the catch site can: reported, at the `except` line.
# min-python: 3.12
# suppress: scope:_fake_scope
# expect: swallowed_cancel coro=worker state=finished result_repr="'x'" caught= delivered=
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _fake_scope  # noqa: E402


async def worker() -> str:
    with _fake_scope.move_on_after(0.01):
        try:
            await asyncio.sleep(30)  # <- delivered
        except BaseException:  # <- caught
            pass
    return "x"


async def main() -> None:
    print(await asyncio.create_task(worker()))  # <- create


asyncio.run(main())
