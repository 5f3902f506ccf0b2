"""Python running a shell that runs Python: one swallowed cancel here, then
`sh -c 'python exec_b.py; echo sh-done'` (the shell stays a separate,
non-Python process)."""
import asyncio
import os
import shlex
import subprocess
import sys


async def a_worker():
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return "a"


async def main():
    t = asyncio.create_task(a_worker())
    await asyncio.sleep(0.01)
    t.cancel()
    return await t


print("A", asyncio.run(main()), flush=True)
b = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exec_b.py")
cmd = "%s %s; echo sh-done" % (shlex.quote(sys.executable), shlex.quote(b))
r = subprocess.run(["/bin/sh", "-c", cmd], stdout=subprocess.PIPE)
print("shell", r.returncode, r.stdout.decode().split())
