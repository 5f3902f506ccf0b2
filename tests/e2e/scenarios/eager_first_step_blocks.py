# A snapshot while an eager task (3.12+) is still in the first step that
# create_task runs: it blocks the loop reading stdin.  The snapshot lists
# `reader`, pending, with its creation stacks like any task's, and no
# verdict; `main`, which created it, runs.  Stdin's end lets the step go on;
# the task then ends: no leak.
# min-python: 3.12
# step: wait-line ready
# step: snapshot 1
# step: close-stdin
# live-count: 2
# live: coro=main cancels=0 awaited_by=none id=1
# live: coro=reader cancels=0 create=reader
# expect-none
import asyncio
import sys


async def reader() -> str:
    print("ready", flush=True)
    return sys.stdin.read()


async def main() -> None:
    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    t = asyncio.create_task(reader())  # <- create:reader
    print("read at creation:", t.done(), repr(t.result()))


asyncio.run(main())
