# asyncio imported and a loop run for 0.3 s (six intervals of 0.05 s) on
# futures and callbacks only: no task is ever made, so no periodic report is
# written (nor an exit report): no file, nothing on stderr.
# options: interval=0.05
# expect-no-report
import asyncio

loop = asyncio.new_event_loop()
fut = loop.create_future()
loop.call_later(0.3, fut.set_result, "resolved by a timer")
print(loop.run_until_complete(fut))
loop.close()
