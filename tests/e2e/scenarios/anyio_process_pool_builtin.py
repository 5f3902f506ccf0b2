# anyio.to_process keeps a process pool; at event loop shutdown its
# _shutdown_process_pool_on_exit task catches the cancel, kills the workers
# and returns, on purpose.  A built-in suppression covers it (listed with
# its hit count and reason in the report); builtin_suppressions=0 shows the
# swallow (see anyio_process_pool_unsuppressed).
# requires-module: anyio
# expect-none
from operator import mul

import anyio
from anyio import to_process


async def main() -> None:
    print("product:", await to_process.run_sync(mul, 6, 7))


if __name__ == "__main__":  # the workers import this module as __mp_main__
    anyio.run(main)
