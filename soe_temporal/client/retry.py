"""Asking Temporal again after a refusal that only says "not now" (``explain.server_busy``):
exponential backoff with jitter, bounded by the caller's own time limit."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# Backoff between asks the server refused for the moment: first, and at most (seconds).
FIRST_BACKOFF_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 2.0


class Backoff:
    """Exponential, with jitter, so that callers refused together do not return together."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._next = FIRST_BACKOFF_SECONDS

    async def sleep(self) -> None:
        await asyncio.sleep(self._next * random.uniform(0.5, 1.5))
        self._next = min(self._next * 2, MAX_BACKOFF_SECONDS)


def stop_if_cancelled() -> None:
    """temporalio turns the cancellation of a call on its way into an error of its own
    (``RPCTimeoutOrCancelledError``): a task being cancelled (Ctrl-C, a caller's time
    limit) stops here, instead of taking that error for the server's and asking again."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def retrying(ask: Callable[[], Awaitable[T]], temporary: Callable[[Exception], bool]) -> T:
    """``ask()`` until the server takes it; errors that are not ``temporary`` go through.
    Unbounded here: callers put their own time limit around it."""
    backoff = Backoff()
    while True:
        try:
            return await ask()
        except Exception as error:
            stop_if_cancelled()
            if not temporary(error):
                raise
            await backoff.sleep()
