# Seed step 3: try/finally and narrow catch + re-raise both end CANCELLED.
# expect-none
import asyncio


class Conn:
    closed = False

    def close(self) -> None:
        self.closed = True


async def fixed_worker_finally(conn: Conn, started: asyncio.Event) -> None:
    started.set()
    try:
        while True:
            await asyncio.sleep(0.1)
    finally:
        conn.close()  # runs on cancel; CancelledError keeps propagating


async def fixed_worker_explicit(conn: Conn, started: asyncio.Event) -> None:
    started.set()
    try:
        while True:
            await asyncio.sleep(0.1)
    except asyncio.CancelledError:
        conn.close()
        print("rolled back")
        raise  # mandatory: re-raise so the task ends CANCELLED


async def main() -> None:
    for worker in (fixed_worker_finally, fixed_worker_explicit):
        conn, started = Conn(), asyncio.Event()
        t = asyncio.create_task(worker(conn, started))
        await started.wait()
        print(worker.__name__, "cancel() ->", t.cancel())
        results = await asyncio.gather(t, return_exceptions=True)
        assert t.cancelled() and conn.closed
        assert isinstance(results[0], asyncio.CancelledError)
        print(worker.__name__, "cancelled:", t.cancelled())


asyncio.run(main())
