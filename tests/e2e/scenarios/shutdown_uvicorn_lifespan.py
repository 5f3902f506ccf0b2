# A real stack whose shutdown hangs: uvicorn serving a Starlette app is
# stopped by SIGTERM (uvicorn's own handler), and the app's lifespan
# shutdown waits for a flush that only the runner releases, by closing
# stdin.  Half a second after the signal the library writes the shutdown
# report and one stderr line naming the lifespan's task, suspended in the
# app's own code; then uvicorn finishes its shutdown as it does without the
# library: it ends with the SIGTERM it caught, raised again once it is done
# (status -15, so no exit report: the shutdown report stays on disk).
# requires-module: uvicorn
# requires-module: starlette
# options: shutdown_timeout=0.5
# step: wait-line ready
# step: signal SIGTERM
# step: shutdown-report
# step: close-stdin
# exit: -15
# reason: shutdown
# expect-none
# expect-shutdown: cause=signal signal=SIGTERM blocker="suspended at shutdown_uvicorn_lifespan.py:"
# live: coro=LifespanOn.main await=flush awaited_by=none
import asyncio
import contextlib
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import _e2e


async def hello(request):
    return PlainTextResponse("hello")


@contextlib.asynccontextmanager
async def lifespan(app):
    loop = asyncio.get_running_loop()
    flushed = asyncio.Event()
    _e2e.on_stdin_closed(lambda: loop.call_soon_threadsafe(flushed.set))
    yield
    print("lifespan: flushing", flush=True)
    await flushed.wait()  # <- await:flush
    print("lifespan: flushed", flush=True)


async def main() -> None:
    app = Starlette(routes=[Route("/", hello)], lifespan=lifespan)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    print("ready", flush=True)
    await serving
    print("server stopped")


asyncio.run(main())
