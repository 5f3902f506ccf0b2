"""A hung shutdown: two workers swallow every cancel while awaiting an Event
that nobody sets; main idles in asyncio.sleep(3600) (the loop sits in
epoll_wait with one far timer).  Prints "ready" once both are cancelled.

With the argument "heartbeat", a thread also stamps time.monotonic() every
2 ms and, for each line "gap" read on stdin, prints "gap SECONDS": the
longest time between two stamps since the previous "gap" (how long Python
code could not run: the process stopped, or the GIL taken)."""
import asyncio
import sys
import threading
import time


async def flush(ev):
    await ev.wait()  # SUSPENDED-HERE


async def worker(ev):
    while True:
        try:
            await flush(ev)
        except asyncio.CancelledError:
            continue  # a zombie: swallows every cancel


async def main():
    ev = asyncio.Event()
    workers = [asyncio.create_task(worker(ev), name="worker-%d" % i) for i in range(2)]
    await asyncio.sleep(0.05)
    for w in workers:
        w.cancel()
    await asyncio.sleep(0.05)
    print("ready", flush=True)
    await asyncio.sleep(3600)


def heartbeat(state):
    last = time.monotonic()
    while True:
        time.sleep(0.002)
        now = time.monotonic()
        with state["lock"]:
            state["max"] = max(state["max"], now - last)
        last = now


def answer(state):
    for line in sys.stdin:
        if line.strip() == "gap":
            with state["lock"]:
                gap, state["max"] = state["max"], 0.0
            print("gap %.4f" % gap, flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["heartbeat"]:
        state = {"lock": threading.Lock(), "max": 0.0}
        for fn in (heartbeat, answer):
            threading.Thread(target=fn, args=(state,), daemon=True).start()
    asyncio.run(main())
