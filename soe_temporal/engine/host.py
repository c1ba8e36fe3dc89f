"""What a node sees of the execution that fires it: the narrow protocol between the two.

Nodes (``engine/nodes/``) and the built-ins they call know an execution only through
:class:`NodeHost`; :class:`~soe_temporal.engine.execution.Execution` implements it. So a
node module imports no execution, and the execution imports the nodes through one table
(``NODE_TYPES``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from .commands import Call, Command
from .events import Event
from .state import EngineSettings, Firing, ToolFacts

# Why an injected registry is refused (a config error's text), or None when it is valid;
# the host hands the engine the config's own rules (F-VAL-3..10), which live above it.
WorkflowsProblem = Callable[[dict[str, Any]], str | None]


@dataclass
class Fired:
    """What firing a node asks of its execution: signals to broadcast at once, nested in
    the current broadcast (a router's, F-EXEC-5), and the call to start, if any."""

    signals: tuple[str, ...] = ()
    call: Call | None = None


NOTHING = Fired()


class RunningCall(Protocol):
    """A node waiting for the outcome of its ``call``; plain data, so a waiting node
    survives continue-as-new (``kind`` names its record type)."""

    firing: Firing
    kind: ClassVar[str]

    @property
    def call(self) -> Call: ...

    def apply(self, host: NodeHost, outcome: Any) -> list[Command]:
        """Apply the outcome; returns follow-up calls (a retry, the next call)."""
        ...

    def to_dict(self) -> dict[str, Any]: ...


class NodeHost(Protocol):
    """What a node may read of, and do to, its execution."""

    # -- what it reads ---------------------------------------------------------------

    @property
    def execution_id(self) -> str: ...

    @property
    def main_execution_id(self) -> str:
        """The root of the execution tree (F-OPS-7)."""
        ...

    @property
    def context(self) -> dict[str, Any]:
        """The live context; nodes write outputs only through ``write_output``."""
        ...

    @property
    def registry(self) -> dict[str, dict[str, dict[str, Any]]]: ...

    @property
    def identities(self) -> dict[str, str]: ...

    @property
    def context_schema(self) -> dict[str, Any]: ...

    @property
    def settings(self) -> EngineSettings: ...

    @property
    def tools(self) -> dict[str, ToolFacts]:
        """What the worker's tools registry holds, by registry key (F-API-6)."""
        ...

    def tool_takes_history(self, tool_name: str) -> bool: ...

    def conversation_history(self) -> list[dict[str, Any]]: ...

    # -- what it does ----------------------------------------------------------------

    def new_call_id(self) -> str: ...

    def await_call(self, running: RunningCall) -> None:
        """Keep ``running`` until the outcome of its call comes back."""
        ...

    def emit(self, signals: list[str], cascade: int) -> None:
        """A node's emission (F-NODE-3): one broadcast of its cascade."""
        ...

    def state_limit_problem(self, *values: Any) -> str | None:
        """Why keeping ``values`` would take the state past its limit, or None."""
        ...

    def write_output(self, field_name: str, value: Any) -> None: ...

    def fail_node(
        self,
        firing: Firing,
        error: str,
        handled: bool = False,
        failure_signal: str | None = None,
        error_type: str = "",
    ) -> None: ...

    def record(self, event: Event) -> None: ...

    def append_conversation(
        self, entries: list[dict[str, Any]], opening: str | None = None
    ) -> None: ...

    def count_child_start(self, node_name: str) -> int:
        """How many times ``node_name`` has started children, this time included."""
        ...

    def add_children(self, execution_ids: list[str]) -> None: ...

    # -- what the built-ins change (F-BI) --------------------------------------------

    def replace_registry(self, registry: dict[str, dict[str, dict[str, Any]]]) -> None: ...

    def workflows_problem(self, workflows: dict[str, Any]) -> str | None:
        """Why an injected registry breaks the config's rules, or None."""
        ...

    def change_tree_config(
        self,
        identities: dict[str, str | None] | None = None,
        context_schema: dict[str, Any] | None = None,
    ) -> None: ...

    def replace_fields(self, histories: dict[str, list[Any]]) -> None: ...


class FireNode(Protocol):
    """A node type's handler: what the node asks for when it fires. ``conversation`` is
    the tree's history for node types that read it (their node has an identity)."""

    def __call__(
        self, host: NodeHost, firing: Firing, conversation: list[dict[str, Any]] | None
    ) -> Fired: ...
