# Two threads, each running its own asyncio.run() with a swallowing task, both
# loops alive at the same time: two leaks, each with its creating thread's id.
# expect: swallowed_cancel coro=leaky_worker state=finished result_type=str main_thread=no
# expect-count: swallowed_cancel=2
# expect-distinct: task.thread_id
import asyncio
import threading

barrier = threading.Barrier(2)
results = {}


async def leaky_worker(started: asyncio.Event) -> str:
    started.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        return threading.current_thread().name


async def main() -> str:
    started = asyncio.Event()
    t = asyncio.create_task(leaky_worker(started))  # <- create
    await started.wait()
    await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
    t.cancel()  # <- cancel
    return await t


def thread_main() -> None:
    results[threading.current_thread().name] = asyncio.run(main())


threads = [threading.Thread(target=thread_main, name="loop-%d" % i) for i in (1, 2)]
for th in threads:
    th.start()
for th in threads:
    th.join()
print(sorted(results.items()))
