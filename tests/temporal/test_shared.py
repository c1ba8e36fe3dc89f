"""Equal registries and worker options are held once per worker (``shared.py``)."""

from __future__ import annotations

import gc
import json

from soe_temporal.engine.broadcast import TriggerIndex
from soe_temporal.temporal import shared
from soe_temporal.temporal.payloads import ToolOptions, WorkerOptions
from soe_temporal.temporal.shared import shared_registry, shared_value

NODE = {"node_type": "router", "event_triggers": ["GO"]}


def test_equal_registries_are_one_object():
    first = shared_registry({"main": {"A": dict(NODE)}})
    second = shared_registry({"main": {"A": dict(NODE)}})
    assert first is second
    assert first == {"main": {"A": NODE}}


def test_registries_in_another_order_are_not_shared():
    """Order is meaning in SOE (F-CFG-8): nodes run in declaration order."""
    a = shared_registry({"main": {"A": NODE, "B": NODE}})
    b = shared_registry({"main": {"B": NODE, "A": NODE}})
    assert a is not b


def test_a_registry_no_execution_holds_is_let_go():
    registry = shared_registry({"gone": {"A": NODE}})
    key = json.dumps(registry, separators=(",", ":"))
    assert key in shared._registries
    del registry
    gc.collect()
    assert key not in shared._registries


def test_equal_worker_options_are_one_object():
    options = WorkerOptions({"t": ToolOptions(2, "FAILED")}, {"retry": 1})
    again = WorkerOptions({"t": ToolOptions(2, "FAILED")}, {"retry": 1})
    assert shared_value(options) is shared_value(again)
    assert shared_value(WorkerOptions()) is not shared_value(options)


def test_executions_sharing_a_workflow_share_its_trigger_index():
    workflow = {"A": NODE, "B": {"node_type": "router", "event_triggers": ["GO", "X"]}}
    assert TriggerIndex.of(workflow) is TriggerIndex.of(workflow)
    assert TriggerIndex.of(workflow).triggered(["X"]) == [1]
    assert TriggerIndex.of(dict(workflow)) is not TriggerIndex.of(workflow)
