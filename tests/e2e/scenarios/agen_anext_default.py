# anext() with a default (3.10+) returns an anext_awaitable, not the
# generator's asend: a task suspended in `await anext(gen, None)` shows the
# generator's frame under it all the same, down to the line the generator
# waits at.  Stdin's end releases it; no leak.
# min-python: 3.10
# step: wait-line ready
# step: snapshot 1
# step: close-stdin
# live-count: 2
# live: coro=main cancels=0 await_chain=main awaited_by=none id=1
# live: coro=poll cancels=0 await_chain=gen,anext awaited_by=main
# expect-none
import asyncio
import sys


async def lines(gate: asyncio.Future):
    await gate  # <- await:gen
    yield "line"


async def poll(gate: asyncio.Future) -> object:
    return await anext(lines(gate), None)  # <- await:anext


def ready() -> None:
    print("ready", flush=True)


async def main() -> None:
    loop = asyncio.get_running_loop()
    gate = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: gate.done() or gate.set_result(None))
    task = asyncio.ensure_future(poll(gate))
    loop.call_soon(ready)
    print("got:", await task)  # <- await:main
    loop.remove_reader(sys.stdin.fileno())


asyncio.run(main())
