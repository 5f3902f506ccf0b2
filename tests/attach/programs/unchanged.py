"""Known output and exit status 3, whether or not taskleak attached: prints
some lines, "ready", waits for a line "go" on stdin (the runner attaches
before sending it), then creates a task that swallows its cancel, prints
what happened, and exits with status 3."""
import asyncio
import sys


async def leaky():
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        return "swallowed"  # the leak: the cancel does not propagate


async def fine(n):
    await asyncio.sleep(0)
    return n * n


async def main():
    print("start", flush=True)
    print("squares", await asyncio.gather(*(fine(n) for n in range(5))), flush=True)
    print("ready", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    print("got", line.strip(), flush=True)
    task = asyncio.create_task(leaky(), name="leaky-after-attach")  # CREATED-HERE
    await asyncio.sleep(0.01)
    print("cancel ->", task.cancel(), flush=True)
    print("result ->", await task, "cancelled ->", task.cancelled(), flush=True)
    print("squares", await asyncio.gather(*(fine(n) for n in range(3))), flush=True)
    print("done", flush=True)
    return 3


sys.exit(asyncio.run(main()))
