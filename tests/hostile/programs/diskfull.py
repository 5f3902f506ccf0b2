"""The disk fills up while reports are written: the runner sets
RLIMIT_FSIZE small with SIGXFSZ ignored, so writes past the limit fail with
EFBIG.  Leaks accumulate over half a second with periodic reports, so the
report grows: the first ones fit, later ones do not (after the first leak
the program waits until a report exists, so that a slow machine cannot skip
the small ones).  The program itself writes a small file too (to see that
its own I/O behaves the same)."""
import asyncio
import os
import sys
import time

out_dir = sys.argv[1]


async def leaky_worker(i):
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return i


async def first_report():
    """Until this process's report exists (10 s at most; at once without
    the library)."""
    opts = dict(kv.split("=", 1) for kv in os.environ.get("TASKLEAK_OPTIONS", "").split(":")
                if "=" in kv)
    path = opts.get("report_path", "").replace("%p", str(os.getpid()))
    deadline = time.monotonic() + 10
    while path and not os.path.exists(path) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


async def main():
    n = 0
    for i in range(25):
        t = asyncio.create_task(leaky_worker(i))
        await asyncio.sleep(0.02)
        t.cancel()
        n += await t == i
        if i == 0:
            await first_report()
    return n


print("swallowed", asyncio.run(main()))
with open(os.path.join(out_dir, "program-output.txt"), "w") as f:
    f.write("x" * 100)
print("wrote", os.path.getsize(os.path.join(out_dir, "program-output.txt")))
