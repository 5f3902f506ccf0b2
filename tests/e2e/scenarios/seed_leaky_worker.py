# Seed step 1: cleanup catches CancelledError and returns instead of re-raising.
# expect: swallowed_cancel coro=leaky_worker state=finished result_type=NoneType result_repr=None message=null
# The same, in every interpreter mode and allocator a user may run:
# variant: dev-mode args: -X dev
# variant: isolated args: -I
# variant: no-site args: -S
# variant: ignore-environment args: -E; env: PYTHONMALLOC=debug
# variant: pythonmalloc-debug env: PYTHONMALLOC=debug
# variant: pythonmalloc-malloc env: PYTHONMALLOC=malloc
# variant: pythonmalloc-pymalloc_debug env: PYTHONMALLOC=pymalloc_debug
# variant: no-native options: native=0:stack_depth=3
# exitcode=23: leaks turn a success into 23 under the library (LeakSanitizer's
# convention), 0 without it; verbosity=0: the report only, nothing on stderr.
# variant: exitcode-23 options: exitcode=23; lib-exit: 23
# variant: verbosity-silent options: verbosity=0
import asyncio


async def leaky_worker(started: asyncio.Event) -> None:
    started.set()
    try:
        while True:
            await asyncio.sleep(0.1)  # cancelled here
    except asyncio.CancelledError:
        # BUG: caught to "clean up" but never re-raised.
        print("cleaning up...")
        return


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.create_task(leaky_worker(started))  # <- create
    await started.wait()
    t.cancel()  # <- cancel
    await t  # completes "normally": no CancelledError propagates
    print("task.cancelled() ->", t.cancelled())


asyncio.run(main())
