# asyncio.run again and again, each leaving tasks that its end cancels
# (and a default executor it shuts down): each is the end of a loop, not of
# the process.  The shutdown each starts is withdrawn once its loop closes,
# so no shutdown report comes, though the program runs three times
# shutdown_timeout.
# options: shutdown_timeout=1
# expect-none
# expect-no-shutdown
import asyncio
import time


async def leftover() -> None:
    await asyncio.sleep(3600)


async def main() -> None:
    for _ in range(3):
        asyncio.ensure_future(leftover())
    await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0.001)


start = time.monotonic()
runs = 0
while time.monotonic() - start < 3.0:
    asyncio.run(main())
    runs += 1
print("runs > 10:", runs > 10)
