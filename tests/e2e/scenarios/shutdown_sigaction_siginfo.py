# A SIGTERM handler of a C library installed with sigaction and SA_SIGINFO
# (ctypes): it is called exactly as the kernel calls it (signal number,
# si_code SI_USER, the sender's pid, a context), once per signal; a query
# returns it with its own flags and mask, also after the program
# re-installs what the query gave it.  Its cleanup then hangs until the
# runner closes stdin: one shutdown report and line, cause SIGTERM.
# build-helper: _sigaction_helper.c
# options: shutdown_timeout=0.5
# step: wait-line ready
# step: signal SIGTERM
# step: shutdown-report
# step: close-stdin
# expect-none
# expect-shutdown: cause=signal signal=SIGTERM blocker="by Task-1 (main, suspended at shutdown_sigaction_siginfo.py:"
import asyncio
import ctypes
import os
import signal

import _e2e

SA_RESTART, SA_ONSTACK = 0x10000000, 0x08000000
h = _e2e.helper("_sigaction_helper")
h.helper_where.restype = ctypes.c_char_p


def query(sig):
    flags, usr1 = ctypes.c_int(), ctypes.c_int()
    which = h.helper_query(sig, ctypes.byref(flags), ctypes.byref(usr1))
    return which, hex(flags.value), usr1.value


async def main() -> None:
    loop = asyncio.get_running_loop()
    r, w = os.pipe()
    signalled, flushed = asyncio.Event(), asyncio.Event()
    loop.add_reader(r, lambda: (os.read(r, 1), signalled.set()))
    print("install:", h.helper_install(signal.SIGTERM, 1, SA_RESTART | SA_ONSTACK, w))
    print("query:", query(signal.SIGTERM), h.helper_where(signal.SIGTERM).decode())
    print("reinstall:", h.helper_reinstall(signal.SIGTERM), query(signal.SIGTERM))
    _e2e.on_stdin_closed(lambda: loop.call_soon_threadsafe(flushed.set))
    print("ready", flush=True)
    await signalled.wait()
    print("handler: calls", h.helper_calls(), "signo", h.helper_signo(), "si_code", h.helper_code(),
          "sender is the parent", h.helper_pid() == os.getppid(), "context", h.helper_context(),
          flush=True)
    await flushed.wait()  # <- await:flush
    print("after: calls", h.helper_calls(), "query", query(signal.SIGTERM))


asyncio.run(main())
