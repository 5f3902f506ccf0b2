"""Runs tasks for about a second while the runner sends a storm of the dump
signal.  Prints `ready` once asyncio is up (the library's handler is in
place from then on), then deterministic counts.  Blocking calls that a
signal interrupts (sleep, select, pipe reads, a child process) are part of
the work.  With the argument `sigterm`, the storm is of SIGTERM, which the
program handles itself (a handler that counts, through signal.signal: the
library's sigaction wrapper stands in between) and survives."""
import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

TERMS = []
if sys.argv[1:] == ["sigterm"]:
    signal.signal(signal.SIGTERM, lambda signum, frame: TERMS.append(signum))

ROUNDS = 200


async def normal():
    await asyncio.sleep(0.001)
    return 1


async def cancelled():
    await asyncio.sleep(60)


async def swallower():
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return "swallowed"


def reader(fd, out):
    data = b""
    while True:
        chunk = os.read(fd, 4096)  # interrupted by signals: must be resumed
        if not chunk:
            break
        data += chunk
    out.append(len(data))


async def main():
    print("ready", flush=True)
    r, w = os.pipe()
    got = []
    th = threading.Thread(target=reader, args=(r, got))
    th.start()
    results = {"normal": 0, "cancelled": 0, "swallowed": 0}
    for i in range(ROUNDS):
        a = asyncio.create_task(normal())
        b = asyncio.create_task(cancelled())
        c = asyncio.create_task(swallower()) if i % 10 == 0 else None
        await asyncio.sleep(0.003)
        b.cancel()
        if c:
            c.cancel()
        results["normal"] += await a
        try:
            await b
        except asyncio.CancelledError:
            results["cancelled"] += 1
        if c:
            results["swallowed"] += await c == "swallowed"
        os.write(w, b"x" * 100)
        if i % 50 == 0:
            time.sleep(0.01)  # a blocking sleep in the loop's thread
            subprocess.run(["true"], check=True)
    os.close(w)
    th.join()
    os.close(r)
    print(results, "piped", got[0])
    if sys.argv[1:] == ["sigterm"]:
        sys.stdin.readline()  # the runner's storm is over: no SIGTERM comes at exit
        print("SIGTERM handled:", bool(TERMS), set(TERMS) == {signal.SIGTERM})


asyncio.run(main())
