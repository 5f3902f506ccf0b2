# The built-in suppression of anyio.to_process's shutdown swallow, turned off:
# the swallow is reported.
# requires-module: anyio
# options: builtin_suppressions=0
# expect: swallowed_cancel coro=_shutdown_process_pool_on_exit state=finished
from operator import mul

import anyio
from anyio import to_process


async def main() -> None:
    print("product:", await to_process.run_sync(mul, 6, 7))


if __name__ == "__main__":  # the workers import this module as __mp_main__
    anyio.run(main)
