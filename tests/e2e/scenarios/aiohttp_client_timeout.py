# Issue 7: an aiohttp client request times out against a slow local aiohttp
# server (127.0.0.1, an ephemeral port).  The client's timeout scope
# (async_timeout / asyncio.timeout) consumes its own cancel: no false alarm;
# the server cancels its handler when the client goes away, which ends
# cancelled.  Debian's python3-aiohttp only.
# requires-module: aiohttp
# expect-none
import asyncio

import aiohttp
from aiohttp import web


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(30)
    return web.Response(text="late")


async def main() -> None:
    app = web.Application()
    app.router.add_get("/", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    timeout = aiohttp.ClientTimeout(total=0.05)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            async with session.get("http://127.0.0.1:%d/" % port) as resp:
                print(await resp.text())
        except asyncio.TimeoutError:
            print("client timed out")
    await runner.cleanup()


asyncio.run(main())
