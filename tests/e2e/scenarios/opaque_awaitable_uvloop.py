# A chain the walk cannot enter says so: under uvloop, loop.sock_recv() is a
# Cython coroutine, which has no CPython frame to read.  The task's
# `awaiting` stops at the line that awaits it, and `awaiting_opaque` names
# the Cython type instead of the stack ending silently.  Stdin's end lets
# the peer send; no leak.
# requires-module: uvloop
# step: wait-line ready
# step: snapshot 1
# step: close-stdin
# live-count: 2
# live: coro=main cancels=0 await_chain=main awaited_by=none id=1
# live: coro=receive cancels=0 await_chain=recv opaque=coroutine awaited_by=main waits=future never=no
# expect-none
import asyncio
import socket
import sys

import uvloop


async def receive(sock: socket.socket) -> bytes:
    loop = asyncio.get_running_loop()
    return await loop.sock_recv(sock, 16)  # <- await:recv


def ready() -> None:
    print("ready", flush=True)


async def main() -> None:
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    a.setblocking(False)
    task = asyncio.ensure_future(receive(a))
    loop.add_reader(sys.stdin.fileno(), lambda: b.send(b"hello"))
    loop.call_soon(ready)
    print("received:", await task)  # <- await:main
    loop.remove_reader(sys.stdin.fileno())
    a.close()
    b.close()


uvloop.install()
asyncio.run(main())
