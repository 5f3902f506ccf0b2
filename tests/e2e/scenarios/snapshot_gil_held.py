# A snapshot while C code holds the GIL: the event loop's task calls libc's
# system() through ctypes.PyDLL (which keeps the GIL) and a shell prints
# "ready", then sleeps 1.5 s, so the GIL is held from before "ready" until
# the shell ends (system() retries its wait on EINTR: signals do not cut it
# short).  The collector cannot take the GIL, so per the contract it still
# writes the snapshot within one second, says so in `incomplete`, and lists
# what it has: every live task (its id and coroutine are known without the
# GIL; where it waits may not be).  The program then carries on as without
# the library.
# step: wait-line ready
# step: snapshot 1
# step: close-stdin
# snapshot-incomplete: expected
# live-count: 3
# live: coro=main
# live: coro=blocker
# live: coro=waiter
# expect-none
import asyncio
import ctypes
import sys
import time


async def waiter(gate: asyncio.Event) -> None:
    await gate.wait()


async def blocker(gate: asyncio.Event) -> str:
    sys.stdout.flush()
    t0 = time.monotonic()
    # C code holding the GIL: the event loop and every Python thread stop here.
    status = ctypes.PyDLL(None).system(b"echo ready; exec sleep 1.5")
    gate.set()
    # Not the time itself (load would show in stdout): whether it ran whole.
    return "system() -> %d, slept in full: %s" % (status, time.monotonic() - t0 >= 1.5)


async def main() -> None:
    gate = asyncio.Event()
    w = asyncio.ensure_future(waiter(gate))
    await asyncio.sleep(0)
    print(await asyncio.ensure_future(blocker(gate)))
    await w
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


asyncio.run(main())
