# After SIGTERM, C code holds the GIL for seconds (ctypes.PyDLL): the
# watchdog's deadline comes while it is held, so the shutdown report is
# written without it, saying `incomplete` (live tasks from taskleak's own
# table, no threads), and the program is none the worse: its Python
# handler runs once the GIL is free, and it ends as without the library.
# build-helper: _sigaction_helper.c
# options: shutdown_timeout=0.3
# step: wait-line ready
# step: signal SIGTERM
# step: shutdown-report
# expect-none
# expect-shutdown: cause=signal signal=SIGTERM incomplete=yes
import asyncio
import ctypes
import os
import signal

held = ctypes.PyDLL(os.path.join(os.environ["TASKLEAK_E2E_BUILT"], "_sigaction_helper.so"))


async def main() -> None:
    got = []
    signal.signal(signal.SIGTERM, lambda s, f: got.append(s))
    task = asyncio.create_task(asyncio.sleep(3600))
    await asyncio.sleep(0)
    print("ready", flush=True)
    held.helper_hold(6000)  # the GIL, 6 s: the signal comes in that time
    await asyncio.sleep(0)
    print("handled after the hold:", got)
    task.cancel()


asyncio.run(main())
