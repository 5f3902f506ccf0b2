"""A pending task of the main interpreter dropped in a reference cycle,
then collected: by this interpreter (`subinterp_gc.py main`), or by a
subinterpreter's gc.collect() (`sub`), which on 3.8 collects every
interpreter's garbage (one collector for all), so that the task is
finalized while the subinterpreter's thread state is current."""
import asyncio
import gc
import sys

import _testcapi


def destroyed(loop, context):
    print("destroyed pending:", context["task"].get_name(), flush=True)


async def main():
    fut = asyncio.get_running_loop().create_future()

    async def forgotten():
        await fut  # the task and its future refer to each other

    asyncio.ensure_future(forgotten()).set_name("forgotten")
    await asyncio.sleep(0)


gc.disable()
loop = asyncio.new_event_loop()
loop.set_exception_handler(destroyed)
loop.run_until_complete(main())  # not asyncio.run: it would cancel the task
if sys.argv[1] == "sub":
    print("subinterpreter:", _testcapi.run_in_subinterp("import gc; gc.collect()"), flush=True)
gc.collect()
loop.close()
print("done", flush=True)
