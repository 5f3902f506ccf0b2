# A Starlette app served by uvicorn on 127.0.0.1 (an ephemeral port), called
# by an httpx client, with a slow endpoint whose request the client abandons
# on a timeout, then a graceful shutdown: the stack services run on 3.14.
# Every cancel here is consumed by its scope or ends cancelled: no leak.
# requires-module: uvicorn
# requires-module: starlette
# requires-module: httpx
# expect-none
import asyncio
import socket

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def hello(request):
    return PlainTextResponse("hello")


async def slow(request):
    await asyncio.sleep(30)
    return PlainTextResponse("late")


async def main() -> None:
    app = Starlette(routes=[Route("/", hello), Route("/slow", slow)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    async with httpx.AsyncClient(base_url="http://127.0.0.1:%d" % port) as client:
        for _ in range(3):
            r = await client.get("/")
            print(r.status_code, r.text)
        try:
            await client.get("/slow", timeout=0.2)
        except httpx.TimeoutException as e:
            print("client timed out:", type(e).__name__)
    server.should_exit = True
    await serving
    print("server stopped")


asyncio.run(main())
