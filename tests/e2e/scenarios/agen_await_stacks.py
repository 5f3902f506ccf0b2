# Await stacks through async generators, in a snapshot of a hung program: an
# `async with` of an @asynccontextmanager waiting after its `yield` (the
# lifespan hang), `async for` over an async generator waiting inside, an
# async generator iterating another one, `aclose()` waiting in the
# generator's `finally`, and `athrow()` waiting in its `except`.  Each
# task's `awaiting` goes from the task's coroutine into the generator that
# its asend/athrow drives, down to the real innermost line.  Stdin's end
# releases everything; the program ends as without the library, no leak.
# options: grace=60
# step: wait-line ready
# step: snapshot 2
# step: close-stdin
# live-count: 7
# live: coro=main cancels=0 await_chain=main awaited_by=none id=1
# live: coro=serve cancels=0 await_chain=drain,lifespan,serve awaited_by=main
# live: coro=consume cancels=0 await_chain=ticks,consume awaited_by=main
# live: coro=relay cancels=0 await_chain=inner,outer,relay awaited_by=main
# live: coro=closer cancels=0 await_chain=finally,aclose awaited_by=main
# live: coro=thrower cancels=0 await_chain=except,athrow awaited_by=main
# live: coro=watch_stdin cancels=0 await_chain=stdin awaited_by=main
# expect-none
import asyncio
import sys
from contextlib import asynccontextmanager

gate = None


async def drain() -> None:
    await gate.wait()  # <- await:drain


@asynccontextmanager
async def lifespan():
    yield
    await drain()  # <- await:lifespan


async def serve(started: asyncio.Event) -> None:
    async with lifespan():  # <- await:serve
        started.set()  # <- await:serve


async def ticks():
    while not gate.is_set():
        await gate.wait()  # <- await:ticks
        yield 1


async def consume(started: asyncio.Event) -> None:
    started.set()
    async for _ in ticks():  # <- await:consume
        pass


async def inner():
    await gate.wait()  # <- await:inner
    yield 1


async def outer():
    async for x in inner():  # <- await:outer
        yield x


async def relay(started: asyncio.Event) -> None:
    started.set()
    async for _ in outer():  # <- await:relay
        pass


async def guarded():
    try:
        yield 1
    finally:
        await gate.wait()  # <- await:finally


async def closer(started: asyncio.Event) -> None:
    g = guarded()
    await g.__anext__()
    started.set()
    await g.aclose()  # <- await:aclose


async def catcher():
    try:
        yield 1
    except ValueError:
        await gate.wait()  # <- await:except
        yield 2


async def thrower(started: asyncio.Event) -> None:
    g = catcher()
    await g.__anext__()
    started.set()
    await g.athrow(ValueError("thrown"))  # <- await:athrow
    await g.aclose()


async def watch_stdin(started: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    eof = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: eof.done() or eof.set_result(None))
    started.set()
    await eof  # <- await:stdin
    loop.remove_reader(sys.stdin.fileno())
    gate.set()


def ready() -> None:
    print("ready", flush=True)


async def main() -> None:
    global gate
    gate = asyncio.Event()
    workers = (serve, consume, relay, closer, thrower, watch_stdin)
    started = [asyncio.Event() for _ in workers]
    tasks = [asyncio.ensure_future(w(s)) for w, s in zip(workers, started)]
    for ev in started:
        await ev.wait()
    asyncio.get_running_loop().call_soon(ready)  # runs once every task is suspended
    await asyncio.gather(*tasks)  # <- await:main
    print("all done:", all(t.done() and not t.cancelled() for t in tasks))


asyncio.run(main())
