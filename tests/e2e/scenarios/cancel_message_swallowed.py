# cancel("shutdown") of a task that swallows it: the report keeps the message.
# min-python: 3.9
# expect: swallowed_cancel coro=Service.run state=finished result_type=str result_repr="'stopped'" message=shutdown cancels=1
import asyncio


class Service:
    async def run(self, started: asyncio.Event) -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError as e:
            print("swallowing cancel with args", e.args)
        return "stopped"


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.create_task(Service().run(started), name="svc")  # <- create
    await started.wait()
    t.cancel(msg="shutdown")  # <- cancel
    print(await t)


asyncio.run(main())
