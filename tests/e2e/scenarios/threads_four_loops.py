# Four threads, each running its own event loop (asyncio.run) at the same
# time, each with a task that swallows a cancel (a different coroutine per
# thread) and two clean tasks (one cancelled that re-raises, one that just
# returns): exactly four swallowed_cancel leaks, one per thread, each named by
# its coroutine, each with the id of the thread that made it (not the main
# thread's, all distinct).
# expect: swallowed_cancel coro=leaky_0 state=finished result_repr="'swallowed in loop-0'" cancels=1 main_thread=no create= cancel=
# expect: swallowed_cancel coro=leaky_1 state=finished result_repr="'swallowed in loop-1'" cancels=1 main_thread=no create= cancel=
# expect: swallowed_cancel coro=leaky_2 state=finished result_repr="'swallowed in loop-2'" cancels=1 main_thread=no create= cancel=
# expect: swallowed_cancel coro=leaky_3 state=finished result_repr="'swallowed in loop-3'" cancels=1 main_thread=no create= cancel=
# expect-distinct: task.thread_id
import asyncio
import threading

N = 4
barrier = threading.Barrier(N)
results = {}


async def swallow(started: asyncio.Event) -> str:
    started.set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        return "swallowed in " + threading.current_thread().name


async def leaky_0(started: asyncio.Event) -> str:
    return await swallow(started)


async def leaky_1(started: asyncio.Event) -> str:
    return await swallow(started)


async def leaky_2(started: asyncio.Event) -> str:
    return await swallow(started)


async def leaky_3(started: asyncio.Event) -> str:
    return await swallow(started)


async def clean_cancelled(started: asyncio.Event) -> None:
    started.set()
    try:
        await asyncio.sleep(3600)
    finally:
        pass  # CancelledError keeps propagating


async def clean_returns() -> str:
    await asyncio.sleep(0)
    return "ok"


async def main(leaky) -> list:
    started = [asyncio.Event(), asyncio.Event()]
    leak = asyncio.ensure_future(leaky(started[0]))  # <- create
    clean = asyncio.ensure_future(clean_cancelled(started[1]))
    fine = asyncio.ensure_future(clean_returns())
    for ev in started:
        await ev.wait()
    # every loop is alive with its tasks pending before any cancel
    await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
    leak.cancel()  # <- cancel
    clean.cancel()
    return await asyncio.gather(leak, clean, fine, return_exceptions=True)


def thread_main(i: int) -> None:
    leaky = globals()["leaky_%d" % i]
    out = asyncio.run(main(leaky))
    results[i] = [type(x).__name__ if isinstance(x, BaseException) else x for x in out]


threads = [threading.Thread(target=thread_main, args=(i,), name="loop-%d" % i)
           for i in range(N)]
for th in threads:
    th.start()
for th in threads:
    th.join()
for i in range(N):
    print(i, results[i])
