"""Sending signals to an execution, and waiting for them, with any number of callers.

The server lets only about ten updates be in flight per execution, so an update per caller
cannot carry hundreds of callers at once. So:

- a caller alone on an execution (the common case) sends its signals in the
  ``soe_broadcast`` update, which answers once the execution is idle: one message;
- a caller that finds one of this client's broadcasts to the same execution in flight, or
  whose update the server refuses for the moment, sends its signals as the ``soe_signal``
  signal (which has no such limit) and joins the execution's watch: one ``soe_wait_idle``
  update at a time, shared by every caller of this client waiting on that execution, that
  answers for all their request ids at once.

Every send carries a request id, which an execution takes once (``Execution.deliver``): a
retry after any error, or a signal after a refused update that may have been applied
after all, never delivers the signals twice.

The sends go through :class:`BroadcastChannel`, so this can be tested against a scripted
execution; :class:`~soe_temporal.client.SoeClient` sends through Temporal.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ..engine.execution import REQUESTS_KEPT
from ..temporal.payloads import BroadcastRequest, IdleReport, WaitRequest
from .retry import Backoff, retrying, stop_if_cancelled

T = TypeVar("T")
# Signalled requests of one client waiting on one execution at once: half of what an
# execution remembers (REQUESTS_KEPT).
SIGNALLED_AT_ONCE = REQUESTS_KEPT // 2


@dataclass
class Delivery:
    """What a caller knows of whether its signals reached the execution: ``delivered`` is
    True once Temporal took them, False while nothing was sent, None when an attempt may
    or may not have reached it. Sending again under ``request_id`` is safe in every case."""

    request_id: str
    delivered: bool | None = False

    def note(self) -> str:
        if self.delivered:
            return f"The signals were delivered (request id '{self.request_id}')."
        if self.delivered is False:
            return f"The signals were not delivered (request id '{self.request_id}')."
        return (
            "Temporal did not confirm whether the signals were delivered; send them again "
            f"with request_id='{self.request_id}': they are applied at most once."
        )


class BroadcastChannel(Protocol):
    """How signals and waits reach one execution."""

    async def update(self, execution_id: str, request: BroadcastRequest) -> IdleReport:
        """The ``soe_broadcast`` update: deliver, wait until idle, report."""
        ...

    async def signal(self, execution_id: str, payload: dict[str, Any]) -> None:
        """The ``soe_signal`` signal: ``{"signals": [...], "request_id": ...}``."""
        ...

    async def wait(self, execution_id: str, request: WaitRequest) -> IdleReport:
        """The ``soe_wait_idle`` update."""
        ...


class Broadcaster:
    """Sends each caller's signals once, by the cheapest way the load allows.

    ``temporary`` tells a refusal that only says "not now" (a full update slot, an aborted
    update, a busy server) from a real error, which reaches the caller unchanged."""

    def __init__(self, channel: BroadcastChannel, temporary: Callable[[Exception], bool]) -> None:
        self._channel = channel
        self._temporary = temporary
        self._updating: set[str] = set()  # executions this client has an update in flight to
        self._watches: dict[str, _Watch] = {}
        self._slots: dict[str, _Slots] = {}

    async def send(
        self, execution_id: str, signals: list[str], delivery: Delivery, wait: bool
    ) -> IdleReport | None:
        """Deliver ``signals`` under ``delivery.request_id``, keeping ``delivery`` up to
        date; with ``wait``, return the execution's report once it has taken them and is
        idle (their cascade and that cascade's unhandled failures)."""
        payload = {"signals": list(signals), "request_id": delivery.request_id}
        if wait and execution_id not in self._updating:
            self._updating.add(execution_id)
            try:
                request = BroadcastRequest(list(signals), True, delivery.request_id)
                report = await self._attempt(
                    delivery, lambda: self._channel.update(execution_id, request)
                )
                if not report.retry:
                    return report
                # The execution is continuing as new with the signals: wait on its next run.
            except Exception as error:
                stop_if_cancelled()
                if not self._temporary(error):
                    raise
            finally:
                self._updating.discard(execution_id)
        if not wait:
            await self._signal(execution_id, payload, delivery)
            return None
        # An execution remembers its last REQUESTS_KEPT request ids: keep fewer than that
        # of this client's signals unanswered at once, so none is forgotten before its
        # wait asks for it (the rest queue here).
        slots = self._slots.setdefault(execution_id, _Slots())
        slots.users += 1
        try:
            async with slots.semaphore:
                await self._signal(execution_id, payload, delivery)
                return await self._wait_for(execution_id, delivery.request_id)
        finally:
            slots.users -= 1
            if not slots.users:
                del self._slots[execution_id]

    async def _signal(self, execution_id: str, payload: dict[str, Any], delivery: Delivery) -> None:
        await retrying(
            lambda: self._attempt(delivery, lambda: self._channel.signal(execution_id, payload)),
            self._temporary,
        )

    async def _attempt(self, delivery: Delivery, send: Callable[[], Awaitable[T]]) -> T:
        """One attempt to deliver: unknown while it is on its way, delivered once taken."""
        if not delivery.delivered:
            delivery.delivered = None
        result = await send()
        delivery.delivered = True
        return result

    async def _wait_for(self, execution_id: str, request_id: str) -> IdleReport:
        watch = self._watches.get(execution_id)
        if watch is None:
            watch = self._watches[execution_id] = _Watch()
        waiter: asyncio.Future[IdleReport] = asyncio.get_running_loop().create_future()
        watch.waiting.setdefault(request_id, []).append(waiter)
        if watch.task is None:
            watch.task = asyncio.create_task(self._watch(execution_id, watch))
        try:
            return await waiter
        finally:
            # Answered, failed, or the caller gave up (its time limit): no longer waiting.
            waiters = watch.waiting.get(request_id, [])
            if waiter in waiters:
                waiters.remove(waiter)
                if not waiters:
                    del watch.waiting[request_id]
                if not watch.waiting and watch.task is not None:
                    watch.task.cancel()

    async def _watch(self, execution_id: str, watch: _Watch) -> None:
        """One wait at a time for every request id waiting on the execution; each caller
        is answered as soon as a report covers its id (ids sent after the wait went out
        are asked for in the next)."""
        backoff = Backoff()
        try:
            while watch.waiting:
                asked = list(watch.waiting)
                try:
                    report = await self._channel.wait(execution_id, WaitRequest(request_ids=asked))
                except Exception as error:
                    stop_if_cancelled()
                    if self._temporary(error):
                        await backoff.sleep()
                        continue
                    for waiters in watch.waiting.values():
                        for waiter in waiters:
                            if not waiter.done():
                                waiter.set_exception(error)
                    watch.waiting.clear()
                    return
                if report.retry:  # continuing as new: ask the next run
                    continue
                backoff.reset()
                # Every id asked for was taken before the wait (its signal went first); one
                # the report leaves out was taken so long ago that the execution no longer
                # remembers its cascade (and so its failures).
                for request_id in asked:
                    answer = _report_for(report, report.requests.get(request_id))
                    for waiter in watch.waiting.pop(request_id, []):
                        if not waiter.done():
                            waiter.set_result(answer)
        finally:
            watch.task = None
            if self._watches.get(execution_id) is watch and not watch.waiting:
                del self._watches[execution_id]


class _Slots:
    """How many of this client's signalled requests may wait on one execution at once."""

    def __init__(self) -> None:
        self.semaphore = asyncio.Semaphore(SIGNALLED_AT_ONCE)
        self.users = 0


class _Watch:
    def __init__(self) -> None:
        # Request id -> the callers waiting for it (two callers may send one id).
        self.waiting: dict[str, list[asyncio.Future[IdleReport]]] = {}
        self.task: asyncio.Task[None] | None = None


def _report_for(report: IdleReport, cascade: int | None) -> IdleReport:
    """One request's part of a shared report: its cascade and that cascade's failures."""
    return dataclasses.replace(
        report,
        cascade=cascade,
        failures=[
            f for f in report.failures if cascade is not None and f.get("cascade") == cascade
        ],
        requests={},
    )
