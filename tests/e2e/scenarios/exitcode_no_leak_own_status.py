# exitcode=23, no leak, and the program leaves with sys.exit(7): the status
# stays 7 (exitcode only applies when the final report has leaks).
# options: exitcode=23
# exit: 7
# expect-none
import asyncio
import sys


async def job() -> str:
    await asyncio.sleep(0)
    return "done"


print(asyncio.run(job()))
sys.exit(7)
