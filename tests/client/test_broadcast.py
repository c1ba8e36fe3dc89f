"""The broadcaster against a scripted execution: one update for a lone caller, one shared
wait for many, refusals that only say "not now" retried with the same request id, and
every request delivered once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from soe_temporal.client.broadcast import Broadcaster, Delivery
from soe_temporal.temporal.payloads import BroadcastRequest, IdleReport, WaitRequest

EID = "exec-1"


class Busy(Exception):
    """The server's "not now" (a full update slot, an aborted update)."""


class Broken(Exception):
    """Any other error."""


class ScriptedExecution:
    """Takes each request id once, as SoeWorkflow does, and refuses updates past
    ``slots`` in flight, as the server does. ``work`` is how long a cascade runs."""

    def __init__(self, slots: int = 10, work: float = 0.0) -> None:
        self.slots = slots
        self.work = work
        self.requests: dict[str, int] = {}
        self.delivered: list[list[str]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.updates = 0
        self.signals = 0
        self.waits: list[list[str]] = []
        self.refuse_updates = 0  # the next n updates are refused
        self.apply_refused = False  # ...after being applied (an aborted update)
        self.refuse_signals = 0
        self.broken = False

    def _deliver(self, signals: list[str], request_id: str | None) -> int:
        assert request_id is not None
        if request_id not in self.requests:
            self.requests[request_id] = len(self.requests) + 1
            self.delivered.append(signals)
        return self.requests[request_id]

    def _admit(self) -> None:
        if self.broken:
            raise Broken("no such execution")
        if self.in_flight >= self.slots:
            raise Busy("limit on number of concurrent in-flight updates has been reached (10)")
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)

    async def update(self, execution_id: str, request: BroadcastRequest) -> IdleReport:
        self.updates += 1
        if self.refuse_updates:
            self.refuse_updates -= 1
            if self.apply_refused:
                self._deliver(request.signals, request.request_id)
            raise Busy("workflow update was aborted")
        self._admit()
        try:
            cascade = self._deliver(request.signals, request.request_id)
            await asyncio.sleep(self.work)
            return IdleReport(cascade=cascade, idle=True, failures=self._failures([cascade]))
        finally:
            self.in_flight -= 1

    async def signal(self, execution_id: str, payload: dict[str, Any]) -> None:
        self.signals += 1
        if self.broken:
            raise Broken("no such execution")
        if self.refuse_signals:
            self.refuse_signals -= 1
            raise Busy("resource exhausted")
        self._deliver(payload["signals"], payload["request_id"])

    async def wait(self, execution_id: str, request: WaitRequest) -> IdleReport:
        self._admit()
        try:
            self.waits.append(list(request.request_ids))
            await asyncio.sleep(self.work)
            requests = {r: self.requests[r] for r in request.request_ids}
            return IdleReport(
                cascade=None,
                idle=True,
                requests=requests,
                failures=self._failures(requests.values()),
            )
        finally:
            self.in_flight -= 1

    def _failures(self, cascades: Any) -> list[dict[str, Any]]:
        """Every third cascade has an unhandled failure."""
        return [{"node_name": "Bad", "cascade": c} for c in cascades if c % 3 == 0]


def broadcaster(execution: ScriptedExecution) -> Broadcaster:
    return Broadcaster(execution, lambda error: isinstance(error, Busy))


async def test_a_lone_caller_sends_one_update():
    execution = ScriptedExecution()
    report = await broadcaster(execution).send(EID, ["PING"], Delivery("r1"), wait=True)
    assert report is not None and report.cascade == 1
    assert (execution.updates, execution.signals, execution.waits) == (1, 0, [])


async def test_three_hundred_callers_on_one_execution_are_each_delivered_once():
    execution = ScriptedExecution(work=0.01)
    sender = broadcaster(execution)
    reports = await asyncio.gather(
        *(sender.send(EID, ["PING"], Delivery(f"r{i}"), wait=True) for i in range(300))
    )
    assert len(execution.delivered) == 300
    assert sorted(r.cascade for r in reports) == list(range(1, 301))
    # One broadcast update and one shared wait at a time, far below the server's limit.
    assert execution.most_in_flight <= 2
    assert len(execution.waits) < 10


async def test_each_caller_of_a_shared_wait_hears_of_its_own_failures_only():
    execution = ScriptedExecution(work=0.01)
    sender = broadcaster(execution)
    reports = await asyncio.gather(
        *(sender.send(EID, ["PING"], Delivery(f"r{i}"), wait=True) for i in range(30))
    )
    for report in reports:
        expected = (
            [{"node_name": "Bad", "cascade": report.cascade}] if report.cascade % 3 == 0 else []
        )
        assert report.failures == expected


async def test_a_refused_update_is_sent_again_as_a_signal_with_the_same_request_id():
    execution = ScriptedExecution()
    execution.refuse_updates = 1
    report = await broadcaster(execution).send(EID, ["PING"], Delivery("r1"), wait=True)
    assert report is not None and report.cascade == 1
    assert execution.delivered == [["PING"]]
    assert execution.waits == [["r1"]]


async def test_an_update_aborted_after_it_was_applied_is_not_applied_twice():
    execution = ScriptedExecution()
    execution.refuse_updates, execution.apply_refused = 1, True
    await broadcaster(execution).send(EID, ["PING"], Delivery("r1"), wait=True)
    assert execution.delivered == [["PING"]]


async def test_a_refused_signal_is_sent_again_until_taken():
    execution = ScriptedExecution()
    execution.refuse_signals = 3
    assert await broadcaster(execution).send(EID, ["PING"], Delivery("r1"), wait=False) is None
    assert (execution.signals, execution.delivered) == (4, [["PING"]])


async def test_a_shared_wait_refused_for_the_moment_is_asked_again():
    execution = ScriptedExecution(slots=1, work=0.01)
    sender = broadcaster(execution)
    reports = await asyncio.gather(
        *(sender.send(EID, ["PING"], Delivery(f"r{i}"), wait=True) for i in range(20))
    )
    assert sorted(r.cascade for r in reports) == list(range(1, 21))


async def test_a_request_id_sent_twice_is_delivered_once_and_answered_alike():
    execution = ScriptedExecution()
    sender = broadcaster(execution)
    first = await sender.send(EID, ["PING"], Delivery("same"), wait=True)
    second = await sender.send(EID, ["PING"], Delivery("same"), wait=True)
    assert first is not None and second is not None
    assert first.cascade == second.cascade and len(execution.delivered) == 1


async def test_an_error_that_is_not_a_refusal_reaches_the_caller():
    execution = ScriptedExecution()
    execution.broken = True
    with pytest.raises(Broken):
        await broadcaster(execution).send(EID, ["PING"], Delivery("r1"), wait=True)
    with pytest.raises(Broken):
        await broadcaster(execution).send(EID, ["PING"], Delivery("r2"), wait=False)


async def test_a_caller_that_gives_up_leaves_no_wait_behind():
    execution = ScriptedExecution(work=0.05)
    sender = broadcaster(execution)
    lone = asyncio.create_task(sender.send(EID, ["PING"], Delivery("first"), wait=True))
    await asyncio.sleep(0)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sender.send(EID, ["PING"], Delivery("second"), wait=True), 0.01)
    await lone
    await asyncio.sleep(0.1)
    assert sender._watches == {}


async def test_a_delivery_says_whether_the_signals_were_taken():
    execution = ScriptedExecution()
    delivery = Delivery("r1")
    assert delivery.delivered is False
    await broadcaster(execution).send(EID, ["PING"], delivery, wait=True)
    assert delivery.delivered is True
    execution.broken = True
    failed = Delivery("r2")
    with pytest.raises(Broken):
        await broadcaster(execution).send(EID, ["PING"], failed, wait=False)
    assert failed.delivered is None  # the attempt may have reached it: not known
    assert "request_id='r2'" in failed.note()


async def test_a_request_the_execution_no_longer_remembers_is_answered_as_taken():
    """Signals go before the wait that asks for them, so an id the execution does not
    report was taken and then forgotten (past the ids it keeps): its caller is answered,
    with no cascade to report failures of."""
    execution = ScriptedExecution()
    execution.slots = 0  # every update refused: the callers signal and share a wait
    original_wait = execution.wait

    async def forgetful_wait(execution_id: str, request: WaitRequest) -> IdleReport:
        execution.slots = 10
        report = await original_wait(execution_id, request)
        report.requests.pop("old", None)
        return report

    execution.wait = forgetful_wait  # type: ignore[method-assign]
    report = await broadcaster(execution).send(EID, ["PING"], Delivery("old"), wait=True)
    assert report is not None and report.cascade is None and report.failures == []
    assert execution.delivered == [["PING"]]


class CancelledAsBusy(ScriptedExecution):
    """Its calls never end, and a call whose caller is cancelled ends with an error that
    says "not now": temporalio turns the cancellation of a call on its way into an error
    of its own, which a busy server's deadline also raises."""

    async def _forever(self) -> Any:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise Busy("cancelled on its way") from None

    async def update(self, execution_id: str, request: BroadcastRequest) -> IdleReport:
        return await self._forever()

    async def signal(self, execution_id: str, payload: dict[str, Any]) -> None:
        await self._forever()


@pytest.mark.parametrize("wait", [True, False], ids=["update", "signal"])
async def test_a_caller_cancelled_while_its_signals_are_on_their_way_stops(wait: bool):
    """Ctrl-C on `soe-temporal signal --wait`: the cancelled call's error is not taken for
    a refusal to ask again after (the process would never end)."""
    sending = asyncio.create_task(
        broadcaster(CancelledAsBusy()).send(EID, ["PING"], Delivery("r1"), wait=wait)
    )
    await asyncio.sleep(0)
    sending.cancel()
    await asyncio.wait({sending}, timeout=5)  # wait_for would cancel it again, and wait
    assert sending.cancelled()
