# Tasks pending at exit say what they wait for, as a snapshot would: a loop
# that is never closed leaves a holder inside `async with` of a lock
# waiting for an Event, a waiter for that lock (held by the holder,
# certain), and two tasks deadlocked on two locks (the exit report's
# deadlocks).  Each is pending_at_exit.  What asyncio and the coroutines'
# closing then say at the interpreter's teardown (in an order that varies
# from run to run) is left unprinted: pending_at_exit_unclosed_loop covers it.
# expect: pending_at_exit coro=holder waits=event waits_name=hang_at_exit.EV locks_held=1 never=no
# expect: pending_at_exit coro=waiter waits=lock waits_name=hang_at_exit.LOCK held_by=holder holders=certain never=no
# expect: pending_at_exit coro=pair_a waits=lock never=yes locks_held=1
# expect: pending_at_exit coro=pair_b waits=lock never=yes locks_held=1
# exit-deadlock: pair_a,pair_b
import asyncio
import sys

EV = LOCK = None
L = {}


async def holder():
    async with LOCK:
        await EV.wait()


async def waiter():
    async with LOCK:
        pass


async def pair_a(both):
    async with L["a"]:
        await both.wait()
        async with L["b"]:
            pass


async def pair_b(both):
    async with L["b"]:
        both.set()
        async with L["a"]:
            pass


async def main():
    global EV, LOCK
    EV, LOCK = asyncio.Event(), asyncio.Lock()
    L["a"], L["b"] = asyncio.Lock(), asyncio.Lock()
    both = asyncio.Event()
    main.tasks = [asyncio.ensure_future(holder()), asyncio.ensure_future(pair_a(both)),
                  asyncio.ensure_future(pair_b(both))]
    await asyncio.sleep(0)
    main.tasks.append(asyncio.ensure_future(waiter()))
    for _ in range(3):
        await asyncio.sleep(0)
    return "main done"


loop = asyncio.new_event_loop()
loop.set_exception_handler(lambda loop, context: None)
sys.unraisablehook = lambda unraisable: None
print(loop.run_until_complete(main()))
