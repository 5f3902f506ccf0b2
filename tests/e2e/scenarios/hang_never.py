# Waits that can never end, and the ones that must not be called so.
# Never: a future, an Event, a Queue or a Lock that only the waiting task
# itself references (its own locals: nothing else could resolve them), and
# a task that awaits one of those.  Not never: an Event that is a module
# global, an Event held by an object another live task keeps, a future kept
# in a module-level dict, a sleep (it ends by itself), a socket read (the
# peer may write).  Stdin's end cancels the never-ending ones and releases
# the others; the program ends as without the library, no leak.
# step: wait-line ready
# step: snapshot 2
# step: close-stdin
# live: coro=orphan_future waits=future never=yes await_chain=orphan
# live: coro=private_event waits=event never=yes await_chain=private_event
# live: coro=private_queue waits=queue_get never=yes await_chain=private_queue
# live: coro=lock_twice waits=lock never=yes holders=unknown await_chain=lock_twice
# live: coro=awaits_orphan waits=task waits_tasks=orphan_future never=yes await_chain=awaits_orphan
# live: coro=global_event waits=event waits_name=hang_never.GLOBAL_EVENT never=no
# live: coro=Conn.wait_closed waits=event waits_name=self.closed never=no await_chain=conn
# live: coro=keeper waits=event never=no
# live: coro=registered waits=future never=no await_chain=registered
# live: coro=sleeper waits=sleep deadline=yes never=no await_chain=sleeper
# live: coro=reader waits=socket never=no await_chain=reader
# expect-none
import asyncio
import socket

import _e2e

GLOBAL_EVENT = None
REGISTRY = {}


async def orphan_future():
    fut = asyncio.get_running_loop().create_future()
    await fut  # <- await:orphan


async def private_event():
    ev = asyncio.Event()
    await ev.wait()  # <- await:private_event


async def private_queue():
    q = asyncio.Queue()
    await q.get()  # <- await:private_queue


async def lock_twice():
    lk = asyncio.Lock()
    await lk.acquire()
    await lk.acquire()  # <- await:lock_twice


async def awaits_orphan(t):
    await t  # <- await:awaits_orphan


async def global_event():
    await GLOBAL_EVENT.wait()


class Conn:
    def __init__(self):
        self.closed = asyncio.Event()

    async def wait_closed(self):
        await self.closed.wait()  # <- await:conn


async def keeper(conn, release):
    await release.wait()  # keeps `conn` in its frame: the Event is reachable
    conn.closed.set()


async def registered():
    fut = asyncio.get_running_loop().create_future()
    REGISTRY["fut"] = fut
    await fut  # <- await:registered


async def sleeper():
    await asyncio.sleep(3600)  # <- await:sleeper


async def reader(sock):
    return await asyncio.get_running_loop().sock_recv(sock, 16)  # <- await:reader



async def main():
    global GLOBAL_EVENT
    GLOBAL_EVENT = asyncio.Event()
    a, b = socket.socketpair()
    a.setblocking(False)
    release, conn = asyncio.Event(), Conn()
    orphan = asyncio.ensure_future(orphan_future())
    never = [orphan, asyncio.ensure_future(private_event()), asyncio.ensure_future(private_queue()),
             asyncio.ensure_future(lock_twice()), asyncio.ensure_future(awaits_orphan(orphan)),
             asyncio.ensure_future(sleeper())]
    others = [asyncio.ensure_future(global_event()), asyncio.ensure_future(conn.wait_closed()),
              asyncio.ensure_future(keeper(conn, release)), asyncio.ensure_future(registered()),
              asyncio.ensure_future(reader(a))]
    del conn
    await _e2e.ready_until_stdin_closes(3)
    for t in never:
        t.cancel()
    GLOBAL_EVENT.set()
    release.set()
    REGISTRY["fut"].set_result(None)
    b.send(b"bye")
    results = await asyncio.gather(*never, *others, return_exceptions=True)
    print([type(r).__name__ for r in results])
    a.close()
    b.close()


asyncio.run(main())
