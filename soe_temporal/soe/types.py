"""soe-ai's ``soe.types``: the backend protocols, callables and error names.

``SoeError`` is soe_temporal's own base error, and ``WorkflowValidationError`` is a
:class:`soe_temporal.ConfigError`, so both soe-ai's and soe_temporal's ``except`` clauses
catch what this package raises.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..errors import SoeError, WorkflowValidationError

__all__ = [
    "AgentNodeCaller",
    "Backends",
    "BroadcastSignalsCaller",
    "CallLlm",
    "ChildNodeCaller",
    "ContextBackend",
    "ContextSchemaBackend",
    "ConversationHistoryBackend",
    "EventTypes",
    "IdentityBackend",
    "LlmNodeCaller",
    "NodeCaller",
    "OrchestrateCaller",
    "RouterNodeCaller",
    "SoeError",
    "TelemetryBackend",
    "ToolNodeCaller",
    "WorkflowBackend",
    "WorkflowValidationError",
]


class EventTypes:
    """Telemetry event types, as soe-ai names them."""

    ORCHESTRATION_START = "orchestration_start"
    SIGNALS_BROADCAST = "signals_broadcast"
    NODE_EXECUTION = "node_execution"
    TOOL_CALL = "tool_call"
    LLM_CALL = "llm_call"
    SIGNALS_TO_PARENT = "signals_to_parent"
    NODE_ERROR = "node_error"
    CONTEXT_WARNING = "context_warning"
    AGENT_TOOLS_LOADED = "agent_tools_loaded"
    AGENT_TOOL_CALL = "agent_tool_call"
    AGENT_TOOL_RESULT = "agent_tool_result"
    AGENT_TOOL_NOT_FOUND = "agent_tool_not_found"
    CONFIG_INHERITANCE_START = "config_inheritance_start"
    CONTEXT_INHERITANCE_START = "context_inheritance_start"
    CONTEXT_MERGE = "context_merge"


class TelemetryBackend(Protocol):
    def log_event(self, execution_id: str, event_type: str, **event_data: Any) -> None: ...


class ContextBackend(Protocol):
    def save_context(self, id: str, context: dict[str, Any]) -> None: ...

    def get_context(self, id: str) -> dict[str, Any]: ...


class WorkflowBackend(Protocol):
    def save_workflows_registry(self, id: str, workflows: dict[str, Any]) -> None: ...

    def get_workflows_registry(self, id: str) -> Any: ...

    def save_current_workflow_name(self, id: str, name: str) -> None: ...

    def get_current_workflow_name(self, id: str) -> str: ...


class ConversationHistoryBackend(Protocol):
    def get_conversation_history(self, identity: str) -> list[dict[str, Any]]: ...

    def append_to_conversation_history(self, identity: str, entry: dict[str, Any]) -> None: ...

    def save_conversation_history(self, identity: str, history: list[dict[str, Any]]) -> None: ...

    def delete_conversation_history(self, identity: str) -> None: ...


class ContextSchemaBackend(Protocol):
    def save_context_schema(self, execution_id: str, schema: dict[str, Any]) -> None: ...

    def get_context_schema(self, execution_id: str) -> dict[str, Any] | None: ...

    def delete_context_schema(self, execution_id: str) -> bool: ...


class IdentityBackend(Protocol):
    def save_identities(self, execution_id: str, identities: dict[str, str]) -> None: ...

    def get_identities(self, execution_id: str) -> dict[str, str] | None: ...

    def get_identity(self, execution_id: str, identity_name: str) -> str | None: ...

    def delete_identities(self, execution_id: str) -> bool: ...


class Backends(Protocol):
    context: ContextBackend
    workflow: WorkflowBackend
    telemetry: TelemetryBackend | None
    conversation_history: ConversationHistoryBackend | None
    context_schema: ContextSchemaBackend | None
    identity: IdentityBackend | None


class BroadcastSignalsCaller(Protocol):
    def __call__(self, execution_id: str, signals: list[str]) -> None: ...


class NodeCaller(Protocol):
    def __call__(self, execution_id: str, node_config: dict[str, Any]) -> None: ...


class LlmNodeCaller(NodeCaller, Protocol): ...


class RouterNodeCaller(NodeCaller, Protocol): ...


class AgentNodeCaller(NodeCaller, Protocol): ...


class ToolNodeCaller(NodeCaller, Protocol): ...


class ChildNodeCaller(NodeCaller, Protocol): ...


class OrchestrateCaller(Protocol):
    def __call__(
        self,
        config: Any,
        initial_workflow_name: str,
        initial_signals: list[str],
        initial_context: dict[str, Any],
        backends: Backends,
        inherit_config_from_id: str | None = None,
        inherit_context_from_id: str | None = None,
    ) -> str: ...


class CallLlm(Protocol):
    def __call__(self, prompt: str, config: dict[str, Any]) -> str: ...
