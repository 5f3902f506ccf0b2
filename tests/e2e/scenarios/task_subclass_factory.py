# A Task subclass with its own __init__ and a custom task factory: the swallowing
# task is still recorded, with the right coroutine name.
# expect: swallowed_cancel coro=Pool.leaky_job state=finished result_type=NoneType
import asyncio


class MyTask(asyncio.Task):
    def __init__(self, coro, *, loop=None, **kwargs):
        super().__init__(coro, loop=loop, **kwargs)
        self.tag = "custom"


class Pool:
    async def leaky_job(self, started: asyncio.Event) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            print("job: swallowed")


async def fine() -> str:
    return "ok"


async def main() -> None:
    loop = asyncio.get_running_loop()
    loop.set_task_factory(lambda loop, coro, **kw: MyTask(coro, loop=loop, **kw))
    print(await asyncio.create_task(fine()))
    started = asyncio.Event()
    t = asyncio.create_task(Pool().leaky_job(started))  # <- create
    print(type(t).__name__, t.tag)
    await started.wait()
    t.cancel()  # <- cancel
    await t
    print("cancelled:", t.cancelled())


asyncio.run(main())
