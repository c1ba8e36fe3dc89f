"""What the engine asks its host to do, and the answers it takes back.

The engine never performs I/O: it answers each input with commands (call this tool with
these arguments), and the host feeds each command's outcome back in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..llm.usage import TokenUsage


@dataclass
class CallTool:
    """Run one SOE attempt of a tool node (F-TOOL-7..9)."""

    call_id: str
    workflow_name: str
    node_name: str
    tool_name: str
    attempt: int
    # F-TOOL-4: inline parameters (rendered, F-TOOL-5), or the raw history of the
    # context_parameter_field, which the tool's registry entry shapes (F-TOOL-6).
    parameters: dict[str, Any] | None
    parameter_history: list[Any] | None
    # The node's optional ``temporal:`` block, for the host; the engine ignores it.
    temporal: dict[str, Any] | None
    # An agent's call: the result is wanted as text, its Python string form (F-AGENT-7).
    as_text: bool = False
    # "soe_call_tool" when a node reached this registry tool through that built-in.
    via: str = ""


@dataclass
class CallLlm:
    """One model call of an LLM node (F-LLM-2 step 6); each retry is a new call."""

    call_id: str
    workflow_name: str
    node_name: str
    attempt: int
    prompt: str
    # F-API-5 / F-PROTO-8: the node's config plus its ``name``, for every call.
    config: dict[str, Any]
    # The identity's system prompt, for providers that take one as a system message.
    system_prompt: str | None
    temporal: dict[str, Any] | None
    # An agent's stage the call serves (router, parameters, response); "" for llm nodes.
    stage: str = ""


@dataclass(frozen=True)
class ChildSpec:
    """One child execution to start: its id and its initial context (F-CHILD-4/6)."""

    execution_id: str
    initial_context: dict[str, Any]


@dataclass(frozen=True)
class StartChildren:
    """Start a child node's child execution(s) (F-CHILD-5/6); fan-out children start in
    order, ``spawn_interval`` seconds apart (a durable timer)."""

    call_id: str
    workflow_name: str
    node_name: str
    child_workflow_name: str
    children: list[ChildSpec]
    initial_signals: list[str]
    # The parent's registry as it stands now (run-time edits included), passed as such
    # (our Q-26 fix), with the tree's identities and context schema.
    registry: dict[str, Any]
    identities: dict[str, str]
    context_schema: dict[str, Any]
    spawn_interval: float


@dataclass(frozen=True)
class ReadHistory:
    """Read the tree's conversation history from the main execution (F-HIST-1)."""

    call_id: str
    workflow_name: str
    node_name: str
    main_execution_id: str


# Commands whose outcome comes back to the engine (``complete_call``), by ``call_id``.
Call = CallTool | CallLlm | StartChildren | ReadHistory


@dataclass
class ToolOutcome:
    """How one attempt of a tool ended.

    ``status`` is ``ok``; ``failed`` for an attempt that counts against ``max_retries``;
    or ``setup_failed`` when the tool could not be called at all (not in the registry, a
    parameter field that is not valid YAML): SOE raises those before its attempt loop.
    ``max_retries`` and ``failure_signal`` come from the tool's registry entry.
    """

    status: Literal["ok", "failed", "setup_failed"]
    result: Any = None
    error: str = ""
    max_retries: int = 0
    failure_signal: str | None = None
    # The tool ran but its result cannot be kept (not JSON, too large): running it again
    # would not help, so the attempt is the last one.
    final: bool = False
    # The class of the tool's exception (TypeError: the arguments did not fit).
    exception_type: str = ""


@dataclass
class LlmOutcome:
    """How one model call ended: the model's raw text, or the provider's error (which SOE
    never retries, F-PROTO-6; Temporal has retried what was worth retrying)."""

    status: Literal["ok", "failed"]
    text: str = ""
    error: str = ""
    # The tokens the call used, when the provider reported them (counted for the node
    # whatever its answer was worth: an invalid answer was paid for too).
    usage: TokenUsage | None = None


@dataclass(frozen=True)
class ChildrenStarted:
    """Which children started, and why the others did not."""

    started: list[str]
    errors: list[str] = field(default_factory=list)


@dataclass
class TreeConfigChange:
    """A change to the tree's identities or context schema (F-BI-10/11/17/18), made in a
    child and carried up to the main execution (our Q-30 fix). ``None`` removes an entry."""

    identities: dict[str, str | None] = field(default_factory=dict)
    context_schema: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class MessageToParent:
    """What a child tells its parent after a step (F-CHILD-8/9): new values of the fields
    in context_updates_to_parent (each sent once, our Q-28 decision), then the signal lists
    to broadcast there. Data always travels with or before the signals that announce it,
    and so do changes to the tree's identities and context schema."""

    updates: list[tuple[str, Any]] = field(default_factory=list)
    signals: list[list[str]] = field(default_factory=list)
    tree_changes: list[TreeConfigChange] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryRead:
    entries: list[dict[str, Any]]


@dataclass
class HistoryAppend:
    """Entries for the main execution's history; ``opening`` is a system prompt to start it
    with if it is still empty (F-HIST-2)."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    opening: str | None = None


Outcome = ToolOutcome | LlmOutcome | ChildrenStarted | HistoryRead


@dataclass(frozen=True)
class TellParent:
    """Send the parent what this child owes it (F-CHILD-8/9): no outcome comes back.
    The host sends the messages for one target in order."""

    parent_execution_id: str
    message: MessageToParent


@dataclass(frozen=True)
class AppendToHistory:
    """Send turns to the tree's conversation history, which the main execution keeps
    (F-HIST-3/5): no outcome comes back."""

    main_execution_id: str
    append: HistoryAppend


# Commands that tell another execution something.
Message = TellParent | AppendToHistory
Command = Call | Message
