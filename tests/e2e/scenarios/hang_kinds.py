# What each pending task waits for, one kind per task: asyncio.wait() on
# tasks, a task, wait_for with a timeout, a Semaphore's last permit held
# inside `async with`, Condition.wait() (whose lock the notifier holds), a
# full Queue's put, a StreamReader's read and a StreamWriter's drain over a
# socketpair nobody reads, a job in the default executor, a subprocess's
# wait(), and a plain future.  Stdin's end releases every one; the program
# ends as without the library, no leak.
# step: wait-line ready
# step: snapshot 2
# step: close-stdin
# live: coro=many waits=wait waits_tasks=blocker never=no await_chain=many
# live: coro=one waits=task waits_tasks=blocker never=no await_chain=one
# live: coro=bounded waits=timeout waits_call=wait_for deadline=yes never=no await_chain=bounded
# live: coro=permit_holder waits=event locks_held=1 never=no
# live: coro=permit_waiter waits=semaphore waits_call=BoundedSemaphore.acquire held_by=permit_holder holders=certain never=no await_chain=permit_waiter
# live: coro=notifier waits=event locks_held=1 never=no
# live: coro=cond_waiter waits=condition waits_call=Condition.wait held_by=notifier holders=certain never=no await_chain=cond_waiter
# live: coro=producer waits=queue_put waits_call=Queue.put never=no await_chain=producer
# live: coro=stream_reader waits=stream_read never=no await_chain=stream_reader
# live: coro=stream_writer waits=stream_write never=no await_chain=stream_writer
# live: coro=offload waits=executor waits_job=blocking_job never=no await_chain=offload
# live: coro=child waits=subprocess never=no await_chain=child
# live: coro=blocker waits=future never=no await_chain=blocker
# expect-none
import asyncio
import socket
import sys
import threading

import _e2e

release = None
job_release = threading.Event()


async def blocker(fut):
    await fut  # <- await:blocker


async def many(t):
    await asyncio.wait([t])  # <- await:many


async def one(t):
    await t  # <- await:one


async def bounded():
    try:
        await asyncio.wait_for(release.wait(), 3600)  # <- await:bounded
    except asyncio.TimeoutError:
        pass


async def permit_holder(sem, started):
    async with sem:
        started.set()
        await release.wait()


async def permit_waiter(sem):
    async with sem:  # <- await:permit_waiter
        pass


async def notifier(cond, started):
    async with cond:
        started.set()
        await release.wait()
        cond.notify_all()


async def cond_waiter(cond):
    async with cond:
        await cond.wait()  # <- await:cond_waiter


async def producer(q):
    await q.put(2)  # <- await:producer


async def stream_reader(reader):
    return await reader.read(1)  # <- await:stream_reader


async def stream_writer(writer):
    while True:
        writer.write(b"x" * 65536)
        await writer.drain()  # <- await:stream_writer


def blocking_job():
    job_release.wait()
    return "job done"


async def offload():
    return await asyncio.get_running_loop().run_in_executor(None, blocking_job)  # <- await:offload


async def child(proc):
    return await proc.wait()  # <- await:child



async def main():
    global release
    release = asyncio.Event()
    loop = asyncio.get_running_loop()
    gate = loop.create_future()
    sem, cond, q = asyncio.BoundedSemaphore(1), asyncio.Condition(), asyncio.Queue(maxsize=1)
    q.put_nowait(1)
    a, b = socket.socketpair()
    c, d = socket.socketpair()
    reader, reader_writer = await asyncio.open_connection(sock=a)  # both kept: a lost
    writer_reader, writer = await asyncio.open_connection(sock=c)  # writer closes its socket
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; sys.stdin.read()", stdin=asyncio.subprocess.PIPE)
    held = [asyncio.Event(), asyncio.Event()]
    waiting = asyncio.ensure_future(cond_waiter(cond))  # in wait(), the lock let go
    await asyncio.sleep(0)
    t = asyncio.ensure_future(blocker(gate))
    tasks = [t, asyncio.ensure_future(many(t)), asyncio.ensure_future(one(t)),
             asyncio.ensure_future(bounded()),
             asyncio.ensure_future(permit_holder(sem, held[0])),
             asyncio.ensure_future(notifier(cond, held[1]))]
    for ev in held:
        await ev.wait()
    tasks += [asyncio.ensure_future(permit_waiter(sem)), waiting,
              asyncio.ensure_future(producer(q)), asyncio.ensure_future(stream_reader(reader)),
              asyncio.ensure_future(offload()), asyncio.ensure_future(child(proc))]
    streamer = asyncio.ensure_future(stream_writer(writer))
    await _e2e.ready_until_stdin_closes(5)
    release.set()
    gate.set_result("gate")
    q.get_nowait()
    b.send(b"y")
    job_release.set()
    proc.stdin.close()
    streamer.cancel()
    results = await asyncio.gather(*tasks, streamer, return_exceptions=True)
    print([type(r).__name__ for r in results])
    writer.close()
    reader_writer.close()
    for s in (a, b, c, d):
        s.close()


asyncio.run(main())
