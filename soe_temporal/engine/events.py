"""What an execution records as it runs: SOE's telemetry events (SOE_SPEC §20, F-TEL-3).

One class per kind of event, as h11 keeps its events (not frozen: events are made at
every node firing, and a frozen dataclass costs about three times as much to make).
``event_type`` is SOE's name for the event (several classes share one, as SOE logs several
shapes under one name), and ``to_dict()`` is the event as SOE's telemetry records its
data: ``{"event_type": ..., and the fields}``. The host logs them; the CLI prints them by
matching on the class.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass
class Event:
    event_type: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        return {"event_type": self.event_type, **_fields(self)}


def _fields(event: Event) -> dict[str, Any]:
    return {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}


@dataclass
class ConfigInheritanceStarted(Event):
    """F-INH-1: the execution takes another's workflows, identities and schema."""

    source_execution_id: str
    event_type: ClassVar[str] = "config_inheritance_start"


@dataclass
class OrchestrationStarted(Event):
    """F-EXEC-1 step 5: an execution starts."""

    workflow_name: str
    event_type: ClassVar[str] = "orchestration_start"


@dataclass
class ContextInheritanceStarted(Event):
    """F-INH-3: the execution continues another's context."""

    event_type: ClassVar[str] = "context_inheritance_start"


@dataclass
class ContextMerged(Event):
    """F-INH-3: the initial context is written into the inherited one."""

    fields: list[str]
    event_type: ClassVar[str] = "context_merge"


@dataclass
class SignalsBroadcast(Event):
    """F-EXEC-3 step 2: a broadcast starts."""

    signals: list[str]
    event_type: ClassVar[str] = "signals_broadcast"


@dataclass
class NodeExecuted(Event):
    """F-EXEC-3 step 4: a node is dispatched."""

    node_name: str
    node_type: Any
    event_type: ClassVar[str] = "node_execution"


@dataclass
class RouterRan(Event):
    """F-TEL-3: a router's own record of running, after its dispatch's."""

    node_type: str = "router"
    event_type: ClassVar[str] = "node_execution"


@dataclass
class ChildrenStarting(Event):
    """F-CHILD-5/6: a child node starts its child execution(s), on the parent."""

    node_name: str
    child_workflow: str
    parent_id: str
    children: list[str]
    node_type: str = "child"
    event_type: ClassVar[str] = "node_execution"


@dataclass
class BuiltinApplied(Event):
    """F-BI-3..18: a built-in changed the registry, the identities or the context schema;
    ``details`` are the tool-specific fields SOE logs with it."""

    tool: str
    details: dict[str, Any] = field(default_factory=dict)
    event_type: ClassVar[str] = "node_execution"

    def to_dict(self) -> dict[str, Any]:
        return {"event_type": self.event_type, "tool": self.tool, **self.details}


@dataclass
class ToolCalled(Event):
    """One attempt of a tool node ended (F-TOOL-7..10)."""

    node_name: str
    tool_name: str
    attempt: int
    status: str
    error: str
    event_type: ClassVar[str] = "tool_call"


@dataclass
class ToolDispatched(Event):
    """soe_call_tool dispatched a registry tool (F-BI-20)."""

    invoked_tool: str
    arguments: Any
    meta_tool: str = "call_tool"
    event_type: ClassVar[str] = "tool_call"


@dataclass
class LlmCalled(Event):
    """An llm node starts (F-LLM-2, once whatever its retries)."""

    node_name: str
    identity: str | None
    event_type: ClassVar[str] = "llm_call"


@dataclass
class AgentStarted(Event):
    """An agent run starts (F-AGENT-4 step 2)."""

    node_name: str
    stage: str = "router"
    event_type: ClassVar[str] = "llm_call"


@dataclass
class LlmAnswered(Event):
    """One model call of an llm node ended: ``ok``, ``invalid`` (refused, retried if it
    may be) or ``failed`` (the provider's error)."""

    node_name: str
    attempt: int
    status: str
    error: str
    event_type: ClassVar[str] = "llm_response"


@dataclass
class AgentStageAnswered(Event):
    """One model call of an agent stage (router, parameters, response) ended."""

    node_name: str
    stage: str
    attempt: int
    status: str
    error: str
    event_type: ClassVar[str] = "llm_response"


@dataclass
class PromptWarnings(Event):
    """F-CTX-9: fields a prompt references that are missing, None or empty."""

    node_name: str
    warnings: list[str]
    event_type: ClassVar[str] = "context_warning"


@dataclass
class SchemaWarning(Event):
    """F-SCHEMA-3: an output field without a context_schema entry."""

    message: str
    output_field: str
    event_type: ClassVar[str] = "context_warning"


@dataclass
class NodeErrored(Event):
    """A node error (F-OPS-6); ``handled`` when SOE's failure path takes it. A problem of
    the execution as a whole has no node name."""

    node_name: str
    node_type: Any
    error: str
    handled: bool
    event_type: ClassVar[str] = "node_error"


@dataclass
class AgentToolsLoaded(Event):
    """F-AGENT-4 step 5."""

    node_name: str
    agent_tools: list[str]
    registry_tools: list[str]
    event_type: ClassVar[str] = "agent_tools_loaded"


@dataclass
class AgentToolCall(Event):
    """F-AGENT-7 step 3."""

    node_name: str
    tool_name: str
    tool_args: Any
    event_type: ClassVar[str] = "agent_tool_call"


@dataclass
class AgentToolResult(Event):
    """F-AGENT-7 step 5."""

    node_name: str
    tool_name: str
    result_preview: str
    result_length: int
    event_type: ClassVar[str] = "agent_tool_result"


@dataclass
class AgentToolNotFound(Event):
    """F-AGENT-7 step 1."""

    node_name: str
    tool_name: Any
    available_tools: list[str]
    event_type: ClassVar[str] = "agent_tool_not_found"


@dataclass
class SignalsToParent(Event):
    """F-EXEC-3 step 5: a child's signals its parent asked for go up."""

    signals: list[str]
    parent_id: str
    event_type: ClassVar[str] = "signals_to_parent"
