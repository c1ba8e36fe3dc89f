"""What `soe-temporal run` prints while it runs: one execution tree, children labelled."""

from __future__ import annotations

import logging

import pytest

from soe_temporal.cli import _NodeEventPrinter
from soe_temporal.engine.events import SignalsBroadcast


def record(workflow_id: str, event: SignalsBroadcast) -> logging.LogRecord:
    made = logging.LogRecord("temporalio.workflow", logging.INFO, "", 0, "SOE", None, None)
    made.soe_event = event
    made.temporal_workflow = {"workflow_id": workflow_id}
    return made


SIGNALS = SignalsBroadcast(["GO"])


def test_run_prints_its_execution_and_labels_its_children(capsys: pytest.CaptureFixture[str]):
    printer = _NodeEventPrinter("e1")
    printer.emit(record("e1", SIGNALS))
    printer.emit(record("e1/Spawn-1", SIGNALS))
    assert capsys.readouterr().err.splitlines() == ["  signals GO", "[Spawn-1]   signals GO"]


def test_run_does_not_print_other_executions_the_worker_picks_up(
    capsys: pytest.CaptureFixture[str],
):
    printer = _NodeEventPrinter("e1")
    printer.emit(record("left-open-earlier", SIGNALS))
    printer.emit(record("e10", SIGNALS))  # shares a prefix, not a parent
    assert capsys.readouterr().err == ""
