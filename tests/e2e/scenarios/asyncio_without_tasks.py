# asyncio imported and a loop run on plain futures and callbacks, but no Task is
# ever created: no report file, nothing on stderr.
# expect-no-report
import asyncio

loop = asyncio.new_event_loop()
fut = loop.create_future()
loop.call_soon(fut.set_result, "resolved by a callback")
print(loop.run_until_complete(fut))
loop.close()
