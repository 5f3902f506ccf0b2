# A snapshot while Python code spins: a task runs a busy loop with no await
# (the event loop is stuck in it) until SIGTERM, whose handler (signal.signal)
# sets a flag.  Other tasks wait meanwhile.  The collector must still take the
# GIL (the spinning thread gives it up at the switch interval) and write each
# snapshot within 1 s with the waiting tasks and where they wait; a storm of
# 500 SIGUSR2 must not disturb the spin.  Then SIGTERM: the program finishes
# as without the library.
# options: grace=60
# step: wait-line ready
# step: snapshot 5
# step: storm 500
# step: snapshot 1
# step: signal SIGTERM
# live-count: 4
# live: coro=main cancels=0 await_chain=main awaited_by=none
# live: coro=spinner cancels=0 awaited_by=main create=spinner
# live: coro=waiter cancels=0 await_chain=wait,waiter awaited_by=none create=waiter
# live: coro=sleeper cancels=0 await_chain=sleeper awaited_by=none
# expect-none
import asyncio
import signal
import sys
import time

stop = False


def on_term(signum, frame) -> None:
    global stop
    stop = True


async def wait_gate(gate: asyncio.Event, started: asyncio.Event) -> None:
    started.set()
    await gate.wait()  # <- await:wait


async def waiter(gate: asyncio.Event, started: asyncio.Event) -> str:
    await wait_gate(gate, started)  # <- await:waiter
    return "woken"


async def sleeper(started: asyncio.Event) -> None:
    started.set()
    await asyncio.sleep(3600)  # <- await:sleeper


async def spinner(gate: asyncio.Event) -> bool:
    print("ready", flush=True)
    deadline = time.monotonic() + 50
    spins = 0
    while not stop and time.monotonic() < deadline:  # no await: the loop is stuck here
        spins += 1
    gate.set()
    return stop


async def main() -> None:
    gate = asyncio.Event()
    started = [asyncio.Event(), asyncio.Event()]
    w = asyncio.ensure_future(waiter(gate, started[0]))  # <- create:waiter
    s = asyncio.ensure_future(sleeper(started[1]))
    for ev in started:
        await ev.wait()
    spin = asyncio.ensure_future(spinner(gate))  # <- create:spinner
    print("stopped by SIGTERM:", await spin)  # <- await:main
    s.cancel()
    print("waiter:", await w, "sleeper cancelled:",
          (await asyncio.gather(s, return_exceptions=True)) and s.cancelled())


signal.signal(signal.SIGTERM, on_term)
asyncio.run(main())
