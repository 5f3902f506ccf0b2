# A loop closed while tasks are still pending; the tasks are then dropped and
# collected before exit: asyncio prints "Task was destroyed but it is pending!"
# (with and without the library) and the report has destroyed_pending leaks:
# one task that ran up to an await, one that never started.
# expect: destroyed_pending coro=forgotten state=pending create=forgotten await=forgotten cancels=0
# expect: destroyed_pending coro=never_started state=pending create=never_started cancels=0
import asyncio
import gc


async def forgotten() -> None:
    asyncio.get_running_loop().stop()  # the loop stops after this step
    await asyncio.sleep(0)  # <- await:forgotten
    print("not reached")


async def never_started() -> None:
    print("not reached")


loop = asyncio.new_event_loop()
t1 = loop.create_task(forgotten())  # <- create:forgotten
loop.run_forever()
t2 = loop.create_task(never_started())  # <- create:never_started
loop.close()
print("loop closed; pending:", not t1.done(), not t2.done())
del t1, t2
gc.collect()
print("collected")
