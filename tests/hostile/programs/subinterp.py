"""Subinterpreters (3.12+): the main interpreter leaks one task, runs
asyncio code (tasks, cancels, swallowed cancels) in three subinterpreters
created and destroyed one after the other, then leaks another task.  Only
the main interpreter is audited: its two leaks must be reported.

`subinterp.py isolated|legacy`: the subinterpreters' configuration (own GIL
and allocator, or shared)."""
import asyncio
import sys
import textwrap

try:
    import _interpreters as interpreters  # 3.13+
except ImportError:
    import _xxsubinterpreters as interpreters  # 3.12

run = getattr(interpreters, "exec", None) or interpreters.run_string
config = sys.argv[1]
if hasattr(interpreters, "new_config"):
    kw = {} if config == "isolated" else {"config": interpreters.new_config("legacy")}
else:
    kw = {"isolated": config == "isolated"}


async def main_leak(tag):
    async def main_worker():
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            return tag

    t = asyncio.create_task(main_worker(), name="main-" + tag)
    await asyncio.sleep(0.01)
    t.cancel()
    return await t


SUB = textwrap.dedent('''
    import asyncio
    async def sub_worker():
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            return "sub"
    async def sub_main():
        ts = [asyncio.create_task(sub_worker()) for _ in range(20)]
        await asyncio.sleep(0.02)
        for t in ts:
            t.cancel()
        r = await asyncio.gather(*ts)
        await asyncio.sleep(0.05)
        return r
    print("sub", len(asyncio.run(sub_main())), flush=True)
''')

print(asyncio.run(main_leak("before")), flush=True)
for i in range(3):
    interp = interpreters.create(**kw)
    r = run(interp, SUB)
    if r is not None:
        print("subinterpreter failed:", r)
    interpreters.destroy(interp)
print(asyncio.run(main_leak("after")))
