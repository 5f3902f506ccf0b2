# Seed step 5 (assertion-grade verification) and step 2 (all_tasks audit after
# drain) applied to fixed workers: every cancelled task reaches CANCELLED.
# expect-none
import asyncio


class FakeConn:
    closed = False

    def close(self) -> None:
        self.closed = True


async def fixed_worker(conn: FakeConn, started: asyncio.Event) -> None:
    started.set()
    try:
        while True:
            await asyncio.sleep(0.1)
    finally:
        conn.close()


async def audit_after_drain(tasks) -> None:
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    leaked = [t for t in tasks if not t.cancelled() and not t.exception()]
    if leaked:
        for t in leaked:
            print("LEAK: %s ended without cancelling: %s" % (t.get_name(), t._state))
    else:
        print("clean: every task reached CANCELLED")


async def main() -> None:
    conn, started = FakeConn(), asyncio.Event()
    t = asyncio.create_task(fixed_worker(conn, started))
    await started.wait()
    t.cancel()
    results = await asyncio.gather(t, return_exceptions=True)
    assert t.cancelled(), "task did not reach CANCELLED: cancel was swallowed"
    assert conn.closed, "resource not released during cleanup"
    assert isinstance(results[0], asyncio.CancelledError)
    print("verified: task cancelled and resources released")

    conns = [FakeConn() for _ in range(5)]
    events = [asyncio.Event() for _ in conns]
    tasks = [asyncio.create_task(fixed_worker(c, e)) for c, e in zip(conns, events)]
    for e in events:
        await e.wait()
    await audit_after_drain(tasks)
    assert all(c.closed for c in conns)
    survivors = [x for x in asyncio.all_tasks()
                 if not x.done() and x is not asyncio.current_task()]
    print("survivors after drain:", survivors)


asyncio.run(main())
