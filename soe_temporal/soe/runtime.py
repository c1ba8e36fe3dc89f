"""The sync API's engine room: one event loop per process, in a background thread.

soe-ai's functions are synchronous; Temporal's client and workers are asyncio. Every
Temporal object of ``soe_temporal.soe`` (clients, in-process workers, the time-skipping
test server) lives on one loop run by a daemon thread, and every public function is
``run(coroutine)``: the coroutine runs there while the caller's thread waits. The caller's
thread may run a loop of its own (Jupyter, pytest-asyncio): it is blocked for the call and
nothing on it is needed.

A coroutine running *on* that loop (an ``async def`` tool of an in-process worker) must not
call the sync API: it would block the very loop that has to answer. ``run`` refuses that
with :class:`SyncCallFromRuntimeLoopError` instead of hanging.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from ..errors import SyncCallFromRuntimeLoopError

T = TypeVar("T")
_LOG = logging.getLogger(__name__)
EXIT_TIMEOUT_SECONDS = 10.0
SYNC_FROM_LOOP_MESSAGE = (
    "soe_temporal.soe's functions are synchronous and were called from a coroutine running "
    "on soe_temporal.soe's own event loop (an `async def` tool of its in-process worker), "
    "which would block the loop that must answer. From an async tool use "
    "`await current_soe_client().broadcast_signals(execution_id, signals, wait=False)` "
    "(soe_temporal.tool_context), or make the tool a plain `def`."
)


class _Runtime:
    """The background loop thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(
            target=self._serve, args=(ready,), name="soe-temporal", daemon=True
        )
        self.thread.start()
        ready.wait()
        # Run at exit, in order: workers (they poll the servers), then the servers.
        self.at_exit: list[Callable[[], Awaitable[None]]] = []
        self.at_exit_last: list[Callable[[], Awaitable[None]]] = []

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    def on_loop(self) -> bool:
        return threading.get_ident() == self.thread.ident

    def shutdown(self) -> None:
        async def stop_all() -> None:
            for stop in [*self.at_exit, *self.at_exit_last]:
                try:
                    await stop()
                except Exception:  # exiting anyway: say it, do not raise
                    _LOG.warning("soe_temporal.soe: stopping at exit failed", exc_info=True)

        if self.thread.is_alive() and not self.on_loop():
            future = asyncio.run_coroutine_threadsafe(stop_all(), self.loop)
            try:
                future.result(EXIT_TIMEOUT_SECONDS)
            except (concurrent.futures.TimeoutError, Exception):
                future.cancel()
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(EXIT_TIMEOUT_SECONDS)


_RUNTIME: _Runtime | None = None
_RUNTIME_LOCK = threading.Lock()


def runtime() -> _Runtime:
    """The process's runtime, started on first use and stopped at exit."""
    global _RUNTIME
    with _RUNTIME_LOCK:
        if _RUNTIME is None:
            _RUNTIME = _Runtime()
            atexit.register(_RUNTIME.shutdown)
        return _RUNTIME


def on_runtime_loop() -> bool:
    """Whether the calling code runs on the runtime's loop thread."""
    return _RUNTIME is not None and _RUNTIME.on_loop()


def refuse_on_runtime_loop() -> None:
    """Raise SyncCallFromRuntimeLoopError when called on the runtime loop's thread."""
    if on_runtime_loop():
        raise SyncCallFromRuntimeLoopError(SYNC_FROM_LOOP_MESSAGE)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on the runtime loop and wait for its result, from any thread but
    the loop's own. Ctrl-C (any BaseException while waiting) cancels it and re-raises."""
    current = runtime()
    if current.on_loop():
        coroutine.close()
        raise SyncCallFromRuntimeLoopError(SYNC_FROM_LOOP_MESSAGE)
    future = asyncio.run_coroutine_threadsafe(coroutine, current.loop)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise
