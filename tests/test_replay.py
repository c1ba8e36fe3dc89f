"""Recorded histories replay under the current code (temporalio's Replayer).

A failure here means a change would break executions that are already running: make the
change compatible (workflow.patched) or, if breaking them is intended, re-record with
`python -m tests.histories.record` and say so in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from soe_temporal.temporal.converter import soe_data_converter
from soe_temporal.temporal.payload_store import LocalPayloadStore
from soe_temporal.workflow import SoeWorkflow

from .histories.record import HERE, PAYLOADS, SCENARIOS, record


class _ReadOnlyStore(LocalPayloadStore):
    """The committed store, read as recorded: what replay encodes anew is written to
    ``scratch``, never into the repository."""

    def __init__(self, directory: Path, scratch: Path) -> None:
        super().__init__(directory)
        self._scratch = LocalPayloadStore(scratch)

    async def put_blob(self, digest: str, data: bytes) -> None:
        await self._scratch.put_blob(digest, data)


def _replayer(payloads: Path) -> Replayer:
    """Claims in a history are read from the store it was recorded with."""
    converter = soe_data_converter(None, LocalPayloadStore(payloads))
    return Replayer(workflows=[SoeWorkflow], data_converter=converter)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_committed_history_replays(name: str, tmp_path: Path):
    recorded = json.loads((HERE / f"{name}.json").read_text())
    history = WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"])
    converter = soe_data_converter(None, _ReadOnlyStore(PAYLOADS, tmp_path))
    replayer = Replayer(workflows=[SoeWorkflow], data_converter=converter)
    await replayer.replay_workflow(history)


async def test_freshly_recorded_histories_replay(tmp_path: Path):
    for name, scenario in SCENARIOS.items():
        recorded = await record(name, scenario, tmp_path)
        history = WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"])
        await _replayer(tmp_path).replay_workflow(history)


def test_the_continue_as_new_history_ends_in_continue_as_new():
    events = json.loads((HERE / "continue_as_new.json").read_text())["history"]["events"]
    assert events[-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"
