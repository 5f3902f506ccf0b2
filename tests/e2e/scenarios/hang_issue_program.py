# The hang explainer on the program: a holder keeps a lock while it
# waits for an Event nothing has set; two waiters wait for that lock; a
# consumer waits on an empty Queue; a task awaits a future nothing else
# references; main gathers them all.  The snapshot says what each waits for
# and under which module global's name, who holds the lock (certain: it is
# inside `async with`), that the orphan future can never complete and main's
# gather therefore never wakes, and nothing more: the Event and the Queue
# are module globals, anyone could set or fill them.  Stdin's end sets the
# Event, fills the queue and cancels the orphan; the program ends as
# without the library, no leak.
# step: wait-line ready
# step: snapshot 2
# step: close-stdin
# live-count: 7
# live: coro=main waits=gather waits_tasks=holder,waiter,consumer,orphan_future never=yes await_chain=main
# live: coro=holder waits=event waits_call=Event.wait waits_name=hang_issue_program.ev never=no locks_held=1 await_chain=holder
# live: coro=waiter waits=lock waits_call=Lock.acquire waits_name=hang_issue_program.lock held_by=holder holders=certain never=no await_chain=waiter
# live: coro=consumer waits=queue_get waits_call=Queue.get waits_name=hang_issue_program.q never=no await_chain=consumer
# live: coro=orphan_future waits=future waits_name=fut never=yes await_chain=orphan
# live: coro=watch_stdin waits=future never=no await_chain=stdin
# expect-none
import asyncio
import sys

lock = ev = q = None


async def holder():
    async with lock:
        await ev.wait()  # <- await:holder


async def waiter(i):
    async with lock:  # <- await:waiter
        pass


async def consumer():
    while True:
        await q.get()  # <- await:consumer
        if ev.is_set():
            return


async def orphan_future():
    fut = asyncio.get_running_loop().create_future()
    await fut  # <- await:orphan


async def watch_stdin(orphan):
    loop = asyncio.get_running_loop()
    eof = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: eof.done() or eof.set_result(None))
    await eof  # <- await:stdin
    loop.remove_reader(sys.stdin.fileno())
    ev.set()
    q.put_nowait(None)
    orphan.cancel()


def ready():
    print("ready", flush=True)


async def main():
    global lock, ev, q
    lock, ev, q = asyncio.Lock(), asyncio.Event(), asyncio.Queue()
    tasks = [asyncio.ensure_future(holder())]
    await asyncio.sleep(0)
    tasks += [asyncio.ensure_future(waiter(i)) for i in range(2)]
    tasks += [asyncio.ensure_future(consumer()), asyncio.ensure_future(orphan_future())]
    watcher = asyncio.ensure_future(watch_stdin(tasks[-1]))
    asyncio.get_running_loop().call_soon(ready)  # after every task's first step
    results = await asyncio.gather(*tasks, return_exceptions=True)  # <- await:main
    await watcher
    print([type(r).__name__ for r in results])


asyncio.run(main())
