"""Handles SIGTERM itself and goes on.  Prints `ready` from inside
asyncio.run, waits for the runner's line (sent after its SIGTERM), then
blocks 0.6 s: past a shutdown_timeout of 0.3 s counted from that SIGTERM,
the exit comes with the shutdown's report overdue."""
import asyncio
import signal
import sys
import time

TERMS = []
signal.signal(signal.SIGTERM, lambda signum, frame: TERMS.append(signum))


async def main():
    print("ready", flush=True)
    sys.stdin.readline()
    time.sleep(0.6)
    print("SIGTERM handled:", TERMS == [signal.SIGTERM])


asyncio.run(main())
