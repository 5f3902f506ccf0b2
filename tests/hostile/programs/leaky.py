"""The leaky worker, parameterised: `leaky.py [LEAKS] [CLEAN] [LINGER]`.

LEAKS tasks swallow their cancel (swallowed_cancel leaks), CLEAN tasks end
normally or cancelled (no leak), then the program lingers LINGER seconds
with the loop running (periodic reports happen meanwhile).  With `--wait`
first, it reads one line from stdin before touching asyncio (the runner
plants files meanwhile).  With `--until-report` (after it), the loop also
runs on until this process's report exists (20 s at most; at once without
the library), however slowly the machine lets the collector write.  Output
is deterministic."""
import asyncio
import os
import sys
import time

args = sys.argv[1:]
if args and args[0] == "--wait":
    args = args[1:]
    sys.stdin.readline()
until_report = bool(args) and args[0] == "--until-report"
if until_report:
    args = args[1:]
leaks = int(args[0]) if args else 1
clean = int(args[1]) if len(args) > 1 else 0
linger = float(args[2]) if len(args) > 2 else 0.0


async def leaky_worker(i):
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return i  # swallowed


async def clean_worker(i):
    await asyncio.sleep(0)
    return i


async def main():
    done = 0
    for i in range(clean):
        t = asyncio.create_task(clean_worker(i))
        if i % 2:
            await asyncio.sleep(0)
            t.cancel()
            try:
                await t
            except asyncio.CancelledError:
                done += 1
        else:
            done += await t == i
    swallowed = 0
    for i in range(leaks):
        t = asyncio.create_task(leaky_worker(i))
        await asyncio.sleep(0)
        t.cancel()
        swallowed += await t == i
        if linger and leaks > 1:
            await asyncio.sleep(linger / leaks)
    if linger and leaks <= 1:
        await asyncio.sleep(linger)
    if until_report:
        await report_written()
    print("clean", done, "swallowed", swallowed)


async def report_written():
    opts = dict(kv.split("=", 1) for kv in os.environ.get("TASKLEAK_OPTIONS", "").split(":")
                if "=" in kv)
    path = opts.get("report_path", "").replace("%p", str(os.getpid()))
    deadline = time.monotonic() + 20
    while path and not os.path.exists(path) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


asyncio.run(main())
