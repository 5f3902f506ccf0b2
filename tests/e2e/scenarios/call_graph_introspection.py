# 3.14's own introspection of the await graph (capture_call_graph,
# format_call_graph, print_call_graph) prints the same with and without the
# library: the runner compares both runs' stdout.  No leak.
# min-python: 3.14
# expect-none
import asyncio
import io
import re


def stable(text: str) -> str:
    return re.sub(r"0x[0-9a-f]+", "0x?", text)  # task ids are addresses


async def leaf(ready: asyncio.Event, release: asyncio.Event) -> None:
    ready.set()
    await release.wait()


async def middle(ready: asyncio.Event, release: asyncio.Event) -> None:
    async with asyncio.TaskGroup() as tg:
        tg.create_task(leaf(ready, release), name="leaf")


async def main() -> None:
    ready, release = asyncio.Event(), asyncio.Event()
    t = asyncio.create_task(middle(ready, release), name="middle")
    await ready.wait()
    await asyncio.sleep(0)
    for task in sorted(asyncio.all_tasks(), key=lambda x: x.get_name()):
        graph = asyncio.capture_call_graph(task)
        print(task.get_name(), "awaited by", sorted(a.future.get_name() for a in graph.awaited_by),
              "frames", [f.frame.f_code.co_name for f in graph.call_stack])
        print(stable(asyncio.format_call_graph(task)))
    out = io.StringIO()
    asyncio.print_call_graph(t, file=out)
    print(stable(out.getvalue()))
    release.set()
    await t


asyncio.run(main())
