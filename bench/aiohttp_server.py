# SPDX-License-Identifier: MIT
"""aiohttp hello-world server for bench/run.py (Debian python3-aiohttp).

    python3 bench/aiohttp_server.py --loop asyncio|uvloop [--max-seconds S]

Listens on 127.0.0.1 only, on a port the kernel picks, and prints
`READY <port>` on stdout once it accepts connections.  It stops by itself on
SIGTERM or SIGINT, or after --max-seconds in any case, and exits 0 after a
clean shutdown.  Access logging is off (the usual hello-world setup).
"""

import argparse
import asyncio
import signal
import sys

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, World!")


async def serve(max_seconds):
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("READY %d" % port, flush=True)
    try:
        await asyncio.wait_for(stop.wait(), max_seconds)
    except asyncio.TimeoutError:
        print("aiohttp_server: stopping after %ss" % max_seconds, file=sys.stderr)
    await runner.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    ap.add_argument("--max-seconds", type=float, default=60.0)
    a = ap.parse_args()
    if a.loop == "uvloop":
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(serve(a.max_seconds))


if __name__ == "__main__":
    main()
