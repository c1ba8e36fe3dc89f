"""Firing a node by its type (F-EXEC-7): the NODE_TYPES lookup, and the tree's
conversation history for the node types that read it (F-HIST-1).

In the main execution a node reads the history it keeps; in a child the history is read
from the main execution first (a command), and the node fires when it arrives.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from .commands import Command, HistoryRead, ReadHistory
from .host import NOTHING, Fired, NodeHost
from .nodes import NODE_TYPES
from .state import Firing


def fire(host: NodeHost, firing: Firing) -> Fired:
    """What the node asks for; a type without a handler fails the node (Q-20 fix)."""
    node_type = NODE_TYPES.get(firing.config.get("node_type"))
    if node_type is None:
        host.fail_node(firing, _unavailable_message(firing))
        return NOTHING
    if not (node_type.reads_conversation and firing.config.get("identity")):
        return node_type.fire(host, firing, None)
    if host.main_execution_id == host.execution_id:
        return node_type.fire(host, firing, host.conversation_history())
    call = ReadHistory(
        call_id=host.new_call_id(),
        workflow_name=firing.workflow_name,
        node_name=firing.node_name,
        main_execution_id=host.main_execution_id,
    )
    host.await_call(RunningHistoryRead(firing, call))
    return Fired(call=call)


@dataclass
class RunningHistoryRead:
    """A node in a child, waiting for the tree's history before it fires."""

    firing: Firing
    call: ReadHistory

    kind: ClassVar[str] = "history"

    def apply(self, host: NodeHost, outcome: HistoryRead) -> list[Command]:
        node_type = NODE_TYPES[self.firing.config["node_type"]]
        fired = node_type.fire(host, self.firing, outcome.entries)
        return [fired.call] if fired.call is not None else []

    def to_dict(self) -> dict[str, Any]:
        return {"firing": asdict(self.firing), "call": asdict(self.call)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunningHistoryRead:
        return cls(Firing(**data["firing"]), ReadHistory(**data["call"]))


# What a waiting node's record is made of, by the ``kind`` it is carried with.
RUNNING_KINDS: dict[str, Any] = {
    **{t.running.kind: t.running for t in NODE_TYPES.values() if t.running is not None},
    RunningHistoryRead.kind: RunningHistoryRead,
}


def _unavailable_message(firing: Firing) -> str:
    node_type = firing.config.get("node_type")
    prefix = f"Workflow '{firing.workflow_name}', node '{firing.node_name}'"
    if isinstance(node_type, str) and node_type.startswith("_"):
        return (
            f"{prefix}: node_type '{node_type}' is an internal type with no handler; "
            "it can be stored in a config but not triggered (F-CFG-9)."
        )
    return (
        f"{prefix}: {node_type} nodes are not available in this version of soe_temporal; "
        "this node was skipped."
    )
