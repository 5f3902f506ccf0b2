# Snapshots after the program installed its own handlers for SIGINT and
# SIGUSR1 (signal.signal, before any task) and SIGTERM (loop.add_signal_handler,
# which also sets a wakeup fd): SIGUSR2 still brings snapshots (several, a
# storm of 500, then more), and the program's own handlers still run, each
# printing a line (the runner waits for it), SIGTERM ending the program
# normally.  (The handlers hand their work to the loop: printing from inside
# a Python signal handler can re-enter a print that the signal interrupted.)
# "ready" is printed by a loop callback once every task is suspended.
# step: wait-line ready
# step: snapshot 3
# step: storm 500
# step: signal SIGUSR1
# step: wait-line got SIGUSR1
# step: snapshot 1
# step: signal SIGINT
# step: wait-line got SIGINT
# step: snapshot 1
# step: signal SIGTERM
# live-count: 2
# live: coro=main cancels=0 await_chain=main awaited_by=none
# live: coro=serve cancels=0 await_chain=serve awaited_by=main create=serve
# expect-none
import asyncio
import signal


loop = None


def say(*words) -> None:
    print(*words, flush=True)


def on_signal(signum, frame) -> None:
    loop.call_soon_threadsafe(say, "got", signal.Signals(signum).name)


async def serve(stopping: asyncio.Event) -> str:
    await stopping.wait()  # <- await:serve
    return "served"


async def main() -> None:
    global loop
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    server = asyncio.ensure_future(serve(stopping))  # <- create:serve
    loop.call_soon(say, "ready")  # runs once serve and main are suspended
    print(await server)  # <- await:main
    print("SIGUSR2 handler untouched by the program:",
          signal.getsignal(signal.SIGUSR2) in (signal.SIG_DFL, None))


signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGUSR1, on_signal)
asyncio.run(main())
