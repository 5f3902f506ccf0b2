# The shutdown-hang view of a program hung in its event loop (asleep in
# epoll): main awaits a supervisor task that awaits a fetch task, itself
# suspended two coroutines deep; a heartbeat sleeps; a stubborn task swallowed
# one cancel and waits again; a watcher waits for stdin.  The runner sends
# SIGUSR2 five times (each must bring a snapshot within 1 s: reason "signal",
# live_tasks with every task, its awaiting frames and who awaits it), then a
# storm of 500, then one more, then closes stdin: the program finishes as it
# would without the library (the stubborn task's swallowed cancel is the one
# leak at exit).
# options: grace=60
# step: wait-line ready
# step: snapshot 5
# step: storm 500
# step: snapshot 1
# step: close-stdin
# live-count: 6
# live: coro=main cancels=0 await_chain=main awaited_by=none id=1
# live: coro=supervisor cancels=0 await_chain=supervisor awaited_by=main create=supervisor
# live: coro=fetch_page cancels=0 await_chain=read,fetch awaited_by=supervisor create=fetch
# live: coro=heartbeat cancels=0 await_chain=heartbeat awaited_by=none
# live: coro=stubborn cancels=1 await_chain=stubborn awaited_by=none create=stubborn cancel=stubborn
# live: coro=watch_stdin cancels=0 await_chain=stdin awaited_by=none
# expect: swallowed_cancel coro=stubborn state=finished result_repr="'gave up'" cancels=1 create=stubborn cancel=stubborn
import asyncio
import sys


async def read_body(gate: asyncio.Event, started: asyncio.Event) -> str:
    started.set()
    await gate.wait()  # <- await:read
    return "body"


async def fetch_page(gate: asyncio.Event, started: asyncio.Event) -> str:
    return await read_body(gate, started)  # <- await:fetch


async def supervisor(gate: asyncio.Event, started: asyncio.Event) -> str:
    child = asyncio.ensure_future(fetch_page(gate, started))  # <- create:fetch
    return await child  # <- await:supervisor


async def heartbeat(started: asyncio.Event) -> None:
    started.set()
    while True:
        await asyncio.sleep(3600)  # <- await:heartbeat


async def stubborn(gate: asyncio.Event, started: asyncio.Event, recovered: asyncio.Event) -> str:
    started.set()
    while True:
        try:
            await gate.wait()  # <- await:stubborn
            return "gave up"
        except asyncio.CancelledError:
            recovered.set()  # BUG: swallowed; waits again


async def watch_stdin(gate: asyncio.Event, started: asyncio.Event) -> None:
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
    gate = asyncio.Event()
    started = [asyncio.Event() for _ in range(4)]
    recovered = asyncio.Event()
    sup = asyncio.ensure_future(supervisor(gate, started[0]))  # <- create:supervisor
    beat = asyncio.ensure_future(heartbeat(started[1]))
    stub = asyncio.ensure_future(stubborn(gate, started[2], recovered))  # <- create:stubborn
    watch = asyncio.ensure_future(watch_stdin(gate, started[3]))
    for ev in started:
        await ev.wait()
    stub.cancel()  # <- cancel:stubborn
    await recovered.wait()
    loop = asyncio.get_running_loop()
    loop.call_soon(ready)  # runs once every task, main too, is suspended
    body = await sup  # <- await:main
    beat.cancel()
    await asyncio.gather(beat, watch, return_exceptions=True)
    print("body:", body, "heartbeat cancelled:", beat.cancelled(), "stubborn:", await stub)


asyncio.run(main())
