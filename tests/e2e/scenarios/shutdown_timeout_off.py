# shutdown_timeout=0: the watchdog is off.  Nothing is wrapped (the kernel
# holds the program's own handlers: CPython's, for SIGINT and for the
# SIGTERM of add_signal_handler), and a cleanup that outlasts the signal by
# a second brings no report and no line.
# build-helper: _sigaction_helper.c
# options: shutdown_timeout=0
# step: wait-line ready
# step: signal SIGTERM
# expect-none
# expect-no-shutdown
import asyncio
import ctypes
import signal

import _e2e

h = _e2e.helper("_sigaction_helper")
h.helper_kernel_where.restype = ctypes.c_char_p


async def main() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("kernel's SIGINT handler in", h.helper_kernel_where(signal.SIGINT).decode())
    print("kernel's SIGTERM handler in", h.helper_kernel_where(signal.SIGTERM).decode())
    print("ready", flush=True)
    await stop.wait()
    await asyncio.sleep(1.0)  # twice the 0.5 s the other shutdown scenarios report after
    print("stopped")


asyncio.run(main())
