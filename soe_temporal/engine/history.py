"""The conversation history of an execution tree (SOE_SPEC §17, F-HIST).

One history per tree, kept by the main (root) execution. An LLM or agent node with an
identity sees it as it stands when the node starts and appends its turns to it, wherever
in the tree the node runs: in a child the engine first asks for the main execution's
history (a command), then sends its appends there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .commands import Command, HistoryRead, ReadHistory
from .operational import main_execution_id
from .state import Firing

if TYPE_CHECKING:
    from .execution import Execution


def history_is_local(execution: Execution) -> bool:
    """Whether this execution keeps its tree's history (it is the main execution)."""
    return main_execution_id(execution.context) == execution.state.execution_id


def needs_history_read(execution: Execution, firing: Firing) -> bool:
    """An llm or agent node with an identity, in a child: it must read the tree's history."""
    return (
        firing.config.get("node_type") in ("llm", "agent")
        and bool(firing.config.get("identity"))
        and not history_is_local(execution)
    )


def read_history(execution: Execution, firing: Firing) -> ReadHistory:
    call = ReadHistory(
        call_id=execution.new_call_id(),
        workflow_name=firing.workflow_name,
        node_name=firing.node_name,
        main_execution_id=main_execution_id(execution.context),
    )
    execution.track(call.call_id, RunningHistoryRead(firing, call))
    return call


@dataclass
class RunningHistoryRead:
    """An llm or agent node in a child, waiting for the tree's history."""

    firing: Firing
    call: ReadHistory

    kind: ClassVar[str] = "history"

    def apply(self, execution: Execution, outcome: HistoryRead) -> list[Command]:
        command = execution.fire_with_history(self.firing, outcome.entries)
        return [command] if command is not None else []

    def to_dict(self) -> dict[str, Any]:
        return {"firing": asdict(self.firing), "call": asdict(self.call)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunningHistoryRead:
        return cls(Firing(**data["firing"]), ReadHistory(**data["call"]))


def conversation_for(
    execution: Execution, identity: str | None, fetched: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]] | None:
    """F-HIST-1/2: the tree's history when ``identity`` enables it; when it is empty, the
    identity's system prompt opens it (and is kept at once, even if the node fails)."""
    if not identity:
        return None
    history = list(fetched if fetched is not None else execution.conversation_history())
    if not history:
        system_prompt = execution.state.identities.get(identity)
        if system_prompt:
            history = [{"role": "system", "content": system_prompt}]
            execution.append_conversation([], opening=system_prompt)
    return history


def system_message(history: list[dict[str, Any]] | None) -> str | None:
    """The system prompt that opens the tree's history, for providers that take one as a
    system message: the first identity's, even for a node of another identity (F-HIST-2)."""
    if history and history[0].get("role") == "system":
        return str(history[0].get("content", ""))
    return None
