"""A third-party-style cancel scope for the provenance scenarios: like
anyio.move_on_after() or async_timeout 4.x, it cancels its own task on
expiry and consumes that cancel in __exit__ without calling uncancel()."""
import asyncio


class move_on_after:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.expired = False

    def _expire(self) -> None:
        self.expired = True
        self.task.cancel()

    def __enter__(self) -> "move_on_after":
        self.task = asyncio.current_task()
        self.handle = asyncio.get_running_loop().call_later(self.delay, self._expire)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.handle.cancel()
        return self.expired and exc_type is asyncio.CancelledError
