# A program that shuts its loop's default executor down by hand, in the
# middle of its run, waits there 1.1 s for a job (long enough for the
# library to see the executor's shutdown, shorter than shutdown_timeout),
# and goes on with that loop for three seconds more: the executor's
# shutdown was over when its thread was, so no shutdown report and no line
# come (the loop closing is not the only end of one).  (A shutdown by hand
# that waits longer than shutdown_timeout for its jobs is reported.)
# min-python: 3.9
# options: shutdown_timeout=1.5
# expect-none
# expect-no-shutdown
import asyncio
import time


async def main() -> None:
    loop = asyncio.get_running_loop()
    job = loop.run_in_executor(None, time.sleep, 1.1)
    await loop.shutdown_default_executor()
    await job
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    print("done")


asyncio.run(main())
