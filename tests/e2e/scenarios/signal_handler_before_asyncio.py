# The program installed its own handler for the dump signal before asyncio
# was imported (before the library activates): the library must not take the
# signal away.  Its handler runs, with and without the library (stdout is
# compared); snapshots by signal are simply off for this process.
# expect-none
import os
import signal

got = []
signal.signal(signal.SIGUSR2, lambda sig, frame: got.append(sig))

import asyncio  # noqa: E402


async def main() -> None:
    os.kill(os.getpid(), signal.SIGUSR2)
    for _ in range(1000):  # the handler runs at the next bytecode boundary
        if got:
            break
        await asyncio.sleep(0.001)


asyncio.run(main())
print("program handler ran:", got == [signal.SIGUSR2])
