# The asyncio program is done, but a non-daemon thread still uploads: the
# exit (threading._shutdown) joins it until the runner closes stdin.  The
# library sees the main thread in threading._shutdown and writes the
# shutdown report half a second later, naming the thread the exit waits
# for; the exit report after it says when the shutdown started.
# options: shutdown_timeout=0.5
# step: wait-line ready
# step: shutdown-report
# step: close-stdin
# expect-none
# expect-shutdown: cause=threads blocker="thread uploader (upload at shutdown_nondaemon_thread.py:"
# expect-thread: name=uploader exit_waits=yes why=non-daemon daemon=no stack=upload
# expect-thread: name=stdin-watch daemon=yes exit_waits=no
# expect-thread: main=yes exit_waits=no
# live-count: 0
import asyncio
import threading

import _e2e

done = threading.Event()


def upload() -> None:
    done.wait()  # <- thread:upload


async def main() -> None:
    threading.Thread(target=upload, name="uploader").start()
    await asyncio.sleep(0)


asyncio.run(main())
_e2e.on_stdin_closed(done.set)
print("ready", flush=True)
