# SIGTERM with its default action still ends the process at once, status
# -15, as without the library: no handler is installed for it (the kernel
# says SIGTERM is not caught), no shutdown report, no line.  The last report
# on disk is the last periodic one.
# options: interval=0.2
# step: wait-line ready
# step: signal SIGTERM
# exit: -15
# reason: periodic
# expect-none
# expect-no-shutdown
import asyncio
import signal

import _e2e


def caught(sig: int) -> bool:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    return False


async def main() -> None:
    task = asyncio.create_task(asyncio.sleep(3600))
    if _e2e.preloaded():
        await _e2e.await_report(lambda r: r["reason"] == "periodic", "a periodic report")
    print("SIGTERM caught:", caught(signal.SIGTERM), flush=True)
    print("ready", flush=True)
    await task


asyncio.run(main())
