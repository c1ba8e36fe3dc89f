"""Child nodes (SOE_SPEC §15): start child executions, and tell a parent what it needs.

A child execution is an execution in its own right (a Temporal child workflow that
outlives its parent's continue-as-new). Its signals listed in ``signals_to_parent`` and
its writes to the fields in ``context_updates_to_parent`` travel up in messages, on to
grandparents when each level lists them too.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from ..commands import ChildrenStarted, ChildSpec, StartChildren
from ..context import PARENT, accumulated_items, is_internal_field
from ..emissions import programmatic_emission
from ..events import ChildrenStarting
from ..host import NOTHING, Fired, NodeHost
from ..state import VALIDATION_ERROR, Firing


@dataclass
class RunningChildStart:
    """A child node waiting for its children to start."""

    firing: Firing
    call: StartChildren

    kind: ClassVar[str] = "child"

    def apply(self, host: NodeHost, outcome: ChildrenStarted) -> list[StartChildren]:
        return children_started(host, self, outcome)

    def to_dict(self) -> dict[str, Any]:
        return {"firing": asdict(self.firing), "call": asdict(self.call)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunningChildStart:
        call = dict(data["call"])
        call["children"] = [ChildSpec(**child) for child in call["children"]]
        return cls(Firing(**data["firing"]), StartChildren(**call))


def parent_link(host: NodeHost, config: dict[str, Any]) -> dict[str, Any]:
    """F-OPS-10: the ``__parent__`` a child of this node gets."""
    return {
        "parent_execution_id": host.execution_id,
        "signals_to_parent": list(config.get("signals_to_parent") or []),
        "context_updates_to_parent": list(config.get("context_updates_to_parent") or []),
        "main_execution_id": host.main_execution_id,
    }


def fire_child(host: NodeHost, firing: Firing, conversation: list[dict[str, Any]] | None) -> Fired:
    """F-CHILD-3..6: the child context(s), then one command to start them."""
    config = firing.config
    registry = host.registry
    child_workflow = config["child_workflow_name"]
    if child_workflow not in registry:  # F-VAL-12, checked when the child starts
        host.fail_node(
            firing,
            f"Workflow '{child_workflow}' not found in config. "
            f"Available workflows: {list(registry)}",
            error_type=VALIDATION_ERROR,
        )
        return NOTHING
    context = host.context
    base: dict[str, Any] = {}
    for name in config.get("input_fields") or []:
        if name in context:
            stored = context[name]
            latest = stored if is_internal_field(name) else stored[-1]
            base[name] = copy.deepcopy(latest)
    base[PARENT] = parent_link(host, config)
    fan_out = config.get("fan_out_field")
    items = accumulated_items(context, fan_out) if fan_out else []
    if items:
        contexts = [{**copy.deepcopy(base), config["child_input_field"]: item} for item in items]
    else:
        contexts = [base]  # Q-27 (kept): no items still starts one child
    starts = host.count_child_start(firing.node_name)
    prefix = f"{host.execution_id}/{firing.node_name}-{starts}"
    ids = (
        [prefix]
        if len(contexts) == 1 and not items
        else [f"{prefix}-{index}" for index in range(1, len(contexts) + 1)]
    )
    host.record(ChildrenStarting(firing.node_name, child_workflow, host.execution_id, ids))
    call = StartChildren(
        call_id=host.new_call_id(),
        workflow_name=firing.workflow_name,
        node_name=firing.node_name,
        child_workflow_name=child_workflow,
        children=[
            ChildSpec(child_id, child_context)
            for child_id, child_context in zip(ids, contexts, strict=True)
        ],
        initial_signals=list(config["child_initial_signals"]),
        registry=copy.deepcopy(registry),
        identities=dict(host.identities),
        context_schema=copy.deepcopy(host.context_schema),
        spawn_interval=float(config.get("spawn_interval") or 0),
    )
    host.await_call(RunningChildStart(firing, call))
    return Fired(call=call)


def children_started(
    host: NodeHost, running: RunningChildStart, outcome: ChildrenStarted
) -> list[StartChildren]:
    """DESIGN decision D-3: once its children have started, the node emits its own
    event_emissions, evaluated as a router's are, on the context as it is now."""
    host.add_children(outcome.started)
    for error in outcome.errors:
        host.fail_node(running.firing, error)
    if outcome.started:
        signals = programmatic_emission(running.firing.config.get("event_emissions"), host.context)
        host.emit(signals, running.firing.cascade)
    return []
