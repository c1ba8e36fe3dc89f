"""What the built-ins inject is validated with the config's own rules (D-16, F-BI-3,
F-BI-4, F-BI-8): the engine applies the check the host hands it (``workflows_problem``);
here it is the real one, as the workflow gives it."""

from __future__ import annotations

from typing import Any

from soe_temporal.config import workflows_problem
from soe_temporal.engine import Execution

from .engine.helpers import run


def builtin_node(tool_name: str, **config: Any) -> dict[str, Any]:
    return {
        "node_type": "tool",
        "event_triggers": ["GO"],
        "tool_name": tool_name,
        "output_field": "out",
        **config,
    }


def call(tool_name: str, parameters: dict[str, Any] | None = None, **more: Any) -> Execution:
    """Run workflow ``wf`` whose node ``B`` calls ``tool_name`` with ``parameters``."""
    registry = {"wf": {"B": builtin_node(tool_name, parameters=parameters or {}), **more}}
    execution = Execution.start(
        "exec-1", "wf", registry, {"x": 1}, ["GO"], workflows_problem=workflows_problem
    )
    assert run(execution) == []
    return execution


def out(execution: Execution) -> Any:
    return execution.context["out"][-1]


def ops(execution: Execution) -> dict[str, Any]:
    return execution.context["__operational__"]


ROUTER = {
    "node_type": "router",
    "event_triggers": ["GO"],
    "event_emissions": [{"signal_name": "A"}],
}


def test_f_bi_3_a_single_node_missing_its_type_is_blamed_by_its_own_name():
    data = {"Start": {"event_triggers": ["GO"]}}
    execution = call("soe_inject_workflow", {"workflow_name": "new", "workflow_data": data})
    assert out(execution).startswith(
        "soe_inject_workflow refused workflow 'new', nothing was changed: "
    )
    assert "node 'Start'" in out(execution) and "node_type" in out(execution)
    assert "new" not in execution.state.registry


def test_f_bi_3_invalid_workflow_is_refused_with_the_config_error_and_nothing_changes():
    bad = {"Start": {"node_type": "router", "event_emissions": [{"signal_name": "X"}]}}
    execution = call("soe_inject_workflow", {"workflow_name": "new", "workflow_data": bad})
    assert "new" in out(execution) and "Start" in out(execution)
    assert "event_triggers" in out(execution)
    assert list(execution.state.registry) == ["wf"]


def test_d_16_invalid_node_is_refused_and_nothing_changes():
    """F-VAL-13: SOE re-validates a node each time it runs because soe_inject_node does not validate; here injection validates (D-16), so no invalid node ever runs."""
    bad = {"node_type": "tool", "event_triggers": ["GO"]}  # no tool_name
    execution = call(
        "soe_inject_node", {"workflow_name": "wf", "node_name": "N", "node_config_data": bad}
    )
    assert "'N'" in out(execution) and "tool_name" in out(execution)
    assert list(execution.state.registry["wf"]) == ["B"]
    assert "N" not in ops(execution)["nodes"]


def test_f_bi_8_a_condition_that_is_not_valid_jinja_is_refused():
    execution = call(
        "soe_add_signal",
        {"workflow_name": "wf", "node_name": "R", "signal_name": "S", "condition": "{{ oops("},
        R=ROUTER,
    )
    assert "Jinja" in out(execution) or "template" in out(execution)
    assert execution.state.registry["wf"]["R"] == ROUTER


# == F-BI-12 / 13 / 14: context ========================================================
