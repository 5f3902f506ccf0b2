# Ten swallowed cancels with max_leaks=3: three entries kept in full, all ten
# counted in stats.leaks, seven in stats.leaks_omitted.
# options: max_leaks=3
# expect: swallowed_cancel coro=leaky_worker state=finished result_type=int
# expect-count: swallowed_cancel=10
import asyncio


async def leaky_worker(i: int, started: asyncio.Event) -> int:
    started.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        return i


async def main() -> None:
    events = [asyncio.Event() for _ in range(10)]
    tasks = [asyncio.create_task(leaky_worker(i, e)) for i, e in enumerate(events)]  # <- create
    for e in events:
        await e.wait()
    for t in tasks:
        t.cancel()  # <- cancel
    print(await asyncio.gather(*tasks))


asyncio.run(main())
