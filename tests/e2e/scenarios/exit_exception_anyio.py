# As exit_exception_after_cancel, with anyio's task group: a child calls
# sys.exit(); anyio 4 ends the parent with a BaseExceptionGroup holding the
# SystemExit (anyio 3, with the SystemExit itself) while asyncio.run's
# shutdown cancel is outstanding.  The process is ending: no leak (this was
# a false swallowed_cancel in anyio's own TestCreateTask::test_base_exception).
# requires-module: anyio
# expect-none
import asyncio
import logging
import sys

import anyio

logging.getLogger("asyncio").disabled = True


async def child():
    sys.exit(1)


async def main():
    async with anyio.create_task_group() as tg:
        tg.start_soon(child)
        await asyncio.sleep(3600)


try:
    asyncio.run(main())
except BaseException as e:  # noqa: B902
    leaves = getattr(e, "exceptions", [e])
    print("ended by", [type(x).__name__ for x in leaves])
