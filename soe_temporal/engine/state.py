"""The durable state of one execution: everything continue-as-new must carry.

These shapes travel in workflow input when an execution continues as new, so they are a
durable contract: add fields with defaults, never rename or remove one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .tokens import TokenAccount

STATE_VERSION = 1


@dataclass(slots=True)
class EngineSettings:
    """Limits SOE leaves to the host (Q-19, Q-29)."""

    # Node firings one incoming signal may cause, directly or through its consequences.
    cascade_limit: int = 10_000
    # Router-stage decisions one agent run may take (SOE has no limit, Q-19).
    agent_iteration_limit: int = 500
    # Bytes of JSON the execution's state (its context and conversation) may grow to; a
    # write that would pass it fails the node that makes it.
    max_state_bytes: int = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ToolFacts:
    """What the tools registry says about one tool, as far as the engine needs it."""

    process_accumulated: bool = False
    # F-AGENT-2/3: agents know a tool by its function's own name and signature.
    function_name: str = ""
    signature: str = ""
    arguments_schema: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Firing:
    """One dispatch of one node (F-EXEC-3 step 4)."""

    workflow_name: str
    node_name: str
    config: dict[str, Any]
    cascade: int


@dataclass(slots=True)
class PendingBroadcast:
    """Signals waiting to be broadcast, and the cascade they belong to.

    ``updates`` are a child's new values ([field, value] pairs) to write just before: so a
    parent sees each child's data with the signal that announces it, in arrival order,
    never the data of a later message early (the fan-in of F-PAT-8 fires once).
    """

    signals: list[str]
    cascade: int
    updates: list[list[Any]] = field(default_factory=list)


# NodeFailure.error_type of the failures soe-ai raises as WorkflowValidationError (F-API-8):
# an unknown tool at run time, a child workflow that does not exist.
VALIDATION_ERROR = "WorkflowValidationError"


@dataclass(slots=True)
class NodeFailure:
    """A node that failed. ``handled`` when SOE's own failure path took it
    (a tool's failure handling, a failure signal); unhandled failures are what
    SOE would raise out of ``orchestrate()`` / ``broadcast_signals()``."""

    workflow_name: str
    node_name: str
    error: str
    cascade: int
    handled: bool
    # Workflow time of the failure (ISO 8601), so a caller can tell which are new.
    at: str = ""
    # The exception soe-ai would raise for it (F-API-8), by name: WorkflowValidationError,
    # ValueError, a built-in's name...; empty when only "a node failed" is known.
    error_type: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow_name": self.workflow_name,
            "node_name": self.node_name,
            "error": self.error,
            "cascade": self.cascade,
            "handled": self.handled,
            "at": self.at,
            "error_type": self.error_type,
        }


@dataclass(slots=True)
class ExecutionState:
    execution_id: str
    workflow_name: str
    registry: dict[str, dict[str, dict[str, Any]]]
    context: dict[str, Any]
    identities: dict[str, str] = field(default_factory=dict)
    context_schema: dict[str, Any] = field(default_factory=dict)
    # F-HIST: the tree's conversation history, kept by the execution it is keyed by (the
    # main execution); entries are {role, content}.
    conversation_history: list[dict[str, Any]] = field(default_factory=list)
    pending: list[PendingBroadcast] = field(default_factory=list)
    failures: list[NodeFailure] = field(default_factory=list)
    # Firings per live cascade, keyed by the cascade number as text (JSON object keys).
    cascade_firings: dict[str, int] = field(default_factory=dict)
    halted_cascades: list[int] = field(default_factory=list)
    # Child executions this one started, in order, and how often each child node started.
    children: list[str] = field(default_factory=list)
    child_starts: dict[str, int] = field(default_factory=dict)
    # Nodes waiting for a call when the execution continued as new, as plain data
    # (``kind`` names the node type); the new run issues their calls again.
    running: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_cascade: int = 1
    next_call: int = 1
    progress: int = 0
    settings: EngineSettings = field(default_factory=EngineSettings)
    version: int = STATE_VERSION
    # The most recent request ids delivered from outside, oldest first, and the cascade
    # each opened: a request delivered again opens nothing (an idempotent broadcast).
    requests: dict[str, int] = field(default_factory=dict)
    # The most recent messages the execution could not take (a signal under an unknown
    # name, signals that are not a list of names), as RejectedInput.to_dict() records.
    rejected_inputs: list[dict[str, Any]] = field(default_factory=list)
    # Where the current (or last) turn began, from idle to idle: the index of its first
    # signal in __operational__.signals and its first cascade (status.py).
    turn_first_signal: int = 0
    turn_first_cascade: int = 1
    # The tokens its model calls used (tokens.py); None until a provider reports usage.
    token_usage: TokenAccount | None = None


@dataclass(frozen=True, slots=True)
class RejectedInput:
    """A message the execution could not take: what it was, when, why, and how it began."""

    message: str
    problem: str
    at: str
    payload: str

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "problem": self.problem, "at": self.at,
                "payload": self.payload}  # fmt: skip


def unhandled_failures(
    failures: list[NodeFailure], cascade: int | None = None, since: str | None = None
) -> list[NodeFailure]:
    """What a waiting caller is told (SOE raises these out of its call): the unhandled
    failures of one cascade (the signals it sent), or of everything since a moment (for
    executions below the one it signalled, whose cascades it does not know)."""
    if cascade is not None:
        chosen = [f for f in failures if f.cascade == cascade]
    elif since is not None:
        chosen = [f for f in failures if f.at >= since]
    else:
        chosen = []
    return [f for f in chosen if not f.handled]
