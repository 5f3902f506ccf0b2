# The threads of a snapshot (SIGUSR2): the main thread first; a non-daemon
# thread, which the exit waits for; a daemon thread, which it does not; a
# thread threading does not know (_thread.start_new_thread: no name, no
# daemon flag); a worker of the loop's default executor running a Python
# job; a worker of another pool running a C function (os.read: its name,
# no frame); an idle worker of a third pool, which leaves when its pool
# shuts down (a daemon thread on 3.8, not after); no thread of taskleak's own.
# Then the runner closes stdin and everything ends.
# step: wait-line ready
# step: snapshot 2
# step: close-stdin
# expect-none
# expect-thread: main=yes exit_waits=no daemon=no
# expect-thread: name=uploader daemon=no exit_waits=yes why=non-daemon stack=upload
# expect-thread: name=heartbeat daemon=yes exit_waits=no why=none stack=beat
# expect-thread: stack=raw daemon=null exit_waits=no
# expect-thread: job=blocking_job exit_waits=yes why=default-executor stack=job
# expect-thread: job=read name=pool_0 exit_waits=yes why=executor
# expect-thread: name=idle_0 exit_waits=no why=none
# live: coro=main awaited_by=none
import _thread
import asyncio
import concurrent.futures
import os
import threading

import _e2e

release = threading.Event()
raw_lock = _thread.allocate_lock()
raw_lock.acquire()


def upload() -> None:
    release.wait()  # <- thread:upload


def beat() -> None:
    release.wait()  # <- thread:beat


def raw() -> None:
    raw_lock.acquire()  # <- thread:raw


def blocking_job() -> str:
    release.wait()  # <- thread:job
    return "done"


async def main() -> None:
    loop = asyncio.get_running_loop()
    r, w = os.pipe()

    def on_close() -> None:
        release.set()
        raw_lock.release()
        os.write(w, b"x")
    _e2e.on_stdin_closed(on_close)
    threading.Thread(target=upload, name="uploader").start()
    threading.Thread(target=beat, name="heartbeat", daemon=True).start()
    _thread.start_new_thread(raw, ())
    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="pool")
    idle = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="idle")
    idle.submit(int).result()
    jobs = [loop.run_in_executor(None, blocking_job), loop.run_in_executor(pool, os.read, r, 1)]
    run_job = concurrent.futures.thread._WorkItem.run
    _e2e.threads_in(upload, beat, raw, blocking_job, run_job, run_job)
    print("ready", flush=True)
    print(await asyncio.gather(*jobs))
    pool.shutdown()
    idle.shutdown()


asyncio.run(main())
