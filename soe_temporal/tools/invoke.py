"""Calling user code from an activity without blocking the worker's event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any


async def invoke(
    function: Callable[..., Any],
    args: list[Any] | tuple[Any, ...],
    kwargs: dict[str, Any],
    executor: Executor | None,
) -> Any:
    """Await an async function; run a plain one in ``executor`` (keeping the activity's
    context variables, so it can call ``temporalio.activity.info()``)."""
    if inspect.iscoroutinefunction(function):
        return await function(*args, **kwargs)
    call = functools.partial(function, *args, **kwargs)
    context = contextvars.copy_context()
    result = await asyncio.get_running_loop().run_in_executor(executor, context.run, call)
    return await result if inspect.isawaitable(result) else result
