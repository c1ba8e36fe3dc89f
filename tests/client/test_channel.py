"""F-API-2 through Temporal: the broadcaster's messages reach the execution's current run.
One that meets a run just as it continues as new (Temporal answers NOT_FOUND while the
execution runs on) is sent again; one to a closed execution is refused at once."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from soe_temporal.client.soe_client import _Channel

EID = "exec-1"


class Runs:
    """An execution whose first ``continuing`` sends meet a run that has just ended."""

    def __init__(self, continuing: int, status: WorkflowExecutionStatus) -> None:
        self.continuing = continuing
        self.status = status
        self.sent: list[Any] = []

    def _handle(self, execution_id: str) -> Runs:
        return self

    async def signal(self, name: str, payload: Any) -> None:
        if self.continuing:
            self.continuing -= 1
            raise RPCError("Completed workflow", RPCStatusCode.NOT_FOUND, b"")
        self.sent.append((name, payload))

    async def _describe(self, execution_id: str) -> Any:
        return SimpleNamespace(status=self.status)


async def test_f_api_2_a_signal_that_meets_a_run_continuing_as_new_reaches_the_next_run():
    runs = Runs(continuing=1, status=WorkflowExecutionStatus.RUNNING)
    await _Channel(runs).signal(EID, {"signals": ["GO"], "request_id": "r1"})  # type: ignore[arg-type]
    assert runs.sent == [("soe_signal", {"signals": ["GO"], "request_id": "r1"})]


async def test_f_api_2_a_signal_to_a_closed_execution_is_refused_at_once():
    runs = Runs(continuing=5, status=WorkflowExecutionStatus.COMPLETED)
    with pytest.raises(RPCError, match="Completed workflow"):
        await _Channel(runs).signal(EID, {"signals": ["GO"], "request_id": "r1"})  # type: ignore[arg-type]
    assert runs.continuing == 4 and runs.sent == []
