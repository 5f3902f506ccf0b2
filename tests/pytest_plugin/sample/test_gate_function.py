"""A task left in a function-scoped event loop: pytest-asyncio 0.24+ cancels
it when it closes the loop (nothing outlives the test); 0.20 closes the
loop with the task pending, which then is destroyed pending."""

import asyncio

from _loops import asyncio_mark, forever


@asyncio_mark("function")
async def test_function_loop_leaves_task():
    asyncio.create_task(forever())  # FUNCTION-CREATED
